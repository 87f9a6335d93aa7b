/**
 * The monthly cost model of `pnpm ops cost`: the synthesized Terraform JSON of one env stack, priced
 * with ops/lib/prices.ts (us-east-1 list prices). Every count comes from the synthesized resources
 * (NAT gateways, interface endpoints × their subnets, Fargate task sizes × running count × CPU
 * architecture × capacity provider, Aurora's minimum ACU × instances, …), never from a second list.
 *
 * The model counts only what can really happen: Aurora's 0-ACU auto-pause is counted only when no
 * always-running client keeps the database awake (a service holding a connection pool, a schedule
 * that reaches it); otherwise the floor is the 0.5 ACU an awake Serverless v2 instance bills.
 *
 * The cost at N users adds {@link USER_MODEL}'s per-user figures to the idle floor. Bedrock tokens
 * are not infrastructure and are not counted (they depend on the models and prompts, not on this
 * stack). Not modelled either: Container Insights (enhanced observability is billed per
 * observation), S3 storage of the small buckets, data transfer to the internet beyond the NAT's
 * processing charge, and free tiers.
 */
import { Testing } from "cdktf";
import type { EnvConfig } from "../../envs/schema.js";
import { ELASTICACHE_NODE_HOUR, HOURS_PER_MONTH as H, PRICES as P, type PriceName } from "./prices.js";
import { ecsServicesOf, stackOf, type Json } from "./stack.js";

/** One priced item. */
export interface CostLine {
  /** What AWS bills it under, e.g. "NAT", "Fargate". */
  readonly group: string;
  readonly item: string;
  /** USD per month, rounded to cents. */
  readonly monthly: number;
  /** The arithmetic, readable: counts × prices. */
  readonly detail: string;
  readonly prices: readonly PriceName[];
}

export interface CostEstimate {
  readonly stack: string;
  readonly users: number;
  readonly lines: readonly CostLine[];
  /** Sum of the (rounded) lines. */
  readonly total: number;
  /** What the model assumed or refused to count, and why. */
  readonly notes: readonly string[];
}

/**
 * What one active user adds in a month (a user who signs in and chats on working days). Round,
 * stated figures to scale the floor by, not measurements; change them here and the README block and
 * test/ops-cost.test.ts follow.
 */
export const USER_MODEL = {
  /** HTTP(S) requests through the ALB and WAF (pages, API calls, streamed completions). */
  albRequests: 3_000,
  /** GB through the ALB (responses, uploads); the ALB's processed-bytes LCU dimension is 1 GB per LCU-hour. */
  albGb: 0.5,
  /** GB of Bedrock and other AWS API traffic through the NAT (when the region's endpoint is off) or the interface endpoint. */
  awsApiGb: 0.2,
  /** GB of application logs ingested. */
  logsGb: 0.05,
  /** Average ACUs added around the clock (100 users ≈ +0.5 ACU). */
  auroraAcu: 0.005,
  /** GB added to Aurora storage and to EFS (uploads) each. */
  storageGb: 0.05,
  /** Active users one Open WebUI vCPU serves; more users add tasks up to maxCount. */
  usersPerOpenWebuiVcpu: 50,
  /** KMS and Secrets Manager requests (task starts, per-user keys). */
  kmsRequests: 200,
} as const;

/** What the idle floor assumes no user traffic still produces. */
export const IDLE_MODEL = {
  /** Aurora storage and EFS data at rest, GB each. */
  storageGb: 1,
  /** Logs ingested per running task (health checks, start-up), GB a month. */
  logsGbPerTask: 0.5,
  /** VPC flow logs ingested at idle, GB a month, by traffic type. */
  flowLogsGb: { ALL: 1, ACCEPT: 0.8, REJECT: 0.2 } as Record<string, number>,
} as const;

const cents = (n: number) => Math.round(n * 100) / 100;
const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const values = (json: Json, type: string): Json[] => Object.values(json.resource?.[type] ?? {}) as Json[];
const pathOf = (r: Json) => String(r["//"]?.metadata?.path ?? "");

/** One ECS service as the model sees it. */
export interface ServiceFacts {
  readonly name: string;
  readonly tasks: number;
  readonly vcpu: number;
  readonly gb: number;
  readonly arch: "X86_64" | "ARM64";
  readonly spot: boolean;
  /** Its containers hold a database connection string (a connection pool keeps Aurora awake). */
  readonly usesDatabase: boolean;
  readonly maxTasks: number;
}

export function servicesOf(json: Json): ServiceFacts[] {
  // resource_id is `service/<cluster>/<service>`, the service by reference (`${aws_ecs_service.<logical>.name}`) or by name.
  const maxOf = (logical: string, name: string) =>
    values(json, "aws_appautoscaling_target").find((t) => String(t.resource_id).includes(`aws_ecs_service.${logical}.`) || String(t.resource_id).endsWith(`/${name}`))?.max_capacity;
  return ecsServicesOf(stackOf("stack", json))
    .map(({ id, config: s, name, taskDefinition: def }) => {
      const strategy = (s.capacity_provider_strategy ?? []) as Json[];
      const tasks = Number(s.desired_count ?? 0);
      return {
        name,
        tasks,
        vcpu: Number(def.cpu) / 1024,
        gb: Number(def.memory) / 1024,
        arch: (def.runtime_platform?.cpu_architecture ?? "X86_64") as "X86_64" | "ARM64",
        spot: strategy.some((c) => c.capacity_provider === "FARGATE_SPOT"),
        usesDatabase: /"name" = "DATABASE_URL"|"DATABASE_URL"/.test(String(def.container_definitions)),
        maxTasks: Number(maxOf(id, name) ?? tasks),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function fargateMonthly(s: Pick<ServiceFacts, "vcpu" | "gb" | "arch" | "spot">, tasks: number): { monthly: number; detail: string; prices: PriceName[] } {
  const arm = s.arch === "ARM64";
  const vcpuHour = arm ? P.fargateArmVcpuHour.usd : P.fargateX86VcpuHour.usd;
  const gbHour = arm ? P.fargateArmGbHour.usd : P.fargateX86GbHour.usd;
  const factor = s.spot ? 1 - P.fargateSpotDiscount.usd : 1;
  const monthly = tasks * (s.vcpu * vcpuHour + s.gb * gbHour) * factor * H;
  const prices: PriceName[] = arm ? ["fargateArmVcpuHour", "fargateArmGbHour"] : ["fargateX86VcpuHour", "fargateX86GbHour"];
  if (s.spot) prices.push("fargateSpotDiscount");
  return {
    monthly,
    detail: `${tasks} × (${s.vcpu} vCPU × ${vcpuHour} + ${s.gb} GB × ${gbHour})${s.spot ? ` × ${factor.toFixed(2)} (Spot)` : ""} × ${H} h, ${arm ? "ARM64" : "X86_64"}`,
    prices,
  };
}

/** Why Aurora cannot pause, one reason per always-on client; empty when it can. */
export function auroraKeepers(json: Json): string[] {
  const reasons: string[] = [];
  for (const s of servicesOf(json)) {
    if (s.usesDatabase && s.tasks > 0) reasons.push(`ECS service ${s.name} (${s.tasks} task${s.tasks > 1 ? "s" : ""}) holds a database connection pool`);
  }
  for (const rule of values(json, "aws_cloudwatch_event_rule")) {
    const every = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(String(rule.schedule_expression ?? ""));
    const minutes = every ? Number(every[1]) * (every[2]!.startsWith("hour") ? 60 : 1) : undefined;
    // A schedule more often than the longest auto-pause delay (24 h) wakes the database every run at the latest.
    if (minutes !== undefined && minutes < 24 * 60 && /canary|reconcil|health/i.test(String(rule.name ?? pathOf(rule)))) {
      reasons.push(`schedule ${String(rule.name)} (${String(rule.schedule_expression)}) reaches the platform, which queries the database`);
    }
  }
  return reasons;
}

function countWafRules(acl: Json): number {
  if (Array.isArray(acl.rule)) return acl.rule.length;
  return (String(acl.rule_json ?? "").match(/"Priority" = /g) ?? []).length;
}

/** Prices one synthesized env stack at `users` active users (0: the idle floor). */
export function estimateCost(stackName: string, json: Json, users = 0): CostEstimate {
  const lines: CostLine[] = [];
  const notes: string[] = [];
  const add = (group: string, item: string, monthly: number, detail: string, prices: PriceName[]) => {
    if (monthly > 0 || users === 0) lines.push({ group, item, monthly: cents(monthly), detail, prices });
  };

  // --- network ----------------------------------------------------------------------------------
  const nats = values(json, "aws_nat_gateway").length;
  const endpoints = values(json, "aws_vpc_endpoint").filter((e) => e.vpc_endpoint_type === "Interface");
  const endpointAzHours = endpoints.reduce((n, e) => n + ((e.subnet_ids ?? []) as unknown[]).length, 0);
  const endpointNames = new Set(endpoints.map((e) => String(e.service_name).split(".").slice(3).join(".")));
  const apiGb = users * USER_MODEL.awsApiGb;
  if (nats > 0) add("NAT", `${nats} NAT gateway${nats > 1 ? "s" : ""}`, nats * P.natGatewayHour.usd * H, `${nats} × ${P.natGatewayHour.usd} × ${H} h`, ["natGatewayHour"]);
  // Bedrock traffic leaves through the bedrock-runtime endpoint when there is one, else through the NAT.
  const natGb = endpointNames.has("bedrock-runtime") ? 0 : apiGb;
  if (users > 0 && nats > 0) add("NAT", "NAT data processed", natGb * P.natGatewayGb.usd, `${users} users × ${USER_MODEL.awsApiGb} GB × ${P.natGatewayGb.usd}`, ["natGatewayGb"]);
  if (endpoints.length > 0) {
    const azCounts = [...new Set(endpoints.map((e) => ((e.subnet_ids ?? []) as unknown[]).length))].join("/");
    add("Interface endpoints", `${endpoints.length} interface endpoints × ${azCounts} AZ`, endpointAzHours * P.interfaceEndpointAzHour.usd * H, `${endpointAzHours} endpoint-AZs × ${P.interfaceEndpointAzHour.usd} × ${H} h`, ["interfaceEndpointAzHour"]);
    if (users > 0) add("Interface endpoints", "endpoint data processed", (apiGb - natGb) * P.interfaceEndpointGb.usd, `${cents(apiGb - natGb)} GB × ${P.interfaceEndpointGb.usd}`, ["interfaceEndpointGb"]);
  }
  const eips = values(json, "aws_eip").length;
  const albs = values(json, "aws_lb").filter((l) => l.load_balancer_type === "application" || l.load_balancer_type === undefined);
  const albPublicIps = albs.filter((l) => l.internal !== true).reduce((n, l) => n + ((l.subnets ?? []) as unknown[]).length, 0);
  const ips = eips + albPublicIps;
  if (ips > 0) add("Public IPv4", `${ips} public IPv4 addresses (${eips} Elastic IP, ${albPublicIps} ALB)`, ips * P.publicIpv4Hour.usd * H, `${ips} × ${P.publicIpv4Hour.usd} × ${H} h`, ["publicIpv4Hour"]);
  const namespaces = values(json, "aws_service_discovery_private_dns_namespace").length + values(json, "aws_route53_zone").length;
  if (namespaces > 0) add("Route 53", `${namespaces} hosted zone${namespaces > 1 ? "s" : ""} (Cloud Map namespace)`, namespaces * P.hostedZoneMonth.usd, `${namespaces} × ${P.hostedZoneMonth.usd}`, ["hostedZoneMonth"]);

  // --- Aurora -----------------------------------------------------------------------------------
  for (const cluster of values(json, "aws_rds_cluster")) {
    const scaling = cluster.serverlessv2_scaling_configuration ?? {};
    const min = Number(scaling.min_capacity ?? 0.5);
    const max = Number(scaling.max_capacity ?? min);
    const instances = values(json, "aws_rds_cluster_instance").filter((i) => i.instance_class === "db.serverless").length;
    const keepers = min === 0 ? auroraKeepers(json) : [];
    const canPause = min === 0 && keepers.length === 0;
    if (min === 0) {
      notes.push(
        canPause
          ? "Aurora min ACU is 0 and no always-on client was found: the idle floor counts it paused (0 ACU)."
          : `Aurora min ACU is 0, but auto-pause cannot happen, so the floor counts 0.5 ACU per instance: ${keepers.join("; ")}.`,
      );
    }
    const floorAcu = canPause ? 0 : Math.max(min, 0.5);
    const acu = Math.min(max, floorAcu + users * USER_MODEL.auroraAcu);
    add("Aurora", `${instances} Serverless v2 instance${instances > 1 ? "s" : ""} at ${cents(acu)} ACU`, instances * acu * P.auroraAcuHour.usd * H, `${instances} × ${cents(acu)} ACU × ${P.auroraAcuHour.usd} × ${H} h (min ${min}, max ${max})`, ["auroraAcuHour"]);
    const gb = IDLE_MODEL.storageGb + users * USER_MODEL.storageGb;
    add("Aurora", "storage", gb * P.auroraStorageGbMonth.usd, `${cents(gb)} GB × ${P.auroraStorageGbMonth.usd}`, ["auroraStorageGbMonth"]);
  }

  // --- Fargate ----------------------------------------------------------------------------------
  const services = servicesOf(json);
  for (const s of services) {
    let tasks = s.tasks;
    if (users > 0 && /openwebui$/.test(s.name)) tasks = Math.min(s.maxTasks, Math.max(s.tasks, Math.ceil(users / (USER_MODEL.usersPerOpenWebuiVcpu * s.vcpu))));
    const f = fargateMonthly(s, tasks);
    add("Fargate", `${s.name}: ${tasks} × ${s.vcpu} vCPU / ${s.gb} GB${s.spot ? " (Spot)" : ""}`, f.monthly, f.detail, f.prices);
  }
  const x86OnDemand = services.filter((s) => s.arch === "X86_64" && !s.spot && s.tasks > 0).map((s) => s.name);
  if (x86OnDemand.length > 0) notes.push(`On-demand X86_64 tasks: ${x86OnDemand.join(", ")}; every default image is multi-arch (ops/lib/prices.ts MULTI_ARCH_IMAGES), so services.<name>.cpuArchitecture: "ARM64" runs them ~20% cheaper.`);

  // --- ALB, WAF ---------------------------------------------------------------------------------
  if (albs.length > 0) {
    add("ALB", `${albs.length} Application Load Balancer`, albs.length * P.albHour.usd * H, `${albs.length} × ${P.albHour.usd} × ${H} h`, ["albHour"]);
    if (users > 0) add("ALB", "LCU-hours (processed bytes)", users * USER_MODEL.albGb * P.albLcuHour.usd, `${users} users × ${USER_MODEL.albGb} GB = LCU-hours × ${P.albLcuHour.usd}`, ["albLcuHour"]);
  }
  for (const acl of values(json, "aws_wafv2_web_acl")) {
    const rules = countWafRules(acl);
    add("WAF", `web ACL with ${rules} rules`, P.wafWebAclMonth.usd + rules * P.wafRuleMonth.usd, `${P.wafWebAclMonth.usd} + ${rules} × ${P.wafRuleMonth.usd}`, ["wafWebAclMonth", "wafRuleMonth"]);
    if (users > 0) add("WAF", "requests", (users * USER_MODEL.albRequests * P.wafRequestsMillion.usd) / 1e6, `${users} users × ${USER_MODEL.albRequests} requests × ${P.wafRequestsMillion.usd}/M`, ["wafRequestsMillion"]);
  }

  // --- Redis ------------------------------------------------------------------------------------
  for (const rg of values(json, "aws_elasticache_replication_group")) {
    const engine = String(rg.engine ?? "redis") as "redis" | "valkey";
    const node = String(rg.node_type);
    const hour = ELASTICACHE_NODE_HOUR[engine]?.[node];
    if (hour === undefined) throw new Error(`ElastiCache ${engine} node type ${node} has no price in ops/lib/prices.ts ELASTICACHE_NODE_HOUR. Fix: add its us-east-1 on-demand hourly price from https://aws.amazon.com/elasticache/pricing/`);
    const nodes = Number(rg.num_cache_clusters ?? (Number(rg.replicas_per_node_group ?? 0) + 1) * Number(rg.num_node_groups ?? 1));
    add("ElastiCache", `${nodes} × ${node} (${engine})`, nodes * hour * H, `${nodes} × ${hour} × ${H} h`, []);
  }

  // --- KMS, Secrets Manager ---------------------------------------------------------------------
  const keys = values(json, "aws_kms_key").length;
  if (keys > 0) add("KMS", `${keys} customer managed keys`, keys * P.kmsKeyMonth.usd, `${keys} × ${P.kmsKeyMonth.usd}`, ["kmsKeyMonth"]);
  if (users > 0 && keys > 0) add("KMS", "requests", (users * USER_MODEL.kmsRequests * P.kmsRequests10k.usd) / 1e4, `${users} × ${USER_MODEL.kmsRequests} × ${P.kmsRequests10k.usd}/10k`, ["kmsRequests10k"]);
  const managedMaster = values(json, "aws_rds_cluster").filter((c) => c.manage_master_user_password === true).length;
  const secrets = values(json, "aws_secretsmanager_secret").length + managedMaster;
  if (secrets > 0) add("Secrets Manager", `${secrets} secrets${managedMaster ? ` (${managedMaster} RDS-managed master)` : ""}`, secrets * P.secretMonth.usd, `${secrets} × ${P.secretMonth.usd}`, ["secretMonth"]);

  // --- CloudWatch -------------------------------------------------------------------------------
  const alarms = values(json, "aws_cloudwatch_metric_alarm").length;
  if (alarms > 0) add("CloudWatch", `${alarms} alarms`, alarms * P.alarmMonth.usd, `${alarms} × ${P.alarmMonth.usd}`, ["alarmMonth"]);
  const dashboards = values(json, "aws_cloudwatch_dashboard").length;
  if (dashboards > 0) add("CloudWatch", `${dashboards} dashboard${dashboards > 1 ? "s" : ""}`, dashboards * P.dashboardMonth.usd, `${dashboards} × ${P.dashboardMonth.usd}`, ["dashboardMonth"]);
  const runningTasks = services.reduce((n, s) => n + s.tasks, 0);
  const flow = values(json, "aws_flow_log").reduce((n, f) => n + (IDLE_MODEL.flowLogsGb[String(f.traffic_type ?? "ALL")] ?? 1), 0);
  const logsGb = runningTasks * IDLE_MODEL.logsGbPerTask + flow + users * USER_MODEL.logsGb;
  add("CloudWatch", "logs ingested", logsGb * P.logsIngestGb.usd, `(${runningTasks} tasks × ${IDLE_MODEL.logsGbPerTask} GB + ${flow} GB flow logs${users > 0 ? ` + ${users} × ${USER_MODEL.logsGb} GB` : ""}) × ${P.logsIngestGb.usd}`, ["logsIngestGb"]);

  // --- EFS --------------------------------------------------------------------------------------
  const efs = values(json, "aws_efs_file_system").length;
  if (efs > 0) {
    const gb = efs * (IDLE_MODEL.storageGb + users * USER_MODEL.storageGb);
    const backedUp = values(json, "aws_efs_backup_policy").some((b) => b.backup_policy?.status === "ENABLED");
    add("EFS", `storage${backedUp ? " + backup" : ""}`, gb * (P.efsStandardGbMonth.usd + (backedUp ? P.backupEfsGbMonth.usd : 0)), `${cents(gb)} GB × (${P.efsStandardGbMonth.usd}${backedUp ? ` + ${P.backupEfsGbMonth.usd}` : ""})`, backedUp ? ["efsStandardGbMonth", "backupEfsGbMonth"] : ["efsStandardGbMonth"]);
  }

  // --- Cognito ----------------------------------------------------------------------------------
  for (const pool of values(json, "aws_cognito_user_pool")) {
    const tier = String(pool.user_pool_tier ?? "ESSENTIALS");
    const [price, free]: [PriceName, number] = tier === "PLUS" ? ["cognitoPlusMau", 0] : tier === "LITE" ? ["cognitoLiteMau", 10_000] : ["cognitoEssentialsMau", 10_000];
    const billed = Math.max(0, users - free);
    add("Cognito", `${tier} tier, ${users} MAU${free ? ` (${free} free)` : ""}`, billed * P[price].usd, `${billed} × ${P[price].usd}`, [price]);
  }
  if (values(json, "aws_sqs_queue").length > 0 && users > 0) {
    add("SQS", "sign-up messages", (users * 10 * P.sqsRequestsMillion.usd) / 1e6, `${users} users × 10 requests × ${P.sqsRequestsMillion.usd}/M`, ["sqsRequestsMillion"]);
  }

  const total = cents(lines.reduce((n, l) => n + l.monthly, 0));
  return { stack: stackName, users, lines, total, notes };
}

// ---------------------------------------------------------------------------------------------
// Config switches: each is re-priced by synthesizing the env with the switch flipped
// ---------------------------------------------------------------------------------------------

export interface CostSwitch {
  /** The config path and value, as written in envs/<env>.ts. */
  readonly path: string;
  /** What it gives up. */
  readonly tradeOff: string;
  /** The env with the switch flipped, or undefined when it is already set (or cannot apply). */
  flip(env: EnvConfig): EnvConfig | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
const edit = (env: EnvConfig, change: (e: Mutable<EnvConfig>) => void): EnvConfig => {
  const copy = structuredClone(env) as Mutable<EnvConfig>;
  change(copy);
  return copy as EnvConfig;
};
const anyEndpoint = (env: EnvConfig) => Object.values(env.network.interfaceEndpoints).some(Boolean);

/** The switches `ops cost` weighs, cheapest-first is decided by the computed saving. */
export const COST_SWITCHES: readonly CostSwitch[] = [
  {
    path: "network.interfaceEndpoints.<each>: false",
    tradeOff: "AWS API traffic (ECR pulls, logs, Secrets Manager, Bedrock) leaves through the NAT gateway ($0.045/GB) instead of PrivateLink; an endpoint pays for itself only above ~200 GB a month of its own traffic",
    flip: (env) => (anyEndpoint(env) ? edit(env, (e) => { for (const k of Object.keys(e.network.interfaceEndpoints)) (e.network.interfaceEndpoints as Record<string, boolean>)[k] = false; }) : undefined),
  },
  {
    path: 'network.interfaceEndpointAzs: "first"',
    tradeOff: "the endpoints live in one AZ: the other AZs reach them across AZs ($0.02/GB), and an outage of that AZ takes them down (with private DNS on, those API calls fail from every AZ until it returns)",
    flip: (env) => (anyEndpoint(env) && env.network.azs.length > 1 && env.network.interfaceEndpointAzs !== "first" ? edit(env, (e) => { e.network.interfaceEndpointAzs = "first"; }) : undefined),
  },
  {
    path: "network.singleNatGateway: true",
    tradeOff: "one NAT gateway for every AZ: losing its AZ loses the other AZs' egress (Bedrock, image pulls)",
    flip: (env) => (!env.network.singleNatGateway && env.network.azs.length > 1 ? edit(env, (e) => { e.network.singleNatGateway = true; }) : undefined),
  },
  ...(["openwebui", "litellm", "mcpo"] as const).map<CostSwitch>((svc) => ({
    path: `services.${svc}.cpuArchitecture: "ARM64"`,
    tradeOff: "none for the default images (multi-arch); a custom image must publish linux/arm64",
    flip: (env) => (env.services[svc].cpuArchitecture === "X86_64" && env.services[svc].capacity === "on-demand" ? edit(env, (e) => { e.services[svc].cpuArchitecture = "ARM64"; }) : undefined),
  })),
  ...(["openwebui", "litellm", "mcpo"] as const).map<CostSwitch>((svc) => ({
    path: `services.${svc}.capacity: "spot"`,
    tradeOff: svc === "openwebui"
      ? "a Spot interruption (two minutes' warning) stops a task and ECS replaces it: with one task users see a minute or two of errors and their websockets reconnect (sessions and data survive in Aurora/EFS); X86_64 only"
      : "tasks can be interrupted with two minutes' warning (ECS starts a replacement); X86_64 only",
    flip: (env) => (env.services[svc].capacity === "on-demand" ? edit(env, (e) => { e.services[svc].capacity = "spot"; e.services[svc].cpuArchitecture = "X86_64"; }) : undefined),
  })),
  {
    path: "data.aurora.minAcu: 0",
    tradeOff: "the first connection after a pause waits ~15 s while Aurora resumes",
    flip: (env) => (env.data.aurora.minAcu > 0 ? edit(env, (e) => { e.data.aurora.minAcu = 0; }) : undefined),
  },
  {
    path: "security.wafEnabled: false",
    tradeOff: "no AWS managed rule groups in front of the ALB (the ALB still admits only albIngressCidrs)",
    flip: (env) => (env.security.wafEnabled ? edit(env, (e) => { e.security.wafEnabled = false; }) : undefined),
  },
];

/** Synthesizes one env's platform stack (with its certificate stack) to Terraform JSON, in memory. */
export async function synthEnvJson(env: EnvConfig): Promise<Json> {
  const { CertificateStack } = await import("../../stacks/certificate-stack.js");
  const { PlatformStack } = await import("../../stacks/platform-stack.js");
  const app = Testing.app();
  const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
  return JSON.parse(Testing.synth(new PlatformStack(app, env.name, { env, certificate }))) as Json;
}

export interface SwitchSaving {
  readonly path: string;
  readonly tradeOff: string;
  /** Idle floor with the switch flipped. */
  readonly floor: number;
  /** What it saves a month at idle (floor before − after). */
  readonly saving: number;
  /** Why it saves nothing, when it does not (from the model's notes). */
  readonly why?: string;
}

/** Re-prices the env's idle floor with each applicable switch flipped (a fresh synth per switch). */
export async function switchSavings(env: EnvConfig, baseline: CostEstimate, switches: readonly CostSwitch[] = COST_SWITCHES, synth: (env: EnvConfig) => Promise<Json> = synthEnvJson): Promise<SwitchSaving[]> {
  const out: SwitchSaving[] = [];
  for (const sw of switches) {
    const flipped = sw.flip(env);
    if (!flipped) continue;
    const after = estimateCost(env.name, await synth(flipped), 0);
    const saving = cents(baseline.total - after.total);
    // Aurora at minAcu 0 that cannot pause: the saving (if any) is only down to the awake 0.5 ACU; say why.
    const why = /aurora\.minAcu/.test(sw.path) ? after.notes.find((n) => /cannot happen/.test(n)) : undefined;
    out.push({ path: sw.path, tradeOff: sw.tradeOff, floor: after.total, saving, ...(why ? { why } : {}) });
  }
  return out.sort((a, b) => b.saving - a.saving || (a.path < b.path ? -1 : 1));
}

/** The estimate as an aligned, itemised table. */
export function renderEstimate(e: CostEstimate): string {
  const width = Math.max(...e.lines.map((l) => `${l.group}: ${l.item}`.length));
  const rows = e.lines.map((l) => `${`${l.group}: ${l.item}`.padEnd(width)}  ${usd(l.monthly).padStart(9)}   ${l.detail}`);
  const title = e.users === 0 ? `${e.stack}: idle floor (no users), USD per month, us-east-1 list prices` : `${e.stack}: ${e.users} active users, USD per month, us-east-1 list prices`;
  return [title, ...rows, `${"total".padEnd(width)}  ${usd(e.total).padStart(9)}`, ...e.notes.map((n) => `note: ${n}`)].join("\n");
}

export function renderSwitches(savings: readonly SwitchSaving[]): string {
  if (savings.length === 0) return "No cost switch applies: every lever is already pulled.";
  const width = Math.max(...savings.map((s) => s.path.length));
  return [
    "Config switches (each re-priced by synthesizing the env with it flipped):",
    ...savings.map((s) => `  ${s.path.padEnd(width)}  saves ${usd(s.saving).padStart(8)}/month → floor ${usd(s.floor)}; ${s.why ?? s.tradeOff}`),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// README block
// ---------------------------------------------------------------------------------------------

export const README_BEGIN = "<!-- ops-cost:begin (generated by `pnpm ops cost --readme`; do not edit) -->";
export const README_END = "<!-- ops-cost:end -->";
/** The user counts the README quotes besides the idle floor. */
export const README_USERS = [100, 1000] as const;

/** The README's generated block: each env's idle floor and its cost at {@link README_USERS}. */
export function readmeBlock(envs: readonly { readonly name: string; readonly json: Json }[]): string {
  const header = `| env | idle floor | ${README_USERS.map((u) => `${u.toLocaleString("en-US")} users`).join(" | ")} |`;
  const rule = `|---|---:|${README_USERS.map(() => "---:").join("|")}|`;
  const rows = envs.map(({ name, json }) => `| \`${name}\` | ${usd(estimateCost(name, json, 0).total)} | ${README_USERS.map((u) => usd(estimateCost(name, json, u).total)).join(" | ")} |`);
  return [README_BEGIN, header, rule, ...rows, README_END].join("\n");
}

/** `readme` with its block replaced; throws when the markers are missing. */
export function replaceReadmeBlock(readme: string, block: string): string {
  const start = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_BEGIN} … ${README_END} block. Fix: put the two marker lines where the cost table belongs, then run \`pnpm ops cost --readme\``);
  return readme.slice(0, start) + block + readme.slice(end + README_END.length);
}
