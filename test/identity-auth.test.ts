/**
 * The identity layer's auth modes, synthesized as whole platform stacks, each in a nonprod-like and a
 * prod-like config: Open WebUI's exact auth environment and secrets, the oauth2-proxy sidecar's exact
 * settings, the ALB target (4180 + /ping behind the proxy), the exact security-group paths (8080
 * reachable from neither the ALB nor other services behind the proxy), no trusted header in native
 * OIDC, Entra ids from SSM, the placeholders, the outputs, and the sign-out URL decoded part by part
 * (evaluated here, and cross-checked with `terraform console` when a terraform binary is present).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { queryEscape } from "../lib/hcl-template.js";
import { COOKIE_SECRET_COMMAND, type Identity } from "../modules/identity/index.js";
import { CertificateStack } from "../stacks/certificate-stack.js";
import { PlatformStack } from "../stacks/platform-stack.js";
import { parseTemplate, type TemplatePart } from "./support/hcl-gate.js";
import {
  containerOf,
  containersOf,
  dataRefOf,
  ENVS,
  envOf,
  intendedServiceGroupRules,
  openWebUiServiceEnv,
  openWebUiServiceSecrets,
  policyOf,
  refOf,
  ruleTable,
  SCIM_PROXY_AUTH,
  secretsOf,
  synthPlatform,
  withAuth,
  type Json,
  type Synthesized,
} from "./support/synth.js";

const P = "${data.aws_partition.partition.partition}";
const ACCOUNT = "${data.aws_caller_identity.current.account_id}";
const COGNITO = { emailDomains: ["example.com", "example.org"] };
const PROXY = { mode: "oauth2-proxy", idp: "cognito", cognito: COGNITO, admin: { email: "owui-admins@example.com" } };
const OIDC_COGNITO = { mode: "oidc", idp: "cognito", cognito: COGNITO, admin: { email: "owui-admins@example.com" } };

const TERRAFORM = ["/usr/local/bin/terraform", "/usr/bin/terraform"].find((p) => existsSync(p));

/** Open WebUI's auth variables: its environment without the services layer's own. */
function authEnv(env: EnvConfig, c: Json): Record<string, string> {
  const own = new Set(openWebUiServiceEnv(env));
  return Object.fromEntries(Object.entries(envOf(c)).filter(([k]) => !own.has(k)));
}
function authSecrets(env: EnvConfig, c: Json): Record<string, string> {
  const own = new Set(openWebUiServiceSecrets(env));
  return Object.fromEntries(Object.entries(secretsOf(c)).filter(([k]) => !own.has(k)));
}

/** The Identity construct of an env's platform stack (for its typed outputs). */
function identityOf(env: EnvConfig): Identity {
  const app = Testing.app();
  return new PlatformStack(app, env.name, { env, certificate: new CertificateStack(app, `${env.name}-certificate`, env) }).identity;
}

const secretArn = (s: Synthesized, part: string) => refOf(s, "aws_secretsmanager_secret", part, "arn");

/** Checks every mode shares: the service keeps its own variables, and nothing auth-related is plain that should be secret. */
function sharedChecks(env: EnvConfig, s: Synthesized) {
  const c = containerOf(s, "openwebui");
  it("keeps the services layer's own variables and secrets exactly", () => {
    const e = envOf(c);
    for (const k of openWebUiServiceEnv(env)) expect(e, k).toHaveProperty(k);
    for (const k of openWebUiServiceSecrets(env)) expect(secretsOf(c), k).toHaveProperty(k);
  });

  it("gives Open WebUI its image's health check, with a 300 s start period for the first start's migrations", () => {
    expect(c.healthCheck).toEqual({ command: ["CMD-SHELL", "curl --silent --fail http://127.0.0.1:8080/health | jq -ne 'input.status == true' || exit 1"], interval: 15, timeout: 5, retries: 3, startPeriod: 300 });
  });
}

// ---------------------------------------------------------------------------------------------
// oauth2-proxy + Cognito
// ---------------------------------------------------------------------------------------------

describe.each([
  ["nonprod-like", withAuth(ENVS.nonprod, PROXY)],
  ["prod-like", withAuth(ENVS.prod, PROXY)],
] as const)("oauth2-proxy + Cognito, %s", (_kind, env) => {
  const s = synthPlatform(env);
  const c = containerOf(s, "openwebui");
  const sidecar = containerOf(s, "openwebui", "oauth2-proxy");
  const pool = refOf(s, "aws_cognito_user_pool", "identity_cognito_pool", "id");
  const client = refOf(s, "aws_cognito_user_pool_client", "identity_cognito_client", "id");
  const domainHost = `${refOf(s, "aws_cognito_user_pool_domain", "identity_cognito_domain", "domain")}.auth.${env.region}.amazoncognito.com`;
  sharedChecks(env, s);

  it("sets exactly the trusted-header environment on Open WebUI (SCIM on with provisioning, self-signup off)", () => {
    expect(authEnv(env, c)).toEqual({
      WEBUI_AUTH: "true",
      WEBUI_AUTH_COOKIE_SECURE: "true",
      WEBUI_SESSION_COOKIE_SECURE: "true",
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
      WEBUI_AUTH_TRUSTED_NAME_HEADER: "X-Forwarded-Email",
      WEBUI_AUTH_SIGNOUT_REDIRECT_URL: "${local.openwebui_signout_redirect_url}",
      DEFAULT_USER_ROLE: "user",
      ENABLE_SIGNUP: "false",
      ENABLE_LOGIN_FORM: "false",
      ENABLE_PASSWORD_AUTH: "true",
      ENABLE_API_KEYS: "false",
      ENABLE_SCIM: "true",
      SCIM_ENABLED: "true",
      WEBUI_ADMIN_EMAIL: "owui-admins@example.com",
      WEBUI_ADMIN_NAME: "Admin",
    });
  });

  it("injects exactly the SCIM token and the first administrator's password as Open WebUI's auth secrets", () => {
    expect(authSecrets(env, c)).toEqual({ SCIM_TOKEN: secretArn(s, "identity_scim-token"), WEBUI_ADMIN_PASSWORD: secretArn(s, "identity_admin-password") });
  });

  it("runs the pinned oauth2-proxy sidecar on 4180, read-only, no scratch volume, started once Open WebUI is healthy", () => {
    expect(containersOf(s.resource("aws_ecs_task_definition", "compute_openwebui_task")).map((d) => d.name)).toEqual(["openwebui", "oauth2-proxy"]);
    expect(sidecar).toMatchObject({
      image: env.auth.mode === "oauth2-proxy" ? env.auth.proxy.image : "",
      essential: true,
      portMappings: [{ containerPort: 4180, protocol: "tcp", name: "oauth2-proxy-4180" }],
      readonlyRootFilesystem: true,
      privileged: false,
      mountPoints: [],
      dependsOn: [{ containerName: "openwebui", condition: "HEALTHY" }],
    });
    expect(sidecar.image).toMatch(/^quay\.io\/oauth2-proxy\/oauth2-proxy:v\d+\.\d+\.\d+$/);
    expect(sidecar.healthCheck).toBeUndefined();
    expect(sidecar.logConfiguration.options["awslogs-stream-prefix"]).toBe("oauth2-proxy");
  });

  it("configures the sidecar with exactly the intended settings", () => {
    expect(envOf(sidecar)).toEqual({
      OAUTH2_PROXY_PROVIDER: "oidc",
      OAUTH2_PROXY_OIDC_ISSUER_URL: `https://cognito-idp.${env.region}.amazonaws.com/${pool}`,
      OAUTH2_PROXY_CLIENT_ID: client,
      OAUTH2_PROXY_REDIRECT_URL: `https://${env.hostname}/oauth2/callback`,
      OAUTH2_PROXY_HTTP_ADDRESS: "0.0.0.0:4180",
      OAUTH2_PROXY_UPSTREAMS: "http://127.0.0.1:8080",
      OAUTH2_PROXY_PASS_USER_HEADERS: "true",
      OAUTH2_PROXY_SKIP_AUTH_STRIP_HEADERS: "true",
      OAUTH2_PROXY_REVERSE_PROXY: "true",
      OAUTH2_PROXY_COOKIE_SECURE: "true",
      OAUTH2_PROXY_COOKIE_EXPIRE: "12h",
      OAUTH2_PROXY_COOKIE_REFRESH: "60m",
      OAUTH2_PROXY_EMAIL_DOMAINS: "example.com,example.org",
      OAUTH2_PROXY_WHITELIST_DOMAINS: domainHost,
      OAUTH2_PROXY_SCOPE: "openid email profile",
      OAUTH2_PROXY_CODE_CHALLENGE_METHOD: "S256",
      OAUTH2_PROXY_SKIP_PROVIDER_BUTTON: "true",
      OAUTH2_PROXY_PREFER_EMAIL_TO_USER: "false",
      OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER: "false",
      // Only the ALB's subnets may set X-Forwarded-*; the proxy waits for Open WebUI as long as the ALB.
      OAUTH2_PROXY_TRUSTED_PROXY_IPS: env.network.publicSubnetCidrs.join(","),
      OAUTH2_PROXY_UPSTREAM_TIMEOUT: `${env.compute.albIdleTimeoutSeconds}s`,
    });
    expect(env.network.publicSubnetCidrs.length).toBe(env.network.azs.length);
    expect(secretsOf(sidecar)).toEqual({
      OAUTH2_PROXY_CLIENT_SECRET: secretArn(s, "identity_cognito_client-secret"),
      OAUTH2_PROXY_COOKIE_SECRET: secretArn(s, "identity_oauth2-proxy-cookie-secret"),
    });
  });

  it("points the ALB at the sidecar: target group on 4180 health-checking /ping, the ECS service registering oauth2-proxy:4180", () => {
    const tg = s.resource("aws_lb_target_group", "openwebui");
    expect(tg.port).toBe(4180);
    expect(tg.health_check).toMatchObject({ path: "/ping", matcher: "200" });
    expect(s.resource("aws_ecs_service", "compute_openwebui").load_balancer).toEqual([{ target_group_arn: refOf(s, "aws_lb_target_group", "openwebui", "arn"), container_name: "oauth2-proxy", container_port: 4180 }]);
  });

  it("has exactly the intended security-group paths: the ALB reaches 4180 only, only the provisioning worker reaches 8080", () => {
    expect(ruleTable(s)).toEqual(intendedServiceGroupRules(env, 4180));
    expect(ruleTable(s).filter((r) => r.includes("8080"))).toEqual(["client-provisioning out tcp/8080-8080 sg:service-openwebui", "service-openwebui in tcp/8080-8080 sg:client-provisioning"]);
  });

  it("creates the Cognito pool with the proxy's callback, the app URL as sign-out URL, refresh tokens outliving the cookie", () => {
    const appClient = s.resource("aws_cognito_user_pool_client", "identity_cognito_client");
    expect(appClient.callback_urls).toEqual([`https://${env.hostname}/oauth2/callback`]);
    expect(appClient.logout_urls).toEqual([`https://${env.hostname}/`]);
    expect(appClient.refresh_token_validity).toBe(24);
  });

  it("creates exactly its placeholders: the SCIM token, the admin password and the cookie secret (with the exact command)", () => {
    const identity = identityOf(env);
    expect(identity.placeholders.map((p) => p.secretName)).toEqual([`owui/${env.name}/openwebui/scim-token`, `owui/${env.name}/openwebui/admin-password`, `owui/${env.name}/oauth2-proxy/cookie-secret`]);
    const cookie = s.resources("aws_secretsmanager_secret").find(([n]) => n.includes("identity_oauth2-proxy-cookie-secret"))![1];
    expect(cookie.description).toContain("openssl rand -base64 32 | tr -- '+/' '-_' | tr -d '='");
    expect(COOKIE_SECRET_COMMAND).toBe("openssl rand -base64 32 | tr -- '+/' '-_' | tr -d '='");
    expect(s.resources("aws_secretsmanager_secret_version").filter(([n]) => n.startsWith("identity_") && !n.startsWith("identity_cognito_"))).toEqual([]);
  });

  it("outputs the mode and the Cognito pool id, domain and client id", () => {
    expect(s.output("auth_mode")?.value).toBe("oauth2-proxy");
    expect(s.output("auth_idp")?.value).toBe("cognito");
    expect(s.output("cognito_user_pool_id")?.value).toBe(pool);
    expect(s.output("cognito_domain")?.value).toBe(domainHost);
    expect(s.output("cognito_client_id")?.value).toBe(client);
  });

  it("lets the execution role read the client and cookie secrets (and nothing from SSM)", () => {
    const exec = policyOf(s, s.resource("aws_iam_role_policy", "openwebui_execution-policy").policy).statement as Json[];
    const read = exec.find((st) => st.sid === "ReadReferencedSecrets")!;
    expect(read.resources).toEqual(expect.arrayContaining([secretArn(s, "identity_cognito_client-secret"), secretArn(s, "identity_oauth2-proxy-cookie-secret"), secretArn(s, "identity_scim-token")]));
    expect(exec.map((st) => st.sid)).not.toContain("ReadReferencedParameters");
  });
});

// ---------------------------------------------------------------------------------------------
// The sign-out URL
// ---------------------------------------------------------------------------------------------

/** Terraform's `urlencode` (Go's url.QueryEscape), written out for the test. */
function terraformUrlencode(text: string): string {
  return [...new TextEncoder().encode(text)]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9_.~-]/.test(c)) return c;
      return c === " " ? "+" : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** Evaluates the subset of a Terraform template the sign-out local uses: text, references, `urlencode("…")`. */
function evaluate(parts: TemplatePart[], ref: (address: string) => string): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return p;
      if (!("$" in p)) throw new Error("directives are not expected here");
      const t = p.$;
      if (t.length === 4 && t[0] === "urlencode" && t[1] === "(" && t[2]!.startsWith("[") && t[3] === ")") return terraformUrlencode(evaluate(JSON.parse(t[2]!) as TemplatePart[], ref));
      const address = t.join("");
      if (!/^[A-Za-z_][\w-]*(\.[\w-]+)+$/.test(address)) throw new Error(`unexpected expression ${t.join(" ")}`);
      return ref(address);
    })
    .join("");
}

describe("the sign-out URL (oauth2-proxy mode)", () => {
  const env = ENVS.sandbox;
  const s = synthPlatform(env);
  const local = s.json.locals.openwebui_signout_redirect_url as string;
  const domainRef = refOf(s, "aws_cognito_user_pool_domain", "identity_cognito_domain", "domain").slice(2, -1);
  const clientRef = refOf(s, "aws_cognito_user_pool_client", "identity_cognito_client", "id").slice(2, -1);
  const SAMPLE: Record<string, string> = { [domainRef]: "owui-sandbox-123456789012", [clientRef]: "4q2kvaqd6bm2tsbr0l2k3m9e1c" };
  const value = evaluate(parseTemplate(local), (a) => {
    if (!(a in SAMPLE)) throw new Error(`unexpected reference ${a}`);
    return SAMPLE[a]!;
  });

  it("is what Open WebUI's WEBUI_AUTH_SIGNOUT_REDIRECT_URL refers to", () => {
    expect(envOf(containerOf(s, "openwebui")).WEBUI_AUTH_SIGNOUT_REDIRECT_URL).toBe("${local.openwebui_signout_redirect_url}");
    expect(identityOf(env).signOutUrl).toBeDefined();
  });

  it("is oauth2-proxy's sign-out route with one query parameter, rd, fully encoded", () => {
    const [path, query, ...rest] = value.split("?");
    expect(rest).toEqual([]);
    expect(path).toBe("/oauth2/sign_out");
    expect(query).toMatch(/^rd=[A-Za-z0-9%._~+-]+$/);
  });

  it("decodes rd to the Cognito logout URL: the pool's domain, /logout, the client id, and the app URL as logout_uri", () => {
    const rd = decodeURIComponent(value.split("?rd=")[1]!.replace(/\+/g, " "));
    expect(rd).toBe(`https://owui-sandbox-123456789012.auth.us-east-1.amazoncognito.com/logout?client_id=4q2kvaqd6bm2tsbr0l2k3m9e1c&logout_uri=https%3A%2F%2Fowui-sandbox.oremuslabs.app%2F`);
    const url = new URL(rd);
    expect(url.protocol).toBe("https:");
    expect(url.host).toBe("owui-sandbox-123456789012.auth.us-east-1.amazoncognito.com");
    expect(url.pathname).toBe("/logout");
    expect([...url.searchParams.keys()]).toEqual(["client_id", "logout_uri"]);
    expect(url.searchParams.get("client_id")).toBe("4q2kvaqd6bm2tsbr0l2k3m9e1c");
    expect(url.searchParams.get("logout_uri")).toBe(`https://${env.hostname}/`);
  });

  it("sends the user to a host the proxy whitelists, and back to the sign-out URL the app client registers", () => {
    const rd = new URL(decodeURIComponent(value.split("?rd=")[1]!));
    const whitelisted = envOf(containerOf(s, "openwebui", "oauth2-proxy")).OAUTH2_PROXY_WHITELIST_DOMAINS!.replace("${" + domainRef + "}", SAMPLE[domainRef]!);
    expect(rd.host).toBe(whitelisted);
    expect(s.resource("aws_cognito_user_pool_client", "identity_cognito_client").logout_urls).toEqual([rd.searchParams.get("logout_uri")]);
  });

  it("encodes the app URL with Terraform's urlencode rules in TypeScript too (queryEscape)", () => {
    expect(queryEscape("https://owui-sandbox.oremuslabs.app/")).toBe("https%3A%2F%2Fowui-sandbox.oremuslabs.app%2F");
    expect(queryEscape("a b&c=d/é~_.-")).toBe(terraformUrlencode("a b&c=d/é~_.-"));
    expect(queryEscape("a b&c=d/é~_.-")).toBe("a+b%26c%3Dd%2F%C3%A9~_.-");
  });

  it.runIf(TERRAFORM)("evaluates to the same text in `terraform console` (references replaced by the samples)", () => {
    const dir = mkdtempSync(join(tmpdir(), "signout-console-"));
    try {
      let expr = local;
      for (const [address, sample] of Object.entries(SAMPLE)) expr = expr.split("${" + address + "}").join(sample);
      const run = (input: string) => JSON.parse(execFileSync(TERRAFORM!, ["console"], { cwd: dir, input, env: { ...process.env, CHECKPOINT_DISABLE: "1" }, stdio: ["pipe", "pipe", "ignore"] }).toString().trim()) as string;
      expect(run(`"${expr}"`)).toBe(value);
      expect(run(`urlencode("a b&c=d/é~_.-")`)).toBe(queryEscape("a b&c=d/é~_.-"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// oauth2-proxy variants: no provisioning; the SCIM route exposed through the proxy
// ---------------------------------------------------------------------------------------------

describe("oauth2-proxy + Cognito without provisioning or SCIM", () => {
  const env = withAuth(ENVS.nonprod, { ...PROXY, provisioning: { enabled: false }, proxy: { cookieExpireHours: 48, cookieRefreshMinutes: 0 } });
  const s = synthPlatform(env);
  const c = containerOf(s, "openwebui");

  it("keeps self-signup off (v0.10.2 creates unknown trusted emails without it), has no SCIM, and still a headless admin", () => {
    expect(authEnv(env, c)).toEqual({
      WEBUI_AUTH: "true",
      WEBUI_AUTH_COOKIE_SECURE: "true",
      WEBUI_SESSION_COOKIE_SECURE: "true",
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email",
      WEBUI_AUTH_TRUSTED_NAME_HEADER: "X-Forwarded-Email",
      WEBUI_AUTH_SIGNOUT_REDIRECT_URL: "${local.openwebui_signout_redirect_url}",
      DEFAULT_USER_ROLE: "user",
      ENABLE_SIGNUP: "false",
      ENABLE_LOGIN_FORM: "false",
      ENABLE_PASSWORD_AUTH: "true",
      ENABLE_API_KEYS: "false",
      WEBUI_ADMIN_EMAIL: "owui-admins@example.com",
      WEBUI_ADMIN_NAME: "Admin",
    });
    expect(Object.keys(authSecrets(env, c))).toEqual(["WEBUI_ADMIN_PASSWORD"]);
    expect(identityOf(env).placeholders.map((p) => p.name).sort()).toEqual(["admin-password", "oauth2-proxy-cookie-secret"]);
  });

  it("takes the cookie lifetimes from config and keeps refresh tokens valid as long as the cookie", () => {
    expect(envOf(containerOf(s, "openwebui", "oauth2-proxy"))).toMatchObject({ OAUTH2_PROXY_COOKIE_EXPIRE: "48h", OAUTH2_PROXY_COOKIE_REFRESH: "0m" });
    expect(s.resource("aws_cognito_user_pool_client", "identity_cognito_client").refresh_token_validity).toBe(48);
  });

  it("refuses a refresh interval not below the cookie's lifetime (oauth2-proxy would not start)", () => {
    expect(() => synthPlatform(withAuth(ENVS.nonprod, { ...PROXY, proxy: { cookieExpireHours: 1 } }))).toThrow(/nonprod: auth\.proxy\.cookieRefreshMinutes: 60 is not below cookieExpireHours \(1 h = 60 min\).*Fix: use at most 59, or 0 to never refresh/);
  });
});

describe("oauth2-proxy + Cognito with the SCIM route exposed through the proxy", () => {
  const env = withAuth(ENVS.nonprod, SCIM_PROXY_AUTH);
  const s = synthPlatform(env);
  const proxyEnv = envOf(containerOf(s, "openwebui", "oauth2-proxy"));

  it("skips auth for exactly the anchored SCIM prefix and its narrowings, regexes intact", () => {
    expect(proxyEnv.OAUTH2_PROXY_SKIP_AUTH_ROUTES).toBe("^/api/v1/scim/v2/,POST=^/api/v1/scim/v2/Users$,GET=^/api/v1/scim/v2/Users/[\\w-]+$");
  });

  it("turns REVERSE_PROXY off, so a client's X-Forwarded-Uri cannot select a skipped route", () => {
    expect(proxyEnv.OAUTH2_PROXY_REVERSE_PROXY).toBe("false");
  });
});

// ---------------------------------------------------------------------------------------------
// Native OIDC: Entra ID
// ---------------------------------------------------------------------------------------------

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
] as const)("native OIDC + Entra ID (ids from SSM, app roles, groups, SCIM), %s", (envName, env) => {
  const s = synthPlatform(env);
  const c = containerOf(s, "openwebui");
  const auth = env.auth as Extract<EnvConfig["auth"], { idp: "entra" }>;
  sharedChecks(env, s);

  it("sets exactly the native-OIDC environment: provider URL from the tenant read from SSM, explicit https redirect, role and group mapping", () => {
    expect(authEnv(env, c)).toEqual({
      WEBUI_AUTH: "true",
      WEBUI_AUTH_COOKIE_SECURE: "true",
      WEBUI_SESSION_COOKIE_SECURE: "true",
      ENABLE_OAUTH_SIGNUP: "true",
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
      OPENID_PROVIDER_URL: `https://login.microsoftonline.com/${dataRefOf(s, "aws_ssm_parameter", "integrations_entra-tenant-id", "insecure_value")}/v2.0/.well-known/openid-configuration`,
      OPENID_REDIRECT_URI: `https://${env.hostname}/oauth/oidc/callback`,
      OAUTH_SCOPES: "openid email profile",
      OAUTH_PROVIDER_NAME: "Microsoft",
      ENABLE_LOGIN_FORM: "false",
      ENABLE_SIGNUP: "false",
      ENABLE_PASSWORD_AUTH: "false",
      ENABLE_API_KEYS: "true",
      USER_PERMISSIONS_FEATURES_API_KEYS: "true",
      DEFAULT_USER_ROLE: "pending",
      ENABLE_OAUTH_ROLE_MANAGEMENT: "true",
      OAUTH_ROLES_CLAIM: "roles",
      OAUTH_ALLOWED_ROLES: `owui-${envName}-users,owui-${envName}-admins`,
      OAUTH_ADMIN_ROLES: `owui-${envName}-admins`,
      ENABLE_OAUTH_GROUP_MANAGEMENT: "true",
      OAUTH_GROUPS_CLAIM: "groups",
      ENABLE_SCIM: "true",
      SCIM_ENABLED: "true",
      SCIM_AUTH_PROVIDER: "oidc",
      // A headless admin exists from the first start, so the first Entra sign-in is not made admin.
      WEBUI_ADMIN_EMAIL: "platform-admins@oremuslabs.app",
      WEBUI_ADMIN_NAME: "Admin",
    });
    expect(auth.entra.roles!.allowed).toEqual([`owui-${envName}-users`, `owui-${envName}-admins`]);
  });

  it("sets no trusted-header variable", () => {
    expect(Object.keys(envOf(c)).filter((k) => k.startsWith("WEBUI_AUTH_TRUSTED") || k === "WEBUI_AUTH_SIGNOUT_REDIRECT_URL")).toEqual([]);
  });

  it("injects exactly the client id (from its SSM parameter), the client secret placeholder and the SCIM token", () => {
    expect(authSecrets(env, c)).toEqual({
      OAUTH_CLIENT_ID: `arn:${P}:ssm:${env.region}:${ACCOUNT}:parameter/owui/${envName}/entra/client-id`,
      OAUTH_CLIENT_SECRET: secretArn(s, "identity_entra-client-secret"),
      SCIM_TOKEN: secretArn(s, "identity_scim-token"),
      WEBUI_ADMIN_PASSWORD: secretArn(s, "identity_admin-password"),
    });
  });

  it("reads the tenant id from its SSM parameter at plan, and lets the execution role read exactly the client-id parameter", () => {
    expect(s.data("aws_ssm_parameter").map(([, d]) => d.name)).toEqual([`/owui/${envName}/entra/tenant-id`]);
    const exec = policyOf(s, s.resource("aws_iam_role_policy", "openwebui_execution-policy").policy).statement as Json[];
    expect(exec.find((st) => st.sid === "ReadReferencedParameters")).toMatchObject({ actions: ["ssm:GetParameters"], resources: [`arn:${P}:ssm:${env.region}:${ACCOUNT}:parameter/owui/${envName}/entra/client-id`] });
  });

  it("runs Open WebUI alone, the ALB targeting 8080 and /health", () => {
    expect(containersOf(s.resource("aws_ecs_task_definition", "compute_openwebui_task")).map((d) => d.name)).toEqual(["openwebui"]);
    expect(s.resource("aws_lb_target_group", "openwebui")).toMatchObject({ port: 8080, health_check: expect.objectContaining({ path: "/health" }) });
  });

  it("has exactly the intended security-group paths: the ALB reaches 8080, other services do not", () => {
    expect(ruleTable(s)).toEqual(intendedServiceGroupRules(env, 8080));
  });

  it("creates no Cognito pool; its placeholders are the SCIM token, the admin password and the Entra client secret", () => {
    expect(s.resources("aws_cognito_user_pool")).toEqual([]);
    expect(identityOf(env).placeholders.map((p) => p.secretName)).toEqual([`owui/${envName}/openwebui/scim-token`, `owui/${envName}/openwebui/admin-password`, `owui/${envName}/openwebui/oauth-client-secret`]);
    expect(s.resource("aws_secretsmanager_secret", "identity_entra-client-secret").description).toContain(`https://${env.hostname}/oauth/oidc/callback`);
  });

  it("outputs the mode and no Cognito values", () => {
    expect(s.output("auth_mode")?.value).toBe("oidc");
    expect(s.output("auth_idp")?.value).toBe("entra");
    expect(s.output("cognito_user_pool_id")).toBeUndefined();
  });
});

describe("native OIDC + Entra ID with literal ids, no role mapping, no SCIM", () => {
  const TENANT = "11111111-2222-4333-8444-555555555555";
  const CLIENT = "66666666-7777-4888-9999-000000000000";
  const env = withAuth(ENVS.prod, { mode: "oidc", idp: "entra", entra: { tenantId: TENANT, clientId: CLIENT, providerName: "Contoso" }, admin: { email: "owui-admins@example.com" } });
  const s = synthPlatform(env);
  const c = containerOf(s, "openwebui");

  it("puts the literal ids in the environment and reads nothing from SSM", () => {
    expect(authEnv(env, c)).toEqual({
      WEBUI_AUTH: "true",
      WEBUI_AUTH_COOKIE_SECURE: "true",
      WEBUI_SESSION_COOKIE_SECURE: "true",
      ENABLE_OAUTH_SIGNUP: "true",
      // The headless admin exists before its first OIDC sign-in, which merges by email.
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
      WEBUI_ADMIN_EMAIL: "owui-admins@example.com",
      WEBUI_ADMIN_NAME: "Admin",
      OPENID_PROVIDER_URL: `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
      OPENID_REDIRECT_URI: `https://${env.hostname}/oauth/oidc/callback`,
      OAUTH_SCOPES: "openid email profile",
      OAUTH_PROVIDER_NAME: "Contoso",
      OAUTH_CLIENT_ID: CLIENT,
      ENABLE_LOGIN_FORM: "false",
      ENABLE_SIGNUP: "false",
      ENABLE_PASSWORD_AUTH: "false",
      ENABLE_API_KEYS: "true",
      USER_PERMISSIONS_FEATURES_API_KEYS: "true",
      DEFAULT_USER_ROLE: "user",
    });
    expect(authSecrets(env, c)).toEqual({ OAUTH_CLIENT_SECRET: secretArn(s, "identity_entra-client-secret"), WEBUI_ADMIN_PASSWORD: secretArn(s, "identity_admin-password") });
    expect(s.data("aws_ssm_parameter")).toEqual([]);
    expect(identityOf(env).placeholders.map((p) => p.name).sort()).toEqual(["admin-password", "entra-client-secret"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Native OIDC: Cognito
// ---------------------------------------------------------------------------------------------

describe.each([
  ["nonprod-like", withAuth(ENVS.nonprod, OIDC_COGNITO)],
  ["prod-like", withAuth(ENVS.prod, OIDC_COGNITO)],
] as const)("native OIDC + Cognito, %s", (_kind, env) => {
  const s = synthPlatform(env);
  const c = containerOf(s, "openwebui");
  const pool = refOf(s, "aws_cognito_user_pool", "identity_cognito_pool", "id");
  sharedChecks(env, s);

  it("sets exactly the native-OIDC environment against the pool's issuer (SCIM on with provisioning)", () => {
    expect(authEnv(env, c)).toEqual({
      WEBUI_AUTH: "true",
      WEBUI_AUTH_COOKIE_SECURE: "true",
      WEBUI_SESSION_COOKIE_SECURE: "true",
      ENABLE_OAUTH_SIGNUP: "true",
      OAUTH_MERGE_ACCOUNTS_BY_EMAIL: "true",
      // Cognito's discovery has no end_session_endpoint: sign-out goes to its LOGOUT endpoint (e2e scenario 6).
      OPENID_END_SESSION_ENDPOINT: `https://${refOf(s, "aws_cognito_user_pool_domain", "identity_cognito_domain", "domain")}.auth.${env.region}.amazoncognito.com/logout?client_id=${refOf(s, "aws_cognito_user_pool_client", "identity_cognito_client", "id")}&logout_uri=${encodeURIComponent(`https://${env.hostname}/`)}`,
      OPENID_PROVIDER_URL: `https://cognito-idp.${env.region}.amazonaws.com/${pool}/.well-known/openid-configuration`,
      OPENID_REDIRECT_URI: `https://${env.hostname}/oauth/oidc/callback`,
      OAUTH_SCOPES: "openid email profile",
      OAUTH_CLIENT_ID: refOf(s, "aws_cognito_user_pool_client", "identity_cognito_client", "id"),
      OAUTH_ALLOWED_DOMAINS: "example.com,example.org",
      ENABLE_LOGIN_FORM: "false",
      ENABLE_SIGNUP: "false",
      ENABLE_PASSWORD_AUTH: "false",
      ENABLE_API_KEYS: "true",
      USER_PERMISSIONS_FEATURES_API_KEYS: "true",
      DEFAULT_USER_ROLE: "user",
      ENABLE_SCIM: "true",
      SCIM_ENABLED: "true",
      SCIM_AUTH_PROVIDER: "oidc",
      WEBUI_ADMIN_EMAIL: "owui-admins@example.com",
      WEBUI_ADMIN_NAME: "Admin",
    });
    expect(Object.keys(envOf(c)).filter((k) => k.startsWith("WEBUI_AUTH_TRUSTED"))).toEqual([]);
  });

  it("injects exactly the pool client's secret, the SCIM token and the first administrator's password", () => {
    expect(authSecrets(env, c)).toEqual({
      OAUTH_CLIENT_SECRET: secretArn(s, "identity_cognito_client-secret"),
      SCIM_TOKEN: secretArn(s, "identity_scim-token"),
      WEBUI_ADMIN_PASSWORD: secretArn(s, "identity_admin-password"),
    });
  });

  it("registers Open WebUI's callback with the app client; no sidecar; the ALB targets 8080", () => {
    expect(s.resource("aws_cognito_user_pool_client", "identity_cognito_client").callback_urls).toEqual([`https://${env.hostname}/oauth/oidc/callback`]);
    expect(containersOf(s.resource("aws_ecs_task_definition", "compute_openwebui_task")).map((d) => d.name)).toEqual(["openwebui"]);
    expect(s.resource("aws_lb_target_group", "openwebui").port).toBe(8080);
  });

  it("has exactly the intended security-group paths", () => {
    expect(ruleTable(s)).toEqual(intendedServiceGroupRules(env, 8080));
  });

  it("creates only the SCIM token and admin password placeholders; outputs the Cognito values", () => {
    expect(identityOf(env).placeholders.map((p) => p.name)).toEqual(["scim-token", "admin-password"]);
    expect(s.output("auth_mode")?.value).toBe("oidc");
    expect(s.output("cognito_user_pool_id")?.value).toBe(pool);
  });
});

describe("the services layer merging the identity wiring", () => {
  it("the sandbox env runs the proxy mode end to end (sidecar, 4180, /ping)", () => {
    const s = synthPlatform(ENVS.sandbox);
    expect(s.resource("aws_lb_target_group", "openwebui")).toMatchObject({ port: 4180, health_check: expect.objectContaining({ path: "/ping" }) });
    expect(ruleTable(s)).toEqual(intendedServiceGroupRules(ENVS.sandbox, 4180));
  });
});
