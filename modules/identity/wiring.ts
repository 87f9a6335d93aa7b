/**
 * Pure wiring of the env's auth mode into Open WebUI's task: config + references in, container
 * environment, secrets and sidecar out. No constructs: the identity layer creates the resources and
 * hands their references here. Order: the mode's environment → `auth.overrides` → the guardrails
 * (modules/policy/auth) on the result → the typed {@link OpenWebUiAuth}.
 *
 * Upstream facts behind each value are recorded in modules/identity/README.md ("Verified upstream").
 */
import { Fn } from "cdktf";
import type { AuthConfig, AuthOverride } from "../../envs/auth.js";
import { ConfigError, ConfigErrors } from "../../lib/errors.js";
import { queryEscape } from "../../lib/hcl-template.js";
import type { ParameterRef, SecretRef } from "../../lib/refs.js";
import type { ContainerSpec, SecretSource } from "../compute/spec.js";
import { checkAuthGuardrails, SCIM_ROUTE_PREFIX, type AuthView } from "../policy/auth/index.js";
import type { OpenWebUiAuth, UserPoolOutputs } from "./types.js";

/** Open WebUI's container name and port in its task (the services layer uses the same). */
export const OPENWEBUI_CONTAINER = "openwebui";
export const OPENWEBUI_PORT = 8080;
/** The oauth2-proxy sidecar: container name, listen port, health path (answered by the proxy itself). */
export const PROXY_CONTAINER = "oauth2-proxy";
export const PROXY_PORT = 4180;
export const PROXY_HEALTH_PATH = "/ping";
/** Callback paths registered with the IdP, per mode. */
export const PROXY_CALLBACK_PATH = "/oauth2/callback";
export const OIDC_CALLBACK_PATH = "/oauth/oidc/callback";
/** The header oauth2-proxy fills with the verified email (and strips from clients). */
export const TRUSTED_EMAIL_HEADER = "X-Forwarded-Email";
export { SCIM_ROUTE_PREFIX };

/** References the wiring needs, created by the identity layer. */
export interface AuthRefs {
  /** Prefixes config paths in refusals (`<env>: auth…`). */
  readonly envName: string;
  /** Public hostname; the app is `https://<hostname>`. */
  readonly hostname: string;
  /** The ALB's subnets and idle timeout (mode `oauth2-proxy`). */
  readonly alb?: { readonly subnetCidrs: readonly string[]; readonly idleTimeoutSeconds: number };
  /** The Cognito pool (idp `cognito`). */
  readonly userPool?: Pick<UserPoolOutputs, "issuerUrl" | "domainHost" | "clientId" | "clientSecret"> & { readonly logoutUrl?: string };
  /** Entra ids and the placeholder client secret (idp `entra`); the tenant id is a literal or a value read from SSM. */
  readonly entra?: { readonly tenantId: string; readonly clientId: string | ParameterRef; readonly clientSecret: SecretRef };
  /** `SCIM_TOKEN` placeholder (when `auth.scim.enabled`). */
  readonly scimToken?: SecretRef;
  /** `WEBUI_ADMIN_PASSWORD` placeholder (when `auth.admin`). */
  readonly adminPassword?: SecretRef;
  /** oauth2-proxy cookie secret placeholder (mode `oauth2-proxy`). */
  readonly cookieSecret?: SecretRef;
  /** `WEBUI_AUTH_SIGNOUT_REDIRECT_URL` (mode `oauth2-proxy`): a reference to {@link signOutUrlExpression}. */
  readonly signOutUrl?: string;
}

/** The wired auth of Open WebUI's task, and the view the guardrails approved. */
export interface WiredAuth {
  readonly openwebui: OpenWebUiAuth;
  readonly view: AuthView;
}

type Env = Record<string, string>;
type Secrets = Record<string, SecretSource>;
interface ContainerAuth {
  readonly environment: Env;
  readonly secrets: Secrets;
}

const flag = (b: boolean) => (b ? "true" : "false");

/**
 * `/oauth2/sign_out?rd=<url-encoded Cognito logout URL>`; the logout URL carries the app URL as
 * `logout_uri`, url-encoded too. The pool's domain and client id are Terraform references, so the
 * outer encoding is Terraform's `urlencode`; the app URL is a literal and is encoded here.
 */
export function signOutUrlExpression(pool: Pick<UserPoolOutputs, "domainHost" | "clientId">, appUrl: string): string {
  return `/oauth2/sign_out?rd=${Fn.urlencode(cognitoLogoutUrl(pool, appUrl))}`;
}

/**
 * Cognito's LOGOUT endpoint for the app client: ends the hosted UI's session and returns to
 * `appUrl`, which must be one of the client's sign-out URLs.
 */
export function cognitoLogoutUrl(pool: Pick<UserPoolOutputs, "domainHost" | "clientId">, appUrl: string): string {
  return `https://${pool.domainHost}/logout?client_id=${pool.clientId}&logout_uri=${queryEscape(appUrl)}`;
}

/** `OPENID_PROVIDER_URL` of Entra ID (v2.0 endpoint of one tenant). */
export const entraDiscoveryUrl = (tenantId: string) => `https://login.microsoftonline.com/${tenantId}/v2.0/.well-known/openid-configuration`;
/** `OPENID_PROVIDER_URL` of a Cognito user pool. */
export const cognitoDiscoveryUrl = (issuerUrl: string) => `${issuerUrl}/.well-known/openid-configuration`;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`identity wiring: ${what} is missing for this auth mode (a bug in the identity layer)`);
  return value;
}

/** Config checks the schema cannot express for values that end up in comma-separated lists or durations. */
function checkConfig(auth: AuthConfig, envName: string): void {
  const errors: ConfigError[] = [];
  const at = (path: string) => `${envName}: auth.${path}`;
  if (auth.mode === "oauth2-proxy") {
    const { cookieExpireHours: hours, cookieRefreshMinutes: minutes } = auth.proxy;
    if (minutes >= hours * 60) {
      errors.push(new ConfigError(at("proxy.cookieRefreshMinutes"), `${minutes} is not below cookieExpireHours (${hours} h = ${hours * 60} min); oauth2-proxy refuses to start when cookie_refresh ≥ cookie_expire`, `use at most ${hours * 60 - 1}, or 0 to never refresh`));
    }
    auth.proxy.skipAuthRoutes.forEach((r, i) => {
      if (r.includes(",")) errors.push(new ConfigError(at(`proxy.skipAuthRoutes[${i}]`), `"${r}" contains a comma, which separates entries in OAUTH2_PROXY_SKIP_AUTH_ROUTES, so it would become two routes`, "write the regex without a comma (e.g. {1,64} → +)"));
    });
  }
  if (auth.idp === "entra" && auth.entra.roles) {
    const { allowed, admin } = auth.entra.roles;
    for (const [key, list] of [["allowed", allowed], ["admin", admin]] as const) {
      list.forEach((v, i) => {
        if (v.includes(",")) errors.push(new ConfigError(at(`entra.roles.${key}[${i}]`), `"${v}" contains a comma, Open WebUI's OAUTH_ROLES_SEPARATOR, so it would be read as two roles`, "use the app role value or group object id, which have no comma"));
      });
    }
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
}

/**
 * Settings of every mode: multi-user, and Open WebUI's own cookies (the `token` JWT, the OAuth session)
 * marked Secure. Browsers reach the app only over https; unmarked, the JWT cookie would also ride a
 * plain-http request to the ALB's port-80 redirect listener.
 */
const COMMON: Env = { WEBUI_AUTH: "true", WEBUI_AUTH_COOKIE_SECURE: "true", WEBUI_SESSION_COOKIE_SECURE: "true" };

function scim(auth: AuthConfig, refs: AuthRefs): ContainerAuth {
  if (!auth.scim.enabled) return { environment: {}, secrets: {} };
  // env.py reads ENABLE_SCIM and falls back to SCIM_ENABLED (older releases read only the latter): set both.
  const environment: Env = { ENABLE_SCIM: "true", SCIM_ENABLED: "true" };
  // v0.10 stores a SCIM client's externalId per OAuth provider and links it to the user's OAuth sub;
  // generic OIDC (Entra or Cognito through OPENID_PROVIDER_URL) signs users in as provider "oidc".
  if (auth.mode === "oidc") environment.SCIM_AUTH_PROVIDER = "oidc";
  return { environment, secrets: { SCIM_TOKEN: { secret: need(refs.scimToken, "the SCIM token secret") } } };
}

/** The first administrator, created at Open WebUI's first start (main.py create_admin_user, only while no user exists). */
function admin(auth: AuthConfig, refs: AuthRefs): ContainerAuth {
  if (!auth.admin) return { environment: {}, secrets: {} };
  return {
    environment: { WEBUI_ADMIN_EMAIL: auth.admin.email, WEBUI_ADMIN_NAME: auth.admin.name },
    secrets: { WEBUI_ADMIN_PASSWORD: { secret: need(refs.adminPassword, "the admin password secret") } },
  };
}

/** Open WebUI behind the oauth2-proxy sidecar: trusted `X-Forwarded-Email`. */
function proxiedOpenWebUi(refs: AuthRefs): ContainerAuth {
  // v0.10.2 creates an unknown trusted email through signup_handler() without consulting
  // ENABLE_SIGNUP or ENABLE_LOGIN_FORM, so both stay off: an open /signup behind the proxy would let a
  // signed-in user pre-register someone else's email with a password of their choosing.
  return {
    environment: {
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: TRUSTED_EMAIL_HEADER,
      // oauth2-proxy sends no name: X-Forwarded-User is the sub, X-Forwarded-Preferred-Username
      // the `preferred_username` claim Cognito leaves unset; the email is the only readable name.
      WEBUI_AUTH_TRUSTED_NAME_HEADER: TRUSTED_EMAIL_HEADER,
      WEBUI_AUTH_SIGNOUT_REDIRECT_URL: need(refs.signOutUrl, "the sign-out URL"),
      DEFAULT_USER_ROLE: "user",
      ENABLE_SIGNUP: "false",
      ENABLE_LOGIN_FORM: "false",
      // Trusted-header sign-in goes through /api/v1/auths/signin, which needs password auth on.
      ENABLE_PASSWORD_AUTH: "true",
      // Every request must carry the proxy's cookie, so an API client's `sk-` key never reaches
      // Open WebUI (the proxy answers with a sign-in); keys stay off (README "API keys").
      ENABLE_API_KEYS: "false",
    },
    secrets: {},
  };
}

/** Open WebUI's native OIDC, against Entra ID or the Cognito pool. */
function oidcOpenWebUi(auth: Extract<AuthConfig, { mode: "oidc" }>, refs: AuthRefs): ContainerAuth {
  const environment: Env = {
    ENABLE_OAUTH_SIGNUP: "true",
    // SCIM and the headless admin create users before their first sign-in, without an OAuth sub;
    // without merging by email that sign-in fails with EMAIL_TAKEN (utils/oauth.py handle_callback).
    OAUTH_MERGE_ACCOUNTS_BY_EMAIL: flag(auth.scim.enabled || auth.admin !== undefined),
    // TLS ends at the ALB, so a derived redirect URI would be http://.
    OPENID_REDIRECT_URI: `https://${refs.hostname}${OIDC_CALLBACK_PATH}`,
    OAUTH_SCOPES: "openid email profile",
    ENABLE_LOGIN_FORM: "false",
    ENABLE_SIGNUP: "false",
    ENABLE_PASSWORD_AUTH: "false",
    DEFAULT_USER_ROLE: "user",
    // Users may create `sk-` keys for API clients (scripts, IDE plugins): they reach Open WebUI
    // through the ALB with the key alone, as the e2e suite proves (scenario 8).
    ENABLE_API_KEYS: "true",
    // …and role `user` may create them (v0.10.2 checks the `features.api_keys` permission too).
    USER_PERMISSIONS_FEATURES_API_KEYS: "true",
  };
  const secrets: Secrets = {};
  if (auth.idp === "entra") {
    const entra = need(refs.entra, "the Entra references");
    environment.OPENID_PROVIDER_URL = entraDiscoveryUrl(entra.tenantId);
    environment.OAUTH_PROVIDER_NAME = auth.entra.providerName;
    if (typeof entra.clientId === "string") environment.OAUTH_CLIENT_ID = entra.clientId;
    else secrets.OAUTH_CLIENT_ID = { parameter: entra.clientId };
    secrets.OAUTH_CLIENT_SECRET = { secret: entra.clientSecret };
    const { roles, groups } = auth.entra;
    if (roles) {
      Object.assign(environment, {
        ENABLE_OAUTH_ROLE_MANAGEMENT: "true",
        OAUTH_ROLES_CLAIM: roles.claim,
        OAUTH_ALLOWED_ROLES: roles.allowed.join(","),
        OAUTH_ADMIN_ROLES: roles.admin.join(","),
        // get_user_role() gives a user with none of the allowed roles DEFAULT_USER_ROLE: pending keeps them out.
        DEFAULT_USER_ROLE: "pending",
      });
    }
    if (groups) Object.assign(environment, { ENABLE_OAUTH_GROUP_MANAGEMENT: "true", OAUTH_GROUPS_CLAIM: groups.claim });
  } else {
    const pool = need(refs.userPool, "the Cognito user pool");
    environment.OPENID_PROVIDER_URL = cognitoDiscoveryUrl(pool.issuerUrl);
    environment.OAUTH_CLIENT_ID = pool.clientId;
    environment.OAUTH_ALLOWED_DOMAINS = auth.cognito.emailDomains.join(",");
    // Cognito's discovery document has no end_session_endpoint, so Open WebUI's sign-out would end
    // only its own session and the next visit would be signed in again by the hosted UI's cookie
    // (found by the e2e suite, scenario 6). Its LOGOUT endpoint ends both.
    environment.OPENID_END_SESSION_ENDPOINT = cognitoLogoutUrl(pool, pool.logoutUrl ?? `https://${refs.hostname}/`);
    secrets.OAUTH_CLIENT_SECRET = { secret: pool.clientSecret };
  }
  return { environment, secrets };
}

/** The oauth2-proxy sidecar's settings (OIDC against the Cognito pool, forwarding to Open WebUI on loopback). */
function proxySidecar(auth: Extract<AuthConfig, { mode: "oauth2-proxy" }>, refs: AuthRefs): ContainerAuth {
  const pool = need(refs.userPool, "the Cognito user pool");
  const routes = [...(auth.scim.exposeThroughProxy ? [SCIM_ROUTE_PREFIX] : []), ...auth.proxy.skipAuthRoutes];
  const alb = need(refs.alb, "the ALB facts");
  return {
    environment: {
      OAUTH2_PROXY_PROVIDER: "oidc",
      OAUTH2_PROXY_OIDC_ISSUER_URL: pool.issuerUrl,
      OAUTH2_PROXY_CLIENT_ID: pool.clientId,
      OAUTH2_PROXY_REDIRECT_URL: `https://${refs.hostname}${PROXY_CALLBACK_PATH}`,
      OAUTH2_PROXY_HTTP_ADDRESS: `0.0.0.0:${PROXY_PORT}`,
      OAUTH2_PROXY_UPSTREAMS: `http://127.0.0.1:${OPENWEBUI_PORT}`,
      OAUTH2_PROXY_PASS_USER_HEADERS: "true",
      OAUTH2_PROXY_SKIP_AUTH_STRIP_HEADERS: "true",
      // With a skipped route, REVERSE_PROXY would let a client's X-Forwarded-Uri pick the route
      // (GHSA-7x63-xv5r-3p2x; the ALB passes the header through): off then (OWUI-AUTH-12).
      OAUTH2_PROXY_REVERSE_PROXY: flag(routes.length === 0),
      // Only the ALB's nodes may set X-Forwarded-* (v7.15.2+); without it every source is trusted.
      OAUTH2_PROXY_TRUSTED_PROXY_IPS: alb.subnetCidrs.join(","),
      // A response-header timeout (default 30 s): long model calls stream only after the model
      // starts, so the proxy waits as long as the ALB keeps an idle connection.
      OAUTH2_PROXY_UPSTREAM_TIMEOUT: `${alb.idleTimeoutSeconds}s`,
      OAUTH2_PROXY_COOKIE_SECURE: "true",
      OAUTH2_PROXY_COOKIE_EXPIRE: `${auth.proxy.cookieExpireHours}h`,
      OAUTH2_PROXY_COOKIE_REFRESH: `${auth.proxy.cookieRefreshMinutes}m`,
      OAUTH2_PROXY_EMAIL_DOMAINS: auth.cognito.emailDomains.join(","),
      // The sign-out redirect goes to the Cognito domain's /logout.
      OAUTH2_PROXY_WHITELIST_DOMAINS: pool.domainHost,
      OAUTH2_PROXY_SCOPE: "openid email profile",
      OAUTH2_PROXY_CODE_CHALLENGE_METHOD: "S256",
      OAUTH2_PROXY_SKIP_PROVIDER_BUTTON: "true",
      OAUTH2_PROXY_PREFER_EMAIL_TO_USER: "false",
      OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER: "false",
      ...(routes.length > 0 ? { OAUTH2_PROXY_SKIP_AUTH_ROUTES: routes.join(",") } : {}),
    },
    secrets: {
      OAUTH2_PROXY_CLIENT_SECRET: { secret: pool.clientSecret },
      OAUTH2_PROXY_COOKIE_SECRET: { secret: need(refs.cookieSecret, "the cookie secret") },
    },
  };
}

/** Applies `auth.overrides` to the generated environments (the guardrails then see the result). */
function applyOverrides(overrides: readonly AuthOverride[], openwebui: Env, proxy: Env | undefined, envName: string): void {
  const errors: ConfigError[] = [];
  overrides.forEach((o, i) => {
    const target = o.container === "openwebui" ? openwebui : proxy;
    if (!target) errors.push(new ConfigError(`${envName}: auth.overrides[${i}].container`, `"${o.container}" is not a container of this auth mode`, "remove the override, or switch to the mode that runs it"));
    else target[o.name] = o.value;
  });
  if (errors.length > 0) throw new ConfigErrors(errors);
}

/**
 * The auth wiring of Open WebUI's task for `auth`: environment, secrets, sidecar, target port and
 * health path. Throws {@link ConfigErrors} when the config or the guardrails refuse it.
 */
export function wireAuth(auth: AuthConfig, refs: AuthRefs): WiredAuth {
  checkConfig(auth, refs.envName);
  const main = auth.mode === "oauth2-proxy" ? proxiedOpenWebUi(refs) : oidcOpenWebUi(auth, refs);
  const scimPart = scim(auth, refs);
  const adminPart = admin(auth, refs);
  const openwebuiEnv: Env = { ...COMMON, ...main.environment, ...scimPart.environment, ...adminPart.environment };
  const sidecar = auth.mode === "oauth2-proxy" ? proxySidecar(auth, refs) : undefined;
  const proxyEnv = sidecar ? { ...sidecar.environment } : undefined;
  applyOverrides(auth.overrides, openwebuiEnv, proxyEnv, refs.envName);

  const view: AuthView = { mode: auth.mode, openwebui: openwebuiEnv, proxy: proxyEnv, scimEnabled: auth.scim.enabled, openwebuiPort: OPENWEBUI_PORT };
  checkAuthGuardrails(view, auth.overrides, { envName: refs.envName });

  const sidecars: ContainerSpec[] =
    auth.mode === "oauth2-proxy" && sidecar && proxyEnv
      ? [
          {
            name: PROXY_CONTAINER,
            image: auth.proxy.image,
            port: PROXY_PORT,
            environment: proxyEnv,
            secrets: sidecar.secrets,
            // Distroless image: no shell and nothing to write, so no scratch volume either.
            scratchPaths: [],
            // Serve (and pass the ALB's /ping) only once Open WebUI answers its own health check.
            dependsOn: [{ containerName: OPENWEBUI_CONTAINER, condition: "HEALTHY" }],
          },
        ]
      : [];
  return {
    view,
    openwebui: {
      environment: openwebuiEnv,
      secrets: { ...main.secrets, ...scimPart.secrets, ...adminPart.secrets },
      sidecars,
      ...(sidecars.length > 0 ? { targetPort: PROXY_PORT, healthCheckPath: PROXY_HEALTH_PATH } : {}),
    },
  };
}
