import { describe, expect, it } from "vitest";
import { defineBootstrap, parseEnv } from "../envs/schema.js";
import { nonprod } from "../envs/nonprod.js";
import { prod } from "../envs/prod.js";
import { sandbox } from "../envs/sandbox.js";
import { ENVIRONMENTS } from "../envs/index.js";
import { baseEnvInput, refusal } from "./support/synth.js";


describe("env configs", () => {
  it("nonprod has 2 AZs and a single NAT; prod has 3 AZs and one NAT per AZ", () => {
    expect(nonprod.network.azs).toEqual(["us-east-1a", "us-east-1b"]);
    expect(nonprod.network.singleNatGateway).toBe(true);
    expect(prod.network.azs).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(prod.network.singleNatGateway).toBe(false);
  });

  it("fills defaults: state backend (with the store's own profile), every interface endpoint on, derived subnets", () => {
    expect(nonprod.state).toEqual({
      bucket: "workspaces",
      endpoint: "https://s3.oremuslabs.app",
      key: "open-webui/aws/nonprod.tfstate",
      region: "us-east-1",
      usePathStyle: true,
      skipAwsValidations: true,
      useLockfile: true,
      profile: "owui-state",
    });
    expect(nonprod.stateKey).toBe("open-webui/aws/nonprod.tfstate");
    expect(Object.values(prod.network.interfaceEndpoints).every(Boolean)).toBe(true);
    expect(prod.network.privateSubnetCidrs).toEqual(["10.50.0.0/19", "10.50.32.0/19", "10.50.64.0/19"]);
    expect(prod.network.publicSubnetCidrs).toEqual(["10.50.252.0/22", "10.50.248.0/22", "10.50.244.0/22"]);
  });

  it("accepts the base config used to derive the malformed ones", () => {
    expect(() => parseEnv(baseEnvInput())).not.toThrow();
  });
});

// Each row: what is wrong, how to break the base config, and what the message must say
// (path, bad value, and fix).
const MALFORMED: [string, (raw: any) => void, RegExp[]][] = [
  ["a bad VPC CIDR", (r) => (r.network.vpcCidr = "10.0.0.0/33"), [/test: network\.vpcCidr/, /10\.0\.0\.0\/33/, /prefix length above 32/, /Fix: /]],
  ["a CIDR with host bits", (r) => (r.network.vpcCidr = "10.0.0.1/16"), [/network\.vpcCidr/, /host bits set/, /10\.0\.0\.0\/16/]],
  ["a VPC too large for the layout", (r) => (r.network.vpcCidr = "10.0.0.0/8"), [/network\.vpcCidr/, /\/8/, /use a \/16 to \/20/]],
  ["overlapping subnets", (r) => { r.network.privateSubnetCidrs = ["10.0.0.0/20", "10.0.8.0/21"]; }, [/network\.privateSubnetCidrs\[1\]/, /"10\.0\.8\.0\/21" overlaps network\.privateSubnetCidrs\[0\]/, /own range/]],
  ["a subnet outside the VPC", (r) => { r.network.publicSubnetCidrs = ["10.1.0.0/24", "10.0.255.0/24"]; }, [/network\.publicSubnetCidrs\[0\]/, /"10\.1\.0\.0\/24" lies outside the VPC 10\.0\.0\.0\/16/]],
  ["a subnet list that does not match the AZs", (r) => { r.network.privateSubnetCidrs = ["10.0.0.0/20"]; }, [/network\.privateSubnetCidrs/, /1 entries for 2 AZs/, /one CIDR per AZ/]],
  ["fewer than 2 AZs", (r) => (r.network.azs = ["us-east-1a"]), [/network\.azs/, /has 1 AZ/, /at least two AZs/]],
  ["an AZ outside the region", (r) => (r.network.azs = ["us-east-1a", "us-west-2b"]), [/network\.azs\[1\]/, /"us-west-2b" is not an AZ of region us-east-1/]],
  ["a duplicated AZ", (r) => (r.network.azs = ["us-east-1a", "us-east-1a"]), [/network\.azs\[1\]/, /"us-east-1a" is listed twice/, /list each AZ once/]],
  ["a bad region", (r) => (r.region = "us-middle-1"), [/test: region/, /"us-middle-1" is not an AWS region/, /"us-east-1"/]],
  ["an empty ALB ingress CIDR list", (r) => (r.security.albIngressCidrs = []), [/security\.albIngressCidrs/, /is empty/, /corporate and VPN CIDRs/]],
  ["a bad ALB ingress CIDR", (r) => (r.security.albIngressCidrs = ["300.1.2.0/24"]), [/security\.albIngressCidrs\[0\]/, /octet above 255/]],
  ["a bad hostname", (r) => (r.hostname = "https://owui.example.com/"), [/test: hostname/, /is not a lower-case DNS hostname/, /no scheme/]],
  ["a hostname with upper case", (r) => (r.hostname = "OWUI.example.com"), [/hostname/, /OWUI\.example\.com/]],
  ["an image with no tag or digest", (r) => (r.services = { openwebui: { image: "ghcr.io/open-webui/open-webui" } }), [/services\.openwebui\.image/, /has no tag or digest/, /Fix: pin it/]],
  ["an image tagged latest", (r) => (r.services = { litellm: { image: "ghcr.io/berriai/litellm:latest" } }), [/services\.litellm\.image/, /tagged "latest"/]],
  ["an unknown key", (r) => (r.network.singleNat = true), [/test: network/, /unknown key "singleNat"/, /fix its spelling/]],
  ["an unknown top-level key", (r) => (r.enviroment = "x"), [/unknown key "enviroment"/]],
  ["a wrong type", (r) => (r.network.singleNatGateway = "yes"), [/network\.singleNatGateway/, /expected boolean, got "yes"/]],
  ["a log retention CloudWatch does not offer", (r) => (r.logRetentionDays = 45), [/logRetentionDays/, /45 is not a CloudWatch Logs retention period/, /one of 1, 3, 5/]],
  ["a missing hostname", (r) => delete r.hostname, [/hostname/, /expected string, got nothing/]],
  ["a bad environment name", (r) => (r.name = "Prod_1"), [/"Prod_1" is not a valid environment name/]],
  ["a plain-http state endpoint", (r) => (r.state = { endpoint: "http://minio.local" }), [/state\.endpoint/, /https:\/\//]],
];

describe("malformed env configs are refused with path, value and fix", () => {
  it("has at least 15 cases", () => expect(MALFORMED.length).toBeGreaterThanOrEqual(15));
  it.each(MALFORMED)("refuses %s", (_what, patch, patterns) => {
    const message = refusal(patch);
    for (const p of patterns) expect(message).toMatch(p);
  });

  it("reports every problem of one config at once", () => {
    const message = refusal((r) => {
      r.region = "nowhere";
      r.hostname = "bad host";
    });
    expect(message).toMatch(/2 problems/);
    expect(message).toMatch(/region/);
    expect(message).toMatch(/hostname/);
  });
});

describe("bootstrap config", () => {
  it("refuses an invalid bucket name, naming the field", () => {
    expect(() => defineBootstrap({ stateBucketName: "Bad_Bucket" })).toThrow(/bootstrap: stateBucketName: "Bad_Bucket" is not a valid S3 bucket name/);
  });
});

describe("data and service cross-checks", () => {
  it("refuses Redis off while Open WebUI may scale past one task", () => {
    expect(refusal((r) => (r.services = { openwebui: { maxCount: 3 } }, r.data = { redis: { enabled: false } }))).toMatch(
      /data\.redis\.enabled: is false while services\.openwebui\.maxCount is 3.*Fix: enable Redis/,
    );
  });
  it("turns Redis on by default exactly when Open WebUI may run more than one task", () => {
    expect(parseEnv({ ...baseEnvInput(), services: { openwebui: { maxCount: 2 } } }).data.redis.enabled).toBe(true);
    expect(parseEnv(baseEnvInput()).data.redis.enabled).toBe(false);
  });
  it("refuses minAcu above maxAcu, and minCount above maxCount", () => {
    expect(refusal((r) => (r.data = { aurora: { minAcu: 8, maxAcu: 4 } }))).toMatch(/data\.aurora\.minAcu: 8 is above maxAcu 4/);
    expect(refusal((r) => (r.services = { litellm: { minCount: 3, maxCount: 2 } }))).toMatch(/services\.litellm\.minCount: 3 is above maxCount 2/);
  });
  it("refuses backups shorter than 7 days", () => {
    expect(refusal((r) => (r.data = { aurora: { backupRetentionDays: 3 } }))).toMatch(/data\.aurora\.backupRetentionDays.*at least 7 days/);
  });
  it("prod runs 2 to 6 Open WebUI tasks, 2 Aurora instances and Redis; nonprod 1 task and no Redis", () => {
    expect([prod.services.openwebui.minCount, prod.services.openwebui.maxCount, prod.data.aurora.instances, prod.data.redis.enabled]).toEqual([2, 6, 2, true]);
    expect([nonprod.services.openwebui.minCount, nonprod.services.openwebui.maxCount, nonprod.data.aurora.instances, nonprod.data.redis.enabled]).toEqual([1, 1, 1, false]);
  });
});

const PROXY = { mode: "oauth2-proxy", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" } };
const COGNITO_OIDC = { mode: "oidc", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" } };

// The auth section: each row breaks the base config's auth and names what the message must say.
const MALFORMED_AUTH: [string, (raw: any) => void, RegExp[]][] = [
  ["ALB authenticate-cognito", (r) => (r.auth = { mode: "alb-cognito" }), [/test: auth\.mode: ALB authenticate-cognito is not supported/, /x-amzn-oidc-identity, which is the user's Cognito sub, not an email/, /Fix: use \{ mode: "oauth2-proxy", idp: "cognito" \}/]],
  ["an unknown mode", (r) => (r.auth = { mode: "saml" }), [/auth\.mode: "saml" is not a known mode/, /Fix: use \{ mode: "oauth2-proxy"/]],
  ["an unknown OIDC idp", (r) => (r.auth = { mode: "oidc", idp: "okta" }), [/auth\.idp: "okta" is not a known idp/]],
  ["oauth2-proxy with Entra", (r) => (r.auth = { mode: "oauth2-proxy", idp: "entra" }), [/auth\.idp/, /"entra" is not allowed/, /"cognito"/]],
  ["no auth at all", (r) => delete r.auth, [/test: auth/, /got nothing/]],
  ["a tenant id that is not a GUID", (r) => (r.auth.entra.tenantId = "contoso.onmicrosoft.com"), [/auth\.entra\.tenantId/]],
  ["a client id parameter that is not an SSM path", (r) => (r.auth.entra.clientId = { parameterName: "client-id" }), [/auth\.entra\.clientId/]],
  ["an upper-case email domain", (r) => (r.auth = { ...PROXY, cognito: { emailDomains: ["Example.com"] } }), [/auth\.cognito\.emailDomains\[0\]: "Example\.com" is not an email domain/, /Fix: a lower-case domain/]],
  ["an empty email-domain allow-list", (r) => (r.auth = { ...PROXY, cognito: { emailDomains: [] } }), [/auth\.cognito\.emailDomains/, /nobody could sign up/, /\["\*"\] for any/]],
  ["a Cognito domain prefix with a reserved word", (r) => (r.auth = { ...PROXY, cognito: { emailDomains: ["*"], domainPrefix: "acme-cognito" } }), [/auth\.cognito\.domainPrefix/, /reserved word/]],
  ["a Google client id of the wrong form", (r) => (r.auth = { ...PROXY, cognito: { emailDomains: ["*"], google: { clientId: "abc", clientSecretSecret: "g" } } }), [/auth\.cognito\.google\.clientId/, /Google OAuth client id/]],
  ["a bad reconcile schedule", (r) => (r.auth = { ...PROXY, provisioning: { reconcileSchedule: "every hour" } }), [/auth\.provisioning\.reconcileSchedule/, /rate\(1 hour\)/]],
  ["a plain-http webhook", (r) => (r.auth = { ...PROXY, provisioning: { webhookUrl: "http://n8n.example.com/hook" } }), [/auth\.provisioning\.webhookUrl/, /https:\/\//]],
  ["a worker concurrency below Lambda's minimum of 2", (r) => (r.auth = { ...PROXY, provisioning: { maxConcurrency: 1 } }), [/auth\.provisioning\.maxConcurrency/, /at least 2/]],
  ["provisioning in Entra mode", (r) => (r.auth.provisioning = { enabled: true }), [/auth/, /unknown key "provisioning"/]],
  ["an override without a reason", (r) => (r.auth.overrides = [{ container: "openwebui", name: "ENABLE_SIGNUP", value: "true", reason: "why not" }]), [/auth\.overrides\[0\]\.reason: is too short/, /at least 10 characters/]],
  ["an override of a secret variable", (r) => (r.auth.overrides = [{ container: "openwebui", name: "OAUTH_CLIENT_SECRET", value: "x", reason: "set it inline for a quick test" }]), [/auth\.overrides\[0\]\.name: "OAUTH_CLIENT_SECRET" is not allowed/, /use one of "WEBUI_AUTH"/]],
  ["an override of a variable outside the auth set", (r) => (r.auth.overrides = [{ container: "openwebui", name: "DATABASE_URL", value: "sqlite://", reason: "use a local database for a test" }]), [/auth\.overrides\[0\]\.name: "DATABASE_URL" is not allowed/]],
];

describe("malformed auth sections are refused with path, value and fix", () => {
  it.each(MALFORMED_AUTH)("refuses %s", (_what, patch, patterns) => {
    const message = refusal(patch);
    for (const p of patterns) expect(message).toMatch(p);
  });

  it("refuses every mode without a defined administrator (whoever signs in first would become admin)", () => {
    expect(refusal((r) => (r.auth = { ...PROXY, admin: undefined }))).toMatch(/auth\.admin: is missing; provisioning creates every user as role "user".*Fix: set auth\.admin = \{ email:.*through Cognito/);
    expect(refusal((r) => (r.auth = { ...PROXY, admin: undefined, provisioning: { enabled: false } }))).toMatch(/test: auth\.admin: is missing; Open WebUI makes the only user of an empty database admin, so whoever signs in first would become administrator\. Fix: set auth\.admin/);
    expect(refusal((r) => (r.auth = { ...COGNITO_OIDC, admin: undefined, provisioning: { enabled: false } }))).toMatch(/auth\.admin: is missing; Open WebUI makes the only user/);
    expect(refusal((r) => (r.auth = { mode: "oidc", idp: "entra", entra: { tenantId: "11111111-2222-4333-8444-555555555555", clientId: "66666666-7777-4888-9999-000000000000" } }))).toMatch(/auth\.admin: is missing.*through Entra ID \(with an admin app role\)/);
    expect(refusal((r) => (r.auth = { ...PROXY, admin: { email: "not-an-address" } }))).toMatch(/auth\.admin\.email: is not an email address/);
  });

  it("refuses SCIM off while provisioning needs it", () => {
    expect(refusal((r) => (r.auth = { ...PROXY, scim: { enabled: false } }))).toMatch(/auth\.scim\.enabled: is false while auth\.provisioning\.enabled is true.*Fix: enable SCIM, or set auth\.provisioning\.enabled to false/);
  });
  it("refuses exposing SCIM through a proxy the mode does not have, or while SCIM is off", () => {
    expect(refusal((r) => (r.auth.scim = { enabled: true, exposeThroughProxy: true }))).toMatch(/auth\.scim\.exposeThroughProxy: is true in mode "oidc", which has no proxy/);
    expect(refusal((r) => (r.auth = { ...PROXY, provisioning: { enabled: false }, scim: { exposeThroughProxy: true } }))).toMatch(/auth\.scim\.exposeThroughProxy: is true while SCIM is off/);
  });
  it("refuses an oauth2-proxy override in a mode without the proxy, and two overrides of one variable", () => {
    const reason = "needed for the migration window";
    expect(refusal((r) => (r.auth.overrides = [{ container: "oauth2-proxy", name: "OAUTH2_PROXY_COOKIE_SAMESITE", value: "strict", reason }]))).toMatch(
      /auth\.overrides\[0\]\.container: "oauth2-proxy" is not part of mode "oidc"/,
    );
    expect(
      refusal((r) => (r.auth.overrides = [{ container: "openwebui", name: "ENABLE_API_KEYS", value: "true", reason }, { container: "openwebui", name: "ENABLE_API_KEYS", value: "false", reason }])),
    ).toMatch(/auth\.overrides\[1\]\.name: ENABLE_API_KEYS is already overridden by auth\.overrides\[0\]/);
  });
});

describe("auth defaults", () => {
  it("turns SCIM on exactly when provisioning is on (Cognito modes), off by default for Entra", () => {
    expect(parseEnv({ ...baseEnvInput(), auth: PROXY as any }).auth.scim.enabled).toBe(true);
    expect(parseEnv({ ...baseEnvInput(), auth: { ...COGNITO_OIDC, provisioning: { enabled: false } } as any }).auth.scim.enabled).toBe(false);
    expect(parseEnv(baseEnvInput()).auth.scim.enabled).toBe(false);
  });
  it("fills the proxy and provisioning defaults", () => {
    const auth = parseEnv({ ...baseEnvInput(), auth: PROXY as any }).auth;
    expect(auth.mode === "oauth2-proxy" && auth.proxy).toEqual({ image: "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6", cookieExpireHours: 12, cookieRefreshMinutes: 60, skipAuthRoutes: [] });
    expect(auth.mode === "oauth2-proxy" && auth.provisioning).toEqual({ enabled: true, maxConcurrency: 2, reconcileSchedule: "rate(1 hour)" });
    expect(auth.mode === "oauth2-proxy" && auth.cognito).toEqual({ emailDomains: ["example.com"], selfSignUp: true, mfa: "OPTIONAL" });
  });
  it("accepts a well-formed override (the guardrails judge its value at synth)", () => {
    const env = parseEnv({ ...baseEnvInput(), auth: { ...PROXY, overrides: [{ container: "oauth2-proxy", name: "OAUTH2_PROXY_COOKIE_SAMESITE", value: "strict", reason: "no cross-site embedding of the app" }] } as any });
    expect(env.auth.overrides).toHaveLength(1);
  });
});

describe("the three environments", () => {
  it("nonprod and prod sign in with Entra ID through native OIDC, ids from SSM, SCIM on", () => {
    for (const env of [nonprod, prod]) {
      expect(env.auth.mode).toBe("oidc");
      expect(env.auth.idp).toBe("entra");
      expect(env.auth.idp === "entra" && env.auth.entra.clientId).toEqual({ parameterName: `/owui/${env.name}/entra/client-id` });
      expect(env.auth.scim.enabled).toBe(true);
    }
  });
  it("sandbox is self-contained: Cognito + oauth2-proxy, no Google, provisioning, 2 AZs, one NAT, no interface endpoints, smallest sizes", () => {
    expect(sandbox.auth.mode).toBe("oauth2-proxy");
    expect(sandbox.auth.mode === "oauth2-proxy" && sandbox.auth.cognito.google).toBeUndefined();
    expect(sandbox.auth.mode === "oauth2-proxy" && sandbox.auth.provisioning.enabled).toBe(true);
    expect(sandbox.network.azs).toHaveLength(2);
    expect(sandbox.network.singleNatGateway).toBe(true);
    expect(Object.values(sandbox.network.interfaceEndpoints).some(Boolean)).toBe(false);
    expect([sandbox.services.openwebui.maxCount, sandbox.services.litellm.maxCount, sandbox.services.mcpo.maxCount]).toEqual([1, 1, 1]);
    expect([sandbox.data.aurora.instances, sandbox.data.aurora.minAcu, sandbox.data.redis.enabled]).toEqual([1, 0, false]);
    expect(ENVIRONMENTS.map((e) => e.name)).toEqual(["nonprod", "prod", "sandbox"]);
  });
});
