/**
 * The one SCIM client the worker and the reconciler share: creates Open WebUI users through
 * Open WebUI's SCIM 2.0 API (`/api/v1/scim/v2`, experimental upstream), never `/auths/signup`.
 *
 * Upstream behaviour this relies on, checked in open-webui/open-webui
 * `backend/open_webui/routers/scim.py` (stored commit 883f1dda0f18fbe26aca7aed5a8804021a3685ca):
 *  - `get_scim_auth`: no `Authorization` header, a header that is not two words, or a scheme other
 *    than `bearer` → 401; then `SCIM_ENABLED` false → **403 "SCIM is not enabled"**; then a token
 *    different from `SCIM_TOKEN` → **401 "Invalid SCIM token"**. So 403 is only seen with a
 *    well-formed bearer header, and means "switched off", not "wrong token".
 *  - `create_user` (`POST /Users`, status 201, body `SCIMUserCreateRequest`: `userName` str,
 *    `displayName` str and `emails` list of `{value}` are required, else FastAPI's 422):
 *    `existing_user = Users.get_user_by_email(user_data.userName)` and, if found,
 *    `raise HTTPException(status_code=409, detail=f"User with email {user_data.userName} already exists")`
 *    — a plain FastAPI body `{"detail": "..."}`, not a SCIM error document. The created user's email
 *    is `emails[0].value`, its name `name.formatted` else `displayName`, its role `user` when
 *    `active` is true (else `pending`). A failed insert answers 500 "Failed to create user".
 *  - `get_users` (`GET /Users?filter=userName eq "<email>"`) takes the text between the first pair
 *    of double quotes and answers a ListResponse with `totalResults` 0 or 1.
 * We therefore always send the lowercased email as both `userName` and `emails[0].value`, so the
 * duplicate check and the stored email agree.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { log } from "./log.js";

export const SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";

export interface ScimUserInput {
  /** Already lowercased. */
  readonly email: string;
  readonly name: string;
}

export type CreateOutcome =
  /** 201: created now. */
  | { readonly kind: "created"; readonly status: 201; readonly id?: string }
  /** 409: the email is already an Open WebUI user. Success, idempotently. */
  | { readonly kind: "exists"; readonly status: 409; readonly detail?: string }
  /** 401 even after re-reading the token. */
  | { readonly kind: "unauthorized"; readonly status: 401; readonly detail?: string }
  /** 403: SCIM is switched off in Open WebUI (`ENABLE_SCIM`/`SCIM_ENABLED`). */
  | { readonly kind: "forbidden"; readonly status: 403; readonly detail?: string }
  /** Any other 4xx (422: Open WebUI rejected the body). Retrying will not help by itself. */
  | { readonly kind: "rejected"; readonly status: number; readonly detail?: string }
  /** 5xx, timeout, refused/reset connection, or the token could not be read. Retry later. */
  | { readonly kind: "unavailable"; readonly status?: number; readonly reason: string; readonly detail?: string };

export type LookupOutcome = { readonly kind: "found"; readonly id?: string } | { readonly kind: "absent" } | Exclude<CreateOutcome, { kind: "created" | "exists" }>;

export function isDone(o: CreateOutcome): o is Extract<CreateOutcome, { kind: "created" | "exists" }> {
  return o.kind === "created" || o.kind === "exists";
}

/** Where the bearer token comes from. `invalidate(t)` forgets `t` if it is still the cached one. */
export interface TokenSource {
  get(): Promise<string>;
  invalidate(token: string): void;
}

export class TokenUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TokenUnavailableError";
  }
}

/** Pulls the token out of a secret string: the raw string, or `token`/`SCIM_TOKEN` of a JSON object. */
export function tokenFromSecret(secret: string | undefined): string {
  const s = (secret ?? "").trim();
  if (s.startsWith("{")) {
    try {
      const o = JSON.parse(s) as Record<string, unknown>;
      const t = o.token ?? o.SCIM_TOKEN ?? o.scim_token;
      if (typeof t === "string" && t.trim()) return t.trim();
    } catch {
      // not JSON after all: use it verbatim
      return s;
    }
    throw new TokenUnavailableError("SCIM token secret is a JSON object without a `token` key");
  }
  if (!s) throw new TokenUnavailableError("SCIM token secret is empty");
  return s;
}

/**
 * The SCIM token from Secrets Manager, cached for `ttlMs` in the execution environment; concurrent
 * callers share one GetSecretValue. Keep one instance in module scope.
 */
export class SecretTokenSource implements TokenSource {
  private cached?: { value: string; expires: number };
  private inflight?: Promise<string>;
  /** GetSecretValue calls made (for tests and logs). */
  fetches = 0;

  constructor(
    private readonly secretId: string,
    private readonly ttlMs: number,
    private readonly client: Pick<SecretsManagerClient, "send"> = new SecretsManagerClient({}),
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    const c = this.cached;
    if (c && this.now() < c.expires) return Promise.resolve(c.value);
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    this.fetches += 1;
    let secret: string | undefined;
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      secret = out.SecretString;
    } catch (err) {
      throw new TokenUnavailableError(`could not read the SCIM token secret: ${(err as Error)?.name ?? "error"}: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    const value = tokenFromSecret(secret);
    this.cached = { value, expires: this.now() + this.ttlMs };
    return value;
  }
}

export interface ScimClientOptions {
  /** e.g. http://openwebui.owui.internal:8080/api/v1/scim/v2 */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly tokens: TokenSource;
  readonly fetch?: typeof fetch;
}

interface RawResponse {
  status: number;
  body: string;
}

function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "timeout";
  const code = e?.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `DNS failure (${code})`;
  return `network error${code ? ` (${code})` : ""}: ${e?.cause?.message ?? e?.message ?? String(err)}`;
}

function detailOf(body: string): string | undefined {
  try {
    const d = (JSON.parse(body) as { detail?: unknown }).detail;
    if (typeof d === "string") return d.slice(0, 300);
    if (d !== undefined) return JSON.stringify(d).slice(0, 300);
  } catch {
    // not JSON
  }
  return body ? body.slice(0, 300) : undefined;
}

export class ScimClient {
  /** HTTP requests sent to Open WebUI by this client. */
  requests = 0;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ScimClientOptions) {
    this.fetchFn = opts.fetch ?? fetch;
  }

  private async send(method: "GET" | "POST", path: string, token: string, body?: unknown): Promise<RawResponse> {
    this.requests += 1;
    const res = await this.fetchFn(`${this.opts.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/scim+json, application/json",
        ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  }

  /**
   * Runs one request with the cached token; on 401 drops that token, re-reads it, and if it changed
   * retries once. Network errors and token failures come back as `unavailable`.
   */
  private async authorized(method: "GET" | "POST", path: string, body?: unknown): Promise<RawResponse | { failed: string; detail?: string }> {
    let token: string;
    try {
      token = await this.opts.tokens.get();
    } catch (err) {
      return { failed: "SCIM token unavailable", detail: (err as Error).message };
    }
    try {
      let res = await this.send(method, path, token, body);
      if (res.status === 401) {
        this.opts.tokens.invalidate(token);
        let fresh: string;
        try {
          fresh = await this.opts.tokens.get();
        } catch (err) {
          return { failed: "SCIM token unavailable", detail: (err as Error).message };
        }
        if (fresh !== token) {
          log("info", "SCIM answered 401; retrying once with the re-read token");
          res = await this.send(method, path, fresh, body);
        }
      }
      return res;
    } catch (err) {
      return { failed: describeNetworkError(err) };
    }
  }

  private classify(res: RawResponse | { failed: string; detail?: string }): Exclude<CreateOutcome, { kind: "created" | "exists" }> | RawResponse {
    if ("failed" in res) return { kind: "unavailable", reason: res.failed, ...(res.detail ? { detail: res.detail } : {}) };
    const detail = detailOf(res.body);
    const d = detail ? { detail } : {};
    if (res.status === 401) return { kind: "unauthorized", status: 401, ...d };
    if (res.status === 403) return { kind: "forbidden", status: 403, ...d };
    if (res.status >= 500 || res.status === 429 || res.status === 408) return { kind: "unavailable", status: res.status, reason: `HTTP ${res.status}`, ...d };
    return res;
  }

  /** POST /Users. 201 → created, 409 → exists. */
  async createUser(user: ScimUserInput): Promise<CreateOutcome> {
    const body = {
      schemas: [SCIM_USER_SCHEMA],
      userName: user.email,
      displayName: user.name,
      name: { formatted: user.name },
      emails: [{ value: user.email, primary: true }],
      active: true,
    };
    const res = this.classify(await this.authorized("POST", "/Users", body));
    if (!("body" in res)) return res;
    if (res.status === 201 || res.status === 200) {
      let id: string | undefined;
      try {
        id = (JSON.parse(res.body) as { id?: string }).id;
      } catch {
        // a 201 is a 201 even if the body is odd
      }
      return { kind: "created", status: 201, ...(id ? { id } : {}) };
    }
    const detail = detailOf(res.body);
    if (res.status === 409) {
      if (!/already exists/i.test(detail ?? "")) log("warn", "SCIM 409 with an unexpected body; treating it as already exists", { detail });
      return { kind: "exists", status: 409, ...(detail ? { detail } : {}) };
    }
    return { kind: "rejected", status: res.status, ...(detail ? { detail } : {}) };
  }

  /** GET /Users?filter=userName eq "<email>". */
  async findUser(email: string): Promise<LookupOutcome> {
    const filter = encodeURIComponent(`userName eq "${email}"`);
    const res = this.classify(await this.authorized("GET", `/Users?filter=${filter}`));
    if (!("body" in res)) return res;
    if (res.status !== 200) return { kind: "rejected", status: res.status, ...(detailOf(res.body) ? { detail: detailOf(res.body) } : {}) };
    try {
      const list = JSON.parse(res.body) as { totalResults?: number; Resources?: { id?: string }[] };
      if ((list.totalResults ?? list.Resources?.length ?? 0) > 0) {
        const id = list.Resources?.[0]?.id;
        return { kind: "found", ...(id ? { id } : {}) };
      }
      return { kind: "absent" };
    } catch {
      return { kind: "unavailable", status: 200, reason: "ListResponse is not JSON" };
    }
  }
}

/** A log-friendly description of a non-success outcome; never includes the token. */
export function describeOutcome(o: CreateOutcome): string {
  switch (o.kind) {
    case "created":
      return "created";
    case "exists":
      return "already exists";
    case "unauthorized":
      return "SCIM token rejected (401) even after re-reading it: check that the secret matches Open WebUI's SCIM_TOKEN";
    case "forbidden":
      return "SCIM is disabled in Open WebUI (403): set ENABLE_SCIM=true (and SCIM_ENABLED=true on older versions)";
    case "rejected":
      return `Open WebUI rejected the request (HTTP ${o.status})`;
    case "unavailable":
      return `Open WebUI unavailable: ${o.reason}`;
  }
}

