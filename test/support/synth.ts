/**
 * Synth helpers for fine-grained assertions: synthesize a stack to its Terraform JSON and query
 * resources by type and construct path.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import type { AwsContext } from "../../lib/context.js";
import { Data, type DataProps } from "../../modules/data/index.js";
import { Network } from "../../modules/network/index.js";
import { Security } from "../../modules/security/index.js";
import type { App } from "cdktf";
import { parseEnv, type EnvConfig, type EnvInput } from "../../envs/schema.js";
import { ConfigErrors } from "../../lib/errors.js";
import { nonprod } from "../../envs/nonprod.js";
import { prod } from "../../envs/prod.js";
import { sandbox } from "../../envs/sandbox.js";
import { CertificateStack } from "../../stacks/certificate-stack.js";
import { evaluateTemplate } from "./hcl-gate.js";
import { networkPropsOf, PlatformStack } from "../../stacks/platform-stack.js";

export type Json = Record<string, any>;

export interface Synthesized {
  readonly json: Json;
  /** All resources of a type, as [logical name, config]. */
  resources(type: string): [string, Json][];
  /** The one resource of `type` whose logical name contains `nameIncludes`; throws if not exactly one. */
  resource(type: string, nameIncludes?: string): Json;
  data(type: string): [string, Json][];
  output(name: string): Json | undefined;
}

export function synthStack(stack: TerraformStack): Synthesized {
  return synthesizedOf(JSON.parse(Testing.synth(stack)) as Json);
}

export const ENVS = { nonprod, prod, sandbox } as const;

const cache = new Map<string, Synthesized>();

/** Synthesizes the platform stack of an env config (cached per env name + config). */
export function synthPlatform(env: EnvConfig): Synthesized {
  const key = JSON.stringify(env);
  const hit = cache.get(key);
  if (hit) return hit;
  const app: App = Testing.app();
  const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
  const result = synthStack(new PlatformStack(app, env.name, { env, certificate }));
  cache.set(key, result);
  return result;
}

/** A valid env input to derive malformed variants from. */
export function baseEnvInput(): EnvInput {
  return {
    name: "test",
    region: "us-east-1",
    hostname: "owui-test.example.com",
    state: { key: "open-webui/aws/test.tfstate" },
    network: { vpcCidr: "10.0.0.0/16", azs: ["us-east-1a", "us-east-1b"], singleNatGateway: true },
    security: { albIngressCidrs: ["198.51.100.0/24"] },
    auth: { mode: "oidc", idp: "entra", entra: { tenantId: "11111111-2222-4333-8444-555555555555", clientId: "66666666-7777-4888-9999-000000000000" }, admin: { email: "admin@example.com" } },
  };
}

/** Parses a variant of the base env; `patch` edits a deep copy. */
export function envWith(patch: (raw: any) => void): EnvConfig {
  const raw = structuredClone(baseEnvInput()) as any;
  patch(raw);
  return parseEnv(followRename(raw));
}

/**
 * A patch that renamed the base env but kept the base state key gets the key of its new name, as
 * an env file written for that name would have (the refusal of a rename is tested on its own, in
 * test/protection.test.ts).
 */
export function followRename(raw: any): any {
  if (typeof raw.name === "string" && raw.name !== "test" && raw.state?.key === "open-webui/aws/test.tfstate") raw.state.key = `open-webui/aws/${raw.name}.tfstate`;
  return raw;
}

/** The policy document data source a `${data.aws_iam_policy_document.<name>.json}` reference names. */
export function policyOf(s: Synthesized, reference: string): Json {
  const m = /data\.aws_iam_policy_document\.([\w-]+)\.json/.exec(reference);
  if (!m) throw new Error(`not a policy document reference: ${reference}`);
  const doc = s.json.data?.aws_iam_policy_document?.[m[1]!];
  if (!doc) throw new Error(`no policy document ${m[1]}`);
  return doc;
}

/** The same queries as {@link synthStack}, over an already synthesized stack's JSON. */
export function synthesizedOf(json: Json): Synthesized {
  const resources = (type: string): [string, Json][] => Object.entries(json.resource?.[type] ?? {});
  return {
    json,
    resources,
    resource(type, nameIncludes = "") {
      const hits = resources(type).filter(([n]) => n.includes(nameIncludes));
      if (hits.length !== 1) throw new Error(`expected one ${type} matching "${nameIncludes}", found ${hits.map(([n]) => n).join(", ") || "none"}`);
      return hits[0]![1];
    },
    data: (type) => Object.entries(json.data?.[type] ?? {}),
    output: (name) => json.output?.[name],
  };
}

const appCache = new Map<string, { certificate: Synthesized; platform: Synthesized }>();

/**
 * Synthesizes an env's certificate and platform stacks as one app (`app.synth()`), so cross-stack
 * references resolve to `terraform_remote_state` as in `pnpm synth` (cached per env config).
 */
export function synthEnvApp(env: EnvConfig): { certificate: Synthesized; platform: Synthesized } {
  const key = JSON.stringify(env);
  const hit = appCache.get(key);
  if (hit) return hit;
  const app: App = Testing.app();
  const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
  new PlatformStack(app, env.name, { env, certificate });
  app.synth();
  const read = (stack: string) => synthesizedOf(JSON.parse(readFileSync(join(app.outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as Json);
  const result = { certificate: read(`${env.name}-certificate`), platform: read(env.name) };
  appCache.set(key, result);
  return result;
}

/**
 * A PlatformStack-like fixture with the foundation layers (provider, network, security), for tests
 * that add one more layer on top without the rest of the platform. Pass an `App` of your own to
 * synthesize HCL (Testing.app cannot).
 */
export function foundationFixture(env: EnvConfig, app: App = Testing.app()): { stack: TerraformStack; aws: AwsContext; network: Network; security: Security } {
  const stack = new TerraformStack(app, env.name);
  new AwsProvider(stack, "aws", { region: env.region });
  const aws: AwsContext = { region: env.region, accountId: new DataAwsCallerIdentity(stack, "current").accountId, partition: new DataAwsPartition(stack, "partition").partition };
  const network = new Network(stack, "network", networkPropsOf(env));
  const security = new Security(stack, "security", { envName: env.name, aws, network, albIngressCidrs: env.security.albIngressCidrs });
  return { stack, aws, network, security };
}

/** {@link foundationFixture} plus the data layer, with the platform's databases and Open WebUI's data directory unless `over` says otherwise. */
export function dataFixture(env: EnvConfig, over: Partial<DataProps> = {}): ReturnType<typeof foundationFixture> & { data: Data } {
  const foundation = foundationFixture(env);
  const { stack, aws, network, security } = foundation;
  const data = new Data(stack, "data", {
    envName: env.name,
    aws,
    network,
    security,
    config: env.data,
    logRetentionDays: env.logRetentionDays,
    databases: ["openwebui", "litellm"],
    fileSystemConsumers: [{ name: "openwebui", path: "/app/backend/data", uid: 1000, gid: 1000 }],
    ...over,
  });
  return { ...foundation, data };
}

// ---------------------------------------------------------------------------------------------
// Auth variants, container definitions, security-group paths (shared by the layer tests)
// ---------------------------------------------------------------------------------------------

/** `base` with its `auth` section replaced by `auth` (raw, as an env file writes it), parsed again. */
export function withAuth(base: EnvConfig, auth: unknown): EnvConfig {
  const { stateKey: _stateKey, ...input } = base;
  return parseEnv({ ...structuredClone(input), auth: structuredClone(auth) });
}

/**
 * A task definition's `container_definitions` (`${jsonencode([...])}`) evaluated with the HCL gate's
 * evaluator; each Terraform reference becomes the `${address}` text the rest of the JSON uses.
 */
export function containersOf(task: Json): Json[] {
  return JSON.parse(evaluateTemplate(task.container_definitions as string, (address) => "${" + address + "}") as string) as Json[];
}

/** One container of a service's task definition (`compute_<service>_task`). */
export function containerOf(s: Synthesized, service: string, container = service): Json {
  const c = containersOf(s.resource("aws_ecs_task_definition", `compute_${service}_task`)).find((d) => d.name === container);
  if (!c) throw new Error(`no container ${container} in the ${service} task`);
  return c;
}

export const envOf = (c: Json) => Object.fromEntries((c.environment as Json[]).map((e) => [e.name, e.value])) as Record<string, string>;
export const secretsOf = (c: Json) => Object.fromEntries((c.secrets as Json[]).map((e) => [e.name, e.valueFrom])) as Record<string, string>;

/** Open WebUI's plain environment as the services layer sets it (the identity layer adds the auth part). */
export function openWebUiServiceEnv(env: EnvConfig): string[] {
  return [
    "DATA_DIR", "WEBUI_URL", "UVICORN_WORKERS", "ENABLE_DB_MIGRATIONS", "DATABASE_POOL_RECYCLE", "DATABASE_POOL_PRE_PING",
    ...(env.data.redis.enabled ? ["WEBSOCKET_MANAGER", "ENABLE_WEBSOCKET_SUPPORT"] : []),
    "ENABLE_PERSISTENT_CONFIG", "BYPASS_MODEL_ACCESS_CONTROL", "ENABLE_DIRECT_CONNECTIONS",
    "ENABLE_OPENAI_API", "OPENAI_API_BASE_URLS", "ENABLE_OLLAMA_API",
    // Per-user encryption wiring only with encryption.enabled (test/encryption.test.ts).
    ...(env.encryption.enabled ? ["KMS_HMAC_KEY_ID", "KMS_APPLICATION_CMK_ID", "AWS_REGION"] : []),
    "VECTOR_DB", ...(env.services.openwebui.retrieval.vectorDb === "pgvector" ? ["PGVECTOR_CREATE_EXTENSION"] : []),
    "RAG_EMBEDDING_ENGINE", "RAG_EMBEDDING_MODEL", "RAG_OPENAI_API_BASE_URL", "HF_HUB_OFFLINE",
  ];
}

/** Open WebUI's secrets as the services layer sets them. */
export function openWebUiServiceSecrets(env: EnvConfig): string[] {
  return ["DATABASE_URL", "WEBUI_SECRET_KEY", "OPENAI_API_KEYS", "RAG_OPENAI_API_KEY", "TOOL_SERVER_CONNECTIONS", ...(env.data.redis.enabled ? ["REDIS_URL", "WEBSOCKET_REDIS_URL"] : [])];
}

/** `${aws_security_group.security_alb_1234ABCD.id}` → `alb`. */
export function groupName(ref: string): string {
  const m = /aws_security_group\.(?:security|network)_([a-z-]+?)(?:-sg)?_[0-9A-F]{8}\.id/.exec(ref);
  if (!m) throw new Error(`not a security group reference: ${ref}`);
  return m[1]!;
}

/** Every ingress/egress rule as `group direction proto/from-to peer`, sorted. */
export function ruleTable(s: Synthesized): string[] {
  const row = (dir: string) => ([, r]: [string, any]) => {
    const peer = r.cidr_ipv4 ?? (r.referenced_security_group_id ? `sg:${groupName(r.referenced_security_group_id)}` : "?");
    return `${groupName(r.security_group_id)} ${dir} ${r.ip_protocol}/${r.from_port}-${r.to_port} ${peer}`;
  };
  return [...s.resources("aws_vpc_security_group_ingress_rule").map(row("in")), ...s.resources("aws_vpc_security_group_egress_rule").map(row("out"))].sort();
}

/**
 * The auth variables the identity layer gives Open WebUI for `env.auth` (names; the identity test
 * asserts the values): the intended sets, written out independently of the wiring.
 */
export function expectedAuthEnv(env: EnvConfig): string[] {
  const a = env.auth;
  const scim = a.scim.enabled ? ["ENABLE_SCIM", "SCIM_ENABLED"] : [];
  const overridden = a.overrides.filter((o) => o.container === "openwebui").map((o) => o.name);
  const admin = a.admin ? ["WEBUI_ADMIN_EMAIL", "WEBUI_ADMIN_NAME"] : [];
  const scimProvider = a.scim.enabled && a.mode === "oidc" ? ["SCIM_AUTH_PROVIDER"] : [];
  const base = (() => {
    if (a.mode === "oauth2-proxy") {
      return ["WEBUI_AUTH", "WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "WEBUI_AUTH_TRUSTED_NAME_HEADER", "WEBUI_AUTH_SIGNOUT_REDIRECT_URL", "DEFAULT_USER_ROLE", "ENABLE_SIGNUP", "ENABLE_LOGIN_FORM", "ENABLE_PASSWORD_AUTH", "ENABLE_API_KEYS"];
    }
    const oidc = ["WEBUI_AUTH", "ENABLE_OAUTH_SIGNUP", "OAUTH_MERGE_ACCOUNTS_BY_EMAIL", "OPENID_PROVIDER_URL", "OPENID_REDIRECT_URI", "OAUTH_SCOPES", "ENABLE_LOGIN_FORM", "ENABLE_SIGNUP", "ENABLE_PASSWORD_AUTH", "DEFAULT_USER_ROLE", "ENABLE_API_KEYS", "USER_PERMISSIONS_FEATURES_API_KEYS"];
    if (a.idp === "cognito") return [...oidc, "OAUTH_CLIENT_ID", "OAUTH_ALLOWED_DOMAINS", "OPENID_END_SESSION_ENDPOINT"];
    return [
      ...oidc,
      "OAUTH_PROVIDER_NAME",
      ...(typeof a.entra.clientId === "string" ? ["OAUTH_CLIENT_ID"] : []),
      ...(a.entra.roles ? ["ENABLE_OAUTH_ROLE_MANAGEMENT", "OAUTH_ROLES_CLAIM", "OAUTH_ALLOWED_ROLES", "OAUTH_ADMIN_ROLES"] : []),
      ...(a.entra.groups ? ["ENABLE_OAUTH_GROUP_MANAGEMENT", "OAUTH_GROUPS_CLAIM"] : []),
    ];
  })();
  return [...new Set(["WEBUI_AUTH_COOKIE_SECURE", "WEBUI_SESSION_COOKIE_SECURE", ...base, ...scim, ...scimProvider, ...admin, ...overridden])];
}

/** The auth secrets the identity layer gives Open WebUI for `env.auth`. */
export function expectedAuthSecrets(env: EnvConfig): string[] {
  const a = env.auth;
  const scim = [...(a.scim.enabled ? ["SCIM_TOKEN"] : []), ...(a.admin ? ["WEBUI_ADMIN_PASSWORD"] : [])];
  if (a.mode === "oauth2-proxy") return scim;
  const ssmClientId = a.idp === "entra" && typeof a.entra.clientId !== "string";
  return ["OAUTH_CLIENT_SECRET", ...(ssmClientId ? ["OAUTH_CLIENT_ID"] : []), ...scim];
}

/** `${<type>.<name>.<attr>}` for the one resource of `type` whose logical name contains `part`. */
export function refOf(s: Synthesized, type: string, part: string, attr: string): string {
  const hits = s.resources(type).filter(([n]) => n.includes(part));
  if (hits.length !== 1) throw new Error(`expected one ${type} matching "${part}", found ${hits.length}`);
  return "${" + `${type}.${hits[0]![0]}.${attr}` + "}";
}

/** `${data.<type>.<name>.<attr>}` for the one data source of `type` whose logical name contains `part`. */
export function dataRefOf(s: Synthesized, type: string, part: string, attr: string): string {
  const hits = s.data(type).filter(([n]) => n.includes(part));
  if (hits.length !== 1) throw new Error(`expected one data ${type} matching "${part}", found ${hits.length}`);
  return "${" + `data.${type}.${hits[0]![0]}.${attr}` + "}";
}

/**
 * An oauth2-proxy auth section with the SCIM route exposed through the proxy and narrowed skip-auth
 * entries holding backslashes and `$` (identity and HCL-gate tests synthesize it).
 */
export const SCIM_PROXY_AUTH = {
  mode: "oauth2-proxy",
  idp: "cognito",
  cognito: { emailDomains: ["example.com", "example.org"] },
  admin: { email: "owui-admins@example.com" },
  scim: { exposeThroughProxy: true },
  proxy: { skipAuthRoutes: ["POST=^/api/v1/scim/v2/Users$", "GET=^/api/v1/scim/v2/Users/[\\w-]+$"] },
} as const;

/**
 * The platform's intended security-group paths with one group per service: the ALB reaches Open
 * WebUI only on `albTargetPort` (its 8080, or oauth2-proxy's 4180); Open WebUI reaches Aurora,
 * Redis, EFS, LiteLLM (4000) and mcpo (8000); LiteLLM reaches Aurora; mcpo reaches nothing in the
 * VPC; every service has HTTPS egress; the stores accept only those services and db-bootstrap.
 */
export function intendedServiceGroupRules(env: EnvConfig, albTargetPort: number): string[] {
  const endpoints = Object.values(env.network.interfaceEndpoints).some(Boolean);
  const path = (from: string, to: string, port: number) => [`${from} out tcp/${port}-${port} sg:${to}`, `${to} in tcp/${port}-${port} sg:${from}`];
  return [
    ...env.security.albIngressCidrs.flatMap((c) => [`alb in tcp/443-443 ${c}`, `alb in tcp/80-80 ${c}`]),
    ...path("alb", "service-openwebui", albTargetPort),
    ...["openwebui", "litellm", "mcpo"].map((s) => `service-${s} out tcp/443-443 0.0.0.0/0`),
    ...path("service-openwebui", "database", 5432),
    ...path("service-openwebui", "redis", 6379),
    ...path("service-openwebui", "efs", 2049),
    ...path("service-openwebui", "service-litellm", 4000),
    ...path("service-openwebui", "service-mcpo", 8000),
    ...path("service-litellm", "database", 5432),
    ...(endpoints ? [`endpoints in tcp/443-443 ${env.network.vpcCidr}`] : []),
    // The data layer's db-bootstrap function, a client group of its own:
    "client-db-bootstrap out tcp/443-443 0.0.0.0/0",
    ...path("client-db-bootstrap", "database", 5432),
    // The provisioning layer's worker and reconciler (Cognito envs): Open WebUI's SCIM API on 8080.
    ...("provisioning" in env.auth && env.auth.provisioning.enabled ? ["client-provisioning out tcp/443-443 0.0.0.0/0", ...path("client-provisioning", "service-openwebui", 8080)] : []),
    // The canary (when on): AWS APIs on 443 and LiteLLM's readiness on 4000; never Open WebUI's port.
    ...(env.canary.enabled ? ["client-canary out tcp/443-443 0.0.0.0/0", ...path("client-canary", "service-litellm", 4000)] : []),
  ].sort();
}

/** Parses a variant of the base env and returns the error text, failing the test if it parses. */
export function refusal(patch: (raw: any) => void): string {
  const raw = structuredClone(baseEnvInput()) as any;
  patch(raw);
  try {
    parseEnv(followRename(raw));
  } catch (err) {
    // Anything but the typed refusal (a plain Error, a crash) fails the test as it is.
    if (!(err instanceof ConfigErrors)) throw err;
    return err.message;
  }
  throw new Error("config was accepted but should have been refused");
}
