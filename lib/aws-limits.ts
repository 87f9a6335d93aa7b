/**
 * AWS quotas and accepted values the env config is checked against at synth, each with where AWS
 * documents it. One place, so the schema, the layers and the tests draw the line in the same spot.
 */

// --- Tags (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions) ----

/** Characters AWS accepts in tag keys and values across services. */
export const TAG_CHARS_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
/** User-defined tags per resource. */
export const TAGS_PER_RESOURCE_MAX = 50;
/** Keys starting with this (any case) are reserved for AWS and refused by every tagging API. */
export const RESERVED_TAG_PREFIX = "aws:";
/**
 * Tags a layer sets on its own resources (besides the provider's default tags), at most this many on
 * one resource: `Name` and `Tier` (subnets). test/envs-refusals.test.ts checks it against the synthesized stacks.
 */
export const RESOURCE_OWN_TAG_KEYS = ["Name", "Tier"] as const;

// --- Security groups (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups) --

/** Inbound rules per security group (the default quota; AWS may raise it on request). */
export const SG_INBOUND_RULES_QUOTA = 60;
/**
 * Inbound rules the security layer creates on the ALB group per allowed CIDR: HTTPS 443 and the
 * HTTP 80 redirect (modules/security). test/envs-refusals.test.ts counts them in the synthesized stack.
 */
export const ALB_INGRESS_RULES_PER_CIDR = 2;

// --- Subnets ---------------------------------------------------------------------------------

/** Addresses AWS reserves in every subnet (network, router, DNS, future use, broadcast). */
export const SUBNET_RESERVED_IPS = 5;
/** An ALB needs a /27 or larger with 8 free addresses in each subnet (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer). */
export const ALB_SUBNET_MAX_PREFIX = 27;
export const ALB_FREE_IPS = 8;
/** ECS rolls a service with deploymentMaximumPercent 200 (modules/compute/service.ts): twice maxCount tasks for a moment, one IP each (awsvpc). */
export const ECS_DEPLOY_SURGE = 2;

/** Usable addresses of a subnet with this prefix. */
export function usableIps(prefix: number): number {
  return 2 ** (32 - prefix) - SUBNET_RESERVED_IPS;
}

// --- Fargate (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size) --

/** Fargate's task CPU units → allowed memory (MiB). */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Why `cpu`/`memoryMiB` is not a Fargate task size, as [field, problem, fix], or undefined. */
export function fargateSizeProblem(cpu: number, memoryMiB: number): ["cpu" | "memoryMiB", string, string] | undefined {
  const memories = FARGATE_MEMORY[cpu];
  if (!memories) return ["cpu", `${cpu} is not a Fargate CPU size`, `use one of ${Object.keys(FARGATE_MEMORY).join(", ")}`];
  if (memories.includes(memoryMiB)) return undefined;
  return ["memoryMiB", `${memoryMiB} MiB is not valid with cpu ${cpu}`, `use ${memories[0]}–${memories.at(-1)} MiB in steps of ${(memories[1] ?? memories[0]!) - memories[0]!}`];
}

// --- KMS (https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html) ------

export const KMS_DELETION_WINDOW_DAYS = { min: 7, max: 30 } as const;

// --- Aurora PostgreSQL Serverless v2 (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.requirements.html) --

/** Lowest minor version of each major that runs Serverless v2. */
export const AURORA_PG_SERVERLESS_V2_MIN: Readonly<Record<number, number>> = { 13: 6, 14: 3, 15: 2, 16: 1, 17: 4 };
/** Lowest minor version of each major that can scale to 0 ACUs (auto-pause; https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html). */
export const AURORA_PG_AUTO_PAUSE_MIN: Readonly<Record<number, number>> = { 13: 15, 14: 12, 15: 7, 16: 3, 17: 4 };
/** Serverless v2 capacity bounds, in ACUs, in steps of 0.5. */
export const AURORA_ACU = { min: 0, max: 256, maxOfMaxAtLeast: 1 } as const;

// --- ElastiCache (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/engine-versions.html) --

/** Engine versions (major.minor) ElastiCache offers for replication groups. */
export const ELASTICACHE_VERSIONS: Readonly<Record<"valkey" | "redis", readonly string[]>> = {
  valkey: ["7.2", "8.0", "8.1"],
  redis: ["6.0", "6.2", "7.0", "7.1"],
};
