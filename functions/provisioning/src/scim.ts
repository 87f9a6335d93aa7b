/**
 * Creating Open WebUI users through its SCIM 2.0 API (`/api/v1/scim/v2`, experimental upstream),
 * never `/auths/signup`: the path of the native OIDC modes. In the oauth2-proxy mode users are
 * created by trusted-header sign-in instead (src/trusted-header.ts): a SCIM-created user has no
 * auth record, and v0.10.2's trusted-header sign-in (`routers/auths.py` signin →
 * `Auths.authenticate_user_by_email`, a JOIN on `auth`) then refuses them forever.
 *
 * Upstream behaviour this relies on, checked in open-webui/open-webui
 * `backend/open_webui/routers/scim.py` (v0.10.2):
 *  - The router is mounted only when `ENABLE_SCIM` is true at start (`main.py`); otherwise a POST
 *    falls through to the web app's static files (405) and a GET gets its index.html (200).
 *  - `get_scim_auth`: no `Authorization` header, a header that is not two words, or a scheme other
 *    than `bearer` → 401; then `app.state.ENABLE_SCIM` false → **403 "SCIM is not enabled"**; then
 *    a token different from `SCIM_TOKEN` → **401 "Invalid SCIM token"**.
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
 * duplicate check and the stored email agree. Redirects, non-JSON bodies and retryable statuses are
 * classified as for every path (src/http.ts).
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  commonFailure,
  describeNetworkError,
  detailOf,
  exchange,
  jsonOf,
  type CreateOutcome,
  type FailedOutcome,
  type HttpResponse,
  type LookupOutcome,
  type OpenWebUiUserClient,
  type UserInput,
} from "./http.js";
import { log } from "./log.js";

export { describeOutcome, isDone, type CreateOutcome, type LookupOutcome } from "./http.js";

/**
 * The Secrets Manager client module loads on the first token read, not at module init: the worker's
 * and the reconciler's cold starts (bench/README.md, `initMs`) do not pay for an SDK they use once
 * per token TTL, and a trusted-header deployment never loads it.
 */
let secretsSdk: Promise<typeof import("@aws-sdk/client-secrets-manager")> | undefined;
const loadSecretsSdk = () => (secretsSdk ??= import("@aws-sdk/client-secrets-manager"));

export const SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";

/** @deprecated the shared {@link UserInput}. */
export type ScimUserInput = UserInput;

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
    /** @default - a `SecretsManagerClient` with the SDK's defaults, created on the first read */
    private client: Pick<SecretsManagerClient, "send"> | undefined = undefined,
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
      const sdk = await loadSecretsSdk();
      this.client ??= new sdk.SecretsManagerClient({});
      const out = await this.client.send(new sdk.GetSecretValueCommand({ SecretId: this.secretId }));
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

const WHERE = "SCIM_BASE_URL";

export class ScimClient implements OpenWebUiUserClient {
  readonly path = "scim" as const;
  /** HTTP requests sent to Open WebUI by this client. */
  requests = 0;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ScimClientOptions) {
    this.fetchFn = opts.fetch ?? fetch;
  }

  private send(method: "GET" | "POST", path: string, token: string, body?: unknown): Promise<HttpResponse> {
    this.requests += 1;
    return exchange(this.fetchFn, {
      method,
      url: `${this.opts.baseUrl}${path}`,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/scim+json, application/json",
        ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs: this.opts.timeoutMs,
    });
  }

  /**
   * Runs one request with the cached token; on 401 drops that token, re-reads it, and if it changed
   * retries once. Network errors and token failures come back as `unavailable`.
   */
  private async authorized(method: "GET" | "POST", path: string, body?: unknown): Promise<HttpResponse | FailedOutcome> {
    let token: string;
    try {
      token = await this.opts.tokens.get();
    } catch (err) {
      return { kind: "unavailable", reason: "SCIM token unavailable", detail: (err as Error).message };
    }
    try {
      let res = await this.send(method, path, token, body);
      if (res.status === 401) {
        this.opts.tokens.invalidate(token);
        let fresh: string;
        try {
          fresh = await this.opts.tokens.get();
        } catch (err) {
          return { kind: "unavailable", reason: "SCIM token unavailable", detail: (err as Error).message };
        }
        if (fresh !== token) {
          log("info", "SCIM answered 401; retrying once with the re-read token");
          res = await this.send(method, path, fresh, body);
        }
      }
      return res;
    } catch (err) {
      return { kind: "unavailable", reason: describeNetworkError(err) };
    }
  }

  /** The shared classification, then what SCIM's auth dependency and a missing route mean. */
  private classify(res: HttpResponse | FailedOutcome, requestUrl: string): FailedOutcome | HttpResponse {
    if ("kind" in res) return res;
    const common = commonFailure(res, requestUrl, WHERE);
    if (common) return common;
    const detail = detailOf(res.body);
    const d = detail ? { detail } : {};
    if (res.status === 401) {
      return { kind: "unauthorized", status: 401, reason: "SCIM token rejected (401) even after re-reading it: check that the secret matches Open WebUI's SCIM_TOKEN", ...d };
    }
    if (res.status === 403) {
      return { kind: "forbidden", status: 403, reason: "SCIM is disabled in Open WebUI (403): set ENABLE_SCIM=true (and SCIM_ENABLED=true on older versions)", ...d };
    }
    if (res.status === 404 || res.status === 405) {
      // v0.10.2 mounts the SCIM router only when ENABLE_SCIM is true at start (main.py); unmounted,
      // a POST falls through to the web app's static files, which answer 405 Method Not Allowed.
      return {
        kind: "rejected",
        status: res.status,
        reason: `no SCIM route at ${WHERE} (HTTP ${res.status}): SCIM is off in Open WebUI (without ENABLE_SCIM=true at start its router is not mounted) or the URL is not Open WebUI's /api/v1/scim/v2`,
        ...d,
      };
    }
    return res;
  }

  /** POST /Users. 201 → created, 409 → exists. */
  async create(user: UserInput): Promise<CreateOutcome> {
    const body = {
      schemas: [SCIM_USER_SCHEMA],
      userName: user.email,
      displayName: user.name,
      name: { formatted: user.name },
      emails: [{ value: user.email, primary: true }],
      active: true,
    };
    const res = this.classify(await this.authorized("POST", "/Users", body), `${this.opts.baseUrl}/Users`);
    if ("kind" in res) return res;
    const detail = detailOf(res.body);
    if (res.status === 201) {
      const id = (jsonOf(res.body) as { id?: unknown } | null)?.id;
      return { kind: "created", status: 201, ...(typeof id === "string" && id ? { id } : {}) };
    }
    if (res.status === 409) {
      if (!/already exists/i.test(detail ?? "")) log("warn", "SCIM 409 with an unexpected body; treating it as already exists", { detail });
      return { kind: "exists", status: 409, ...(detail ? { detail } : {}) };
    }
    if (res.status < 300) {
      return { kind: "rejected", status: res.status, reason: `unexpected HTTP ${res.status} to a SCIM create (Open WebUI answers 201 or 409): ${WHERE} is not Open WebUI's SCIM API`, ...(detail ? { detail } : {}) };
    }
    return { kind: "rejected", status: res.status, reason: `Open WebUI rejected the request (HTTP ${res.status})`, ...(detail ? { detail } : {}) };
  }

  /** GET /Users?filter=userName eq "<email>". */
  async lookup(email: string): Promise<LookupOutcome> {
    const path = `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`;
    const res = this.classify(await this.authorized("GET", path), `${this.opts.baseUrl}${path}`);
    if ("kind" in res) return res;
    const detail = detailOf(res.body);
    if (res.status !== 200) return { kind: "rejected", status: res.status, reason: `Open WebUI rejected the lookup (HTTP ${res.status})`, ...(detail ? { detail } : {}) };
    const list = jsonOf(res.body) as { totalResults?: number; Resources?: { id?: string }[] } | null;
    if (!list || typeof list !== "object" || (list.totalResults === undefined && !Array.isArray(list.Resources))) {
      return { kind: "rejected", status: 200, reason: "not a SCIM ListResponse: the URL is not Open WebUI's SCIM API" };
    }
    if ((list.totalResults ?? list.Resources?.length ?? 0) > 0) {
      const id = list.Resources?.[0]?.id;
      return { kind: "found", ...(id ? { id } : {}) };
    }
    return { kind: "absent" };
  }
}
