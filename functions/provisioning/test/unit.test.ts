/**
 * Unit tests where a mock says more than the black box: the env contract's validation, message
 * parsing, the SCIM client's 401 handling and error classification (with a scripted fetch), and the
 * token cache (TTL, single flight) with a mocked Secrets Manager client.
 */
import { describe, expect, it, vi } from "vitest";
import { ConfigError, ENV_CONTRACT, loadProducerConfig, loadReconcilerConfig, loadWorkerConfig } from "../src/config.js";
import { displayName, mapLimit, normalizeEmail, parseMessage } from "../src/message.js";
import { ScimClient, SecretTokenSource, tokenFromSecret, TokenUnavailableError, type TokenSource } from "../src/scim.js";
import { TrustedHeaderClient } from "../src/trusted-header.js";
import type { OpenWebUiUserClient } from "../src/http.js";

describe("env contract", () => {
  it("applies defaults", () => {
    const c = loadWorkerConfig({ SCIM_BASE_URL: "http://openwebui.owui.internal:8080/api/v1/scim/v2/", SCIM_TOKEN_SECRET_ARN: "arn:x" });
    expect(c).toEqual({
      openwebui: { path: "scim", scimBaseUrl: "http://openwebui.owui.internal:8080/api/v1/scim/v2", scimTokenSecretArn: "arn:x", scimTokenTtlSeconds: 300 },
      requestTimeoutMs: 5000,
      webhookTimeoutMs: 2000,
      metricNamespace: "OpenWebUI/Provisioning",
      concurrency: 5,
    });
    expect(loadProducerConfig({ QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q" })).toMatchObject({ enqueueBudgetMs: 3000, enqueueMaxAttempts: 3 });
  });

  it("names every bad variable at once", () => {
    let err: unknown;
    try {
      loadReconcilerConfig({ SCIM_BASE_URL: "ftp://x/Users", REQUEST_TIMEOUT_MS: "soon", WEBHOOK_URL: "not a url" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const s of ["SCIM_BASE_URL must be an http(s) URL", "SCIM_TOKEN_SECRET_ARN is required", "USER_POOL_ID is required", "REQUEST_TIMEOUT_MS must be an integer", "WEBHOOK_URL must be an http(s) URL"]) {
      expect(msg).toContain(s);
    }
    expect(() => loadProducerConfig({ QUEUE_URL: "https://q", ENQUEUE_BUDGET_MS: "6000" })).toThrow(/ENQUEUE_BUDGET_MS must be an integer in \[100, 4500\]/);
    expect(() => loadWorkerConfig({ SCIM_BASE_URL: "http://h/api/v1/scim/v2/Users", SCIM_TOKEN_SECRET_ARN: "a" })).toThrow(/without the trailing \/Users/);
  });

  it("documents every variable the loaders read", () => {
    expect(ENV_CONTRACT.producer.map((v) => v.name)).toEqual(["QUEUE_URL", "ENQUEUE_BUDGET_MS", "ENQUEUE_MAX_ATTEMPTS", "METRIC_NAMESPACE"]);
    const required = (h: "worker" | "reconciler") => ENV_CONTRACT[h].filter((v) => v.required).map((v) => (v.when ? `${v.name} (${v.when.value})` : v.name));
    expect(required("worker")).toEqual(["SCIM_BASE_URL (scim)", "SCIM_TOKEN_SECRET_ARN (scim)", "OPENWEBUI_URL (trusted-header)", "TRUSTED_EMAIL_HEADER (trusted-header)"]);
    expect(required("reconciler")).toEqual(["USER_POOL_ID", "SCIM_BASE_URL (scim)", "SCIM_TOKEN_SECRET_ARN (scim)", "OPENWEBUI_URL (trusted-header)", "TRUSTED_EMAIL_HEADER (trusted-header)"]);
    expect(ENV_CONTRACT.worker.find((v) => v.name === "OPENWEBUI_PROVISIONING")).toMatchObject({ required: false, default: "scim" });
  });

  it("loads the trusted-header path without any SCIM variable", () => {
    const c = loadReconcilerConfig({
      OPENWEBUI_PROVISIONING: "trusted-header",
      OPENWEBUI_URL: "http://openwebui.owui-sandbox.internal:8080/",
      TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
      USER_POOL_ID: "us-east-1_x",
    });
    expect(c.openwebui).toEqual({ path: "trusted-header", openWebUiUrl: "http://openwebui.owui-sandbox.internal:8080", emailHeader: "X-Forwarded-Email" });
    expect(loadWorkerConfig({ OPENWEBUI_PROVISIONING: "trusted-header", OPENWEBUI_URL: "http://o:8080", TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", TRUSTED_NAME_HEADER: "X-Forwarded-Name" }).openwebui).toMatchObject({
      nameHeader: "X-Forwarded-Name",
    });
  });

  it("names the trusted-header path's problems, and refuses an unknown path", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadWorkerConfig(env);
      } catch (e) {
        return (e as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ OPENWEBUI_PROVISIONING: "trusted-header" })).toEqual([
      expect.stringMatching(/^OPENWEBUI_URL is required with OPENWEBUI_PROVISIONING=trusted-header/),
      expect.stringMatching(/^TRUSTED_EMAIL_HEADER is required with OPENWEBUI_PROVISIONING=trusted-header/),
    ]);
    expect(problems({ OPENWEBUI_PROVISIONING: "trusted-header", OPENWEBUI_URL: "http://o:8080/api/v1/auths/signin", TRUSTED_EMAIL_HEADER: "X Forwarded Email" })).toEqual([
      expect.stringMatching(/^OPENWEBUI_URL must be Open WebUI's base URL without a path/),
      expect.stringMatching(/^TRUSTED_EMAIL_HEADER must be an HTTP header name/),
    ]);
    expect(problems({ OPENWEBUI_PROVISIONING: "oauth2-proxy" })).toEqual(['OPENWEBUI_PROVISIONING must be one of "scim", "trusted-header", got "oauth2-proxy"']);
    // SCIM stays the default path, and its variables are required there only.
    expect(problems({})).toEqual([expect.stringMatching(/^SCIM_BASE_URL is required with OPENWEBUI_PROVISIONING=scim/), expect.stringMatching(/^SCIM_TOKEN_SECRET_ARN is required/)]);
  });
});

describe("messages", () => {
  it("parses, lowercases, and rejects with a reason", () => {
    expect(parseMessage(JSON.stringify({ email: " A@B.co ", name: "A" }))).toMatchObject({ ok: true, message: { email: "a@b.co", name: "A", source: "unknown" } });
    expect(parseMessage("{")).toEqual({ ok: false, reason: "body is not JSON" });
    expect(parseMessage("null")).toEqual({ ok: false, reason: "body is not a JSON object" });
    expect(parseMessage("{}")).toEqual({ ok: false, reason: "email is missing" });
    expect(parseMessage(JSON.stringify({ email: 42 }))).toEqual({ ok: false, reason: "email is not a valid address" });
    expect(parseMessage(JSON.stringify({ email: "a b@c.d" }))).toEqual({ ok: false, reason: "email is not a valid address" });
  });
  it("derives names without the sub", () => {
    expect(displayName({ name: " N " }, "x@y.z")).toBe("N");
    expect(displayName({ family_name: "F" }, "x@y.z")).toBe("F");
    expect(displayName({ sub: "uuid" } as Record<string, string>, "first.last@y.z")).toBe("first.last");
    expect(normalizeEmail("USER@EXAMPLE.COM")).toBe("user@example.com");
  });
  it("mapLimit keeps order and bounds concurrency", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(peak).toBe(2);
  });
});

function scriptedFetch(responses: (Response | Error)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const next = responses.shift();
    if (!next) throw new Error("no scripted response left");
    if (next instanceof Error) throw next;
    return next;
  });
  return { fn: fn as unknown as typeof fetch, calls };
}
const res = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const htmlRes = (status = 200) => new Response("<!doctype html><html><head><title>Open WebUI</title></head></html>", { status, headers: { "content-type": "text/html; charset=utf-8" } });
const redirect = (location: string, status = 302) => new Response(null, { status, headers: { location } });

class Tokens implements TokenSource {
  reads = 0;
  constructor(private values: string[]) {}
  private current?: string;
  async get() {
    if (this.current) return this.current;
    this.reads += 1;
    this.current = this.values.shift() ?? this.current ?? "last";
    return this.current;
  }
  invalidate(t: string) {
    if (this.current === t) this.current = undefined;
  }
}

describe("ScimClient", () => {
  const user = { email: "ada@example.com", name: "Ada Lovelace" };

  it("POSTs the SCIM core User body with the bearer token", async () => {
    const f = scriptedFetch([res(201, { id: "u-1" })]);
    const c = new ScimClient({ baseUrl: "http://owui/api/v1/scim/v2", timeoutMs: 1000, tokens: new Tokens(["t1"]), fetch: f.fn });
    expect(await c.create(user)).toEqual({ kind: "created", status: 201, id: "u-1" });
    expect(f.calls[0]!.url).toBe("http://owui/api/v1/scim/v2/Users");
    expect((f.calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer t1");
    expect(JSON.parse(String(f.calls[0]!.init.body))).toEqual({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "ada@example.com",
      displayName: "Ada Lovelace",
      name: { formatted: "Ada Lovelace" },
      emails: [{ value: "ada@example.com", primary: true }],
      active: true,
    });
  });

  it("treats upstream's FastAPI 409 body as exists", async () => {
    const f = scriptedFetch([res(409, { detail: "User with email ada@example.com already exists" })]);
    const c = new ScimClient({ baseUrl: "http://o", timeoutMs: 1000, tokens: new Tokens(["t"]), fetch: f.fn });
    expect(await c.create(user)).toEqual({ kind: "exists", status: 409, detail: "User with email ada@example.com already exists" });
  });

  it("on 401 re-reads the token once and retries with the new one", async () => {
    const tokens = new Tokens(["old", "new"]);
    const f = scriptedFetch([res(401, { detail: "Invalid SCIM token" }), res(201, { id: "u" })]);
    const c = new ScimClient({ baseUrl: "http://o", timeoutMs: 1000, tokens, fetch: f.fn });
    expect((await c.create(user)).kind).toBe("created");
    expect(f.calls.map((x) => (x.init.headers as Record<string, string>).authorization)).toEqual(["Bearer old", "Bearer new"]);
    expect(tokens.reads).toBe(2);
  });

  it("does not retry a 401 when the re-read token is the same, and never retries twice", async () => {
    const same = scriptedFetch([res(401, { detail: "Invalid SCIM token" })]);
    expect(await new ScimClient({ baseUrl: "http://o", timeoutMs: 1000, tokens: new Tokens(["t", "t"]), fetch: same.fn }).create(user)).toMatchObject({ kind: "unauthorized" });
    expect(same.calls).toHaveLength(1);
    const twice = scriptedFetch([res(401, {}), res(401, {})]);
    expect(await new ScimClient({ baseUrl: "http://o", timeoutMs: 1000, tokens: new Tokens(["a", "b", "c"]), fetch: twice.fn }).create(user)).toMatchObject({ kind: "unauthorized" });
    expect(twice.calls).toHaveLength(2);
  });

  it("classifies 403, 422, 5xx, timeouts and refused connections", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    const f = scriptedFetch([res(403, { detail: "SCIM is not enabled" }), res(422, { detail: [{ msg: "Field required" }] }), res(502, "bad gateway"), timeout, refused]);
    const c = new ScimClient({ baseUrl: "http://o", timeoutMs: 1000, tokens: new Tokens(["t"]), fetch: f.fn });
    expect(await c.create(user)).toMatchObject({ kind: "forbidden", status: 403, detail: "SCIM is not enabled" });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 422 });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", status: 502 });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", reason: "timeout" });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", reason: "connection refused" });
  });

  it("never takes a redirect, an HTML page or an unmounted route for success", async () => {
    const f = scriptedFetch([htmlRes(201), redirect("https://owui.example.com/oauth2/start?rd=%2Fapi"), res(405, { detail: "Method Not Allowed" }), htmlRes(200)]);
    const c = new ScimClient({ baseUrl: "http://o/api/v1/scim/v2", timeoutMs: 1000, tokens: new Tokens(["t"]), fetch: f.fn });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 201, reason: expect.stringMatching(/^not Open WebUI's API: HTTP 201 answered text\/html/) });
    expect(await c.create(user)).toMatchObject({
      kind: "rejected",
      status: 302,
      reason: "redirect (HTTP 302 to https://owui.example.com/oauth2/start): SCIM_BASE_URL points at the proxy or the ALB, not Open WebUI's port 8080",
    });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 405, reason: expect.stringMatching(/^no SCIM route at SCIM_BASE_URL \(HTTP 405\): SCIM is off/) });
    // SCIM off: GET falls through to the web app's index.html.
    expect(await c.lookup("ada@example.com")).toMatchObject({ kind: "rejected", status: 200, reason: expect.stringMatching(/^not Open WebUI's API/) });
    expect(f.calls.every((x) => x.init.redirect === "manual")).toBe(true);
  });

  it("looks a user up with the userName eq filter", async () => {
    const f = scriptedFetch([res(200, { totalResults: 1, Resources: [{ id: "u-9" }] }), res(200, { totalResults: 0, Resources: [] })]);
    const c = new ScimClient({ baseUrl: "http://o", timeoutMs: 1000, tokens: new Tokens(["t"]), fetch: f.fn });
    expect(await c.lookup("ada@example.com")).toEqual({ kind: "found", id: "u-9" });
    expect(await c.lookup("nobody@example.com")).toEqual({ kind: "absent" });
    expect(decodeURIComponent(f.calls[0]!.url)).toBe('http://o/Users?filter=userName eq "ada@example.com"');
  });
});

describe("TrustedHeaderClient", () => {
  const user = { email: "ada@example.com", name: "Ada Lovelace" };
  const client = (f: { fn: typeof fetch }, extra: { nameHeader?: string } = {}) =>
    new TrustedHeaderClient({ baseUrl: "http://openwebui.owui-sandbox.internal:8080/", emailHeader: "X-Forwarded-Email", timeoutMs: 1000, fetch: f.fn, ...extra });
  const session = (email: string, id = "u-1") => res(200, { token: "jwt-secret-session", token_type: "Bearer", expires_at: null, id, email, name: email, role: "user", profile_image_url: `/api/v1/users/${id}/profile/image`, permissions: {} });

  it("signs in as the proxy would: the trusted header, SigninForm's two fields, port 8080, no redirects followed", async () => {
    const f = scriptedFetch([session("ada@example.com", "u-7")]);
    expect(await client(f).create({ email: "Ada@Example.com", name: "Ada Lovelace" })).toEqual({ kind: "ensured", status: 200, id: "u-7" });
    const call = f.calls[0]!;
    expect(call.url).toBe("http://openwebui.owui-sandbox.internal:8080/api/v1/auths/signin");
    expect(call.init.method).toBe("POST");
    expect(call.init.redirect).toBe("manual");
    expect(call.init.headers).toEqual({ "X-Forwarded-Email": "ada@example.com", "content-type": "application/json", accept: "application/json" });
    expect(JSON.parse(String(call.init.body))).toEqual({ email: "ada@example.com", password: "" });
  });

  it("sends the display name only in a distinct name header, URL-encoded", async () => {
    const same = scriptedFetch([session("ada@example.com")]);
    await client(same, { nameHeader: "x-forwarded-email" }).create(user);
    expect(Object.keys(same.calls[0]!.init.headers as object)).toEqual(["X-Forwarded-Email", "content-type", "accept"]);
    const distinct = scriptedFetch([session("ada@example.com")]);
    await client(distinct, { nameHeader: "X-Forwarded-Name" }).create({ email: "ada@example.com", name: "Ada Lövelace" });
    expect((distinct.calls[0]!.init.headers as Record<string, string>)["X-Forwarded-Name"]).toBe("Ada%20L%C3%B6velace");
  });

  it("names the cause of each refusal", async () => {
    const f = scriptedFetch([
      res(400, { detail: "Your provider has not provided a trusted header. Please contact your administrator for assistance." }),
      res(400, { detail: "The email or password provided is incorrect. Please check for typos and try logging in again." }),
      res(403, { detail: "The requested action has been restricted as a security measure." }),
      htmlRes(200),
      redirect("/oauth2/start?rd=%2Fapi%2Fv1%2Fauths%2Fsignin"),
      redirect("https://owui.example.com:443/api/v1/auths/signin", 301),
      res(405, { detail: "Method Not Allowed" }),
      res(422, { detail: [{ type: "missing", loc: ["body", "password"], msg: "Field required" }] }),
      session("admin@localhost"),
    ]);
    const c = client(f);
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 400, reason: expect.stringMatching(/INVALID_TRUSTED_HEADER\): its WEBUI_AUTH_TRUSTED_EMAIL_HEADER is not "X-Forwarded-Email"/) });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 400, reason: expect.stringMatching(/does not trust X-Forwarded-Email .* without a password record \(created through SCIM/) });
    expect(await c.create(user)).toMatchObject({ kind: "forbidden", status: 403, reason: expect.stringMatching(/ENABLE_PASSWORD_AUTH=true/) });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 200, reason: expect.stringMatching(/^not Open WebUI's API: HTTP 200 answered text\/html/) });
    expect(await c.create(user)).toMatchObject({
      kind: "rejected",
      status: 302,
      reason: "redirect (HTTP 302 to http://openwebui.owui-sandbox.internal:8080/oauth2/start): OPENWEBUI_URL points at the proxy or the ALB, not Open WebUI's port 8080",
    });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 301, reason: expect.stringMatching(/^redirect \(HTTP 301 to https:\/\/owui.example.com\/api\/v1\/auths\/signin\)/) });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 405, reason: expect.stringMatching(/^no sign-in route at OPENWEBUI_URL/) });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 422, reason: "Open WebUI rejected the sign-in (HTTP 422)" });
    expect(await c.create(user)).toMatchObject({ kind: "rejected", status: 200, reason: expect.stringMatching(/for another account, not ada@example.com/) });
  });

  it("retries what may pass: 5xx, 429, timeouts, refused connections", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    const f = scriptedFetch([res(500, { detail: "Internal Server Error" }), new Response("<html>502 Bad Gateway</html>", { status: 502, headers: { "content-type": "text/html" } }), res(429, { detail: "slow down" }), timeout, refused]);
    const c = client(f);
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", status: 500, reason: "HTTP 500" });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", status: 502 });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", status: 429 });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", reason: "timeout" });
    expect(await c.create(user)).toMatchObject({ kind: "unavailable", reason: "connection refused" });
    expect(c.requests).toBe(5);
    expect((c as OpenWebUiUserClient).lookup).toBeUndefined();
  });

  it("never puts the session token it gets into an outcome", async () => {
    const f = scriptedFetch([session("ada@example.com")]);
    expect(JSON.stringify(await client(f).create(user))).not.toContain("jwt-secret-session");
  });
});

describe("SecretTokenSource", () => {
  it("caches for the TTL, shares one in-flight read, and forgets a token only if it is still current", async () => {
    let now = 0;
    const send = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return { SecretString: `tok-${send.mock.calls.length}` };
    });
    const src = new SecretTokenSource("arn", 1000, { send } as never, () => now);
    const got = await Promise.all(Array.from({ length: 10 }, () => src.get()));
    expect(new Set(got)).toEqual(new Set(["tok-1"]));
    expect(send).toHaveBeenCalledTimes(1);
    now = 999;
    expect(await src.get()).toBe("tok-1");
    now = 1000;
    expect(await src.get()).toBe("tok-2");
    src.invalidate("tok-1"); // stale: ignored
    expect(await src.get()).toBe("tok-2");
    src.invalidate("tok-2");
    expect(await src.get()).toBe("tok-3");
    expect(send).toHaveBeenCalledTimes(3);
  });

  it("wraps Secrets Manager errors and rejects empty secrets", async () => {
    const failing = new SecretTokenSource("arn", 1000, { send: async () => Promise.reject(Object.assign(new Error("nope"), { name: "AccessDeniedException" })) } as never);
    await expect(failing.get()).rejects.toBeInstanceOf(TokenUnavailableError);
    await expect(failing.get()).rejects.toThrow(/AccessDeniedException/);
    expect(() => tokenFromSecret("  ")).toThrow(/empty/);
    expect(tokenFromSecret('{"token":"abc"}')).toBe("abc");
    expect(tokenFromSecret(" raw-token \n")).toBe("raw-token");
    expect(() => tokenFromSecret('{"other":1}')).toThrow(/without a `token` key/);
  });
});
