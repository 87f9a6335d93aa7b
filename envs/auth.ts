/**
 * The `auth` section of an environment: which identity provider signs users in, and how Open WebUI
 * learns who they are. A discriminated union on `mode` (and, for `oidc`, on `idp`):
 *
 * - `{ mode: "oauth2-proxy", idp: "cognito" }`: an oauth2-proxy sidecar in the Open WebUI task does
 *   OIDC against a Cognito user pool and passes the verified email upstream (trusted headers);
 * - `{ mode: "oidc", idp: "entra" }` / `{ mode: "oidc", idp: "cognito" }`: Open WebUI's native OIDC.
 *
 * `alb-cognito` (ALB `authenticate-cognito`) is refused here with its reason: see {@link ALB_COGNITO_REFUSAL}.
 * The guardrails that refuse known-broken settings run at synth on the final container environment
 * (modules/policy/auth); `overrides` is the only way to change an auth variable, and they see it.
 */
import { z } from "zod";
import { pinnedImage } from "./fields.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EMAIL_DOMAIN_RE = /^(\*|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/;
const DOMAIN_PREFIX_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `mode: "alb-cognito"` is refused (the message an operator sees). */
export const ALB_COGNITO_REFUSAL =
  "ALB authenticate-cognito is not supported: the ALB forwards x-amzn-oidc-identity, which is the user's Cognito sub, not an email, " +
  "and the verified email travels only inside the signed x-amzn-oidc-data JWT, which Open WebUI does not verify; trusting either header would key accounts by an opaque id or by an unverified value. " +
  'Fix: use { mode: "oauth2-proxy", idp: "cognito" } (same Cognito pool, the proxy passes the verified email as X-Forwarded-Email) or { mode: "oidc", idp: "cognito" }';

const uuid = (what: string) =>
  z.string().regex(UUID_RE, { error: (i) => `"${String(i.input)}" is not a ${what} (a lower-case GUID). Fix: copy it from the Entra app registration's overview, e.g. "00000000-0000-0000-0000-000000000000"` });

const emailDomain = z.string().regex(EMAIL_DOMAIN_RE, {
  error: (i) => `"${String(i.input)}" is not an email domain. Fix: a lower-case domain such as "example.com", or "*" for any`,
});

const ssmParameterName = z.string().regex(/^\/[A-Za-z0-9_.\-/]{1,1010}$/, { error: "is not an SSM parameter name. Fix: a path such as \"/owui/nonprod/entra/client-id\"" });

/** The Cognito user pool, its hosted domain and app client. */
const cognitoSchema = z.strictObject({
  /**
   * Prefix of the hosted domain `<prefix>.auth.<region>.amazoncognito.com`; unique per region across
   * all of AWS, and may not contain "aws", "amazon" or "cognito".
   * @default - `owui-<env>-<account id>`
   */
  domainPrefix: z
    .string()
    .regex(DOMAIN_PREFIX_RE, { error: "is not a Cognito domain prefix. Fix: 1–63 lower-case letters, digits and dashes, not starting or ending with a dash" })
    .refine((p) => !/aws|amazon|cognito/.test(p), { error: "contains a reserved word (aws, amazon or cognito). Fix: choose a prefix without them" })
    .optional(),
  /**
   * Email domains that may sign up and sign in, enforced by a pre-sign-up trigger (and by
   * oauth2-proxy's `EMAIL_DOMAINS` in proxy mode). `["*"]` allows any address. Required.
   */
  emailDomains: z.array(emailDomain).min(1, { error: 'is empty, so nobody could sign up. Fix: list the allowed domains, e.g. ["example.com"], or ["*"] for any' }),
  /** Users may sign themselves up; otherwise only administrators create users. @default true */
  selfSignUp: z.boolean().default(true),
  /** Multi-factor authentication (TOTP). @default "OPTIONAL" */
  mfa: z.enum(["OFF", "OPTIONAL", "ON"]).default("OPTIONAL"),
  /** Google federation through the pool. @default - off */
  google: z
    .strictObject({
      /** Google OAuth client id (not secret), `<n>.apps.googleusercontent.com`. */
      clientId: z.string().regex(/^[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com$/, { error: "is not a Google OAuth client id. Fix: copy it from Google Cloud console → Credentials, e.g. \"123-abc.apps.googleusercontent.com\"" }),
      /**
       * Name or ARN of an existing Secrets Manager secret holding Google's client secret (plain
       * string). Cognito's API takes the value itself, so Terraform reads it and it IS stored in
       * Terraform state (encrypted state bucket); rotate it in Google if state leaks.
       */
      clientSecretSecret: z.string().min(1),
    })
    .optional(),
});

/** The oauth2-proxy sidecar. */
const proxySchema = z.strictObject({
  /** oauth2-proxy image, pinned. @default "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6" */
  image: pinnedImage.default("quay.io/oauth2-proxy/oauth2-proxy:v7.15.6"),
  /** Session cookie lifetime in hours. @default 12 */
  cookieExpireHours: z.number().int().min(1).max(720).default(12),
  /** Refresh the session against the IdP this often, in minutes (0: never). @default 60 */
  cookieRefreshMinutes: z.number().int().min(0).max(1440).default(60),
  /**
   * Extra `OAUTH2_PROXY_SKIP_AUTH_ROUTES` entries (`METHOD=regex`, `regex` or `!=regex`). The
   * guardrails allow only the anchored SCIM prefix, and only when SCIM is on; prefer
   * `scim.exposeThroughProxy`. @default []
   */
  skipAuthRoutes: z.array(z.string().min(1)).default([]),
});

/** Open WebUI's SCIM 2.0 API (`/api/v1/scim/v2`), for provisioning. */
const scimSchema = z.strictObject({
  /** `ENABLE_SCIM` (and the older `SCIM_ENABLED`) plus a `SCIM_TOKEN` secret. @default - on exactly when provisioning is on */
  enabled: z.boolean().optional(),
  /**
   * oauth2-proxy mode only: let an external SCIM client (e.g. Entra) reach `/api/v1/scim/v2/`
   * through the ALB by skipping proxy auth for exactly that anchored prefix (the route still needs
   * the SCIM bearer token). @default false
   */
  exposeThroughProxy: z.boolean().default(false),
});

/** Cognito sign-up → SQS → SCIM worker → Open WebUI, plus an hourly reconciler. */
const provisioningSchema = z.strictObject({
  /** Build the pipeline. @default true */
  enabled: z.boolean().default(true),
  /** At most this many worker invocations at once (SQS event source maximum concurrency, 2–1000). @default 2 */
  maxConcurrency: z.number().int().min(2).max(1000).default(2),
  /** Reconciler schedule (EventBridge `rate(...)` or `cron(...)`). @default "rate(1 hour)" */
  reconcileSchedule: z
    .string()
    .regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$/, { error: "is not an EventBridge schedule expression. Fix: e.g. \"rate(1 hour)\" or \"cron(0 * * * ? *)\"" })
    .default("rate(1 hour)"),
  /** Optional post-provision webhook (e.g. an n8n invitation), called after a user is created; failures only logged. @default - off */
  webhookUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL. Fix: e.g. \"https://n8n.example.com/webhook/invite\"" }).optional(),
});

/** Open WebUI variables an override may set (no secrets: those come only from Secrets Manager). */
export const OPENWEBUI_AUTH_VARS = [
  "WEBUI_AUTH",
  "ENABLE_SIGNUP",
  "ENABLE_LOGIN_FORM",
  "ENABLE_PASSWORD_AUTH",
  "DEFAULT_USER_ROLE",
  "WEBUI_AUTH_TRUSTED_EMAIL_HEADER",
  "WEBUI_AUTH_TRUSTED_NAME_HEADER",
  "WEBUI_AUTH_TRUSTED_GROUPS_HEADER",
  "WEBUI_AUTH_SIGNOUT_REDIRECT_URL",
  "ENABLE_OAUTH_SIGNUP",
  "OAUTH_MERGE_ACCOUNTS_BY_EMAIL",
  "OAUTH_PROVIDER_NAME",
  "OAUTH_SCOPES",
  "OAUTH_ALLOWED_DOMAINS",
  "ENABLE_OAUTH_ROLE_MANAGEMENT",
  "OAUTH_ROLES_CLAIM",
  "OAUTH_ALLOWED_ROLES",
  "OAUTH_ADMIN_ROLES",
  "ENABLE_OAUTH_GROUP_MANAGEMENT",
  "OAUTH_GROUPS_CLAIM",
  "ENABLE_API_KEYS",
  "ENABLE_SCIM",
  "SCIM_ENABLED",
] as const;

/** oauth2-proxy variables an override may set. */
export const PROXY_AUTH_VARS = [
  "OAUTH2_PROXY_PREFER_EMAIL_TO_USER",
  "OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER",
  "OAUTH2_PROXY_PASS_ACCESS_TOKEN",
  "OAUTH2_PROXY_PASS_USER_HEADERS",
  "OAUTH2_PROXY_SET_XAUTHREQUEST",
  "OAUTH2_PROXY_SET_AUTHORIZATION_HEADER",
  "OAUTH2_PROXY_SKIP_AUTH_ROUTES",
  "OAUTH2_PROXY_UPSTREAMS",
  "OAUTH2_PROXY_REVERSE_PROXY",
  "OAUTH2_PROXY_COOKIE_SECURE",
  "OAUTH2_PROXY_COOKIE_SAMESITE",
  "OAUTH2_PROXY_EMAIL_DOMAINS",
  "OAUTH2_PROXY_WHITELIST_DOMAINS",
  "OAUTH2_PROXY_SKIP_PROVIDER_BUTTON",
  "OAUTH2_PROXY_SCOPE",
] as const;

/**
 * A typed, reasoned change to one auth variable of one container. It is applied to the generated
 * environment BEFORE the guardrails run, so an override cannot switch a guardrail off; there is no
 * other way to set raw environment on these containers.
 */
const overrideSchema = z.discriminatedUnion("container", [
  z.strictObject({ container: z.literal("openwebui"), name: z.enum(OPENWEBUI_AUTH_VARS), value: z.string(), reason: z.string().trim().min(10, { error: "is too short. Fix: say in at least 10 characters why the default is wrong here" }) }),
  z.strictObject({ container: z.literal("oauth2-proxy"), name: z.enum(PROXY_AUTH_VARS), value: z.string(), reason: z.string().trim().min(10, { error: "is too short. Fix: say in at least 10 characters why the default is wrong here" }) }),
]);
export type AuthOverride = z.output<typeof overrideSchema>;

/** Entra ID (Azure AD) app registration for native OIDC. */
const entraSchema = z.strictObject({
  /**
   * Directory (tenant) id, or the SSM parameter the integrations layer publishes it under (then
   * Terraform reads it at plan; the parameter must exist first). `OPENID_PROVIDER_URL` is derived from it.
   */
  tenantId: z.union([uuid("tenant id"), z.strictObject({ parameterName: ssmParameterName })]),
  /**
   * Application (client) id, or the SSM parameter the integrations layer publishes it under (then
   * ECS reads it from SSM at task start). Not secret.
   */
  clientId: z.union([uuid("client id"), z.strictObject({ parameterName: ssmParameterName })]),
  /** Button label on the login page. @default "Microsoft" */
  providerName: z.string().min(1).max(40).default("Microsoft"),
  /**
   * Role mapping: Open WebUI roles from an Entra claim (app roles in `roles`, or group object ids in
   * `groups`). @default - off: every user gets `user`
   */
  roles: z
    .strictObject({
      /** @default "roles" */
      claim: z.string().min(1).default("roles"),
      /** Claim values that may sign in at all (app role values or group object ids). */
      allowed: z.array(z.string().min(1)).min(1),
      /** Claim values that make a user an admin. */
      admin: z.array(z.string().min(1)).min(1),
    })
    .optional(),
  /** Sync Open WebUI group membership from a claim. @default - off */
  groups: z.strictObject({ /** @default "groups" */ claim: z.string().min(1).default("groups") }).optional(),
});

/** The first administrator: Open WebUI creates it at its first start, when the database has no user yet. */
const adminSchema = z.strictObject({
  /** `WEBUI_ADMIN_EMAIL`: the person signs in with this address through the IdP and is admin. */
  email: z.email({ error: "is not an email address. Fix: the address the first administrator signs in with, e.g. \"platform-admins@example.com\"" }),
  /** `WEBUI_ADMIN_NAME`. @default "Admin" */
  name: z.string().min(1).max(64).default("Admin"),
});

const common = {
  /**
   * The first administrator (`WEBUI_ADMIN_EMAIL`; its password is a placeholder secret nobody types).
   * Required in every mode: Open WebUI makes the only user of an empty database admin at sign-in
   * (utils/oauth.py get_user_role; signup_handler for trusted headers), so without a headless admin
   * created at the first start, whoever signs in first becomes admin.
   */
  admin: adminSchema.optional(),
  scim: scimSchema.prefault({}),
  /** Typed, reasoned changes to auth variables; the guardrails still check the result. @default [] */
  overrides: z.array(overrideSchema).default([]),
};

const oauth2ProxyAuth = z.strictObject({
  mode: z.literal("oauth2-proxy"),
  idp: z.literal("cognito"),
  cognito: cognitoSchema,
  proxy: proxySchema.prefault({}),
  provisioning: provisioningSchema.prefault({}),
  ...common,
});

const oidcCognitoAuth = z.strictObject({
  mode: z.literal("oidc"),
  idp: z.literal("cognito"),
  cognito: cognitoSchema,
  provisioning: provisioningSchema.prefault({}),
  ...common,
});

const oidcEntraAuth = z.strictObject({
  mode: z.literal("oidc"),
  idp: z.literal("entra"),
  entra: entraSchema,
  ...common,
});

/** Accepted only to be refused with the reason, instead of a bare "invalid discriminator". */
const albCognitoAuth = z.object({ mode: z.literal("alb-cognito") }).superRefine((_, ctx) => {
  ctx.addIssue({ code: "custom", path: ["mode"], message: ALB_COGNITO_REFUSAL });
});

export const authSchema = z.discriminatedUnion("mode", [oauth2ProxyAuth, z.discriminatedUnion("idp", [oidcCognitoAuth, oidcEntraAuth]), albCognitoAuth]);

type ParsedAuth = z.output<typeof oauth2ProxyAuth> | z.output<typeof oidcCognitoAuth> | z.output<typeof oidcEntraAuth>;
type Resolved<T> = T extends { scim: infer S } ? Omit<T, "scim"> & { readonly scim: Omit<S, "enabled"> & { readonly enabled: boolean } } : never;

/** A parsed `auth` section with derived defaults resolved. */
export type AuthConfig = Resolved<ParsedAuth>;
export type CognitoConfig = z.output<typeof cognitoSchema>;
export type EntraConfig = z.output<typeof entraSchema>;
export type ProvisioningConfig = z.output<typeof provisioningSchema>;
export type ProxyConfig = z.output<typeof proxySchema>;

/** Cross-field checks of `auth`, and its derived values (SCIM on when provisioning is on). */
export function deriveAuth(auth: z.output<typeof authSchema>, fail: (path: string, problem: string, fix: string) => void): AuthConfig {
  const a = auth as ParsedAuth;
  const provisioning = "provisioning" in a && a.provisioning.enabled;
  if (a.scim.enabled === false && provisioning) {
    fail("auth.scim.enabled", "is false while auth.provisioning.enabled is true; the provisioning worker creates users through Open WebUI's SCIM API", "enable SCIM, or set auth.provisioning.enabled to false");
  }
  const scimEnabled = a.scim.enabled ?? provisioning;
  if (!a.admin) {
    const why = provisioning
      ? "provisioning creates every user as role \"user\", so nobody would ever be an administrator"
      : "Open WebUI makes the only user of an empty database admin, so whoever signs in first would become administrator";
    fail("auth.admin", `is missing; ${why}`, `set auth.admin = { email: "<address of the first administrator>" }: Open WebUI creates that administrator at its first start, and the person signs in with that address through ${a.idp === "entra" ? "Entra ID (with an admin app role)" : "Cognito"}`);
  }
  if (a.scim.exposeThroughProxy && a.mode !== "oauth2-proxy") {
    fail("auth.scim.exposeThroughProxy", `is true in mode "${a.mode}", which has no proxy; SCIM is reachable through the ALB with its bearer token already`, "remove it");
  }
  if (a.scim.exposeThroughProxy && !scimEnabled) {
    fail("auth.scim.exposeThroughProxy", "is true while SCIM is off, so the skipped route would lead nowhere", "set auth.scim.enabled to true, or remove exposeThroughProxy");
  }
  a.overrides.forEach((o, i) => {
    if (o.container === "oauth2-proxy" && a.mode !== "oauth2-proxy") {
      fail(`auth.overrides[${i}].container`, `"oauth2-proxy" is not part of mode "${a.mode}"`, "remove the override, or switch to mode \"oauth2-proxy\"");
    }
    const dup = a.overrides.findIndex((p) => p.container === o.container && p.name === o.name);
    if (dup !== i) fail(`auth.overrides[${i}].name`, `${o.name} is already overridden by auth.overrides[${dup}]`, "keep one override per variable");
  });
  return { ...a, scim: { ...a.scim, enabled: scimEnabled } } as AuthConfig;
}
