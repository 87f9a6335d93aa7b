import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { start, type OidcStandIn } from "./oidc.js";
import { testCa, type TestCa } from "./tls.js";

interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Minimal user agent: a cookie jar, manual redirects, optional extra CA (node:https, so no global trust changes). */
class Browser {
  private readonly jar = new Map<string, string>();
  constructor(private readonly ca?: string) {}

  request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Resp> {
    const u = new URL(url);
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const headers: Record<string, string> = { ...(init.headers ?? {}), ...(cookie ? { cookie } : {}) };
    if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
    const fn = u.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = fn(u, { method: init.method ?? "GET", headers, ...(this.ca ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          for (const sc of res.headers["set-cookie"] ?? []) {
            const [pair, ...attrs] = sc.split(";");
            const i = pair!.indexOf("=");
            const name = pair!.slice(0, i).trim();
            const value = pair!.slice(i + 1).trim();
            const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a) || /max-age=0\b/i.test(a.trim()));
            if (expired || value === "") this.jar.delete(name);
            else this.jar.set(name, value);
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.on("error", reject);
      if (init.body !== undefined) req.write(init.body);
      req.end();
    });
  }

  /** GET and follow redirects until a response that is not a redirect, or one leaving for `stopAt`. */
  async follow(url: string, stopAt?: string): Promise<{ url: string; res: Resp }> {
    let current = url;
    for (let i = 0; i < 15; i++) {
      if (stopAt && current.startsWith(stopAt)) return { url: current, res: { status: 0, headers: {}, body: "" } };
      const res = await this.request(current);
      if (res.status >= 300 && res.status < 400 && res.headers.location) {
        current = new URL(String(res.headers.location), current).href;
        continue;
      }
      return { url: current, res };
    }
    throw new Error("too many redirects");
  }

  /** Submit the stand-in's login form found in `html` (served at `pageUrl`). */
  async login(pageUrl: string, html: string, username: string, password: string, stopAt: string) {
    const action = html.match(/<form method="post" action="([^"]+)"/)?.[1];
    if (!action) throw new Error(`no login form in: ${html.slice(0, 200)}`);
    const res = await this.request(new URL(action, pageUrl).href, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username, password }).toString(),
    });
    if (!(res.status >= 300 && res.status < 400)) return { url: pageUrl, res };
    return this.follow(new URL(String(res.headers.location), pageUrl).href, stopAt);
  }
}

/** openid-client's fetch, routed through node:https with the test CA. */
function fetchWithCa(ca: string): client.CustomFetch {
  return async (url, options) => {
    const b = new Browser(ca);
    const headers: Record<string, string> = {};
    new Headers(options.headers as HeadersInit).forEach((v, k) => (headers[k] = v));
    const body = options.body === undefined || options.body === null ? undefined : String(options.body);
    const res = await b.request(url, { method: options.method ?? "GET", headers, ...(body !== undefined ? { body } : {}) });
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
    return new Response(res.status === 204 ? null : res.body, { status: res.status, headers: h });
  };
}

const CALLBACK = "http://127.0.0.1:9/oauth2/callback";
const SIGNED_OUT = "http://127.0.0.1:9/signed-out";
const ALICE = { sub: "0f7c2a1e-alice", email: "alice@example.com", name: "Alice Example", password: "correct horse", groups: ["admins", "staff"], roles: ["owui.admin"] };
const BOB = { sub: "bob-sub", email: "Bob@Example.com", name: "Bob", password: "pw-bob" };

async function authorize(op: OidcStandIn, config: client.Configuration, browser: Browser, creds?: { user: string; password: string }) {
  const nonce = client.randomNonce();
  const state = client.randomState();
  const verifier = client.randomPKCECodeVerifier();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: "openid email profile",
    nonce,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  expect(authUrl.href.startsWith(op.endpoints.authorization)).toBe(true);
  let step = await browser.follow(authUrl.href, CALLBACK);
  let sawForm = false;
  if (!step.url.startsWith(CALLBACK)) {
    expect(step.res.status).toBe(200);
    expect(step.res.body).toContain('name="password"');
    sawForm = true;
    if (!creds) return { sawForm, callback: undefined };
    step = await browser.login(step.url, step.res.body, creds.user, creds.password, CALLBACK);
  }
  if (!step.url.startsWith(CALLBACK)) return { sawForm, callback: undefined, page: step.res };
  const tokens = await client.authorizationCodeGrant(config, new URL(step.url), { expectedNonce: nonce, expectedState: state, pkceCodeVerifier: verifier });
  return { sawForm, callback: step.url, tokens };
}

describe("oidc stand-in: cognito flavor", () => {
  let op: OidcStandIn;
  beforeAll(async () => {
    op = await start({
      flavor: "cognito",
      issuerPath: "/eu-west-1_AbCdEf123",
      clients: [{ client_id: "owui-app", client_secret: "s3cret", redirect_uris: [CALLBACK], post_logout_redirect_uris: [SIGNED_OUT] }],
      users: [ALICE, BOB],
    });
  });
  afterAll(async () => op?.stop());

  it("publishes Cognito-shaped discovery (no end_session_endpoint)", async () => {
    expect(op.issuer).toBe(`${op.url}/eu-west-1_AbCdEf123`);
    const d = (await (await fetch(op.discoveryUrl)).json()) as Record<string, unknown>;
    expect(d.issuer).toBe(op.issuer);
    expect(d.authorization_endpoint).toBe(`${op.url}/oauth2/authorize`);
    expect(d.token_endpoint).toBe(`${op.url}/oauth2/token`);
    expect(d.userinfo_endpoint).toBe(`${op.url}/oauth2/userInfo`);
    expect(d.jwks_uri).toBe(`${op.issuer}/.well-known/jwks.json`);
    expect(d.end_session_endpoint).toBeUndefined();
    expect(d.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_basic", "client_secret_post"]));
  });

  it("runs the authorization code flow (client_secret_basic, PKCE, nonce) with Cognito ID-token claims, signed per the JWKS", async () => {
    const config = await client.discovery(new URL(op.issuer), "owui-app", "s3cret", client.ClientSecretBasic("s3cret"), { execute: [client.allowInsecureRequests] });
    const browser = new Browser();
    const r = await authorize(op, config, browser, { user: "alice@example.com", password: ALICE.password });
    expect(r.sawForm).toBe(true);
    const idToken = r.tokens!.id_token!;
    const { payload, protectedHeader } = await jwtVerify(idToken, createRemoteJWKSet(new URL(op.endpoints.jwks)), { issuer: op.issuer, audience: "owui-app" });
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload).toMatchObject({
      sub: ALICE.sub,
      email: ALICE.email,
      email_verified: true,
      "cognito:username": ALICE.sub,
      "cognito:groups": ["admins", "staff"],
      token_use: "id",
      aud: "owui-app",
      iss: op.issuer,
    });
    expect(typeof payload.auth_time).toBe("number");
    expect(typeof payload.nonce).toBe("string");
    const info = await client.fetchUserInfo(config, r.tokens!.access_token, ALICE.sub);
    expect(info).toMatchObject({ sub: ALICE.sub, email: ALICE.email, "cognito:groups": ["admins", "staff"] });
    expect(op.logins.at(-1)).toMatchObject({ sub: ALICE.sub, clientId: "owui-app" });

    // the provider session now signs in without the form (SSO)
    const again = await authorize(op, config, browser);
    expect(again.sawForm).toBe(false);
    expect(decodeJwt(again.tokens!.id_token!).sub).toBe(ALICE.sub);

    // Cognito LOGOUT endpoint: clears the session, redirects to the allowed sign-out URL
    const out = await browser.request(op.logoutUrl("owui-app", SIGNED_OUT));
    expect(out.status).toBe(302);
    expect(out.headers.location).toBe(SIGNED_OUT);
    const after = await authorize(op, config, browser);
    expect(after.sawForm).toBe(true);
    expect(after.callback).toBeUndefined();
  });

  it("accepts client_secret_post and rejects a wrong password and a wrong secret", async () => {
    const post = await client.discovery(new URL(op.issuer), "owui-app", "s3cret", client.ClientSecretPost("s3cret"), { execute: [client.allowInsecureRequests] });
    const browser = new Browser();
    const wrong = await authorize(op, post, browser, { user: "bob@example.com", password: "nope" });
    expect(wrong.callback).toBeUndefined();
    expect(wrong.page?.body).toContain("Incorrect username or password.");
    const r = await authorize(op, post, new Browser(), { user: "BOB@example.com", password: BOB.password });
    const claims = r.tokens!.claims()!;
    expect(claims.sub).toBe("bob-sub");
    expect(claims.email).toBe("Bob@Example.com");
    expect(claims["cognito:groups"]).toBeUndefined();

    const bad = await client.discovery(new URL(op.issuer), "owui-app", "wrong", client.ClientSecretBasic("wrong"), { execute: [client.allowInsecureRequests] });
    await expect(authorize(op, bad, new Browser(), { user: BOB.email, password: BOB.password })).rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: "invalid_client" } }] });
  });

  it("refuses a logout_uri that is not an allowed sign-out URL", async () => {
    const res = await new Browser().follow(op.logoutUrl("owui-app", "https://evil.example/"));
    expect(res.res.status).toBe(400);
    expect(res.url).toContain("error=redirect_mismatch");
    const unknownClient = await new Browser().request(op.logoutUrl("nobody", SIGNED_OUT));
    expect(String(unknownClient.headers.location)).toContain("error=invalid_request");
  });
});

describe("oidc stand-in: entra flavor over HTTPS", () => {
  let op: OidcStandIn;
  let ca: TestCa;
  let config: client.Configuration;
  const tenant = "11111111-2222-4333-8444-555555555555";

  beforeAll(async () => {
    ca = await testCa();
    op = await start({
      flavor: "entra",
      issuerPath: `/${tenant}/v2.0`,
      tls: { key: ca.key, cert: ca.cert },
      hostname: "localhost",
      clients: [{ client_id: "app-id", client_secret: "entra-secret", redirect_uris: [CALLBACK] }],
      users: [ALICE, BOB],
    });
    config = await client.discovery(new URL(op.issuer), "app-id", "entra-secret", client.ClientSecretPost("entra-secret"), { [client.customFetch]: fetchWithCa(ca.caCert) });
    config[client.customFetch] = fetchWithCa(ca.caCert);
  });
  afterAll(async () => {
    await op?.stop();
    await ca?.cleanup();
  });

  it("uses Entra's issuer and endpoint paths over TLS", async () => {
    expect(op.issuer).toBe(`https://localhost:${op.port}/${tenant}/v2.0`);
    expect(op.tenantId).toBe(tenant);
    const d = config.serverMetadata();
    expect(d.issuer).toBe(op.issuer);
    expect(d.authorization_endpoint).toBe(`https://localhost:${op.port}/${tenant}/oauth2/v2.0/authorize`);
    expect(d.token_endpoint).toBe(`https://localhost:${op.port}/${tenant}/oauth2/v2.0/token`);
    expect(d.jwks_uri).toBe(`https://localhost:${op.port}/${tenant}/discovery/v2.0/keys`);
    expect(d.end_session_endpoint).toBe(`https://localhost:${op.port}/${tenant}/oauth2/v2.0/logout`);
    // without the CA the certificate is refused
    await expect(new Browser().request(op.discoveryUrl)).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it("issues v2.0 ID tokens with tid, oid, roles and groups; role changes apply on the next sign-in; logout forces the form", async () => {
    const browser = new Browser(ca.caCert);
    const r = await authorize(op, config, browser, { user: ALICE.email, password: ALICE.password });
    const jwksResp = await browser.request(op.endpoints.jwks);
    const { payload } = await jwtVerify(r.tokens!.id_token!, async (header) => {
      const { importJWK } = await import("jose");
      const key = (JSON.parse(jwksResp.body) as { keys: { kid: string }[] }).keys.find((k) => k.kid === header.kid)!;
      return importJWK(key, header.alg);
    }, { issuer: op.issuer, audience: "app-id" });
    expect(payload).toMatchObject({
      ver: "2.0",
      tid: tenant,
      sub: ALICE.sub,
      email: ALICE.email,
      preferred_username: ALICE.email,
      name: ALICE.name,
      roles: ["owui.admin"],
      groups: ["admins", "staff"],
    });
    expect(payload.oid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(payload.token_use).toBeUndefined();
    const info = await client.fetchUserInfo(config, r.tokens!.access_token, ALICE.sub);
    expect(info).toMatchObject({ roles: ["owui.admin"], tid: tenant });

    op.setRoles(ALICE.email, ["owui.user"]);
    const logout = await browser.request(`${op.endpoints.logout}?${new URLSearchParams({ post_logout_redirect_uri: CALLBACK, state: "xyz" })}`);
    expect(logout.status).toBe(302);
    expect(logout.headers.location).toBe(`${CALLBACK}?state=xyz`);
    const again = await authorize(op, config, browser, { user: ALICE.email, password: ALICE.password });
    expect(again.sawForm).toBe(true);
    expect(again.tokens!.claims()!.roles).toEqual(["owui.user"]);

    const refused = await browser.request(`${op.endpoints.logout}?post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`);
    expect(refused.status).toBe(400);
  });

  it("adds and removes users at runtime", async () => {
    op.addUser({ sub: "carol", email: "carol@example.com", name: "Carol", password: "pw", roles: ["owui.user"] });
    const r = await authorize(op, config, new Browser(ca.caCert), { user: "carol@example.com", password: "pw" });
    expect(r.tokens!.claims()!.sub).toBe("carol");
    expect(op.removeUser("carol@example.com")).toBe(true);
    const gone = await authorize(op, config, new Browser(ca.caCert), { user: "carol@example.com", password: "pw" });
    expect(gone.callback).toBeUndefined();
    expect(op.listUsers().map((u) => u.sub)).not.toContain("carol");
  });
});
