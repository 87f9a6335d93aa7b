/**
 * The typed environment config. Every environment is one `envs/<name>.ts` that calls
 * {@link defineEnv}; environments differ only by these values, never by `if (env === …)` in code.
 *
 * Parsing is strict: an unknown key is an error, and every rejection names the config path, the bad
 * value and the fix (see {@link parseEnv}). Checks that span fields (subnets inside the VPC, AZs in
 * the region, port clashes, …) run here too, so a bad config fails at synth, never at apply.
 */
import { z } from "zod";
import { contains, overlaps, parseCidr, subnet, type Cidr } from "../lib/cidr.js";
import { KMS_DELETION_WINDOW_DAYS } from "../lib/aws-limits.js";
import { REGION_TABLE_FIX, SUPPORTED_REGIONS } from "../lib/aws-regions.js";
import { ConfigError, ConfigErrors } from "../lib/errors.js";
import { envNameProblem, MAX_ENV_NAME_LENGTH, RESERVED_ENV_NAMES } from "../lib/naming.js";
import { authSchema, deriveAuth, type AuthConfig } from "./auth.js";
import { pinnedImage } from "./fields.js";
import { checkAuth } from "./auth-checks.js";
import { checkDataVersions } from "./data-checks.js";
import { checkAlbIngress, checkAz, checkSubnetSizes } from "./network-checks.js";
import { tagsSchema } from "./tag-checks.js";
import { checkServices } from "./service-checks.js";
import { checkDns } from "./dns-checks.js";

// ---------------------------------------------------------------------------------------------
// Reusable field types
// ---------------------------------------------------------------------------------------------

const REGION_RE = /^(us|eu|ap|sa|ca|me|af|il|mx)-(gov-)?(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$/;
const HOSTNAME_RE = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const region = z.string().regex(REGION_RE, {
  error: (i) => `"${String(i.input)}" is not an AWS region. Fix: use a region code such as "us-east-1" or "eu-central-1"`,
});

/** A region the project deploys AWS resources to: one in lib/aws-regions.ts, whose AZs are known. */
const supportedRegion = region.refine((r) => !REGION_RE.test(r) || SUPPORTED_REGIONS.includes(r), {
  error: (i) => `"${String(i.input)}" is not a region this project supports (lib/aws-regions.ts has no AZ table for it). Fix: use one of ${SUPPORTED_REGIONS.join(", ")}, ${REGION_TABLE_FIX}`,
});

/** An env name: it goes into every resource name, so AWS's naming rules apply (lib/naming.ts). */
const envName = z.string().superRefine((name, ctx) => {
  const problem = envNameProblem(name);
  if (!problem) return;
  const fix = RESERVED_ENV_NAMES.includes(name)
    ? "choose another name"
    : `use 2–${MAX_ENV_NAME_LENGTH} lower-case letters, digits and single dashes, starting with a letter and not ending with a dash, e.g. "nonprod"`;
  ctx.addIssue({ code: "custom", message: `"${name}" is not a valid environment name: ${problem}. Fix: ${fix}` });
});

/** KMS key deletion window, in days. */
const kmsDeletionWindowDays = z
  .number()
  .int()
  .refine((d) => d >= KMS_DELETION_WINDOW_DAYS.min && d <= KMS_DELETION_WINDOW_DAYS.max, {
    error: (i) => `${String(i.input)} days is outside the ${KMS_DELETION_WINDOW_DAYS.min}–${KMS_DELETION_WINDOW_DAYS.max} days KMS accepts for a key's deletion window. Fix: use ${KMS_DELETION_WINDOW_DAYS.min} to ${KMS_DELETION_WINDOW_DAYS.max}, e.g. 30`,
  });

const cidr = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `${parsed}. Fix: write a network address such as "10.20.0.0/16"` });
});

const hostname = z.string().regex(HOSTNAME_RE, {
  error: (i) => `"${String(i.input)}" is not a lower-case DNS hostname. Fix: use a fully qualified name such as "owui-nonprod.example.com" (no scheme, port, path or trailing dot)`,
});

const retentionDays = z
  .number()
  .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
    error: (i) => `${String(i.input)} is not a CloudWatch Logs retention period. Fix: use one of ${LOG_RETENTION_DAYS.join(", ")}`,
  });

export { pinnedImage };
export * from "./auth.js";

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

/** `<dir>/<file>.tfstate`: an S3 object key without leading or trailing slash. */
const STATE_KEY_RE = /^(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+\.tfstate$/;

const stateSchema = z.strictObject({
  /** Bucket holding Terraform state. @default "workspaces" */
  bucket: z
    .string()
    .regex(/^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      error: (i) => `"${String(i.input)}" is not an S3 bucket name (S3 and MinIO both refuse it). Fix: 3–63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit, e.g. "workspaces"`,
    })
    .default("workspaces"),
  /** S3-compatible endpoint (MinIO). @default "https://s3.oremuslabs.app" */
  endpoint: z.url({ protocol: /^https$/, error: "must be an https:// URL. Fix: e.g. \"https://s3.example.com\"" }).default("https://s3.oremuslabs.app"),
  /**
   * The object key of the stack's state, e.g. `open-webui/aws/nonprod.tfstate`. Required and
   * written out in every env file, never derived from the env's name: a derived key would move
   * when the env is renamed, and Terraform would start a second, empty env beside the first. An
   * env's `<name>` must stay the key's file name (see {@link parseEnv}); the env's
   * `<name>-certificate` stack keeps its state beside it (`…/<name>-certificate.tfstate`).
   * Moving state deliberately: README "Remote state".
   */
  key: z
    .string({ error: "is required: the state key is written out in each env file so that a rename cannot move it. Fix: e.g. \"open-webui/aws/<env name>.tfstate\"" })
    .regex(STATE_KEY_RE, { error: "must be a slash-separated object key ending in .tfstate, without leading slash. Fix: e.g. \"open-webui/aws/nonprod.tfstate\"" }),
  /** Region the backend signs requests for (MinIO accepts any). @default "us-east-1" */
  region: region.default("us-east-1"),
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO needs. @default true */
  usePathStyle: z.boolean().default(true),
  /** Skip the AWS-only checks (credentials via STS, region list, account id, IMDS, S3 checksums). @default true */
  skipAwsValidations: z.boolean().default(true),
  /** Terraform ≥ 1.10 native S3 lock file (`use_lockfile`). @default true */
  useLockfile: z.boolean().default(true),
  /**
   * Named AWS profile holding the state store's credentials (the MinIO keys). Never the default
   * credential chain: that holds the AWS credentials of the operator or the pipeline's role, which
   * Terraform would then send to the state store. README "Remote state". @default "owui-state"
   */
  profile: z.string().min(1).default("owui-state"),
});

const ENDPOINT_NAMES = ["ecr.api", "ecr.dkr", "logs", "ssm", "ssmmessages", "secretsmanager", "kms", "sts", "bedrock", "bedrock-runtime"] as const;
/** Interface endpoints the platform can create. */
export type InterfaceEndpointName = (typeof ENDPOINT_NAMES)[number];

const interfaceEndpoints = z.strictObject(
  Object.fromEntries(ENDPOINT_NAMES.map((n) => [n, z.boolean().default(true)])) as Record<InterfaceEndpointName, z.ZodDefault<z.ZodBoolean>>,
);

const networkSchema = z.strictObject({
  /** VPC CIDR; /16 to /20 so the default subnet layout fits. @default "10.0.0.0/16" */
  vpcCidr: cidr.default("10.0.0.0/16"),
  /** Availability zones, at least 2, all in `region`. @default - `<region>a` and `<region>b` */
  azs: z.array(z.string()).optional(),
  /** Public subnet CIDRs, one per AZ, in AZ order. @default - /24s at the top of the VPC range */
  publicSubnetCidrs: z.array(cidr).optional(),
  /** Private subnet CIDRs, one per AZ, in AZ order. @default - /20s from the bottom of the VPC range */
  privateSubnetCidrs: z.array(cidr).optional(),
  /** One NAT gateway for all AZs (cheaper, not AZ-resilient) instead of one per AZ. @default false */
  singleNatGateway: z.boolean().default(false),
  /** Interface endpoints, each switchable. @default - all on */
  interfaceEndpoints: interfaceEndpoints.prefault({}),
  /**
   * Where the interface endpoints have their network interfaces: `all` AZs (an AZ outage leaves the
   * others their endpoints), or only the `first` AZ's private subnet (each endpoint is billed per AZ;
   * the other AZs reach it across AZs). @default "all"
   */
  interfaceEndpointAzs: z.enum(["all", "first"]).default("all"),
  /** VPC flow logs to a KMS-encrypted log group. */
  flowLogs: z
    .strictObject({
      /** Retention of the flow-log group. @default 90 */
      retentionDays: retentionDays.default(90),
      /** Which traffic to log. @default "ALL" */
      trafficType: z.enum(["ALL", "ACCEPT", "REJECT"]).default("ALL"),
    })
    .prefault({}),
});

const securitySchema = z.strictObject({
  /** CIDRs (corporate + VPN) allowed to reach the ALB on 443 (and 80 for the redirect). Required, non-empty. */
  albIngressCidrs: z.array(cidr).min(1, {
    error: "is empty, so nobody could reach the ALB. Fix: list the corporate and VPN CIDRs, e.g. [\"203.0.113.0/24\"]",
  }),
  /** WAFv2 web ACL with the AWS managed Common and KnownBadInputs rule groups on the ALB. @default true */
  wafEnabled: z.boolean().default(true),
  /** KMS key deletion window. @default 30 */
  kmsDeletionWindowDays: kmsDeletionWindowDays.default(30),
});

/** Sizing and scaling of one ECS service; the compute layer checks cpu/memory against Fargate's table. */
function serviceSchema(d: { image: string; cpu: number; memoryMiB: number; minCount: number; maxCount: number }) {
  return z.strictObject({
    /** Container image, pinned by tag or digest. @default - a pinned release */
    image: pinnedImage.default(d.image),
    /** Task CPU units (256 = 0.25 vCPU). @default - per service */
    cpu: z.number().int().default(d.cpu),
    /** Task memory in MiB; must be a Fargate combination with `cpu`. @default - per service */
    memoryMiB: z.number().int().default(d.memoryMiB),
    /** Fewest running tasks (also the initial desired count). @default - per service */
    minCount: z.number().int().min(1).default(d.minCount),
    /** Most running tasks under autoscaling. @default - per service */
    maxCount: z.number().int().min(1).max(100).default(d.maxCount),
    /** Average CPU the autoscaler aims for, in percent. @default 60 */
    targetCpuPercent: z.number().int().min(10).max(90).default(60),
    /** ALB requests per task the autoscaler aims for (ALB-routed services only). @default - no request-based scaling */
    requestsPerTarget: z.number().int().min(1).optional(),
    /**
     * CPU architecture of the tasks. `ARM64` (Graviton) is about 20% cheaper per vCPU- and GB-hour;
     * every default image is published for linux/arm64 (ops/lib/prices.ts cites each manifest). @default "X86_64"
     */
    cpuArchitecture: z.enum(["X86_64", "ARM64"]).default("X86_64"),
    /**
     * Fargate capacity: `spot` runs the tasks on Fargate Spot (about 70% cheaper, interrupted with two
     * minutes' warning; X86_64 only). For stateless services that tolerate a restart. @default "on-demand"
     */
    capacity: z.enum(["on-demand", "spot"]).default("on-demand"),
  });
}

export { BEDROCK_MODEL_ID_RE, BEDROCK_PROVIDERS, INFERENCE_PROFILE_PREFIXES } from "./bedrock-models.js";

const bedrockModel = z.strictObject({
  /** Name clients ask for (`model` in the OpenAI API); unique in the catalog. */
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,63}$/, { error: (i) => `"${String(i.input)}" is not a model name. Fix: 1–64 letters, digits, dots, dashes, colons or underscores, e.g. "claude-3-7-sonnet"` }),
  /** Bedrock model id or inference profile id, e.g. `us.anthropic.claude-3-7-sonnet-20250219-v1:0`. */
  modelId: z.string(),
  /** Region LiteLLM calls Bedrock in. @default - the env's region */
  region: supportedRegion.optional(),
});
export type BedrockModelConfig = z.output<typeof bedrockModel>;

/**
 * The default catalog: one or more models of each family the platform promises (Claude, Llama,
 * Mistral, Titan). Ids from the Bedrock model cards; the `us.` ones are cross-region inference
 * profiles (these models have no on-demand throughput without one), so the default fits US regions.
 */
export const DEFAULT_MODELS: readonly BedrockModelConfig[] = [
  { name: "claude-sonnet-4", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0" },
  { name: "claude-3-7-sonnet", modelId: "us.anthropic.claude-3-7-sonnet-20250219-v1:0" },
  { name: "claude-3-5-haiku", modelId: "us.anthropic.claude-3-5-haiku-20241022-v1:0" },
  { name: "llama-3-3-70b", modelId: "us.meta.llama3-3-70b-instruct-v1:0" },
  { name: "mistral-large", modelId: "mistral.mistral-large-2402-v1:0" },
  { name: "titan-text-premier", modelId: "amazon.titan-text-premier-v1:0" },
];

/** One MCP server in Claude Desktop's `mcpServers` format: a stdio command, or a remote SSE / streamable-HTTP URL. Never holds secrets. */
const mcpoServer = z.union([
  z.strictObject({
    /** Executable started inside the mcpo container, e.g. `uvx` or `npx`. */
    command: z.string().min(1),
    /** @default [] */
    args: z.array(z.string()).default([]),
    /** Environment of the server process; plain text in the task definition, so never a credential. @default - none */
    env: z.record(z.string(), z.string()).optional(),
  }),
  z.strictObject({
    type: z.enum(["sse", "streamable-http"]),
    url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL. Fix: e.g. \"https://mcp.example.com/mcp\"" }),
  }),
]);
export type McpoServerConfig = z.output<typeof mcpoServer>;

const servicesSchema = z.strictObject({
  /** Open WebUI: the user-facing app. @default - 1 vCPU / 4 GiB, 1 task */
  openwebui: serviceSchema({ image: "ghcr.io/open-webui/open-webui:v0.10.2", cpu: 1024, memoryMiB: 4096, minCount: 1, maxCount: 1 })
    .extend({
      /** `ENABLE_PERSISTENT_CONFIG`: false makes env authoritative on every start (else the database wins after the first). @default false */
      persistentConfig: z.boolean().default(false),
      /** `BYPASS_MODEL_ACCESS_CONTROL`: every user sees every gateway model with no per-model registration. @default true */
      bypassModelAccessControl: z.boolean().default(true),
      /** `ENABLE_DIRECT_CONNECTIONS`: per-user connections to other OpenAI-compatible APIs. @default false */
      directConnections: z.boolean().default(false),
      /**
       * Retrieval (documents, uploads, knowledge): where vectors live and who computes embeddings.
       * Every replica must see the same vectors and compute the same embeddings, so the defaults keep
       * both out of the task: pgvector in the env's Aurora database, embeddings through LiteLLM.
       */
      retrieval: z
        .strictObject({
          /**
           * `VECTOR_DB`. `pgvector`: a table in Open WebUI's own Aurora database (the `vector`
           * extension is created by db-bootstrap), shared by every replica. `chroma`: Open WebUI's
           * embedded Chroma files under `DATA_DIR` on EFS, which concurrent replicas corrupt: one
           * task only. @default "pgvector"
           */
          vectorDb: z.enum(["pgvector", "chroma"]).default("pgvector"),
          /**
           * The Bedrock embedding model LiteLLM serves to Open WebUI as `embeddingName`
           * (`RAG_EMBEDDING_ENGINE=openai`): the same vectors whichever replica embeds, no model
           * weights in the task. @default "amazon.titan-embed-text-v2:0"
           */
          embeddingModelId: z.string().regex(/^(?:(?:us|eu|apac|global)\.)?(?:amazon|cohere)\.[a-z0-9-]*embed[a-z0-9.:-]*$/, { error: "must be a Bedrock embedding model id. Fix: e.g. \"amazon.titan-embed-text-v2:0\" or \"cohere.embed-multilingual-v3\"" }).default("amazon.titan-embed-text-v2:0"),
          /** The name LiteLLM serves the embedding model under (`RAG_EMBEDDING_MODEL`). @default "embeddings" */
          embeddingName: z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/, { error: "must be 1–64 lower-case letters, digits, dots, dashes or underscores. Fix: e.g. \"embeddings\"" }).default("embeddings"),
        })
        .prefault({}),
    })
    .prefault({}),
  /** LiteLLM: the OpenAI-compatible gateway to Bedrock. @default - 0.5 vCPU / 1 GiB, 1 task */
  litellm: serviceSchema({ image: "ghcr.io/berriai/litellm:v1.80.0-stable", cpu: 512, memoryMiB: 1024, minCount: 1, maxCount: 2 })
    .extend({
      /** The model catalog LiteLLM serves (and the only models its task role may invoke). @default - Claude, Llama, Mistral and Titan (US inference profiles) */
      models: z.array(bedrockModel).default(() => DEFAULT_MODELS.map((m) => ({ ...m }))),
      /**
       * Refused: Bedrock model invocation logging is one setting per account and region, which every
       * env stack would overwrite and any env's destroy would turn off. Its one owner is the
       * account stack (`envs/accounts.ts`, stacks/account-stack.ts).
       */
      invocationLogging: z
        .unknown()
        .refine((v) => v === undefined, {
          error: "Bedrock invocation logging is one setting per AWS account and region, owned by the account stack, not by an env. Fix: remove it here and configure bedrockInvocationLogging for this account and region in envs/accounts.ts",
        })
        .optional(),
    })
    .prefault({}),
  /** mcpo: MCP servers as OpenAPI tool servers. @default - 0.25 vCPU / 0.5 GiB, 1 task */
  mcpo: serviceSchema({ image: "ghcr.io/open-webui/mcpo:v0.0.20", cpu: 256, memoryMiB: 512, minCount: 1, maxCount: 1 })
    .extend({
      /** MCP servers, by name (each is served at `/<name>`). @default - `time` (mcp-server-time) */
      servers: z.record(z.string(), mcpoServer).default(() => ({ time: { command: "uvx", args: ["mcp-server-time", "--local-timezone=UTC"] } })),
    })
    .prefault({}),
});

const dataSchema = z.strictObject({
  /** Aurora PostgreSQL Serverless v2. */
  aurora: z
    .strictObject({
      /** Aurora PostgreSQL engine version. @default "16.6" */
      engineVersion: z.string().regex(/^\d+\.\d+$/, { error: "must be MAJOR.MINOR. Fix: e.g. \"16.6\"" }).default("16.6"),
      /** Cluster instances; 2 or more spread over AZs (the first is the writer). @default 1 */
      instances: z.number().int().min(1).max(15).default(1),
      /** Serverless v2 minimum capacity in ACUs (0 pauses when idle). @default 0.5 */
      minAcu: z.number().min(0).max(256).multipleOf(0.5).default(0.5),
      /** Serverless v2 maximum capacity in ACUs. @default 4 */
      maxAcu: z.number().min(1).max(256).multipleOf(0.5).default(4),
      /** Days of automated backups (7 to 35). @default 7 */
      backupRetentionDays: z.number().int().min(7, { error: "must be at least 7 days (CKV_AWS_133). Fix: set 7 or more" }).max(35).default(7),
      /** Refuse to delete the cluster. @default true */
      deletionProtection: z.boolean().default(true),
      /** Take a final snapshot when the cluster is destroyed. @default true */
      finalSnapshot: z.boolean().default(true),
      /** Performance Insights retention: 7 (free) or a multiple of 31 up to 731. @default 7 */
      performanceInsightsRetentionDays: z.number().int().refine((d) => d === 7 || (d % 31 === 0 && d <= 731), { error: "must be 7 or a multiple of 31 up to 731. Fix: use 7" }).default(7),
    })
    .prefault({}),
  /** EFS for Open WebUI's DATA_DIR (uploads, caches). */
  efs: z
    .strictObject({
      /** Throughput mode. @default "elastic" */
      throughputMode: z.enum(["elastic", "bursting"]).default("elastic"),
      /** AWS Backup of the file system. @default true */
      backups: z.boolean().default(true),
    })
    .prefault({}),
  /** Redis-compatible cache: websocket fan-out and shared state between Open WebUI replicas. */
  redis: z
    .strictObject({
      /** Create it. @default - on exactly when Open WebUI may run more than one task */
      enabled: z.boolean().optional(),
      /** Engine. @default "valkey" */
      engine: z.enum(["valkey", "redis"]).default("valkey"),
      /** Engine version. @default "8.0" */
      engineVersion: z.string().regex(/^\d+\.\d+$/).default("8.0"),
      /** Node type. @default "cache.t4g.small" */
      nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { error: "is not an ElastiCache node type. Fix: e.g. \"cache.t4g.small\"" }).default("cache.t4g.small"),
      /** Read replicas; 1 or more turns on automatic failover across AZs. @default 1 */
      replicas: z.number().int().min(0).max(5).default(1),
    })
    .prefault({}),
});

const computeSchema = z.strictObject({
  /** Refuse to delete the ALB. @default true */
  albDeletionProtection: z.boolean().default(true),
  /** ALB idle timeout; long enough for streamed chat completions and websockets. @default 300 */
  albIdleTimeoutSeconds: z.number().int().min(60).max(4000).default(300),
  /** Days to keep ALB access logs. @default 90 */
  albAccessLogDays: z.number().int().min(1).max(3650).default(90),
  /** ECS Container Insights. @default "enhanced" */
  containerInsights: z.enum(["enhanced", "enabled", "disabled"]).default("enhanced"),
  /** ECS Exec (shell into tasks through SSM) on every service. @default false */
  enableExecuteCommand: z.boolean().default(false),
});


/**
 * `lifecycle.prevent_destroy` on the stateful resources (lib/protection.ts): the Aurora cluster and
 * its instances, the EFS file system and the KMS keys (the workload CMK that encrypts Aurora, EFS,
 * the secrets and the final snapshot; the per-user HMAC and data keys). Terraform then refuses any
 * plan that would destroy or replace one of them, including `cdktf destroy` and a rename.
 */
const protectionSchema = z
  .strictObject({
    /** Put `prevent_destroy` on every stateful resource. @default true */
    preventDestroy: z.boolean().default(true),
    /** Why this env may be destroyed (at least 10 characters); required when `preventDestroy` is false. @default - none */
    reason: z.string().trim().optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.preventDestroy && (p.reason ?? "").length < 10) {
      ctx.addIssue({ code: "custom", path: ["reason"], message: `${p.reason === undefined ? "is missing" : `"${p.reason}" is shorter than 10 characters`}, but preventDestroy is false: a destroy would delete Aurora, EFS and the keys of this env. Fix: say why this env may lose its data, e.g. "throwaway env, recreated from scratch", or set preventDestroy to true` });
    }
    if (p.preventDestroy && p.reason !== undefined) {
      ctx.addIssue({ code: "custom", path: ["reason"], message: "is set while preventDestroy is true, so it explains nothing. Fix: remove it, or set preventDestroy to false" });
    }
  });

/** Cloudflare's zone ids: 32 lower-case hex characters (the zone's Overview page, API section). */
const CLOUDFLARE_ZONE_ID_RE = /^[0-9a-f]{32}$/;
const ZONE_ID_FIX = "copy the zone's id from the Cloudflare dashboard (the zone's Overview page, API section, \"Zone ID\"): 32 lower-case hex characters";

const dnsSchema = z.strictObject({
  /** Records in a Cloudflare zone (provider v5); the API token comes only from `CLOUDFLARE_API_TOKEN` at apply time, never from config. */
  cloudflare: z.strictObject({
    /** The zone's id. Required: the provider addresses every record by it. Not a secret. */
    zoneId: z
      .string({ error: `is required: every record is written to the zone by its id. Fix: ${ZONE_ID_FIX}` })
      .regex(CLOUDFLARE_ZONE_ID_RE, { error: (i) => `"${String(i.input)}" is not a Cloudflare zone id. Fix: ${ZONE_ID_FIX}` }),
    /** The zone's name, e.g. `example.com`; `hostname` must be it or lie under it (envs/dns-checks.ts). Required. */
    zoneName: z.string().regex(HOSTNAME_RE, { error: (i) => `"${String(i.input)}" is not a DNS zone name. Fix: the zone as Cloudflare lists it, lower-case, without trailing dot, e.g. "example.com"` }),
    /**
     * Proxy the app's record through Cloudflare (orange cloud). Then every request reaches the ALB
     * from Cloudflare's addresses, so `security.albIngressCidrs` must admit all of them
     * (lib/cloudflare-ips.ts; refused at synth otherwise), and the zone's SSL mode must be Full
     * (strict). The certificate's validation records are never proxied. @default false
     */
    proxied: z.boolean().default(false),
  }),
});

// ---------------------------------------------------------------------------------------------
// Observability and integrations
// ---------------------------------------------------------------------------------------------

/** An SNS topic ARN (`observability.alarmTopicArns`; modules/observability checks its own props with it too). */
export const SNS_TOPIC_ARN_RE = /^arn:aws(?:-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** The `<name>` of an OTEL log group `/owui/<env>/otel/<name>` (`observability.otel.logGroups`). */
export const OTEL_LOG_GROUP_NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

/** A number in [min, max] (an integer when `int`), refused with the range and an example. */
function bounded(what: string, min: number, max: number, example: number, int = true) {
  return z.number().refine((v) => (!int || Number.isInteger(v)) && v >= min && v <= max, {
    error: (i) => `${String(i.input)} is not ${what} in ${min}–${max}${int ? " (a whole number)" : ""}. Fix: use ${min} to ${max}, e.g. ${example}`,
  });
}
const percent = (example: number) => bounded("a percentage", 1, 100, example);

/** Alarm thresholds; each alarm fires when its metric stays past the threshold for `evaluationPeriods` periods. */
const alarmThresholdsSchema = z.strictObject({
  /** Length of one evaluation period, in seconds. @default 300 */
  periodSeconds: z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)], { error: (i) => `${String(i.input)} is not an alarm period this project uses. Fix: use 60, 300, 900 or 3600` }).default(300),
  /** Consecutive breaching periods before an alarm fires. @default 3 */
  evaluationPeriods: bounded("a number of periods", 1, 24, 3).default(3),
  /** Aurora cluster CPU, average percent. @default 80 */
  auroraCpuPercent: percent(80).default(80),
  /** Aurora freeable memory, minimum MiB, below which it alarms. @default 256 */
  auroraFreeableMemoryMiB: bounded("a memory size in MiB", 16, 1048576, 256).default(256),
  /** Aurora Serverless v2 capacity, percent of `data.aurora.maxAcu`, at or above which it alarms. @default 100 */
  auroraAcuPercentOfMax: percent(100).default(100),
  /** ALB 5xx responses per period (the ALB's own and the targets'), above which it alarms. @default 10 */
  alb5xxCount: bounded("a count of responses", 1, 1000000, 10).default(10),
  /** ALB target response time, p95 in seconds, above which it alarms. @default 5 */
  albTargetResponseSeconds: bounded("a time in seconds", 0.1, 4000, 5, false).default(5),
  /** Unhealthy targets per target group, above which it alarms. @default 0 */
  unhealthyHosts: bounded("a count of targets", 0, 100, 0).default(0),
  /** ECS service CPU, average percent of the task's reservation. @default 85 */
  ecsCpuPercent: percent(85).default(85),
  /** ECS service memory, average percent of the task's reservation. @default 85 */
  ecsMemoryPercent: percent(85).default(85),
  /** Lambda errors per function and period, above which it alarms. @default 0 */
  lambdaErrors: bounded("a count of errors", 0, 1000000, 0).default(0),
  /** Lambda throttles per function and period, above which it alarms. @default 0 */
  lambdaThrottles: bounded("a count of throttles", 0, 1000000, 0).default(0),
  /** Redis engine CPU per node, average percent. @default 80 */
  redisCpuPercent: percent(80).default(80),
  /** Redis memory used per node, percent of max memory. @default 80 */
  redisMemoryPercent: percent(80).default(80),
  /** Redis evictions per node and period, above which it alarms. @default 0 */
  redisEvictions: bounded("a count of evictions", 0, 1000000, 0).default(0),
  /** Requests the WAF blocked per period, above which it alarms (a spike, e.g. a scan). @default 100 */
  wafBlockedRequests: bounded("a count of requests", 1, 100000000, 100).default(100),
});

const SSM_SEGMENT_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const integrationsSchema = z.strictObject({
  /** Entra ID metadata (with `auth.idp: "entra"`; the tenant and client ids come from `auth.entra`). */
  entra: z
    .strictObject({
      /**
       * Entra group object ids under the role names they map to, e.g.
       * `{ "owui-nonprod-admins": "<object id>" }`: published as `/owui/<env>/entra/groups/<role>`. @default {}
       */
      groups: z
        .record(
          z.string().regex(SSM_SEGMENT_RE, { error: (i) => `"${String(i.input)}" is not a role name an SSM parameter name can carry. Fix: 1–128 letters, digits, dots, dashes or underscores, e.g. "owui-nonprod-admins"` }),
          z.string().regex(GUID_RE, { error: (i) => `"${String(i.input)}" is not an Entra group object id (a lower-case GUID). Fix: copy it from Entra admin center → Groups → the group → Object ID` }),
        )
        .default({}),
    })
    .prefault({}),
  /** LiteLLM metadata. */
  litellm: z
    .strictObject({
      /**
       * Monthly budget per LiteLLM team, in USD: published as `/owui/<env>/litellm/team-budgets/<team>`.
       * Published only: enforcing it needs per-team virtual keys (modules/integrations/README.md). @default {}
       */
      teamBudgetsUsd: z
        .record(
          z.string().regex(SSM_SEGMENT_RE, { error: (i) => `"${String(i.input)}" is not a team name an SSM parameter name can carry. Fix: 1–128 letters, digits, dots, dashes or underscores, e.g. "research"` }),
          bounded("a monthly budget in USD", 0, 10000000, 500, false),
        )
        .default({}),
    })
    .prefault({}),
});

export const envSchema = z.strictObject({
  /** Environment name: names every resource, and must be the file name of `state.key` (a rename is refused; README "Remote state"). Required; lower-case letters, digits and single dashes, short enough for the ALB name (lib/naming.ts). */
  name: envName,
  /** AWS region; one of lib/aws-regions.ts. @default "us-east-1" */
  region: supportedRegion.default("us-east-1"),
  /**
   * The AWS account the env deploys to (12 digits). Lets the cross-env check (envs/cross-env.ts)
   * see which envs share an account and region, and so which account stack (envs/accounts.ts, the
   * one owner of Bedrock invocation logging) is theirs: an account stack without an account id is
   * refused in a region whose envs declare several accounts. @default - unknown
   */
  accountId: z.string().regex(/^\d{12}$/, { error: (i) => `"${String(i.input)}" is not an AWS account id. Fix: the 12 digits of the account, e.g. "123456789012"` }).optional(),
  /** Public hostname Open WebUI is served at. Required. */
  hostname,
  /** Extra tags on every resource (the provider's default_tags). @default {} */
  tags: tagsSchema.default({}),
  /** Remote state: `state.key` is required (e.g. `open-webui/aws/<name>.tfstate`); the rest defaults to the shared MinIO bucket. */
  state: stateSchema,
  /** VPC layout. @default - 10.0.0.0/16 over 2 AZs, one NAT per AZ */
  network: networkSchema.prefault({}),
  /** Edge and encryption settings. */
  security: securitySchema,
  /** The ECS services: images, sizes and scaling. @default - the pinned releases, smallest sizes */
  services: servicesSchema.prefault({}),
  /** Aurora, EFS and Redis. @default - 1 Aurora instance, EFS, Redis only for more than one Open WebUI task */
  data: dataSchema.prefault({}),
  /** ECS cluster and ALB. @default - see each field */
  compute: computeSchema.prefault({}),
  /** Who signs users in and how Open WebUI learns who they are (see envs/auth.ts). Required. */
  auth: authSchema,
  /** Where alarms go, their thresholds, the OTEL collectors' log groups (modules/observability). */
  observability: z
    .strictObject({
      /** Email addresses subscribed to the env's alarm topic (each must confirm the subscription). @default [] */
      alarmEmails: z
        .array(z.email({ error: (i) => `"${String(i.input)}" is not an email address. Fix: e.g. "oncall@example.com"` }))
        .superRefine((emails, ctx) => {
          emails.forEach((e, i) => {
            const first = emails.findIndex((o) => o.toLowerCase() === e.toLowerCase());
            if (first < i) ctx.addIssue({ code: "custom", path: [i], message: `"${e}" is already listed at alarmEmails[${first}]; SNS would subscribe the address twice. Fix: list each address once` });
          });
        })
        .default([]),
      /**
       * Existing SNS topics (e.g. the on-call tool's) every alarm of the platform also notifies: SNS
       * cannot subscribe a topic to a topic, so each becomes one more alarm action beside the env's own
       * topic. At most 4 (CloudWatch allows 5 actions per alarm state), in the env's region. @default []
       */
      alarmTopicArns: z
        .array(z.string().regex(SNS_TOPIC_ARN_RE, { error: (i) => `"${String(i.input)}" is not an SNS topic ARN. Fix: e.g. "arn:aws:sns:us-east-1:123456789012:oncall"` }))
        .max(4, { error: "lists more than 4 topics; an alarm has at most 5 actions per state and the env's own topic is one. Fix: list at most 4, or fan out from one of them" })
        .superRefine((arns, ctx) => {
          arns.forEach((a, i) => {
            const first = arns.indexOf(a);
            if (first < i) ctx.addIssue({ code: "custom", path: [i], message: `"${a}" is already listed at alarmTopicArns[${first}]. Fix: list each topic once` });
          });
        })
        .default([]),
      /** Alarm thresholds (modules/observability/README.md, "Alarms"). @default - see each field */
      alarms: alarmThresholdsSchema.prefault({}),
      /** Log groups `/owui/<env>/otel/<name>` for OpenTelemetry collectors (KMS-encrypted with the workload key). */
      otel: z
        .strictObject({
          /** One log group per name, e.g. the CloudWatch Logs exporter's and the EMF exporter's. @default ["logs", "metrics"] */
          logGroups: z
            .array(z.string().regex(OTEL_LOG_GROUP_NAME_RE, { error: (i) => `"${String(i.input)}" is not a log group name part. Fix: 1–31 lower-case letters, digits and dashes, starting with a letter, e.g. "logs"` }))
            .refine((names) => new Set(names).size === names.length, { error: "lists a name twice. Fix: list each name once" })
            .default(["logs", "metrics"]),
          /** Retention of those log groups. @default - `logRetentionDays` */
          retentionDays: retentionDays.optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  /** SSM parameters published for Open WebUI, LiteLLM and operators (modules/integrations). @default - only what auth derives */
  integrations: integrationsSchema.prefault({}),
  /**
   * Per-user chat encryption (REQUIREMENTS.md): the keys always exist (modules/security) and are
   * protected like any stateful resource; this switch only says that the Open WebUI image
   * implements the feature. @default - off
   */
  encryption: z
    .strictObject({
      /**
       * On: Open WebUI gets `KMS_HMAC_KEY_ID`, `KMS_APPLICATION_CMK_ID` and `AWS_REGION`, its task
       * role the KMS grants, and the key ids are published as SSM parameters. Off (the stock image
       * reads none of them): neither env nor grants; the keys stay. @default false
       */
      enabled: z.boolean().default(false),
    })
    .prefault({}),
  /** The canary (modules/canary): KMS, Bedrock and health checks on a schedule, one alarm per check. @default - on, no model invocation */
  canary: z
    .strictObject({
      /** Deploy the canary. @default true */
      enabled: z.boolean().default(true),
      /** EventBridge schedule expression. @default "rate(5 minutes)" */
      schedule: z
        .string()
        .regex(/^(rate\(\d+ (minute|minutes|hour|hours)\)|cron\(.+\))$/, { error: (i) => `"${String(i.input)}" is not an EventBridge schedule expression. Fix: e.g. "rate(5 minutes)"` })
        .default("rate(5 minutes)"),
      /**
       * Also send one tiny chat request (max 1 output token) through LiteLLM to the first catalog
       * model on every run. Costs money (a few tokens per run). @default false
       */
      invokeModel: z.boolean().default(false),
    })
    .prefault({}),
  /** Default retention of application log groups. @default 90 */
  logRetentionDays: retentionDays.default(90),
  /** What a `terraform destroy` (or a plan that would replace them) may not remove. @default - everything stateful protected */
  protection: protectionSchema.prefault({}),
  /**
   * Cloudflare DNS automation (stacks `<env>-dns-validation` and `<env>-dns`, README "DNS with
   * Cloudflare"). Absent: no DNS stack is synthesized, and the operator creates the certificate's
   * validation records and the app's CNAME by hand. @default - off
   */
  dns: dnsSchema.optional(),
});

/** What an `envs/<name>.ts` file writes (defaults may be left out). */
export type EnvInput = z.input<typeof envSchema>;

/** A parsed, validated environment, with every default filled in and derived values resolved. */
export type EnvConfig = Omit<z.output<typeof envSchema>, "network" | "data" | "auth"> & {
  readonly network: Omit<z.output<typeof networkSchema>, "azs" | "publicSubnetCidrs" | "privateSubnetCidrs"> & {
    readonly azs: readonly string[];
    readonly publicSubnetCidrs: readonly string[];
    readonly privateSubnetCidrs: readonly string[];
  };
  readonly data: Omit<z.output<typeof dataSchema>, "redis"> & {
    readonly redis: Omit<z.output<typeof dataSchema>["redis"], "enabled"> & { readonly enabled: boolean };
  };
  readonly auth: AuthConfig;
  /** The env stack's state key: `state.key`, as written in the env file. */
  readonly stateKey: string;
};

// ---------------------------------------------------------------------------------------------
// Cross-field checks and derivation
// ---------------------------------------------------------------------------------------------

type Parsed = z.output<typeof envSchema>;
/** A schema-valid env before the cross-field checks (the input of the check functions in envs/*-checks.ts). */
export type ParsedEnv = Parsed;

function deriveNetwork(env: Parsed, fail: (path: string, problem: string, fix: string) => void): EnvConfig["network"] | undefined {
  const n = env.network;
  const azs = n.azs ?? [`${env.region}a`, `${env.region}b`];
  if (azs.length < 2) fail("network.azs", `has ${azs.length} AZ (${JSON.stringify(azs)}); ALB, Aurora and EFS need at least 2`, `list at least two AZs of ${env.region}, e.g. ["${env.region}a", "${env.region}b"]`);
  const seen = new Set<string>();
  azs.forEach((az, i) => {
    checkAz(env.region, az, `network.azs[${i}]`, fail);
    if (seen.has(az)) fail(`network.azs[${i}]`, `"${az}" is listed twice`, "list each AZ once");
    seen.add(az);
  });

  const vpc = parseCidr(n.vpcCidr) as Cidr;
  if (vpc.prefix < 16 || vpc.prefix > 20) {
    fail("network.vpcCidr", `"${n.vpcCidr}" is a /${vpc.prefix}; AWS allows /16 to /28 and the subnet layout needs at most /20`, `use a /16 to /20, e.g. "10.0.0.0/16"`);
    return undefined;
  }
  const planned = (key: "publicSubnetCidrs" | "privateSubnetCidrs", given: string[] | undefined, make: (i: number) => string) => {
    const list = given ?? azs.map((_, i) => make(i));
    if (list.length !== azs.length) fail(`network.${key}`, `has ${list.length} entries for ${azs.length} AZs`, `give exactly one CIDR per AZ, in the order of network.azs`);
    return list;
  };
  // Default layout: private subnets are eighths of the VPC from the bottom (a /19 in a /16);
  // public ones are 64ths from the top (a /22 in a /16): they hold only ALB and NAT interfaces.
  const privBits = 3;
  const pubBits = 6;
  const publicSubnetCidrs = planned("publicSubnetCidrs", n.publicSubnetCidrs, (i) => subnet(vpc, pubBits, 2 ** pubBits - 1 - i));
  const privateSubnetCidrs = planned("privateSubnetCidrs", n.privateSubnetCidrs, (i) => subnet(vpc, privBits, i));

  const all = [
    ...publicSubnetCidrs.map((c, i) => ({ path: `network.publicSubnetCidrs[${i}]`, c })),
    ...privateSubnetCidrs.map((c, i) => ({ path: `network.privateSubnetCidrs[${i}]`, c })),
  ];
  const parsed = all.map((s) => ({ ...s, p: parseCidr(s.c) as Cidr }));
  parsed.forEach((s, i) => {
    if (!contains(vpc, s.p)) fail(s.path, `"${s.c}" lies outside the VPC ${n.vpcCidr}`, `pick a range inside ${n.vpcCidr}`);
    if (s.p.prefix > 28) fail(s.path, `"${s.c}" is smaller than a /28, the smallest subnet AWS allows`, "use a /28 or larger");
    for (const other of parsed.slice(0, i)) {
      if (overlaps(s.p, other.p)) fail(s.path, `"${s.c}" overlaps ${other.path} ("${other.c}")`, "give every subnet its own range");
    }
  });
  return { ...n, azs, publicSubnetCidrs, privateSubnetCidrs };
}

function deriveData(env: Parsed, fail: (path: string, problem: string, fix: string) => void): EnvConfig["data"] {
  const { aurora, redis } = env.data;
  if (aurora.minAcu > aurora.maxAcu) fail("data.aurora.minAcu", `${aurora.minAcu} is above maxAcu ${aurora.maxAcu}`, "make minAcu ≤ maxAcu");
  const owui = env.services.openwebui;
  const multiReplica = owui.maxCount > 1;
  if (redis.enabled === false && multiReplica) {
    fail("data.redis.enabled", `is false while services.openwebui.maxCount is ${owui.maxCount}; Open WebUI replicas share websocket state only through Redis`, "enable Redis, or set services.openwebui.maxCount to 1");
  }
  for (const [name, svc] of Object.entries(env.services)) {
    if (svc.minCount > svc.maxCount) fail(`services.${name}.minCount`, `${svc.minCount} is above maxCount ${svc.maxCount}`, "make minCount ≤ maxCount");
  }
  return { ...env.data, redis: { ...redis, enabled: redis.enabled ?? multiReplica } };
}

/** Turns zod issues into messages that name the path, the value and the fix. */
function describeIssue(envName: string, issue: z.core.$ZodIssue): ConfigError {
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(root)";
  const where = `${envName}: ${path}`;
  const [problem, fix] = splitFix(issue.message);
  switch (issue.code) {
    case "unrecognized_keys":
      return new ConfigError(where, `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`, "remove it or fix its spelling; see envs/schema.ts for the allowed keys");
    case "invalid_type":
      return new ConfigError(where, `expected ${issue.expected}, got ${describeValue(issue.input)}`, fix ?? `set it to a ${issue.expected}`);
    case "invalid_value":
      return new ConfigError(where, `${describeValue(issue.input)} is not allowed`, `use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`);
    case "too_small":
    case "too_big":
      return new ConfigError(where, fix ? problem : `${describeValue(issue.input)}: ${issue.message}`, fix ?? `use a value ${issue.code === "too_small" ? "at least" : "at most"} ${String(issue.code === "too_small" ? issue.minimum : issue.maximum)}`);
    case "invalid_union":
      if (issue.discriminator && issue.errors.length === 0) {
        return new ConfigError(where, `${describeValue((issue.input as Record<string, unknown> | undefined)?.[issue.discriminator])} is not a known ${issue.discriminator}`, path.startsWith("auth") ? 'use { mode: "oauth2-proxy", idp: "cognito" }, { mode: "oidc", idp: "entra" } or { mode: "oidc", idp: "cognito" } (see envs/auth.ts)' : "see envs/schema.ts for the allowed values");
      }
      return new ConfigError(where, problem, fix ?? "see envs/schema.ts for the allowed form");
    case "invalid_key": {
      // A record key (e.g. a tag key) failed its own checks: report the first of them.
      const [keyProblem, keyFix] = splitFix(issue.issues[0]?.message ?? issue.message);
      return new ConfigError(where, withValue(keyProblem, issue.input), keyFix ?? "see envs/schema.ts for the allowed form");
    }
    default:
      return new ConfigError(where, withValue(problem, issue.input), fix ?? "see envs/schema.ts for the allowed form");
  }
}

/** `problem`, followed by the offending value when the message does not show it already. */
function withValue(problem: string, input: unknown): string {
  if (input === undefined || typeof input === "object") return problem;
  const shown = JSON.stringify(input);
  const shownAlready = problem.includes(shown) || problem.includes(String(input).slice(0, 24));
  return shownAlready ? problem : `${problem} (got ${describeValue(input)})`;
}

function splitFix(message: string): [string, string | undefined] {
  const at = message.indexOf(". Fix: ");
  return at < 0 ? [message, undefined] : [message.slice(0, at), message.slice(at + ". Fix: ".length)];
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing (the field is missing)";
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Parses and validates a raw env config. Throws {@link ConfigErrors} listing every problem, each
 * naming the path, the bad value and the fix.
 */
export function parseEnv(raw: unknown): EnvConfig {
  const envName = typeof raw === "object" && raw !== null && typeof (raw as { name?: unknown }).name === "string" ? (raw as { name: string }).name : "env";
  const result = envSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigErrors(result.error.issues.map((i) => describeIssue(envName, i)));
  const env = result.data;
  const errors: ConfigError[] = [];
  const fail = (path: string, problem: string, fix: string) => errors.push(new ConfigError(`${env.name}: ${path}`, problem, fix));
  const network = deriveNetwork(env, fail);
  const data = deriveData(env, fail);
  if (network) checkSubnetSizes(env, network, data.redis.enabled, fail);
  checkAlbIngress(env, fail);
  checkDataVersions(env, fail);
  checkServices(env, fail);
  checkAuth(env, fail);
  checkStateKey(env, fail);
  checkDns(env, fail);
  checkObservabilityAndIntegrations(env, fail);
  const auth = deriveAuth(env.auth, fail);
  if (errors.length > 0 || !network) throw new ConfigErrors(errors);
  return { ...env, network, data, auth, stateKey: env.state.key };
}

/** Alarm topics in the env's region (CloudWatch notifies only those); Entra groups only with Entra; the Container Insights alarm path. */
function checkObservabilityAndIntegrations(env: Parsed, fail: (path: string, problem: string, fix: string) => void): void {
  env.observability.alarmTopicArns.forEach((arn, i) => {
    const region = arn.split(":")[3];
    if (region !== env.region) fail(`observability.alarmTopicArns[${i}]`, `"${arn}" is in ${region}, but the env's alarms are in ${env.region} and CloudWatch notifies only topics of its own region`, `use a topic in ${env.region}, or subscribe that topic from one in ${env.region}`);
  });
  const groups = Object.keys(env.integrations.entra.groups);
  const idp = "idp" in env.auth ? env.auth.idp : undefined;
  if (groups.length > 0 && idp !== "entra") {
    fail("integrations.entra.groups", `names ${groups.map((g) => JSON.stringify(g)).join(", ")}, but auth.idp is ${JSON.stringify(idp ?? null)}, so nothing reads Entra group ids`, "remove integrations.entra.groups, or sign in with Entra (auth.idp \"entra\")");
  }
}

/**
 * The env's name must be its state key's file name. Every resource name derives from the env name
 * (`owui-<env>-…`), and the state key is written out: a rename that left the key would replace every
 * named resource under the old state; one that changed both would start a second, empty env. So
 * either is refused here, and a rename is a deliberate migration (README "Remote state").
 */
function checkStateKey(env: Parsed, fail: (path: string, problem: string, fix: string) => void): void {
  const file = stateKeyStem(env.state.key);
  if (file === env.name) return;
  fail(
    "state.key",
    `"${env.state.key}" is the state of an env named "${file}", but this env is named "${env.name}". Renaming an env moves neither its state nor its resources: every resource name derives from the env name, so under the old state Terraform would replace them all, and under a new key it would build a second, empty env`,
    `keep name "${file}"; to rename on purpose, follow README "Remote state" (copy the state, then set state.key to "${env.state.key.replace(/[^/]+\.tfstate$/, `${env.name}.tfstate`)}")`,
  );
}

/** `open-webui/aws/nonprod.tfstate` → `nonprod`. */
export function stateKeyStem(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1).replace(/\.tfstate$/, "");
}

/** Where the env's `<name>-certificate` stack keeps its state: beside the env's own key. */
export function certificateStateKey(env: Pick<EnvConfig, "stateKey">): string {
  return siblingStateKey(env, "certificate");
}

/** Where the env's `<name>-<suffix>` stack keeps its state: beside the env's own key (e.g. `…/nonprod-dns.tfstate`). */
export function siblingStateKey(env: Pick<EnvConfig, "stateKey">, suffix: string): string {
  return env.stateKey.replace(/\.tfstate$/, `-${suffix}.tfstate`);
}

/** Declares an environment; parsing happens here, so a bad file fails as soon as it is imported. */
export function defineEnv(raw: EnvInput): EnvConfig {
  return parseEnv(raw);
}

// ---------------------------------------------------------------------------------------------
// The bootstrap stack (once per account, not per environment)
// ---------------------------------------------------------------------------------------------

export const bootstrapSchema = z.strictObject({
  /** Region of the state bucket. @default "us-east-1" */
  region: supportedRegion.default("us-east-1"),
  /** Name of the state bucket to create; S3 names are global, so there is no default. Required. */
  stateBucketName: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, {
    error: (i) => `"${String(i.input)}" is not a valid S3 bucket name. Fix: 3–63 lower-case letters, digits and dashes, e.g. "acme-owui-tfstate"`,
  }),
  /** Also create a DynamoDB lock table, for Terraform below 1.10 (1.10+ locks with `use_lockfile`). @default false */
  dynamodbLockTable: z.boolean().default(false),
  /** Days to keep noncurrent state versions before expiry. @default 90 */
  noncurrentVersionDays: z.number().int().min(1).max(3650).default(90),
  /** KMS key deletion window. @default 30 */
  kmsDeletionWindowDays: kmsDeletionWindowDays.default(30),
  /** State keys the CI/CD role may read and write: `<keyPrefix>/*`. @default "open-webui/aws" */
  keyPrefix: z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/).default("open-webui/aws"),
  /** Resource-name prefix the CI/CD deploy policy is scoped to. @default "owui-" */
  resourcePrefix: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/).default("owui-"),
  /**
   * The bootstrap stack starts on local state (the bucket does not exist yet). Set true after the
   * first apply and run `cdktf deploy bootstrap` again with `-migrate-state` to move it in.
   * @default false
   */
  migrated: z.boolean().default(false),
  /** Extra tags. @default {} */
  tags: tagsSchema.default({}),
});

export type BootstrapInput = z.input<typeof bootstrapSchema>;
export type BootstrapConfig = z.output<typeof bootstrapSchema>;

/** Declares the bootstrap stack's config; throws {@link ConfigErrors} on bad input. */
export function defineBootstrap(raw: BootstrapInput): BootstrapConfig {
  const result = bootstrapSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigErrors(result.error.issues.map((i) => describeIssue("bootstrap", i)));
  return result.data;
}

// ---------------------------------------------------------------------------------------------
// Account stacks (one per AWS account and region: settings no env may own)
// ---------------------------------------------------------------------------------------------

const accountIdSchema = z.string().regex(/^\d{12}$/, { error: (i) => `"${String(i.input)}" is not an AWS account id. Fix: the 12 digits of the account, e.g. "123456789012"` });

/**
 * Bedrock model invocation logging: one setting per account and region (`aws_bedrock_model_invocation_logging_configuration`).
 * The provider's default delivers every data type (text, image, embedding, video) when a field is
 * left out; the platform always writes all four, so the log holds metadata only (model, caller,
 * token counts, latency, errors; no prompt, no completion) unless text delivery is asked for here.
 */
const invocationLoggingSchema = z.strictObject({
  /** Log invocations (metadata: model, caller ARN, token counts, status) to the account stack's KMS log group. @default true */
  enabled: z.boolean().default(true),
  /**
   * Also deliver the text of every prompt and completion (`text_data_delivery_enabled`): every
   * user's chats, readable by whoever can read the log group. Opt-in with its reason.
   * @default { enabled: false }
   */
  textDelivery: z
    .discriminatedUnion("enabled", [
      z.strictObject({ enabled: z.literal(false) }),
      z.strictObject({
        enabled: z.literal(true),
        /** Why prompts and completions must be kept (at least 10 characters): an audit duty, a named investigation, … */
        reason: z
          .string({ error: "is required when text delivery is on: every prompt and completion lands in the log group. Fix: say why they must be kept, in at least 10 characters, or set enabled to false" })
          .trim()
          .min(10, { error: "is shorter than 10 characters. Fix: say why prompts and completions must be kept, e.g. \"audit duty under policy SEC-12 until 2026-12\"" }),
      }),
    ])
    .default({ enabled: false }),
  /** Days to keep the invocation log. @default 90 */
  retentionDays: retentionDays.default(90),
});

export const accountSchema = z.strictObject({
  /**
   * The AWS account (12 digits). The stack's provider then refuses other credentials
   * (`allowed_account_ids`), and the stack's id names it (`account-<id>-<region>`). Required when the
   * envs of this region declare different accounts. @default - the account of the credentials; stack id `account-<region>`
   */
  accountId: accountIdSchema.optional(),
  /** The region the account-wide settings apply to. @default "us-east-1" */
  region: supportedRegion.default("us-east-1"),
  /** Remote state; `state.key` is required, e.g. `open-webui/aws/account-us-east-1.tfstate`. */
  state: stateSchema,
  /** Bedrock model invocation logging for this account and region. @default - on, metadata only, 90 days */
  bedrockInvocationLogging: invocationLoggingSchema.prefault({}),
  /** Deletion window of the log group's KMS key. @default 30 */
  kmsDeletionWindowDays: kmsDeletionWindowDays.default(30),
  /** Extra tags. @default {} */
  tags: tagsSchema.default({}),
});

export type AccountInput = z.input<typeof accountSchema>;
export type AccountConfig = z.output<typeof accountSchema> & {
  /** The stack id: `account-<region>`, or `account-<accountId>-<region>` when the account is declared. */
  readonly stackId: string;
};

/** `account-<region>`, or `account-<accountId>-<region>`. */
export function accountStackId(a: { readonly accountId?: string; readonly region: string }): string {
  return a.accountId ? `account-${a.accountId}-${a.region}` : `account-${a.region}`;
}

/** Declares one account stack's config; throws {@link ConfigErrors} on bad input. */
export function defineAccount(raw: AccountInput): AccountConfig {
  const result = accountSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const r = raw as { accountId?: unknown; region?: unknown };
    const where = accountStackId({ accountId: typeof r.accountId === "string" ? r.accountId : undefined, region: typeof r.region === "string" ? r.region : "us-east-1" });
    throw new ConfigErrors(result.error.issues.map((i) => describeIssue(where, i)));
  }
  return { ...result.data, stackId: accountStackId(result.data) };
}
