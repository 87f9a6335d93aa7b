/**
 * What both ways of creating Open WebUI users share (SCIM, trusted-header sign-in): the outcome
 * type, one HTTP exchange with its timeout and `redirect: "manual"`, network-error descriptions,
 * and the classification that does not depend on the route. Each client adds only what its route
 * means (src/scim.ts, src/trusted-header.ts).
 *
 * The shared classification, applied before any route-specific reading:
 *  - 3xx → rejected: Open WebUI's API never redirects these calls; a redirect means the URL reaches
 *    the oauth2-proxy sidecar (which sends unauthenticated requests to /oauth2/start) or the ALB
 *    (port 80 → https), not Open WebUI's port 8080. `redirect: "manual"` keeps fetch from following
 *    it into a login page that would answer 200.
 *  - 5xx, 408, 429, timeouts, refused/reset connections, DNS failures → unavailable (retry).
 *  - a body that is not JSON (e.g. the SPA's index.html, which Open WebUI serves with 200 for any
 *    unknown GET path) → rejected "not Open WebUI's API": a 200/201 is success only as JSON.
 */

export interface UserInput {
  /** Already lowercased. */
  readonly email: string;
  readonly name: string;
}

export type CreateOutcome =
  /** SCIM 201: created now. */
  | { readonly kind: "created"; readonly status: 201; readonly id?: string }
  /** SCIM 409: the email is already an Open WebUI user. Success, idempotently. */
  | { readonly kind: "exists"; readonly status: 409; readonly detail?: string }
  /**
   * Trusted-header sign-in 200: the user exists now and can sign in through the proxy. Whether this
   * call created it or it was already there is not observable on this path.
   */
  | { readonly kind: "ensured"; readonly status: 200; readonly id?: string }
  /** 401 even after re-reading the token (SCIM). */
  | { readonly kind: "unauthorized"; readonly status: 401; readonly reason: string; readonly detail?: string }
  /** 403: the path is switched off in Open WebUI (SCIM disabled; password auth disabled). */
  | { readonly kind: "forbidden"; readonly status: 403; readonly reason: string; readonly detail?: string }
  /** Any other answer that retrying will not fix by itself (4xx, a redirect, a non-JSON body). */
  | { readonly kind: "rejected"; readonly status: number; readonly reason: string; readonly detail?: string }
  /** 5xx, 408, 429, timeout, refused/reset connection, or the token could not be read. Retry later. */
  | { readonly kind: "unavailable"; readonly status?: number; readonly reason: string; readonly detail?: string };

export type DoneOutcome = Extract<CreateOutcome, { kind: "created" | "exists" | "ensured" }>;
export type FailedOutcome = Exclude<CreateOutcome, DoneOutcome>;

export type LookupOutcome = { readonly kind: "found"; readonly id?: string } | { readonly kind: "absent" } | FailedOutcome;

/** True when the user exists in Open WebUI afterwards (the record may be deleted from the queue). */
export function isDone(o: CreateOutcome): o is DoneOutcome {
  return o.kind === "created" || o.kind === "exists" || o.kind === "ensured";
}

/**
 * The one interface the worker and the reconciler use, whatever the path. `lookup` exists only
 * where Open WebUI offers one to this client (SCIM); trusted-header sign-in has none.
 */
export interface OpenWebUiUserClient {
  readonly path: "scim" | "trusted-header";
  /** HTTP requests sent to Open WebUI by this client so far. */
  readonly requests: number;
  create(user: UserInput): Promise<CreateOutcome>;
  lookup?(email: string): Promise<LookupOutcome>;
}

/** A log-friendly description of an outcome; never includes a token. */
export function describeOutcome(o: CreateOutcome): string {
  switch (o.kind) {
    case "created":
      return "created";
    case "exists":
      return "already exists";
    case "ensured":
      return "exists (created now or earlier)";
    case "unavailable":
      return `Open WebUI unavailable: ${o.reason}`;
    default:
      return o.reason;
  }
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  /** The `Location` of a 3xx. */
  readonly location?: string;
}

export interface HttpRequest {
  readonly method: "GET" | "POST";
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
}

/** One exchange; never follows redirects. Throws what fetch throws (see {@link describeNetworkError}). */
export async function exchange(fetchFn: typeof fetch, req: HttpRequest): Promise<HttpResponse> {
  const res = await fetchFn(req.url, {
    method: req.method,
    headers: req.headers,
    ...(req.body === undefined ? {} : { body: req.body }),
    redirect: "manual",
    signal: AbortSignal.timeout(req.timeoutMs),
  });
  const location = res.headers.get("location") ?? undefined;
  return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "", ...(location ? { location } : {}) };
}

export function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "timeout";
  const code = e?.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `DNS failure (${code})`;
  return `network error${code ? ` (${code})` : ""}: ${e?.cause?.message ?? e?.message ?? String(err)}`;
}

/** The parsed JSON body, or undefined when the body is not JSON. */
export function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** FastAPI's `detail` (a string, or the 422 list as JSON), else the start of the body; ≤ 300 characters. */
export function detailOf(body: string): string | undefined {
  const parsed = jsonOf(body) as { detail?: unknown } | undefined;
  if (parsed && typeof parsed === "object") {
    const d = parsed.detail;
    if (typeof d === "string") return d.slice(0, 300);
    if (d !== undefined) return JSON.stringify(d).slice(0, 300);
  }
  return body ? body.replace(/\s+/g, " ").slice(0, 300) : undefined;
}

/** `scheme://host/path` of a Location, without the query (which may carry state or return URLs). */
function locationOf(location: string | undefined, base: string): string {
  if (!location) return "no Location";
  try {
    const u = new URL(location, base);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "an invalid Location";
  }
}

/**
 * The route-independent part of the classification (module comment): a failure, or undefined when
 * the answer is Open WebUI's JSON and the client should read it. `where` names the variable holding
 * the URL, for the reasons.
 */
export function commonFailure(res: HttpResponse, requestUrl: string, where: string): FailedOutcome | undefined {
  const detail = detailOf(res.body);
  const d = detail ? { detail } : {};
  if (res.status >= 300 && res.status < 400) {
    return {
      kind: "rejected",
      status: res.status,
      reason: `redirect (HTTP ${res.status} to ${locationOf(res.location, requestUrl)}): ${where} points at the proxy or the ALB, not Open WebUI's port 8080`,
    };
  }
  if (res.status >= 500 || res.status === 429 || res.status === 408) return { kind: "unavailable", status: res.status, reason: `HTTP ${res.status}`, ...d };
  if (jsonOf(res.body) === undefined || /text\/html/i.test(res.contentType)) {
    const type = res.contentType.split(";")[0]?.trim() || "no content type";
    return {
      kind: "rejected",
      status: res.status,
      reason: `not Open WebUI's API: HTTP ${res.status} answered ${type}, not JSON (Open WebUI serves its web app's index.html for any path it has no API route for: ${where} is wrong, or the route is switched off)`,
      ...(detail ? { detail: detail.slice(0, 120) } : {}),
    };
  }
  return undefined;
}
