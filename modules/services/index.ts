/**
 * The platform's three services on the compute layer's factory:
 * - **Open WebUI**, the ALB's default route, wired to LiteLLM (one global OpenAI connection every
 *   user sees) and to mcpo (global tool servers), with the per-user KMS keys when
 *   `encryption.enabled` says the image implements per-user encryption;
 * - **LiteLLM**, internal only: the OpenAI-compatible gateway to Bedrock, its catalog generated from
 *   config and delivered as `config.yaml` in an encrypted S3 bucket, its IAM scoped to that catalog;
 * - **mcpo**, internal only: MCP servers from config exposed as OpenAPI tool servers.
 *
 * Every secret is an empty placeholder (see {@link PlatformServices.placeholders}; the auth secrets
 * are the identity layer's); no secret value is in code, HCL, the S3 object or Terraform state.
 */
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { dependable } from "cdktf";
import { Construct } from "constructs";
import type { EnvConfig } from "../../envs/schema.js";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { placeholderSecret, type PlaceholderInfo } from "../../lib/placeholder-secret.js";
import { ConfigError, ConfigErrors } from "../../lib/errors.js";
import { denyInsecureTransport, policyDocument, type PolicyStatement } from "../../lib/policy.js";
import type { SecretRef } from "../../lib/refs.js";
import type { Compute, FargateService, ServiceSpec } from "../compute/index.js";
import type { DataOutputs } from "../data/index.js";
import { OPENWEBUI_PORT, type IdentityOutputs } from "../identity/index.js";
import type { SecurityOutputs } from "../security/index.js";
import { catalogRegions, foundationModelArns, invokeArns, litellmConfigYaml, mcpoConfigJson, resolveModels, sha256, type ResolvedModel } from "./catalog.js";
import { OpenWebUiUpgrade } from "./upgrade.js";

export * from "./catalog.js";
export { OpenWebUiUpgrade } from "./upgrade.js";

export { OPENWEBUI_PORT };
export const LITELLM_PORT = 4000;
export const MCPO_PORT = 8000;
/** Object key of LiteLLM's config in its bucket. */
export const LITELLM_CONFIG_KEY = "litellm/config.yaml";
/** Where mcpo's start command writes its config (the scratch volume; the root stays read only). */
const MCPO_CONFIG_PATH = "/tmp/mcpo.json";

export interface PlatformServicesProps {
  readonly env: EnvConfig;
  readonly aws: AwsContext;
  readonly compute: Compute;
  readonly data: DataOutputs;
  /** The workload CMK (secrets, logs, the config bucket) and the per-user keys. */
  readonly security: Pick<SecurityOutputs, "workloadKey" | "userIdHmacKey" | "userDataKey">;
  /**
   * Open WebUI's auth wiring from the identity layer: environment and secrets merged into its
   * container (a variable both layers set is refused), sidecars, ALB target port and health path.
   */
  readonly identity: Pick<IdentityOutputs, "openwebui">;
}

export type { PlaceholderInfo } from "../../lib/placeholder-secret.js";

/** What other layers and outputs may use of the services. */
export interface PlatformServicesOutputs {
  readonly openwebui: FargateService;
  readonly litellm: FargateService;
  readonly mcpo: FargateService;
  /** `http://litellm.<namespace>:4000/v1`: the OpenAI-compatible base URL inside the VPC. */
  readonly litellmBaseUrl: string;
  /** `http://mcpo.<namespace>:8000`: tool servers are `<url>/<server name>`. */
  readonly mcpoUrl: string;
  readonly litellmConfigBucketName: string;
  readonly litellmConfigObjectKey: string;
  /** Every secret the services read that an operator must fill after apply. */
  readonly placeholders: readonly PlaceholderInfo[];
}

/** `base` plus `extra`, refusing a key both set: each Open WebUI variable has one owning layer. */
function disjoint<T>(field: string, base: Readonly<Record<string, T>>, extra: Readonly<Record<string, T>>): Record<string, T> {
  const clashes = Object.keys(extra).filter((k) => k in base);
  if (clashes.length > 0) {
    throw new ConfigErrors(clashes.map((k) => new ConfigError(`services.openwebui.${field}.${k}`, `"${k}" is set by both the services layer and the identity layer`, "let one layer own it (auth variables belong to the identity layer)")));
  }
  return { ...base, ...extra };
}

/**
 * Container health checks are liveness checks: ECS replaces a task whose check fails, so none of them
 * may depend on a shared dependency (Aurora, Redis, Bedrock) that can be briefly down for every task
 * at once. Each runs inside its image with what the image ships (see e2e/harness/images.ts).
 */
/** LiteLLM: `/health/liveliness` answers from the process alone (no DB, no model call); the image's Python does the request. */
export const LITELLM_HEALTH_CHECK = `python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${LITELLM_PORT}/health/liveliness', timeout=4)" || exit 1`;
/** mcpo: its OpenAPI docs page, served by the process itself without touching an MCP server. */
export const MCPO_HEALTH_CHECK = `curl --silent --fail --output /dev/null http://127.0.0.1:${MCPO_PORT}/docs || exit 1`;

/** Open WebUI's own health check, as its image defines it (Dockerfile HEALTHCHECK), on loopback. */
export const OPENWEBUI_HEALTH_CHECK = `curl --silent --fail http://127.0.0.1:${OPENWEBUI_PORT}/health | jq -ne 'input.status == true' || exit 1`;

/**
 * Every user may see and call the tool servers: Open WebUI keeps a `TOOL_SERVER_CONNECTIONS` entry
 * without `config.access_grants` private to admins (routers/tools.py reads `access_grants` per
 * server), so each entry grants `read` to every user (`principal_id: "*"`).
 */
export const TOOL_SERVER_ACCESS_GRANTS = [{ principal_type: "user", principal_id: "*", permission: "read" }] as const;

/** One entry of Open WebUI's `TOOL_SERVER_CONNECTIONS` for an mcpo-served MCP server. */
export function toolServerConnection(url: string, name: string, key: string) {
  return { type: "openapi", url, path: "openapi.json", auth_type: "bearer", key, config: { enable: true, access_grants: TOOL_SERVER_ACCESS_GRANTS }, info: { id: name, name } };
}

/** The spec fields every service takes straight from its `services.<name>` config section. */
function sizedFromConfig(cfg: EnvConfig["services"][keyof EnvConfig["services"]]): Pick<ServiceSpec, "image" | "cpu" | "memoryMiB" | "scaling" | "cpuArchitecture" | "capacity"> {
  return {
    image: cfg.image,
    cpu: cfg.cpu,
    memoryMiB: cfg.memoryMiB,
    cpuArchitecture: cfg.cpuArchitecture,
    capacity: cfg.capacity,
    scaling: { minCount: cfg.minCount, maxCount: cfg.maxCount, targetCpuPercent: cfg.targetCpuPercent, requestsPerTarget: cfg.requestsPerTarget },
  };
}

export class PlatformServices extends Construct implements PlatformServicesOutputs {
  readonly openwebui: FargateService;
  /** Open WebUI's upgrade gate (modules/services/upgrade.ts, docs/upgrade.md). */
  readonly openwebuiUpgrade: OpenWebUiUpgrade;
  readonly litellm: FargateService;
  readonly mcpo: FargateService;
  readonly litellmBaseUrl: string;
  readonly mcpoUrl: string;
  readonly litellmConfigBucket: S3Bucket;
  readonly litellmConfigBucketName: string;
  readonly litellmConfigObjectKey = LITELLM_CONFIG_KEY;
  readonly models: readonly ResolvedModel[];
  /** The Bedrock embedding model LiteLLM serves for Open WebUI's retrieval. */
  readonly embeddingModel: ResolvedModel;
  private readonly placeholderList: PlaceholderInfo[] = [];

  constructor(scope: Construct, id: string, props: PlatformServicesProps) {
    super(scope, id);
    const { env, security } = props;
    const kmsKeyArn = security.workloadKey.keyArn;
    this.models = resolveModels(env.services.litellm.models, env.region);
    const retrieval = env.services.openwebui.retrieval;
    this.embeddingModel = resolveModels([{ name: retrieval.embeddingName, modelId: retrieval.embeddingModelId }], env.region)[0]!;

    const masterKey = this.placeholder("litellm-master-key", `owui/${env.name}/litellm/master-key`, "sk- followed by a random string, e.g. \"sk-$(openssl rand -hex 32)\". LiteLLM's admin key (LITELLM_MASTER_KEY) and Open WebUI's key for it (OPENAI_API_KEYS)", kmsKeyArn);
    const mcpoKey = this.placeholder("mcpo-api-key", `owui/${env.name}/mcpo/api-key`, "a random string, e.g. \"$(openssl rand -hex 32)\". mcpo's --api-key; also the \"key\" of every entry of the tool-server-connections secret", kmsKeyArn);

    this.litellm = this.addLiteLlm(props, masterKey);
    this.litellmBaseUrl = `${this.litellm.internalUrl}/v1`;
    this.litellmConfigBucket = this.litellmBucketRef!;
    this.litellmConfigBucketName = this.litellmConfigBucket.bucket;
    this.mcpo = this.addMcpo(props, mcpoKey);
    this.mcpoUrl = this.mcpo.internalUrl;

    // Open WebUI reads tool servers only as one JSON env value whose entries carry the bearer key,
    // so the whole JSON is a secret; the description gives the exact value to put in.
    const connections = Object.keys(env.services.mcpo.servers)
      .sort()
      .map((name) => toolServerConnection(`${this.mcpoUrl}/${name}`, name, "<mcpo api key>"));
    const toolServers = this.placeholder(
      "tool-server-connections",
      `owui/${env.name}/openwebui/tool-server-connections`,
      `JSON for Open WebUI's TOOL_SERVER_CONNECTIONS, with <mcpo api key> replaced by the value of owui/${env.name}/mcpo/api-key: ${JSON.stringify(connections)}`,
      kmsKeyArn,
    );

    this.openwebui = this.addOpenWebUi(props, masterKey, toolServers);
    // The service runs with ENABLE_DB_MIGRATIONS=false: whenever its image changes, the gate scales
    // it to 0, runs the migration task once, then switches it (docs/upgrade.md). The ECS service
    // depends_on the gate's invocation, which waits for db-bootstrap (database, role, DATABASE_URL).
    this.openwebuiUpgrade = new OpenWebUiUpgrade(this, "openwebui-upgrade", {
      envName: env.name,
      aws: props.aws,
      cluster: props.compute,
      target: this.openwebui,
      minCount: env.services.openwebui.minCount,
      // The migration task runs where the service does: its private subnets and its own group (Aurora, EFS).
      subnetIds: this.openwebui.subnetIds,
      securityGroupIds: this.openwebui.securityGroupIds,
      kmsKey: security.workloadKey,
      logRetentionDays: env.logRetentionDays,
      waitFor: [props.data.bootstrapInvocation],
    });
  }

  /** Every placeholder secret, in creation order (the Open WebUI secret key last). */
  get placeholders(): readonly PlaceholderInfo[] {
    return this.placeholderList;
  }

  private placeholder(id: string, secretName: string, format: string, kmsKeyArn: string): SecretRef {
    this.placeholderList.push({ name: id, secretName, format });
    return placeholderSecret(this, id, { name: secretName, description: `Fill after apply. Format: ${format}`, kmsKeyArn });
  }

  private litellmBucketRef?: S3Bucket;

  /** LiteLLM: internal gateway to Bedrock with its catalog from config. */
  private addLiteLlm(props: PlatformServicesProps, masterKey: SecretRef): FargateService {
    const { env, aws, compute, data, security } = props;
    const cfg = env.services.litellm;
    const kmsKeyArn = security.workloadKey.keyArn;
    const yaml = litellmConfigYaml(this.models, this.embeddingModel);
    const invocable = [...this.models, this.embeddingModel];

    // Config bucket: versioned, SSE-KMS with the workload CMK, no public access, TLS only.
    const bucket = new S3Bucket(this, "litellm-config", { bucket: `${resourceName(env.name, "litellm-config")}-${aws.accountId}`, forceDestroy: true });
    this.litellmBucketRef = bucket;
    new S3BucketOwnershipControls(this, "litellm-config-ownership", { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketPublicAccessBlock(this, "litellm-config-public-access", { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    new S3BucketVersioningA(this, "litellm-config-versioning", { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "litellm-config-sse", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn }, bucketKeyEnabled: true }],
    });
    new S3BucketPolicy(this, "litellm-config-policy", {
      bucket: bucket.id,
      policy: policyDocument(this, "litellm-config-policy-document", [denyInsecureTransport([bucket.arn, `${bucket.arn}/*`], ["s3:*"])]).json,
    });
    const object = new S3Object(this, "litellm-config-object", {
      bucket: bucket.id,
      key: LITELLM_CONFIG_KEY,
      content: yaml,
      contentType: "application/yaml",
      serverSideEncryption: "aws:kms",
      kmsKeyId: kmsKeyArn,
      bucketKeyEnabled: true,
    });

    // LITELLM_CONFIG_BUCKET_OBJECT_KEY is not secret, but its name ends in KEY, which the factory (rightly)
    // refuses as a plain env value; it travels as a plain String SSM parameter instead.
    const objectKey = new SsmParameter(this, "litellm-config-object-key", {
      name: `/owui/${env.name}/litellm/config-object-key`,
      description: "Object key of LiteLLM's config.yaml in its config bucket (not a secret)",
      type: "String",
      value: LITELLM_CONFIG_KEY,
    });

    const service = compute.addService({
      name: "litellm",
      ...sizedFromConfig(cfg),
      port: LITELLM_PORT,
      routing: { type: "internal" },
      healthCheck: { path: "/health/liveliness", gracePeriodSeconds: 120 },
      healthCheckCommand: LITELLM_HEALTH_CHECK,
      // LiteLLM runs its Prisma migrations before it serves (30–40 s on 1 vCPU).
      healthCheckStartPeriodSeconds: 120,
      writableRootFilesystemReason: "LiteLLM runs prisma generate and its migrations at start, writing into the image's Python packages",
      environment: {
        AWS_REGION: env.region,
        LITELLM_CONFIG_BUCKET_NAME: bucket.bucket,
        // LiteLLM reads the config at start only: a new catalog changes this, so ECS rolls new tasks.
        LITELLM_CONFIG_SHA256: sha256(yaml),
      },
      secrets: {
        DATABASE_URL: { secret: data.databaseSecrets.litellm!, jsonKey: "url" },
        LITELLM_MASTER_KEY: { secret: masterKey },
        LITELLM_CONFIG_BUCKET_OBJECT_KEY: { parameter: { parameterArn: objectKey.arn, parameterName: objectKey.name } },
      },
    });
    // The S3 object must exist before the first task reads it. `dependsOn` on the resource itself:
    // cdktf writes no depends_on for a construct-level node.addDependency between resources.
    service.service.dependsOn = [...(service.service.dependsOn ?? []), dependable(object)];

    const regions = catalogRegions(invocable);
    service.grant(
      { sid: "ReadLiteLlmConfig", actions: ["s3:GetObject"], resources: [`${bucket.arn}/${LITELLM_CONFIG_KEY}`] },
      {
        sid: "DecryptLiteLlmConfig",
        actions: ["kms:Decrypt"],
        resources: [kmsKeyArn],
        conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [`s3.${env.region}.amazonaws.com`] }],
      },
      { sid: "InvokeCatalogModels", actions: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], resources: invokeArns(invocable, aws) },
      { sid: "DescribeCatalogModels", actions: ["bedrock:GetFoundationModel"], resources: foundationModelArns(invocable, aws) },
      // ListFoundationModels supports no resource-level permissions; the region is what can be narrowed.
      { sid: "ListModelsInCatalogRegions", actions: ["bedrock:ListFoundationModels"], resources: ["*"], conditions: [{ test: "StringEquals", variable: "aws:RequestedRegion", values: regions }] },
    );
    return service;
  }

  /** mcpo: internal OpenAPI front for the configured MCP servers. */
  private addMcpo(props: PlatformServicesProps, apiKey: SecretRef): FargateService {
    const { env, compute } = props;
    const cfg = env.services.mcpo;
    return compute.addService({
      name: "mcpo",
      ...sizedFromConfig(cfg),
      port: MCPO_PORT,
      routing: { type: "internal" },
      // mcpo has no health route; its FastAPI /docs page answers without the key (no --strict-auth)
      // and touches no MCP server, so the ALB check and the container check are liveness only.
      healthCheck: { path: "/docs", gracePeriodSeconds: 120 },
      healthCheckCommand: MCPO_HEALTH_CHECK,
      // stdio servers are fetched by uvx/npx at the first start before mcpo serves.
      healthCheckStartPeriodSeconds: 120,
      writableRootFilesystemReason: "stdio MCP servers start through uvx/npx, which install packages into the home directory and caches",
      // mcpo takes its key only as --api-key (no env var), and its config only as a file: the shell
      // writes the file from the env value, then replaces itself with mcpo (signals reach mcpo).
      // The image's ENTRYPOINT is ["mcpo"] and ECS appends `command` to it, so the shell must be the
      // entry point: `command: ["sh", "-c", …]` alone would run `mcpo sh -c …` and never start.
      entryPoint: ["sh", "-c"],
      command: [`printf '%s' "$MCPO_CONFIG_JSON" > ${MCPO_CONFIG_PATH} && exec mcpo --host 0.0.0.0 --port ${MCPO_PORT} --api-key "$MCPO_API_KEY" --config ${MCPO_CONFIG_PATH}`],
      environment: { MCPO_CONFIG_JSON: mcpoConfigJson(cfg.servers) },
      secrets: { MCPO_API_KEY: { secret: apiKey } },
    });
  }

  /** Open WebUI: the ALB's default route. */
  private addOpenWebUi(props: PlatformServicesProps, litellmKey: SecretRef, toolServers: SecretRef): FargateService {
    const { env, compute, data, security } = props;
    const auth = props.identity.openwebui;
    const cfg = env.services.openwebui;
    const dataDir = data.fileSystem.accessPoints.openwebui!;
    const secretKeyFormat = "one random string shared by every replica (signs sessions and JWTs), e.g. $(openssl rand -hex 32)";
    this.placeholderList.push({ name: "openwebui-secret-key", secretName: `owui/${env.name}/openwebui/secret-key`, format: secretKeyFormat });
    // Same as placeholderSecret(), but the resource keeps the address it had at the stack root before
    // the services moved into this module (the override must precede any attribute read).
    const secretKeyResource = new SecretsmanagerSecret(this, "openwebui-secret-key", {
      name: `owui/${env.name}/openwebui/secret-key`,
      description: "WEBUI_SECRET_KEY: one random string shared by every replica (signs sessions and JWTs). Fill with: openssl rand -hex 32",
      kmsKeyId: security.workloadKey.keyArn,
      recoveryWindowInDays: 7,
    });
    secretKeyResource.overrideLogicalId("openwebui-secret-key");
    const secretKey: SecretRef = { secretArn: secretKeyResource.arn, secretName: secretKeyResource.name };
    const redis = data.redis;
    const flag = (b: boolean) => (b ? "true" : "false");
    const service = compute.addService({
      name: "openwebui",
      ...sizedFromConfig(cfg),
      port: OPENWEBUI_PORT,
      routing: { type: "default" },
      // Behind oauth2-proxy the ALB targets the sidecar (its /ping); it starts once Open WebUI is healthy.
      targetPort: auth.targetPort,
      sidecars: auth.sidecars,
      // Migrations no longer run at start (the gate's task runs them), but a cold start still loads
      // a multi-GB image and its Python packages and copies static assets; measured cold starts ran
      // to several minutes, and nothing measured since justifies less, so both stay.
      healthCheck: { path: auth.healthCheckPath ?? "/health", gracePeriodSeconds: 600 },
      healthCheckCommand: OPENWEBUI_HEALTH_CHECK,
      healthCheckStartPeriodSeconds: 300,
      // Stop a failing deployment, never roll it back: the rollback would start the previous task
      // definition (the old version) against the schema the gate has already migrated forward.
      deploymentRollback: false,
      stickySessions: cfg.maxCount > 1,
      writableRootFilesystemReason: "Open WebUI writes static assets and secrets into /app/backend at start",
      environment: disjoint("environment", {
        DATA_DIR: dataDir.path,
        WEBUI_URL: `https://${env.hostname}`,
        UVICORN_WORKERS: "1",
        // The gate's migration task migrates, once, with no replica serving (docs/upgrade.md);
        // replicas must never migrate at start, all at once and beside the old version.
        ENABLE_DB_MIGRATIONS: "false",
        DATABASE_POOL_RECYCLE: "3600",
        DATABASE_POOL_PRE_PING: "true",
        ...(redis ? { WEBSOCKET_MANAGER: "redis", ENABLE_WEBSOCKET_SUPPORT: "true" } : {}),
        ENABLE_PERSISTENT_CONFIG: flag(cfg.persistentConfig),
        BYPASS_MODEL_ACCESS_CONTROL: flag(cfg.bypassModelAccessControl),
        ENABLE_DIRECT_CONNECTIONS: flag(cfg.directConnections),
        // One global connection to LiteLLM: every user sees the catalog with no per-user setup.
        ENABLE_OPENAI_API: "true",
        OPENAI_API_BASE_URLS: this.litellmBaseUrl,
        ENABLE_OLLAMA_API: "false",
        // Retrieval that behaves the same on every replica: vectors in the shared database,
        // embeddings from one Bedrock model through LiteLLM (no model weights in the task), uploads
        // on the shared EFS DATA_DIR, extraction by Open WebUI's built-in loaders in-process.
        VECTOR_DB: cfg.retrieval.vectorDb,
        ...(cfg.retrieval.vectorDb === "pgvector"
          ? {
              // db-bootstrap creates the extension as the master user; Open WebUI's role may not.
              PGVECTOR_CREATE_EXTENSION: "false",
            }
          : {}),
        RAG_EMBEDDING_ENGINE: "openai",
        RAG_EMBEDDING_MODEL: cfg.retrieval.embeddingName,
        RAG_OPENAI_API_BASE_URL: this.litellmBaseUrl,
        // No model hub is reachable from the task, nor needed: never try one at start.
        HF_HUB_OFFLINE: "1",
        // Per-user chat encryption (application side in the image): only when the image implements it.
        ...(env.encryption.enabled ? userKeyEnvironment(security, env.region) : {}),
      }, auth.environment),
      secrets: disjoint("secrets", {
        DATABASE_URL: { secret: data.databaseSecrets.openwebui!, jsonKey: "url" },
        WEBUI_SECRET_KEY: { secret: secretKey },
        OPENAI_API_KEYS: { secret: litellmKey },
        RAG_OPENAI_API_KEY: { secret: litellmKey },
        TOOL_SERVER_CONNECTIONS: { secret: toolServers },
        ...(redis ? { REDIS_URL: { secret: redis.secret, jsonKey: "url" }, WEBSOCKET_REDIS_URL: { secret: redis.secret, jsonKey: "url" } } : {}),
      }, auth.secrets),
      efsMounts: [
        {
          fileSystemId: data.fileSystem.fileSystemId,
          fileSystemArn: data.fileSystem.fileSystemArn,
          accessPointId: dataDir.accessPointId,
          accessPointArn: dataDir.accessPointArn,
          containerPath: dataDir.path,
        },
      ],
    });
    if (env.encryption.enabled) service.grant(...userKeyStatements(security));
    return service;
  }
}

/** The encryption context of every user DEK (REQUIREMENTS.md); functions/user-keys uses the same. */
export const USER_DEK_ENCRYPTION_CONTEXT = { purpose: "user-dek-encryption", application: "open-webui" } as const;

/** What Open WebUI reads to find the per-user keys (an image implementing per-user encryption). */
export function userKeyEnvironment(security: Pick<SecurityOutputs, "userIdHmacKey" | "userDataKey">, region: string): Record<string, string> {
  return { KMS_HMAC_KEY_ID: security.userIdHmacKey.keyId, KMS_APPLICATION_CMK_ID: security.userDataKey.keyId, AWS_REGION: region };
}

/**
 * The per-user key grants (issue #14, CONTRACTS.md "AWS KMS"), for Open WebUI's task role and the
 * canary alike:
 * - GenerateMac and VerifyMac on the HMAC key (HMAC keys take no encryption context);
 * - Encrypt, Decrypt and GenerateDataKey on the DEK key, only with exactly the context
 *   {purpose: user-dek-encryption, application: open-webui}: `StringEquals` on each
 *   `kms:EncryptionContext:<key>` requires that pair, and `ForAllValues:StringEquals` on
 *   `kms:EncryptionContextKeys` refuses any other key (ForAllValues alone would also pass a request
 *   with no context at all, which the two StringEquals conditions refuse);
 * - DescribeKey on both (the client reads the HMAC key's MacAlgorithms).
 */
export function userKeyStatements(security: Pick<SecurityOutputs, "userIdHmacKey" | "userDataKey">): PolicyStatement[] {
  return [
    { sid: "UserIdHmac", actions: ["kms:GenerateMac", "kms:VerifyMac"], resources: [security.userIdHmacKey.keyArn] },
    {
      sid: "UserDekEncryption",
      actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
      resources: [security.userDataKey.keyArn],
      conditions: [
        { test: "StringEquals", variable: "kms:EncryptionContext:purpose", values: [USER_DEK_ENCRYPTION_CONTEXT.purpose] },
        { test: "StringEquals", variable: "kms:EncryptionContext:application", values: [USER_DEK_ENCRYPTION_CONTEXT.application] },
        { test: "ForAllValues:StringEquals", variable: "kms:EncryptionContextKeys", values: ["purpose", "application"] },
      ],
    },
    { sid: "DescribeUserKeys", actions: ["kms:DescribeKey"], resources: [security.userIdHmacKey.keyArn, security.userDataKey.keyArn] },
  ];
}
