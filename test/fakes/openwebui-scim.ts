/**
 * A local fake of Open WebUI's SCIM 2.0 API (`/api/v1/scim/v2`), modelled on upstream
 * `backend/open_webui/routers/scim.py` (open-webui/open-webui, stored commit 883f1dda):
 *  - auth as `get_scim_auth`: missing header / not "<scheme> <token>" / scheme not bearer → 401;
 *    SCIM disabled → 403 `{"detail":"SCIM is not enabled"}`; wrong token → 401
 *    `{"detail":"Invalid SCIM token"}`. Auth is checked before the body (FastAPI dependency order).
 *  - `POST /Users`: pydantic `SCIMUserCreateRequest` (userName, displayName, emails[].value
 *    required) else 422 with FastAPI's `{"detail":[...]}`; an existing email → 409
 *    `{"detail":"User with email <userName> already exists"}`; else 201 with the SCIM user.
 *  - `GET /Users?filter=userName eq "<email>"` → ListResponse (totalResults 0/1); without a filter,
 *    `startIndex` (from 1) and `count` (1..100) paginate.
 * Users are stored by lowercased email.
 *
 * Fault injection, per request: `script(...faults)` answers the next requests with the given
 * faults in order, then `mode(fault)` (default "normal") answers the rest. Faults: "normal" (real
 * behaviour, 201 or 409), 401, 403, 422, 500, 502, 503 (status with a FastAPI-style body), 409
 * (stores the user, as if someone else just created it, and answers 409), "hang" (never answers),
 * "reset" (destroys the socket), `{ delayMs }` (real behaviour after a delay). `refuse()` closes the
 * listening socket so connections are refused; `accept()` listens on the same port again.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PREFIX = "/api/v1/scim/v2";

export type ScimFault = "normal" | 401 | 403 | 409 | 422 | 500 | 502 | 503 | "hang" | "reset" | { readonly delayMs: number };

export interface FakeOwuiUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: "user" | "pending";
  readonly createdAt: number;
}

export interface ScimCall {
  readonly method: string;
  readonly path: string;
  /** Status answered, or "hang"/"reset". */
  readonly outcome: number | "hang" | "reset";
  readonly authorization?: string;
  readonly body?: unknown;
}

export interface OpenWebUiScimFake {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `<origin>/api/v1/scim/v2`, what SCIM_BASE_URL should be. */
  readonly baseUrl: string;
  readonly calls: ScimCall[];
  /** Calls that reached a route (any outcome), optionally only one method. */
  count(method?: string): number;
  token: string;
  enabled: boolean;
  readonly users: ReadonlyMap<string, FakeOwuiUser>;
  has(email: string): boolean;
  /** Seeds a user directly (as if created earlier). */
  seed(email: string, name?: string): FakeOwuiUser;
  script(...faults: ScimFault[]): void;
  mode(fault: ScimFault): void;
  /** Stops listening: new connections are refused (ECONNREFUSED). */
  refuse(): Promise<void>;
  /** Listens on the same port again. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function missing(loc: string): { type: string; loc: string[]; msg: string; input: unknown } {
  return { type: "missing", loc: ["body", loc], msg: "Field required", input: null };
}

/** pydantic-ish validation of SCIMUserCreateRequest; returns FastAPI 422 detail entries. */
function validateCreate(body: unknown): unknown[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return [{ type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", input: body }];
  }
  const b = body as Record<string, unknown>;
  const errors: unknown[] = [];
  for (const f of ["userName", "displayName"]) {
    if (b[f] === undefined) errors.push(missing(f));
    else if (typeof b[f] !== "string") errors.push({ type: "string_type", loc: ["body", f], msg: "Input should be a valid string", input: b[f] });
  }
  if (b.emails === undefined) errors.push(missing("emails"));
  else if (!Array.isArray(b.emails)) errors.push({ type: "list_type", loc: ["body", "emails"], msg: "Input should be a valid list", input: b.emails });
  else
    b.emails.forEach((e, i) => {
      if (typeof e !== "object" || e === null || typeof (e as { value?: unknown }).value !== "string") {
        errors.push({ type: "missing", loc: ["body", "emails", i, "value"], msg: "Field required", input: e });
      }
    });
  if (b.active !== undefined && typeof b.active !== "boolean") errors.push({ type: "bool_type", loc: ["body", "active"], msg: "Input should be a valid boolean", input: b.active });
  if (b.schemas !== undefined && !Array.isArray(b.schemas)) errors.push({ type: "list_type", loc: ["body", "schemas"], msg: "Input should be a valid list", input: b.schemas });
  return errors;
}

export async function startOpenWebUiScimFake(options: { token?: string; enabled?: boolean } = {}): Promise<OpenWebUiScimFake> {
  const users = new Map<string, FakeOwuiUser>();
  const calls: ScimCall[] = [];
  const scripted: ScimFault[] = [];
  let steady: ScimFault = "normal";
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();

  const toScim = (u: FakeOwuiUser, origin: string) => ({
    schemas: [SCIM_USER_SCHEMA],
    id: u.id,
    userName: u.email,
    name: { formatted: u.name, givenName: u.name.split(" ")[0] ?? "", familyName: u.name.split(" ").slice(1).join(" ") },
    displayName: u.name,
    emails: [{ value: u.email, type: "work", primary: true }],
    active: u.role !== "pending",
    meta: {
      resourceType: "User",
      created: new Date(u.createdAt).toISOString(),
      lastModified: new Date(u.createdAt).toISOString(),
      location: `${origin}${PREFIX}/Users/${u.id}`,
    },
  });
  const insert = (email: string, name: string, active = true): FakeOwuiUser => {
    const u: FakeOwuiUser = { id: randomUUID(), email, name, role: active ? "user" : "pending", createdAt: Date.now() };
    users.set(email.toLowerCase(), u);
    return u;
  };

  const state = {
    token: options.token ?? "scim-token-1",
    enabled: options.enabled ?? true,
  };
  let origin = "";

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const path = url.pathname;
    const raw = await readBody(req);
    let body: unknown;
    let bodyInvalid = false;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        bodyInvalid = true;
      }
    }
    const authorization = req.headers.authorization;
    const fault: ScimFault = scripted.length > 0 ? scripted.shift()! : steady;
    const record = (outcome: ScimCall["outcome"]) =>
      calls.push({ method, path: `${path}${url.search}`, outcome, ...(authorization ? { authorization } : {}), ...(body !== undefined ? { body } : {}) });
    const answer = (status: number, payload: unknown) => {
      record(status);
      json(res, status, payload);
    };

    if (fault === "hang") {
      record("hang");
      hung.add(res);
      res.on("close", () => hung.delete(res));
      return;
    }
    if (fault === "reset") {
      record("reset");
      req.socket.destroy();
      return;
    }
    if (typeof fault === "object") await new Promise((r) => setTimeout(r, fault.delayMs));
    if (typeof fault === "number" && fault !== 409) {
      const detail =
        fault === 401 ? "Invalid SCIM token" : fault === 403 ? "SCIM is not enabled" : fault === 422 ? [missing("userName")] : "Internal Server Error";
      answer(fault, { detail });
      return;
    }

    if (!path.startsWith(PREFIX)) return answer(404, { detail: "Not Found" });
    const route = path.slice(PREFIX.length);

    // get_scim_auth, in upstream order.
    if (!authorization) return answer(401, { detail: "Authorization header required" });
    const parts = authorization.split(/\s+/).filter(Boolean);
    if (parts.length !== 2) return answer(401, { detail: "Invalid authorization format. Expected: Bearer <token>" });
    if (parts[0]!.toLowerCase() !== "bearer") return answer(401, { detail: "Invalid authentication scheme" });
    if (!state.enabled) return answer(403, { detail: "SCIM is not enabled" });
    if (parts[1] !== state.token) return answer(401, { detail: "Invalid SCIM token" });

    if (route === "/Users" && method === "POST") {
      if (bodyInvalid) return answer(422, { detail: [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} }] });
      const errors = validateCreate(body);
      if (errors.length) return answer(422, { detail: errors });
      const b = body as { userName: string; displayName: string; emails: { value: string }[]; active?: boolean; name?: { formatted?: string } };
      const key = b.userName.toLowerCase();
      if (fault === 409 && !users.has(key)) insert(b.emails[0]?.value ?? b.userName, b.name?.formatted || b.displayName, b.active ?? true);
      if (users.has(key)) return answer(409, { detail: `User with email ${b.userName} already exists` });
      const u = insert(b.emails[0]?.value ?? b.userName, b.name?.formatted || b.displayName, b.active ?? true);
      return answer(201, toScim(u, origin));
    }
    if (route === "/Users" && method === "GET") {
      const filter = url.searchParams.get("filter");
      const startIndex = Number(url.searchParams.get("startIndex") ?? 1);
      const count = Number(url.searchParams.get("count") ?? 20);
      if (!Number.isInteger(startIndex) || startIndex < 1) return answer(422, { detail: [{ type: "greater_than_equal", loc: ["query", "startIndex"], msg: "Input should be greater than or equal to 1" }] });
      if (!Number.isInteger(count) || count < 1 || count > 100) return answer(422, { detail: [{ type: "less_than_equal", loc: ["query", "count"], msg: "Input should be less than or equal to 100" }] });
      let list: FakeOwuiUser[];
      let total: number;
      if (filter && filter.includes("userName eq")) {
        const email = filter.split('"')[1] ?? "";
        const u = users.get(email.toLowerCase());
        list = u ? [u] : [];
        total = list.length;
      } else {
        const all = [...users.values()];
        list = all.slice(startIndex - 1, startIndex - 1 + count);
        total = all.length;
      }
      return answer(200, { schemas: [LIST_SCHEMA], totalResults: total, itemsPerPage: list.length, startIndex, Resources: list.map((u) => toScim(u, origin)) });
    }
    const byId = /^\/Users\/([^/]+)$/.exec(route);
    if (byId && method === "GET") {
      const u = [...users.values()].find((x) => x.id === byId[1]);
      return u ? answer(200, toScim(u, origin)) : answer(404, { schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "404", detail: `User ${byId[1]} not found` });
    }
    return answer(405, { detail: "Method Not Allowed" });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const r of hung) r.destroy();
      hung.clear();
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  await listen(0);
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    baseUrl: `${origin}${PREFIX}`,
    calls,
    count: (m) => calls.filter((c) => !m || c.method === m).length,
    get token() {
      return state.token;
    },
    set token(t: string) {
      state.token = t;
    },
    get enabled() {
      return state.enabled;
    },
    set enabled(v: boolean) {
      state.enabled = v;
    },
    users,
    has: (email) => users.has(email.toLowerCase()),
    seed: (email, name = email.split("@")[0] ?? email) => insert(email.toLowerCase(), name),
    script: (...faults) => {
      scripted.push(...faults);
    },
    mode: (f) => {
      steady = f;
    },
    refuse: stop,
    accept: () => listen(port),
    close: async () => {
      scripted.length = 0;
      await stop();
    },
  };
}
