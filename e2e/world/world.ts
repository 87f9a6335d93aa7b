/**
 * An e2e "world": one env's synthesized stack brought up as real processes on this machine.
 *
 * - PostgreSQL (TLS, scram) with the per-service databases and roles made by the REAL db-bootstrap
 *   bundle, from the stack's own `aws_lambda_invocation` input, against moto's Secrets Manager;
 * - moto (server mode) serving S3 (LiteLLM's config object, the stack's `aws_s3_object` content)
 *   and Secrets Manager;
 * - the Bedrock runtime stand-in behind LiteLLM; the OIDC provider stand-in playing Cognito or
 *   Entra ID; the ALB stand-in with the stack's listener rules and target groups;
 * - LiteLLM, mcpo, Open WebUI (and the oauth2-proxy sidecar) as "tasks" started from the
 *   synthesized container definitions by e2e/harness (image facts, ECS composition, health checks);
 * - Redis when the env has it.
 *
 * Everything listens on its own loopback address: the ALB on 127.0.2.1:443, the IdP on
 * 127.0.2.2:443, the AWS stand-ins on 127.0.2.3, each task on 127.0.1.N. Chromium maps the app's
 * hostname and the Cognito domain onto those addresses (`--host-resolver-rules`), so browser-facing
 * URLs are exactly the deployed ones.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { EnvConfig } from "../../envs/schema.js";
import { bundleFunction } from "../../lib/bundle.js";
import { BUNDLES as PROVISIONING_BUNDLES } from "../../functions/provisioning/src/config.js";
import { toolServerConnection } from "../../modules/services/index.js";
import { ENVS, synthPlatform, withAuth, type Synthesized } from "../../test/support/synth.js";
import { evaluateTemplate } from "../../test/support/hcl-gate.js";
import { readManifest, type Manifest } from "../harness/manifest.js";
import type { Substitutions } from "../harness/substitute.js";
import { allocateTaskIp, startTask, type Task } from "../harness/task.js";
import { evaluateLocal, placeholdersOf, taskDefinitionsOf, type ContainerDefinition } from "../harness/taskdefs.js";
import { start as startAlb, type AlbStandIn, type Rule } from "../standins/alb.js";
import { start as startBedrock, type BedrockFake } from "../standins/bedrock.js";
import { start as startOidc, type OidcStandIn, type OidcUser } from "../standins/oidc.js";
import { testCa, type TestCa } from "../standins/tls.js";
import { startMoto, startNameProxy, startPostgres, startRedis, type Moto, type Postgres, type Redis } from "./infra.js";
import { invokeBundle, provideRuntimeSdk } from "./lambda.js";

/** The auth modes of the issue: P = oauth2-proxy + Cognito, E = native OIDC + Entra, C = native OIDC + Cognito. */
export type Mode = "P" | "E" | "C";

export const ALB_IP = "127.0.2.1";
export const IDP_IP = "127.0.2.2";
export const AWS_IP = "127.0.2.3";
const ACCOUNT = "123456789012";
const POOL_ID = "us-east-1_E2eSandbox";
const TENANT_ID = "5f1e2e00-0000-4000-8000-00000000e2e0";
const CLIENT_ID = "e2eclient0000000000000000";
const CLIENT_SECRET = `e2e-client-secret-${randomBytes(8).toString("hex")}`;

/** The env config each mode runs with: the deployed envs, or (C) sandbox switched to native OIDC. */
export function envFor(mode: Mode, variant: "default" | "prod" = "default"): EnvConfig {
  if (mode === "E") return variant === "prod" ? ENVS.prod : ENVS.nonprod;
  if (mode === "P") return ENVS.sandbox;
  const s = ENVS.sandbox;
  if (s.auth.mode !== "oauth2-proxy") throw new Error("sandbox is expected to run oauth2-proxy + Cognito");
  return withAuth(s, { mode: "oidc", idp: "cognito", cognito: s.auth.cognito, admin: s.auth.admin, provisioning: s.auth.provisioning, scim: { enabled: true } });
}

export interface WorldOptions {
  readonly mode: Mode;
  /** @default envFor(mode) */
  readonly env?: EnvConfig;
  /** Open WebUI tasks to start (the ALB targets the first). @default 1 */
  readonly openwebuiReplicas?: number;
  /** The Open WebUI image the world starts with (default: the stack's); e.g. the previous pin, to upgrade from. */
  readonly openwebuiImage?: string;
  /** Users the IdP knows from the start. */
  readonly users?: readonly OidcUser[];
  /** Where logs go. @default a temp dir */
  readonly logDir?: string;
}

export interface World {
  readonly mode: Mode;
  readonly env: EnvConfig;
  readonly synth: Synthesized;
  readonly manifest: Manifest;
  readonly defs: Readonly<Record<string, ContainerDefinition[]>>;
  /** `https://<hostname>`: what the browser opens. */
  readonly appUrl: string;
  readonly ca: TestCa;
  readonly idp: OidcStandIn;
  readonly alb: AlbStandIn;
  readonly bedrock: BedrockFake;
  readonly moto: Moto;
  readonly postgres: Postgres;
  readonly redis?: Redis;
  readonly litellm: Task;
  readonly mcpo: Task;
  readonly openwebui: Task[];
  /** Fixture values of the placeholder secrets, by secret name (`owui/<env>/…`). */
  readonly secretValues: Readonly<Record<string, string>>;
  /** The configured administrator's email. */
  readonly adminEmail: string;
  /** The stack's listener rules, as the ALB stand-in was started with them. */
  readonly listenerRules: readonly Rule[];
  /** Chromium flags that route the deployed hostnames here and trust the test CA. */
  readonly chromiumArgs: readonly string[];
  /**
   * The provisioning pipeline of the stack, with its real bundles: the PostConfirmation producer
   * enqueues to moto's SQS, the worker consumes the received batch. Undefined when the env has no
   * provisioning.
   */
  readonly provisioning?: Provisioning;
  /**
   * The upgrade gate's sequence (functions/openwebui-upgrade) to the stack's own image: every
   * Open WebUI replica stopped, then the migration task at the new image, then as many replicas
   * of the new image. Resolves with the migration task's verdict line and timestamps.
   */
  upgradeOpenWebUi(): Promise<{ verdict: { migration: string; current: string[]; heads: string[] }; lastOldStoppedAt: number; migrationStartedAt: number; migrationEndedAt: number; firstNewStartedAt: number }>;
  /** Starts one more Open WebUI task (same definitions), e.g. a second replica. */
  startOpenWebUi(overrides?: { image?: string; environment?: Record<string, string> }): Promise<Task>;
  stop(): Promise<void>;
}

const hex = (n: number) => randomBytes(n).toString("hex");

export interface Provisioning {
  /** A confirmed sign-up: producer → SQS → worker; resolves with the worker's batch response and logs. */
  signUp(user: { email: string; name: string; sub: string }): Promise<{ batchItemFailures: unknown[]; logs: string }>;
}

/** moto's SQS through its JSON protocol (AWS SQS API reference: "JSON protocol"; moto ≥ 5 serves it). */
async function sqs<T>(endpoint: string, region: string, action: string, body: Record<string, unknown>): Promise<T> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AmazonSQS.${action}`, authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/sqs/aws4_request, SignedHeaders=host, Signature=0` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** Fixture value of each placeholder secret, in the format its consumer requires (README, "Secrets to fill"). */
function placeholderValue(name: string, ctx: { env: EnvConfig; mcpoKey: string }): string | undefined {
  const tail = name.replace(/^owui\/[^/]+\//, "");
  switch (tail) {
    case "openwebui/secret-key":
      return hex(32);
    case "litellm/master-key":
      return `sk-${hex(24)}`;
    case "mcpo/api-key":
      return ctx.mcpoKey;
    case "openwebui/tool-server-connections":
      return JSON.stringify(
        Object.keys(ctx.env.services.mcpo.servers)
          .sort()
          .map((server) => toolServerConnection(`http://mcpo.owui-${ctx.env.name}.internal:8000/${server}`, server, ctx.mcpoKey)),
      );
    case "openwebui/scim-token":
      return hex(32);
    case "openwebui/admin-password":
      return randomBytes(24).toString("base64");
    case "oauth2-proxy/cookie-secret":
      return randomBytes(32).toString("base64url");
    case "openwebui/oauth-client-secret":
    case "cognito/client-secret":
      return CLIENT_SECRET;
    default:
      return undefined;
  }
}

/** The value Terraform would give a reference at apply, for the references the containers hold. */
function referenceValue(synth: Synthesized, address: string, ctx: { env: EnvConfig }): string | undefined {
  if (address === "data.aws_partition.partition.partition") return "aws";
  if (address === "data.aws_caller_identity.current.account_id") return ACCOUNT;
  const m = /^(data\.)?([a-z0-9_]+)\.([^.]+)\.(.+)$/.exec(address);
  if (!m) return undefined;
  const [, data, type, name, attr] = m;
  const config = (data ? synth.json.data : synth.json.resource)?.[type!]?.[name!] as Record<string, unknown> | undefined;
  if (!config) return undefined;
  const literal = (key: string) => {
    const v = config[key];
    return typeof v === "string" ? String(evaluateTemplate(v, (a) => referenceValue(synth, a, ctx) ?? `<${a}>`)) : undefined;
  };
  switch (`${type}.${attr}`) {
    case "aws_cognito_user_pool.id":
      return POOL_ID;
    case "aws_cognito_user_pool_client.id":
      return CLIENT_ID;
    case "aws_cognito_user_pool_domain.domain":
      return literal("domain");
    case "aws_ssm_parameter.insecure_value": // Entra ids published in SSM
      return /tenant-id$/.test(String(config.name)) ? TENANT_ID : CLIENT_ID;
    case "aws_ssm_parameter.arn":
      return `arn:aws:ssm:${ctx.env.region}:${ACCOUNT}:parameter${literal("name")}`;
    case "aws_secretsmanager_secret.arn":
      return `arn:aws:secretsmanager:${ctx.env.region}:${ACCOUNT}:secret:${literal("name")}-AbCdEf`;
    case "aws_s3_bucket.bucket":
      return literal("bucket");
    case "aws_kms_key.key_id":
      return `00000000-0000-4000-8000-${hex(6)}`;
    default:
      return literal(attr!);
  }
}

/** The ALB's listener rules and default action, from the stack's `aws_lb_listener(_rule)`. */
function listenerOf(synth: Synthesized): { rules: Rule[]; defaultGroup: string; groupPorts: Record<string, number> } {
  const https = synth.resources("aws_lb_listener").find(([, l]) => l.protocol === "HTTPS");
  if (!https) throw new Error("the stack has no HTTPS listener");
  const groupOf = (arnRef: string) => /aws_lb_target_group\.([^.]+)\.arn/.exec(arnRef)?.[1] ?? arnRef;
  const defaultGroup = groupOf(String((https[1].default_action as any[])[0].target_group_arn));
  const rules: Rule[] = synth.resources("aws_lb_listener_rule").map(([, r]) => {
    const conditions: Record<string, unknown> = {};
    for (const c of (r.condition as any[]) ?? []) {
      if (c.path_pattern) conditions.pathPattern = c.path_pattern.values ?? c.path_pattern[0]?.values;
      if (c.host_header) conditions.hostHeader = c.host_header.values ?? c.host_header[0]?.values;
    }
    const a = (r.action as any[])[0];
    const action = a.type === "forward" ? { type: "forward" as const, targetGroup: groupOf(a.target_group_arn) } : a.type === "fixed-response" ? { type: "fixed-response" as const, statusCode: a.fixed_response.status_code, contentType: a.fixed_response.content_type, body: a.fixed_response.message_body } : { type: "redirect" as const, statusCode: a.redirect.status_code };
    return { priority: Number(r.priority), conditions, action };
  });
  const groupPorts = Object.fromEntries(synth.resources("aws_lb_target_group").map(([n, g]) => [n, Number(g.port)]));
  return { rules, defaultGroup, groupPorts };
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  const env = opts.env ?? envFor(opts.mode);
  const manifest = readManifest();
  const synth = synthPlatform(env);
  const defs = taskDefinitionsOf(synth);
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), `owui-e2e-${env.name}-`));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const hostname = env.hostname;
    const ctx = { env };
    const ref = (a: string) => referenceValue(synth, a, ctx);
    const cognitoDomainHost = env.auth.idp === "cognito" ? `${ref(synth.resources("aws_cognito_user_pool_domain").map(([n]) => `aws_cognito_user_pool_domain.${n}.domain`)[0]!)}.auth.${env.region}.amazoncognito.com` : undefined;

    // TLS: one certificate for every name the browser or a process reaches over HTTPS.
    const ca = await testCa({ names: [hostname, ALB_IP, IDP_IP, ...(cognitoDomainHost ? [cognitoDomainHost] : []), "login.microsoftonline.com"] });
    stops.push(() => ca.cleanup());

    // Identity provider.
    const idpHost = cognitoDomainHost ?? "login.microsoftonline.com";
    const client = synth.resources("aws_cognito_user_pool_client")[0]?.[1];
    const adminEmail = env.auth.admin!.email;
    const idp = await startOidc({
      flavor: env.auth.idp === "entra" ? "entra" : "cognito",
      ...(env.auth.idp === "entra" ? { issuerPath: `/${TENANT_ID}/v2.0`, tenantId: TENANT_ID } : { issuerPath: `/${POOL_ID}` }),
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: (client?.callback_urls as string[] | undefined) ?? [`https://${hostname}/oauth/oidc/callback`],
          post_logout_redirect_uris: (client?.logout_urls as string[] | undefined) ?? [`https://${hostname}/`, `https://${hostname}/auth`],
        },
      ],
      users: opts.users ?? [],
      tls: { key: ca.key, cert: ca.cert },
      host: IDP_IP,
      port: 443,
      // Cognito serves sign-in and LOGOUT on the hosted-UI domain, Entra on login.microsoftonline.com:
      // the stand-in serves everything on that one host, so its session cookie is the one logout ends.
      hostname: idpHost,
    });
    stops.push(() => idp.stop());
    // DNS for the processes: the IdP's real hostname through an HTTPS proxy (see startNameProxy).
    const names = await startNameProxy(AWS_IP, { [idpHost]: IDP_IP });
    stops.push(() => names.stop());

    // AWS: moto (S3, Secrets Manager) and the Bedrock stand-in.
    const moto = await startMoto(manifest, AWS_IP);
    stops.push(() => moto.stop());
    const models = [...env.services.litellm.models.map((m) => m.modelId), env.services.openwebui.retrieval.embeddingModelId];
    const bedrock = await startBedrock({ models, host: AWS_IP, region: env.region, accountId: ACCOUNT });
    stops.push(() => bedrock.stop());
    const awsClientConfig = { region: env.region, endpoint: moto.url, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
    const s3 = new S3Client(awsClientConfig);
    const sm = new SecretsManagerClient(awsClientConfig);

    // LiteLLM's config object, as the stack's aws_s3_object writes it.
    const object = synth.resource("aws_s3_object", "litellm-config-object");
    const bucket = ref(String(object.bucket).replace(/^\$\{(.+)\}$/, "$1").replace(/\.id$/, ".bucket"))!;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: String(object.key), Body: String(object.content) }));

    // PostgreSQL, and the per-service databases made by the real db-bootstrap bundle.
    const postgres = await startPostgres(manifest, { pgvector: env.services.openwebui.retrieval.vectorDb === "pgvector", tls: { key: ca.key, cert: ca.cert, caFile: ca.caCertPath } });
    stops.push(() => postgres.stop());
    const secretValues: Record<string, string> = {};
    await runDbBootstrap({ synth, env, postgres, sm, motoUrl: moto.url, secretValues });

    // Redis.
    let redis: Redis | undefined;
    if (env.data.redis.enabled) {
      redis = await startRedis(manifest, { host: AWS_IP, password: hex(16) });
      stops.push(() => redis!.stop());
      const redisSecret = synth.resources("aws_secretsmanager_secret").find(([, s]) => /\/redis$/.test(String(s.name)))?.[1];
      if (redisSecret) secretValues[String(redisSecret.name)] = JSON.stringify({ host: redis.host, port: redis.port, url: redis.url });
    }

    // Placeholder secrets an operator fills (fixtures in the documented formats).
    const mcpoKey = hex(32);
    for (const [, s] of synth.resources("aws_secretsmanager_secret")) {
      const name = String(s.name);
      if (secretValues[name] !== undefined) continue;
      const v = placeholderValue(name, { env, mcpoKey });
      if (v !== undefined) secretValues[name] = v;
    }

    // Substitutions shared by every task.
    const ips = { litellm: allocateTaskIp(), mcpo: allocateTaskIp(), openwebui: allocateTaskIp() };
    const references: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const d of Object.values(defs).flat()) {
      for (const p of placeholdersOf(d)) {
        if (p.startsWith("local.")) references[p] = evaluateLocal(synth, p.slice("local.".length), (a) => ref(a) ?? `<${a}>`);
        else {
          const v = ref(p);
          if (v !== undefined) references[p] = v;
        }
      }
      for (const s of d.secrets) {
        const addr = /^<([^>]+)>/.exec(s.valueFrom)?.[1];
        const arnText = s.valueFrom.replace(/<([^>]+)>/g, (_, a: string) => ref(a) ?? `<${a}>`);
        if (addr?.startsWith("aws_secretsmanager_secret.")) {
          const name = String(synth.json.resource.aws_secretsmanager_secret[addr.split(".")[1]!].name);
          const v = secretValues[name];
          if (v !== undefined) secrets[`<${addr}>`] = v;
        } else if (addr?.startsWith("aws_ssm_parameter.")) {
          secrets[s.valueFrom] = String(synth.json.resource.aws_ssm_parameter[addr.split(".")[1]!].value);
        } else if (/:ssm:.*:parameter\/owui\/[^/]+\/entra\/client-id$/.test(arnText)) {
          secrets[s.valueFrom] = CLIENT_ID;
        }
      }
    }
    const shared: Omit<Substitutions, "taskIp" | "taskDir"> = {
      namespace: `owui-${env.name}.internal`,
      discovery: ips,
      endpoints: [
        // The stand-in (oidc-provider) keeps authorization and logout on its issuer's host; Cognito keeps
        // them on the hosted-UI domain, so that domain is the stand-in's issuer host. Entra needs nothing.
        ...(cognitoDomainHost ? [{ from: `https://cognito-idp.${env.region}.amazonaws.com`, to: `https://${cognitoDomainHost}`, reason: "the user pool's issuer is served on the hosted-UI domain by the IdP stand-in" }] : []),
        // The ALB's nodes sit in the public subnets (oauth2-proxy's TRUSTED_PROXY_IPS); here the ALB is one address.
        { from: env.network.publicSubnetCidrs.join(","), to: `${ALB_IP}/32`, reason: "the ALB's subnets: the ALB stand-in's address" },
      ],
      references,
      secrets,
      omitEnv: [
        {
          name: "DATABASE_URL",
          containers: ["litellm"],
          reason: "LiteLLM with a DATABASE_URL runs Prisma, whose query and schema engines are downloaded at start from binaries.prisma.sh, which no package registry mirrors; without it LiteLLM serves the config's model_list with the master key (no virtual keys or spend tracking)",
        },
      ],
      extraEnv: [
        ...Object.entries((manifest.components.mcpo as { env?: Record<string, string> }).env ?? {})
          .filter(([k]) => k !== "PATH_PREPEND")
          .map(([name, value]) => ({ name, value, reason: "uvx installs the MCP servers from the installer's pinned cache (the image's uvx fetches them from PyPI at start)", containers: ["mcpo"] })),
        ...Object.entries(ca.env).map(([name, value]) => ({ name, value, reason: "trust the test CA of the ALB and IdP stand-ins (the deployed images trust public CAs)" })),
        { name: "HTTPS_PROXY", value: names.url, reason: "the internet's DNS for the IdP's hostname: an HTTPS proxy that tunnels it to the IdP stand-in (and nothing else)" },
        { name: "https_proxy", value: names.url, reason: "the same, for clients that read only the lower-case name" },
        { name: "AWS_ACCESS_KEY_ID", value: "testing", reason: "the task role's credentials (ECS provides them through the container credentials endpoint)" },
        { name: "AWS_SECRET_ACCESS_KEY", value: "testing", reason: "the task role's credentials" },
        { name: "AWS_ENDPOINT_URL_S3", value: moto.url, reason: "S3 is moto", containers: ["litellm"] },
        { name: "AWS_BEDROCK_RUNTIME_ENDPOINT", value: bedrock.url, reason: "Bedrock runtime is the stand-in (LiteLLM 1.80.0 reads its own AWS_BEDROCK_RUNTIME_ENDPOINT, not the SDK-wide AWS_ENDPOINT_URL_BEDROCK_RUNTIME)", containers: ["litellm"] },
      ],
      manifest,
    };
    const taskDir = (name: string) => {
      const d = join(logDir, "tasks", name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    // Which installed Open WebUI plays an image: the pinned one, or the previous pin (upgrade scenario).
    const owuiManifest = (image: string | undefined): Manifest => {
      const previous = (manifest.components as Record<string, any>)["openwebui-previous"] as Manifest["components"]["openwebui"] | undefined;
      if (!image || !previous || !image.endsWith(`:v${previous.version}`)) return manifest;
      const frontend = join(previous.venv, "lib", "python3.11", "site-packages", "open_webui", "frontend");
      return { ...manifest, components: { ...manifest.components, openwebui: { ...previous, env: { FROM_INIT_PY: "true", FRONTEND_BUILD_DIR: frontend } } } } as Manifest;
    };
    const owuiExtras = (m: Manifest) =>
      Object.entries((m.components.openwebui as { env?: Record<string, string> }).env ?? {})
        .filter(([k]) => !defs.openwebui!.some((d) => d.environment.some((e) => e.name === k)))
        .map(([name, value]) => ({ name, value, reason: "where the PyPI package keeps what the image keeps at /app/build (its Dockerfile's FRONTEND_BUILD_DIR), and the flag its `open-webui` entry point sets", containers: ["openwebui"] }));
    const launch = (service: string, ip: string, containerDefs: ContainerDefinition[], tag = service) => {
      const m = owuiManifest(containerDefs.find((d) => d.name === "openwebui")?.image);
      return startTask({ envName: env.name, service, containerDefs, manifest: m, substitutions: { ...shared, manifest: m, extraEnv: [...owuiExtras(m), ...shared.extraEnv], taskIp: ip, taskDir: taskDir(tag) }, logDir });
    };

    // The three services start together, as ECS starts them; none needs another to start.
    const [mcpo, litellm] = await Promise.all([launch("mcpo", ips.mcpo, defs.mcpo!), launch("litellm", ips.litellm, defs.litellm!)]);
    stops.push(() => mcpo.stop(), () => litellm.stop());
    const servicesHealthy = Promise.all([mcpo.waitHealthy(300_000), litellm.waitHealthy(300_000)]);

    // Open WebUI's replicas run with ENABLE_DB_MIGRATIONS=false: the upgrade gate runs the stack's
    // migration task first (functions/openwebui-upgrade); here it runs as the same task definition.
    await runMigrationTask(defs, launch, opts.openwebuiImage);

    const openwebui: Task[] = [];
    let replica = 0;
    const startOpenWebUi = async (o: { image?: string; environment?: Record<string, string> } = { ...(opts.openwebuiImage ? { image: opts.openwebuiImage } : {}) }) => {
      const ip = replica === 0 ? ips.openwebui : allocateTaskIp();
      const containerDefs = defs.openwebui!.map((d) =>
        d.name === "openwebui" && (o.image || o.environment)
          ? { ...d, ...(o.image ? { image: o.image } : {}), environment: [...d.environment.filter((e) => !(o.environment && e.name in o.environment)), ...Object.entries(o.environment ?? {}).map(([name, value]) => ({ name, value }))] }
          : d,
      );
      const t = await launch("openwebui", ip, containerDefs, `openwebui-${replica++}`);
      stops.push(() => t.stop());
      await t.waitHealthy(600_000);
      openwebui.push(t);
      return t;
    };
    await startOpenWebUi();
    await servicesHealthy;
    for (let i = 1; i < (opts.openwebuiReplicas ?? 1); i++) await startOpenWebUi();

    // The ALB: the stack's listener rules, its target groups registered on the first replica.
    const listener = listenerOf(synth);
    const targets = Object.fromEntries(Object.entries(listener.groupPorts).map(([g, port]) => [g, { host: openwebui[0]!.ip, port }]));
    const alb = await startAlb({ tls: { key: ca.key, cert: ca.cert }, listenerRules: listener.rules, targets, defaultTarget: listener.defaultGroup, host: ALB_IP, port: 443, idleTimeoutSeconds: env.compute.albIdleTimeoutSeconds, httpRedirect: { port: 80 } });
    stops.push(() => alb.stop());

    const provisioning = await setUpProvisioning({ synth, env, ref, moto, sm, secretValues, discovery: ips });

    const chromiumArgs = [
      ...ca.chromiumArgs,
      `--host-resolver-rules=MAP ${hostname} ${ALB_IP}, MAP ${idpHost} ${IDP_IP}`,
    ];
    return {
      mode: opts.mode,
      env,
      synth,
      manifest,
      defs,
      appUrl: `https://${hostname}`,
      ca,
      idp,
      alb,
      bedrock,
      moto,
      postgres,
      ...(redis ? { redis } : {}),
      litellm,
      mcpo,
      openwebui,
      secretValues,
      adminEmail,
      chromiumArgs,
      ...(provisioning ? { provisioning } : {}),
      listenerRules: listener.rules,
      async upgradeOpenWebUi() {
        const n = openwebui.length;
        for (const t of openwebui.splice(0)) await t.stop();
        const lastOldStoppedAt = Date.now();
        const migrationStartedAt = Date.now();
        const { log } = await runMigrationTask(defs, launch);
        const migrationEndedAt = Date.now();
        const line = log.split("\n").reverse().find((l) => l.startsWith('{"migration"'));
        if (!line) throw new Error(`the migration task printed no verdict:\n${log.slice(-2000)}`);
        for (let i = 0; i < n; i++) await startOpenWebUi({});
        const firstNewStartedAt = Math.min(...openwebui.map((t) => t.containers.openwebui!.startedAt ?? Date.now()));
        for (const [g, port] of Object.entries(listener.groupPorts)) alb.setTarget(g, { host: openwebui[0]!.ip, port });
        return { verdict: JSON.parse(line), lastOldStoppedAt, migrationStartedAt, migrationEndedAt, firstNewStartedAt };
      },
      startOpenWebUi,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * Runs the real db-bootstrap bundle with the stack's invocation input, against this PostgreSQL and
 * moto's Secrets Manager, and collects what it wrote into the service secrets. The local master is
 * the cluster's superuser (Aurora's master is `rds_superuser`, which may create the `vector`
 * extension; a plain role here could not).
 */
async function runDbBootstrap(args: { synth: Synthesized; env: EnvConfig; postgres: Postgres; sm: SecretsManagerClient; motoUrl: string; secretValues: Record<string, string> }): Promise<void> {
  const { synth, postgres, sm } = args;
  const invocation = synth.resource("aws_lambda_invocation", "db-bootstrap");
  // The gate's evaluator takes plain attribute references; the master secret's `[0]` index is read as part of its name.
  const text = String(invocation.input).replace(/\[(\d+)\]\./g, "_$1.");
  const input = JSON.parse(String(evaluateTemplate(text, (a) => `<${a}>`))) as { services: { name: string; database: string; role: string; secretArn: string; extensions?: string[] }[]; redis?: unknown };
  const masterName = `rds!cluster-e2e-${args.env.name}`;
  const master = await sm.send(new CreateSecretCommand({ Name: masterName, SecretString: JSON.stringify({ username: "postgres", password: "unused-trust-auth" }) }));
  const services = [];
  for (const s of input.services) {
    const name = String(synth.json.resource.aws_secretsmanager_secret[/aws_secretsmanager_secret\.([^.]+)\.arn/.exec(s.secretArn)![1]!].name);
    const created = await sm.send(new CreateSecretCommand({ Name: name, Description: "filled by db-bootstrap" }));
    services.push({ ...s, secretArn: created.ARN!, secretName: name });
  }
  // The bundle Lambda runs, in a process of its own with the function's environment (lambda.ts).
  const bundle = bundleFunction({ pkg: "db-bootstrap", entry: "src/index.ts" });
  provideRuntimeSdk(bundle.file, "db-bootstrap");
  await invokeBundle(bundle.file, {
    AWS_REGION: args.env.region,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: args.motoUrl,
    DB_SSL_MODE: postgres.caFile ? "verify-full" : "disable",
    ...(postgres.caFile ? { DB_SSL_CA_FILE: postgres.caFile } : {}),
  }, { masterSecretArn: master.ARN, host: postgres.host, port: postgres.port, services: services.map(({ secretName: _n, ...s }) => s) });
  for (const s of services) {
    const v = await sm.send(new GetSecretValueCommand({ SecretId: s.secretArn }));
    args.secretValues[s.secretName] = v.SecretString!;
  }
}

/** The stack's provisioning functions (when it has them), wired to moto and the local Open WebUI. */
async function setUpProvisioning(args: {
  synth: Synthesized;
  env: EnvConfig;
  ref: (a: string) => string | undefined;
  moto: Moto;
  sm: SecretsManagerClient;
  secretValues: Record<string, string>;
  discovery: Record<string, string>;
}): Promise<Provisioning | undefined> {
  const { synth, env, ref, moto } = args;
  const fn = (handler: string) => synth.resources("aws_lambda_function").find(([, f]) => String(f.function_name).endsWith(`-provisioning-${handler}`))?.[1];
  const producer = fn("producer");
  const worker = fn("worker");
  if (!producer || !worker) return undefined;
  const queue = synth.resources("aws_sqs_queue").find(([n]) => /provisioning_queue_/.test(n))?.[1];
  if (!queue) throw new Error("the stack has provisioning functions but no provisioning queue");
  const { QueueUrl } = await sqs<{ QueueUrl: string }>(moto.url, env.region, "CreateQueue", { QueueName: String(queue.name) });
  // The SCIM token secret (SCIM path), filled with the same fixture Open WebUI reads; the functions
  // get moto's ARN for it (Secrets Manager appends its own random suffix).
  const secretArns = new Map<string, string>();
  for (const [logical, s] of synth.resources("aws_secretsmanager_secret")) {
    const name = String(s.name);
    if (name.endsWith("/openwebui/scim-token") && args.secretValues[name]) {
      const created = await args.sm.send(new CreateSecretCommand({ Name: name, SecretString: args.secretValues[name] }));
      secretArns.set(`aws_secretsmanager_secret.${logical}.arn`, created.ARN!);
    }
  }
  const envOf = (f: Record<string, any>): Record<string, string> => {
    const vars = (f.environment?.variables ?? {}) as Record<string, string>;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(vars)) {
      let value = String(evaluateTemplate(String(v), (a) => (a.endsWith(".url") && a.startsWith("aws_sqs_queue.") ? QueueUrl : (secretArns.get(a) ?? ref(a) ?? `<${a}>`))));
      value = value.replace(new RegExp(`\\b([a-z][a-z0-9-]*)\\.owui-${env.name}\\.internal\\b`, "g"), (w, svc: string) => args.discovery[svc] ?? w);
      out[k] = value;
    }
    return {
      ...out,
      AWS_REGION: env.region,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_ENDPOINT_URL_SQS: moto.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.url,
      AWS_LAMBDA_FUNCTION_NAME: String(f.function_name),
    };
  };
  const bundle = (handler: "producer" | "worker") => {
    const file = bundleFunction(PROVISIONING_BUNDLES[handler]).file;
    provideRuntimeSdk(file, "provisioning");
    return file;
  };
  return {
    async signUp(user) {
      const event = {
        version: "1",
        region: env.region,
        userPoolId: "us-east-1_E2eSandbox",
        userName: user.sub,
        triggerSource: "PostConfirmation_ConfirmSignUp",
        callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "e2eclient0000000000000000" },
        request: { userAttributes: { sub: user.sub, email: user.email, email_verified: "true", name: user.name, "cognito:user_status": "CONFIRMED" } },
        response: {},
      };
      const produced = await invokeBundle(bundle("producer"), envOf(producer), event);
      const received = await sqs<{ Messages?: { MessageId: string; ReceiptHandle: string; Body: string; MD5OfBody: string; Attributes?: Record<string, string> }[] }>(moto.url, env.region, "ReceiveMessage", { QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, AttributeNames: ["All"] });
      const records = (received.Messages ?? []).map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()), SenderId: "e2e", ApproximateFirstReceiveTimestamp: String(Date.now()), ...(m.Attributes ?? {}) },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody,
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${env.region}:${ACCOUNT}:${String(queue.name)}`,
        awsRegion: env.region,
      }));
      if (records.length === 0) throw new Error(`the producer enqueued nothing:\n${produced.logs}`);
      const consumed = await invokeBundle<{ batchItemFailures: unknown[] }>(bundle("worker"), envOf(worker), { Records: records });
      if (consumed.result.batchItemFailures.length === 0) {
        for (const m of received.Messages ?? []) await sqs(moto.url, env.region, "DeleteMessage", { QueueUrl, ReceiptHandle: m.ReceiptHandle });
      }
      return { batchItemFailures: consumed.result.batchItemFailures, logs: produced.logs + consumed.logs };
    },
  };
}

/** Runs the stack's Open WebUI migration task definition to completion; throws with its log unless it exits 0. */
export async function runMigrationTask(defs: Readonly<Record<string, ContainerDefinition[]>>, launch: (service: string, ip: string, defs: ContainerDefinition[], tag?: string) => Promise<Task>, image?: string): Promise<{ log: string }> {
  const migrate = defs["openwebui-migrate"];
  if (!migrate) return { log: "" };
  const containerDefs = image ? migrate.map((d) => ({ ...d, image })) : migrate;
  const task = await launch("openwebui-migrate", allocateTaskIp(), containerDefs, `openwebui-migrate-${Date.now()}`);
  const c = Object.values(task.containers)[0]!;
  const { code } = await c.waitExit(600_000);
  const log = c.logs();
  await task.stop();
  if (code !== 0) throw new Error(`the migration task exited ${code}:\n${c.logTail(40)}`);
  return { log };
}
