/**
 * OpenID Provider stand-in for Amazon Cognito user pools and Microsoft Entra ID, built on
 * `oidc-provider` (a certified OpenID Provider implementation: discovery, authorization code flow,
 * PKCE, client_secret_basic/post, nonce, JWKS, userinfo). This module supplies what differs per IdP:
 * issuer and endpoint paths, claim shapes, a login form, automatic consent and the logout endpoints.
 *
 * Cognito ("cognito" flavor), per the Amazon Cognito Developer Guide:
 * - Issuer `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`; discovery and JWKS under it
 *   ("Verifying a JSON Web Token", https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html).
 *   Here: `<base>/<userPoolId>` (issuerPath, default `/us-east-1_E2eStandIn`), JWKS at
 *   `<issuer>/.well-known/jwks.json`.
 * - Endpoints on the user-pool domain ("User pool endpoints and managed login reference",
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-userpools-server-contract-reference.html):
 *   `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userInfo`, `/oauth2/revoke`, and the LOGOUT
 *   endpoint `GET /logout?client_id=<id>&logout_uri=<url>` ("Logout endpoint",
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html): signs the user out
 *   of the managed login session and redirects to `logout_uri`, which must exactly match one of the
 *   app client's allowed sign-out URLs (here: the client's `post_logout_redirect_uris`); otherwise
 *   an error page. The alternative `redirect_uri` + `response_type` form signs out and sends the
 *   user back to sign in. Cognito's discovery document has no `end_session_endpoint`; neither has
 *   this one.
 * - ID token claims ("Understanding the identity (ID) token",
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html):
 *   `sub`, `email`, `email_verified`, `cognito:username`, `cognito:groups` (array), `token_use:"id"`,
 *   `auth_time`, `aud` = app client id, `iss`.
 *
 * Entra ID ("entra" flavor), per the Microsoft identity platform docs:
 * - Issuer `https://login.microsoftonline.com/<tenant>/v2.0` ("OpenID Connect on the Microsoft
 *   identity platform", https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc);
 *   here `<base>/<tenant>/v2.0`, discovery at `<issuer>/.well-known/openid-configuration`,
 *   endpoints `/<tenant>/oauth2/v2.0/authorize|token|logout`, JWKS `/<tenant>/discovery/v2.0/keys`.
 * - ID token claims ("ID token claims reference",
 *   https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference): `ver:"2.0"`,
 *   `tid`, `oid`, `sub`, `name`, `preferred_username`, `email` (optional claim), `roles` (app-role
 *   values, "Add app roles to your application and receive them in the token",
 *   https://learn.microsoft.com/entra/identity-platform/howto-add-app-roles-in-apps), `groups`
 *   (group object ids, "Configure group claims").
 * - Sign-out ("Send a sign-out request" in the OIDC page above): `GET
 *   /<tenant>/oauth2/v2.0/logout?post_logout_redirect_uri=<url>` ends the session and redirects to the
 *   URL when it is registered for the app (here: a client's redirect or post-logout URIs); without
 *   one it shows a signed-out page.
 *
 * Login: an HTML form (username or email + password) at `/interaction/<uid>`, consent granted
 * automatically for every configured client (first-party apps never see a consent screen). Serves
 * HTTPS when given `tls`, plain HTTP otherwise.
 *
 * Not modelled: Cognito federation (Google), MFA, the managed-login UI itself, Cognito access-token
 * claims (access tokens here are opaque), Entra pairwise `sub`, group overage, v1 tokens, signing-key
 * rotation, refresh-token revocation on sign-out.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration, type KoaContextWithOIDC } from "oidc-provider";

export type OidcFlavor = "cognito" | "entra";

export interface OidcClientConfig {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
  /** Cognito "allowed sign-out URLs" / Entra post-logout redirect URIs. */
  readonly post_logout_redirect_uris?: readonly string[];
}

export interface OidcUser {
  readonly sub: string;
  readonly email: string;
  readonly name: string;
  readonly password: string;
  /** Cognito groups (`cognito:groups`) / Entra group object ids (`groups`). */
  readonly groups?: readonly string[];
  /** Entra app-role values (`roles`); ignored by the Cognito flavor. */
  readonly roles?: readonly string[];
  /** Cognito `cognito:username` (default: sub). */
  readonly username?: string;
  /** Entra `oid` (default: a UUID derived from sub). */
  readonly oid?: string;
  /** default true. */
  readonly emailVerified?: boolean;
}

export interface OidcOptions {
  readonly flavor: OidcFlavor;
  /** issuer path: Cognito `/<userPoolId>` (default `/us-east-1_E2eStandIn`); Entra `/<tenant>/v2.0`. */
  readonly issuerPath?: string;
  /** Entra tenant id (default derived from issuerPath, else a fixed UUID). */
  readonly tenantId?: string;
  readonly clients: readonly OidcClientConfig[];
  readonly users: readonly OidcUser[];
  readonly tls?: { readonly key: string; readonly cert: string };
  readonly port?: number;
  /** bind address (default 127.0.0.1). */
  readonly host?: string;
  /** host name in the issuer and endpoint URLs (default: the bind address). Must be in the TLS cert. */
  readonly hostname?: string;
}

export interface OidcEndpoints {
  readonly authorization: string;
  readonly token: string;
  readonly userinfo: string;
  readonly jwks: string;
  /** Cognito `/logout`; Entra `/<tenant>/oauth2/v2.0/logout`. */
  readonly logout: string;
}

export interface OidcStandIn {
  /** base URL (scheme://host:port). */
  readonly url: string;
  readonly port: number;
  readonly flavor: OidcFlavor;
  readonly issuer: string;
  /** `<issuer>/.well-known/openid-configuration` (what OPENID_PROVIDER_URL / OIDC_ISSUER_URL point at). */
  readonly discoveryUrl: string;
  readonly endpoints: OidcEndpoints;
  /** Entra tenant id (undefined for Cognito). */
  readonly tenantId?: string;
  /** Cognito user pool id (undefined for Entra). */
  readonly userPoolId?: string;
  /** the IdP's logout URL for a client: Cognito `?client_id&logout_uri`, Entra `?post_logout_redirect_uri`. */
  logoutUrl(clientId: string, returnTo: string): string;
  addUser(user: OidcUser): void;
  /** by sub or email; existing sessions of that user stop working. */
  removeUser(subOrEmail: string): boolean;
  setRoles(subOrEmail: string, roles: readonly string[]): void;
  setGroups(subOrEmail: string, groups: readonly string[]): void;
  listUsers(): OidcUser[];
  /** the claims an ID token for this user carries (before iss/aud/exp/iat/nonce/auth_time). */
  claimsFor(subOrEmail: string): Record<string, unknown>;
  /** logins performed through the form: sub and client. */
  readonly logins: { sub: string; clientId: string; at: Date }[];
  stop(): Promise<void>;
}

const COOKIE_NAMES = { session: "_session", interaction: "_interaction", resume: "_interaction_resume" };
const DEFAULT_TENANT = "5f1e2e00-0000-4000-8000-00000000e2e0";

function uuidFrom(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:4rem auto}label{display:block;margin-top:1rem}input{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00}</style>
</head><body>${body}</body></html>`;
}

export async function start(opts: OidcOptions): Promise<OidcStandIn> {
  const { flavor } = opts;
  const host = opts.host ?? "127.0.0.1";
  const hostname = opts.hostname ?? host;
  const scheme = opts.tls ? "https" : "http";

  let tenantId: string | undefined;
  let userPoolId: string | undefined;
  let issuerPath: string;
  if (flavor === "entra") {
    const fromPath = opts.issuerPath?.match(/^\/([^/]+)\/v2\.0\/?$/)?.[1];
    if (opts.issuerPath && !fromPath) throw new Error(`entra issuerPath must be /<tenant>/v2.0, got ${opts.issuerPath}`);
    tenantId = opts.tenantId ?? fromPath ?? DEFAULT_TENANT;
    issuerPath = `/${tenantId}/v2.0`;
  } else {
    issuerPath = (opts.issuerPath ?? "/us-east-1_E2eStandIn").replace(/\/$/, "");
    if (!issuerPath.startsWith("/") || issuerPath.length < 2) throw new Error(`cognito issuerPath must be /<userPoolId>, got ${opts.issuerPath}`);
    userPoolId = issuerPath.slice(1);
  }

  const routes =
    flavor === "cognito"
      ? {
          authorization: "/oauth2/authorize",
          token: "/oauth2/token",
          userinfo: "/oauth2/userInfo",
          revocation: "/oauth2/revoke",
          jwks: `${issuerPath}/.well-known/jwks.json`,
        }
      : {
          authorization: `/${tenantId}/oauth2/v2.0/authorize`,
          token: `/${tenantId}/oauth2/v2.0/token`,
          userinfo: "/oidc/userinfo",
          revocation: `/${tenantId}/oauth2/v2.0/revoke`,
          jwks: `/${tenantId}/discovery/v2.0/keys`,
          end_session: `/${tenantId}/oauth2/v2.0/logout`,
        };
  const logoutPath = flavor === "cognito" ? "/logout" : `/${tenantId}/oauth2/v2.0/logout`;

  const users = new Map<string, OidcUser>();
  const addUser = (u: OidcUser) => {
    users.set(u.sub, u);
  };
  opts.users.forEach(addUser);
  const findUser = (subOrEmail: string): OidcUser | undefined => {
    const direct = users.get(subOrEmail);
    if (direct) return direct;
    const l = subOrEmail.toLowerCase();
    return [...users.values()].find((u) => u.email.toLowerCase() === l || (u.username ?? "").toLowerCase() === l);
  };
  const mustFind = (subOrEmail: string) => {
    const u = findUser(subOrEmail);
    if (!u) throw new Error(`no such user: ${subOrEmail}`);
    return u;
  };

  const claimsFor = (u: OidcUser, use: string): Record<string, unknown> => {
    const token = use === "id_token";
    if (flavor === "cognito") {
      return {
        sub: u.sub,
        email: u.email,
        email_verified: u.emailVerified ?? true,
        name: u.name,
        "cognito:username": u.username ?? u.sub,
        ...(u.groups && u.groups.length > 0 ? { "cognito:groups": [...u.groups] } : {}),
        ...(token ? { token_use: "id" } : {}),
      };
    }
    return {
      sub: u.sub,
      oid: u.oid ?? uuidFrom(`oid:${u.sub}`),
      tid: tenantId,
      email: u.email,
      preferred_username: u.email,
      name: u.name,
      ...(u.roles && u.roles.length > 0 ? { roles: [...u.roles] } : {}),
      ...(u.groups && u.groups.length > 0 ? { groups: [...u.groups] } : {}),
      ...(token ? { ver: "2.0" } : {}),
    };
  };

  const claims: Configuration["claims"] =
    flavor === "cognito"
      ? { openid: ["sub", "cognito:username", "cognito:groups", "token_use"], email: ["email", "email_verified"], profile: ["name"] }
      : { openid: ["sub", "oid", "tid", "ver", "roles", "groups"], email: ["email"], profile: ["name", "preferred_username"] };

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };

  const clientsById = new Map(opts.clients.map((c) => [c.client_id, c]));
  const supportedScopes = ["openid", "email", "profile", "offline_access"];

  // The server must be listening before the issuer (which carries the port) is known.
  let provider!: Provider;
  let providerCallback!: (req: IncomingMessage, res: ServerResponse) => unknown;
  const logins: OidcStandIn["logins"] = [];

  const clearSessionCookies = (res: ServerResponse) => {
    const expired = "path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax";
    res.setHeader("set-cookie", [`${COOKIE_NAMES.session}=; ${expired}`, `${COOKIE_NAMES.session}.sig=; ${expired}`]);
  };

  const destroySession = async (req: IncomingMessage, res: ServerResponse) => {
    const id = parseCookies(req.headers.cookie)[COOKIE_NAMES.session];
    if (id) {
      const session = await provider.Session.find(id);
      if (session) await session.destroy();
    }
    clearSessionCookies(res);
  };

  const send = (res: ServerResponse, status: number, html: string) => {
    res.statusCode = status;
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.setHeader("cache-control", "no-store");
    res.end(html);
  };

  const redirect = (res: ServerResponse, location: string, status = 302) => {
    res.statusCode = status;
    res.setHeader("location", location);
    res.setHeader("cache-control", "no-store");
    res.end();
  };

  const loginForm = (uid: string, clientId: string, error?: string, username = "") =>
    page(
      "Sign in",
      `<h1>Sign in</h1><p>to <b>${esc(clientId)}</b> (${flavor === "cognito" ? "Amazon Cognito" : "Microsoft Entra ID"} stand-in)</p>
${error ? `<p class="error" role="alert" id="loginErrorMessage">${esc(error)}</p>` : ""}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label for="username">Email or username</label><input id="username" name="username" type="text" value="${esc(username)}" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="signin" name="signInSubmitButton" type="submit">Sign in</button>
</form>`,
    );

  const handleInteraction = async (req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) => {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(res, 400, page("Error", "<p>interaction mismatch</p>"));
    const clientId = String(details.params.client_id ?? "");
    if (details.prompt.name === "login") {
      if (req.method === "GET" && !action) return send(res, 200, loginForm(uid, clientId));
      if (req.method === "POST" && action === "login") {
        const form = await readForm(req);
        const username = form.get("username") ?? "";
        const user = findUser(username.trim());
        if (!user || user.password !== (form.get("password") ?? "")) {
          return send(res, 200, loginForm(uid, clientId, "Incorrect username or password.", username));
        }
        logins.push({ sub: user.sub, clientId, at: new Date() });
        return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
      }
    }
    if (details.prompt.name === "consent") {
      // loadExistingGrant grants configured clients; reaching here means a scope/claim outside it.
      const grant = new provider.Grant({ accountId: details.session!.accountId, clientId });
      grant.addOIDCScope(String(details.params.scope ?? "openid"));
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return send(res, 400, page("Error", `<p>unsupported prompt ${esc(details.prompt.name)}</p>`));
  };

  const cognitoLogout = async (url: URL, req: IncomingMessage, res: ServerResponse) => {
    const clientId = url.searchParams.get("client_id") ?? "";
    const client = clientsById.get(clientId);
    const logoutUri = url.searchParams.get("logout_uri");
    const redirectUri = url.searchParams.get("redirect_uri");
    const errorPage = (error: string) => redirect(res, `/error?${new URLSearchParams({ error, client_id: clientId })}`);
    if (!client) return errorPage("invalid_request");
    if (logoutUri !== null) {
      if (!(client.post_logout_redirect_uris ?? []).includes(logoutUri)) return errorPage("redirect_mismatch");
      await destroySession(req, res);
      return redirect(res, logoutUri);
    }
    if (redirectUri !== null && url.searchParams.get("response_type")) {
      if (!client.redirect_uris.includes(redirectUri)) return errorPage("redirect_mismatch");
      await destroySession(req, res);
      const q = new URLSearchParams(url.searchParams);
      if (!q.get("scope")) q.set("scope", "openid email profile");
      return redirect(res, `${routes.authorization}?${q}`);
    }
    return errorPage("invalid_request");
  };

  const entraLogout = async (url: URL, req: IncomingMessage, res: ServerResponse) => {
    const params = req.method === "POST" ? await readForm(req) : url.searchParams;
    const target = params.get("post_logout_redirect_uri");
    const clientId = params.get("client_id");
    const candidates = clientId ? [clientsById.get(clientId)].filter((c) => c !== undefined) : [...clientsById.values()];
    if (target !== null && !candidates.some((c) => [...c.redirect_uris, ...(c.post_logout_redirect_uris ?? [])].includes(target))) {
      return send(res, 400, page("Sign out error", `<p>AADSTS50011: The post logout redirect URI ${esc(target)} is not registered for the application.</p>`));
    }
    await destroySession(req, res);
    if (target === null) return send(res, 200, page("Signed out", "<h1>You signed out of your account</h1><p>It's a good idea to close all browser windows.</p>"));
    const dest = new URL(target);
    const state = params.get("state");
    if (state !== null) dest.searchParams.set("state", state);
    return redirect(res, dest.href);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const interaction = path.match(/^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/);
    if (interaction) return handleInteraction(req, res, interaction[1]!, interaction[2]);
    if (path === logoutPath && (req.method === "GET" || req.method === "POST")) {
      return flavor === "cognito" ? cognitoLogout(url, req, res) : entraLogout(url, req, res);
    }
    if (path === "/error" && flavor === "cognito") {
      return send(res, 400, page("Error", `<h1>An error was encountered with the requested page.</h1><p id="errorMessage">${esc(url.searchParams.get("error") ?? "")}</p>`));
    }
    if (path === `${issuerPath}/.well-known/openid-configuration`) {
      req.url = `/.well-known/openid-configuration${url.search}`;
    } else if (path === "/.well-known/openid-configuration") {
      return send(res, 404, page("Not found", "<p>discovery lives under the issuer</p>"));
    }
    return providerCallback(req, res);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, page("Error", `<pre>${esc(String((e as Error)?.stack ?? e))}</pre>`));
      else res.destroy();
    });
  };
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // The default port is left out, as every client normalises it (oauth2-proxy compares the issuer as text).
  const base = `${scheme}://${hostname}${(scheme === "https" && port === 443) || (scheme === "http" && port === 80) ? "" : `:${port}`}`;
  const issuer = `${base}${issuerPath}`;

  const configuration: Configuration = {
    clients: opts.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: [...c.redirect_uris],
      post_logout_redirect_uris: [...(c.post_logout_redirect_uris ?? [])],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      require_auth_time: flavor === "cognito",
    })),
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString("hex")], names: COOKIE_NAMES },
    claims,
    scopes: supportedScopes,
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: flavor === "entra" },
      userinfo: { enabled: true },
      revocation: { enabled: true },
    },
    routes,
    pkce: { required: () => false },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const u = users.get(sub);
      if (!u) return undefined;
      return { accountId: sub, claims: (use: string) => ({ ...claimsFor(users.get(sub) ?? u, use), sub }) };
    },
    // Consent is automatic for the configured (first-party) clients.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const session = ctx.oidc.session;
      const client = ctx.oidc.client;
      if (!session?.accountId || !client) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const requested = String(ctx.oidc.params?.scope ?? "openid").split(" ");
      grant.addOIDCScope(requested.filter((s) => supportedScopes.includes(s)).join(" "));
      await grant.save();
      return grant;
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    ttl: { AccessToken: 3600, AuthorizationCode: 300, IdToken: 3600, Grant: 86400, Interaction: 3600, Session: 86400, RefreshToken: 30 * 86400 },
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = page("Error", `<h1>${esc(String(out.error))}</h1><p id="errorMessage">${esc(String(out.error_description ?? ""))}</p>`);
    },
  };
  provider = new Provider(issuer, configuration);
  providerCallback = provider.callback();

  const logoutUrl = (clientId: string, returnTo: string): string =>
    flavor === "cognito"
      ? `${base}/logout?${new URLSearchParams({ client_id: clientId, logout_uri: returnTo })}`
      : `${base}${logoutPath}?${new URLSearchParams({ post_logout_redirect_uri: returnTo })}`;

  return {
    url: base,
    port,
    flavor,
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    endpoints: {
      authorization: base + routes.authorization,
      token: base + routes.token,
      userinfo: base + routes.userinfo,
      jwks: base + routes.jwks,
      logout: base + logoutPath,
    },
    tenantId,
    userPoolId,
    logoutUrl,
    addUser,
    removeUser: (subOrEmail) => {
      const u = findUser(subOrEmail);
      return u ? users.delete(u.sub) : false;
    },
    setRoles: (subOrEmail, roles) => {
      const u = mustFind(subOrEmail);
      users.set(u.sub, { ...u, roles: [...roles] });
    },
    setGroups: (subOrEmail, groups) => {
      const u = mustFind(subOrEmail);
      users.set(u.sub, { ...u, groups: [...groups] });
    },
    listUsers: () => [...users.values()],
    claimsFor: (subOrEmail) => claimsFor(mustFind(subOrEmail), "id_token"),
    logins,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
