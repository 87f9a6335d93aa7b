/**
 * A local fake of the parts of Open WebUI v0.10.2 the provisioning pipeline talks to, on one port
 * like the real server: the SCIM 2.0 API (`/api/v1/scim/v2`), the sign-in route
 * (`POST /api/v1/auths/signin`) in its trusted-header form, and the web app's fallback for every
 * other path. Modelled on the release's source (open_webui/…, release commit ecd48e2f7):
 *
 *  SCIM (`routers/scim.py`)
 *  - mounted only when SCIM is enabled at start (`main.py`: `if ENABLE_SCIM: app.include_router(…)`);
 *    `enabled = false` models that: the route does not exist and the fallback answers (below).
 *  - auth as `get_scim_auth`: missing header / not "<scheme> <token>" / scheme not bearer → 401;
 *    (SCIM disabled at runtime → 403 `{"detail":"SCIM is not enabled"}`, reachable here only as the
 *    scripted fault 403); wrong token → 401 `{"detail":"Invalid SCIM token"}`. Auth is checked before
 *    the body (FastAPI dependency order).
 *  - `POST /Users`: pydantic `SCIMUserCreateRequest` (userName, displayName, emails[].value
 *    required) else 422 with FastAPI's `{"detail":[...]}`; an existing email → 409
 *    `{"detail":"User with email <userName> already exists"}`; else 201 with the SCIM user, inserted
 *    by `Users.insert_new_user`: a user row only, **no auth row**.
 *  - `GET /Users?filter=userName eq "<email>"` → ListResponse (totalResults 0/1); without a filter,
 *    `startIndex` (from 1) and `count` (1..100) paginate.
 *
 *  Sign-in (`routers/auths.py` `signin`, `models/auths.py` `SigninForm`, `Auths.authenticate_user_by_email`)
 *  - body `SigninForm(email: str, password: str)`, else 422 (validated before the handler runs);
 *  - `ENABLE_PASSWORD_AUTH` false (`passwordAuth = false`) → 403 `ERROR_MESSAGES.ACTION_PROHIBITED`;
 *  - with `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` (`trustedEmailHeader`): header absent → 400
 *    `INVALID_TRUSTED_HEADER`; email = its value lowercased; name = the name header's value,
 *    URL-unquoted, else the email; an unknown email → `signup_handler` (user row + auth row, role
 *    `DEFAULT_USER_ROLE`, or admin when it is the only user); then the JOIN on the auth row: a user
 *    without one (created through SCIM) → 400 `INVALID_CRED` — the lock-out;
 *  - without it: the password path; the fake stores no passwords, so every attempt → 400 `INVALID_CRED`;
 *  - 200 → `create_session_response`: `{token, token_type:"Bearer", expires_at, id, email, name,
 *    role, profile_image_url, permissions}` and a `token` cookie.
 *
 *  Fallback (`main.py` `SPAStaticFiles` mounted at "/"): any other GET → 200 `text/html` index.html;
 *  any other method → 405 `{"detail":"Method Not Allowed"}` (Starlette's StaticFiles).
 *
 * Users are stored by lowercased email, each with whether it has an auth row.
 *
 * Fault injection, per request (any route): `script(...faults)` answers the next requests with the
 * given faults in order, then `mode(fault)` (default "normal") answers the rest. Faults: "normal"
 * (real behaviour), 401, 403, 422, 500, 502, 503 (status with the route's FastAPI-style body), 409
 * (SCIM: stores the user, as if someone else just created it, and answers 409), "html" (200 with the
 * web app's index.html, as for a wrong path), "redirect" (302 to /oauth2/start, as oauth2-proxy
 * answers an unauthenticated request), "hang" (never answers), "reset" (destroys the socket),
 * `{ delayMs }` (real behaviour after a delay). `refuse()` closes the listening socket so connections
 * are refused; `accept()` listens on the same port again.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PREFIX = "/api/v1/scim/v2";
export const SIGNIN_PATH = "/api/v1/auths/signin";

/** open_webui/constants.py `ERROR_MESSAGES` (v0.10.2) the sign-in route answers with. */
export const ERROR_MESSAGES = {
  INVALID_CRED: "The email or password provided is incorrect. Please check for typos and try logging in again.",
  INVALID_TRUSTED_HEADER: "Your provider has not provided a trusted header. Please contact your administrator for assistance.",
  ACTION_PROHIBITED: "The requested action has been restricted as a security measure.",
} as const;

/** What the web app's static fallback answers to any GET it has no route for (trimmed). */
export const SPA_INDEX_HTML = '<!doctype html><html lang="en"><head><meta charset="utf-8" /><title>Open WebUI</title></head><body><div style="display: contents"></div></body></html>';

export type ScimFault = "normal" | 401 | 403 | 409 | 422 | 500 | 502 | 503 | "html" | "redirect" | "hang" | "reset" | { readonly delayMs: number };
export type OpenWebUiFault = ScimFault;

export interface FakeOwuiUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: "admin" | "user" | "pending";
  readonly createdAt: number;
  /** Has an auth row: created by sign-up / trusted-header sign-in, not by SCIM (`Users.insert_new_user`). */
  readonly hasAuth: boolean;
  readonly createdBy: "scim" | "signin" | "seed";
}

export interface FakeSignIn {
  readonly status: number;
  readonly body: { detail?: unknown; id?: string; email?: string; name?: string; role?: string; token?: string };
}

export interface ScimCall {
  readonly method: string;
  readonly path: string;
  /** Status answered, or "hang"/"reset". */
  readonly outcome: number | "hang" | "reset";
  readonly authorization?: string;
  /** The request's headers (lower-case names, first value). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface OpenWebUiScimFake {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `<origin>/api/v1/scim/v2`, what SCIM_BASE_URL should be. */
  readonly baseUrl: string;
  /** `<origin>`, what OPENWEBUI_URL should be (Open WebUI's port 8080 in the platform). */
  readonly openWebUiUrl: string;
  readonly calls: ScimCall[];
  /** Calls that reached a route (any outcome), optionally only one method. */
  count(method?: string): number;
  token: string;
  /** `ENABLE_SCIM` at start: false = the SCIM router is not mounted. */
  enabled: boolean;
  /** `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` (undefined = unset). */
  trustedEmailHeader: string | undefined;
  /** `WEBUI_AUTH_TRUSTED_NAME_HEADER` (undefined = unset). */
  trustedNameHeader: string | undefined;
  /** `ENABLE_PASSWORD_AUTH`. */
  passwordAuth: boolean;
  /** `DEFAULT_USER_ROLE` of users created by sign-in. */
  defaultUserRole: "user" | "pending";
  readonly users: ReadonlyMap<string, FakeOwuiUser>;
  has(email: string): boolean;
  /** The user exists and has an auth row, so a trusted-header sign-in lets them in. */
  canSignIn(email: string): boolean;
  /**
   * Seeds a user directly, as if created earlier: by default with an auth row (someone who visited),
   * `{ via: "scim" }` without one (created through SCIM).
   */
  seed(email: string, name?: string, options?: { via?: "scim" | "signin" }): FakeOwuiUser;
  /** A first visit through the proxy: the sign-in request oauth2-proxy forwards, with the trusted header set to `email`. Not recorded in `calls`. */
  proxySignIn(email: string): Promise<FakeSignIn>;
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

export interface OpenWebUiFakeOptions {
  readonly token?: string;
  /** `ENABLE_SCIM` (default true). */
  readonly enabled?: boolean;
  readonly trustedEmailHeader?: string;
  readonly trustedNameHeader?: string;
  /** `ENABLE_PASSWORD_AUTH` (default true, as upstream). */
  readonly passwordAuth?: boolean;
  /** `DEFAULT_USER_ROLE` (upstream default "pending"; the platform sets "user"). */
  readonly defaultUserRole?: "user" | "pending";
}

export type OpenWebUiFake = OpenWebUiScimFake;

export async function startOpenWebUiScimFake(options: OpenWebUiFakeOptions = {}): Promise<OpenWebUiScimFake> {
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
  /** SCIM `create_user` → `Users.insert_new_user`: a user row, no auth row. */
  const insert = (email: string, name: string, active = true): FakeOwuiUser => {
    const u: FakeOwuiUser = { id: randomUUID(), email, name, role: active ? "user" : "pending", createdAt: Date.now(), hasAuth: false, createdBy: "scim" };
    users.set(email.toLowerCase(), u);
    return u;
  };

  const state = {
    token: options.token ?? "scim-token-1",
    enabled: options.enabled ?? true,
    trustedEmailHeader: options.trustedEmailHeader,
    trustedNameHeader: options.trustedNameHeader,
    passwordAuth: options.passwordAuth ?? true,
    defaultUserRole: options.defaultUserRole ?? ("pending" as "user" | "pending"),
  };

  /** `signup_handler`: `Auths.insert_new_auth` (user + auth row, DEFAULT_USER_ROLE); the only user becomes admin. */
  const signUp = (email: string, name: string, createdBy: FakeOwuiUser["createdBy"] = "signin"): FakeOwuiUser => {
    const first = users.size === 0;
    const u: FakeOwuiUser = { id: randomUUID(), email: email.toLowerCase(), name, role: first ? "admin" : state.defaultUserRole, createdAt: Date.now(), hasAuth: true, createdBy };
    users.set(u.email, u);
    return u;
  };

  /** `routers/auths.py` `signin` after the form validated; `headers` as Starlette sees them (lower-case names). */
  const signIn = (headers: Record<string, string | string[] | undefined>): { status: number; body: Record<string, unknown>; user?: FakeOwuiUser } => {
    const header = (name: string | undefined) => {
      const v = name ? headers[name.toLowerCase()] : undefined;
      return Array.isArray(v) ? v[0] : v;
    };
    if (!state.passwordAuth) return { status: 403, body: { detail: ERROR_MESSAGES.ACTION_PROHIBITED } };
    if (state.trustedEmailHeader) {
      const raw = header(state.trustedEmailHeader);
      if (raw === undefined) return { status: 400, body: { detail: ERROR_MESSAGES.INVALID_TRUSTED_HEADER } };
      const email = raw.toLowerCase();
      let name = email;
      if (state.trustedNameHeader) {
        name = header(state.trustedNameHeader) ?? email;
        try {
          name = decodeURIComponent(name);
        } catch {
          // urllib.parse.unquote leaves malformed escapes as they are
        }
      }
      if (!users.has(email)) signUp(email, name);
      const u = users.get(email)!;
      // Auths.authenticate_user_by_email: JOIN auth ↔ user where auth.email = email and auth.active.
      if (!u.hasAuth) return { status: 400, body: { detail: ERROR_MESSAGES.INVALID_CRED } };
      return {
        status: 200,
        user: u,
        body: {
          token: `jwt-${randomUUID()}`,
          token_type: "Bearer",
          expires_at: null,
          id: u.id,
          email: u.email,
          name: u.name,
          role: u.role,
          profile_image_url: `/api/v1/users/${u.id}/profile/image`,
          permissions: {},
        },
      };
    }
    // The password path: the fake keeps no passwords, and the worker sends an empty one.
    return { status: 400, body: { detail: ERROR_MESSAGES.INVALID_CRED } };
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
      calls.push({
        method,
        path: `${path}${url.search}`,
        outcome,
        ...(authorization ? { authorization } : {}),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? "") : (v ?? "")])),
        ...(body !== undefined ? { body } : {}),
      });
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
    const isSignIn = path === SIGNIN_PATH;
    const isScim = path.startsWith(PREFIX);
    const html = () => {
      record(200);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(SPA_INDEX_HTML) });
      res.end(SPA_INDEX_HTML);
    };
    if (fault === "html") return html();
    if (fault === "redirect") {
      record(302);
      res.writeHead(302, { location: `/oauth2/start?rd=${encodeURIComponent(path)}`, "content-length": 0 });
      res.end();
      return;
    }
    if (typeof fault === "object") await new Promise((r) => setTimeout(r, fault.delayMs));
    if (typeof fault === "number" && fault !== 409) {
      const detail =
        fault === 401
          ? isSignIn ? "Not authenticated" : "Invalid SCIM token"
          : fault === 403
            ? isSignIn ? ERROR_MESSAGES.ACTION_PROHIBITED : "SCIM is not enabled"
            : fault === 422
              ? [missing(isSignIn ? "password" : "userName")]
              : "Internal Server Error";
      answer(fault, { detail });
      return;
    }

    if (isSignIn && method === "POST") {
      // SigninForm(email: str, password: str), validated before the handler.
      if (bodyInvalid) return answer(422, { detail: [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} }] });
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return answer(422, { detail: [{ type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", input: body ?? null }] });
      }
      const form = body as Record<string, unknown>;
      const errors = ["email", "password"].flatMap((f) =>
        form[f] === undefined ? [missing(f)] : typeof form[f] !== "string" ? [{ type: "string_type", loc: ["body", f], msg: "Input should be a valid string", input: form[f] }] : [],
      );
      if (errors.length) return answer(422, { detail: errors });
      const out = signIn(req.headers);
      record(out.status);
      const text = JSON.stringify(out.body);
      res.writeHead(out.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        ...(out.status === 200 ? { "set-cookie": `token=${String(out.body.token)}; HttpOnly; Path=/; SameSite=lax` } : {}),
      });
      res.end(text);
      return;
    }

    // Unmounted SCIM, or any other path: the web app's static files (SPAStaticFiles at "/").
    if (!isScim || !state.enabled) return method === "GET" || method === "HEAD" ? html() : answer(405, { detail: "Method Not Allowed" });
    const route = path.slice(PREFIX.length);

    // get_scim_auth, in upstream order.
    if (!authorization) return answer(401, { detail: "Authorization header required" });
    const parts = authorization.split(/\s+/).filter(Boolean);
    if (parts.length !== 2) return answer(401, { detail: "Invalid authorization format. Expected: Bearer <token>" });
    if (parts[0]!.toLowerCase() !== "bearer") return answer(401, { detail: "Invalid authentication scheme" });
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
    openWebUiUrl: origin,
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
    get trustedEmailHeader() {
      return state.trustedEmailHeader;
    },
    set trustedEmailHeader(v: string | undefined) {
      state.trustedEmailHeader = v;
    },
    get trustedNameHeader() {
      return state.trustedNameHeader;
    },
    set trustedNameHeader(v: string | undefined) {
      state.trustedNameHeader = v;
    },
    get passwordAuth() {
      return state.passwordAuth;
    },
    set passwordAuth(v: boolean) {
      state.passwordAuth = v;
    },
    get defaultUserRole() {
      return state.defaultUserRole;
    },
    set defaultUserRole(v: "user" | "pending") {
      state.defaultUserRole = v;
    },
    users,
    has: (email) => users.has(email.toLowerCase()),
    canSignIn: (email) => users.get(email.toLowerCase())?.hasAuth === true,
    seed: (email, name = email.split("@")[0] ?? email, opts = {}) => {
      if (opts.via === "scim") return insert(email.toLowerCase(), name);
      const u: FakeOwuiUser = { id: randomUUID(), email: email.toLowerCase(), name, role: "user", createdAt: Date.now(), hasAuth: true, createdBy: "seed" };
      users.set(u.email, u);
      return u;
    },
    proxySignIn: async (email) => {
      // What oauth2-proxy forwards for a signed-in visitor: the verified email in its header, the form
      // the web app posts (no password behind the proxy).
      const out = signIn(state.trustedEmailHeader ? { [state.trustedEmailHeader.toLowerCase()]: email } : {});
      return { status: out.status, body: out.body as FakeSignIn["body"] };
    },
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
