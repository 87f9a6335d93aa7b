/**
 * The canary (modules/canary): every 5 minutes, proves that per-user key disaster recovery, Bedrock
 * access and the services' health hold, and writes one EMF datapoint per check
 * (`OpenWebUI/Canary` `CheckPassed`, dimensions `Env`, `Check`). An alarm per check fires on a 0
 * or on missing data. The result is also the invocation's return value (`pnpm ops bedrock check
 * --invoke` prints it).
 */
import { UserKeys } from "../../user-keys/src/index.js";
import {
  checkBedrockInvoke,
  checkBedrockModels,
  checkKmsDek,
  checkKmsMac,
  checkLiteLlmReadiness,
  checkOpenWebUiContainers,
  checkOpenWebUiTargets,
  type CheckResult,
  type Sender,
} from "./checks.js";
import { CANARY_METRICS, readConfig, type CanaryConfig } from "./config.js";

export interface CanaryReport {
  readonly env: string;
  readonly ok: boolean;
  readonly results: readonly CheckResult[];
}

/** One EMF document per check (written to stdout, not through console: see functions/provisioning/src/log.ts). */
export function emfLine(namespace: string, envName: string, r: CheckResult, now = Date.now()): string {
  return JSON.stringify({
    _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [[...CANARY_METRICS.dimensions]], Metrics: [{ Name: CANARY_METRICS.metricName, Unit: "None" }] }] },
    Env: envName,
    Check: r.check,
    [CANARY_METRICS.metricName]: r.ok ? 1 : 0,
    level: r.ok ? "info" : "error",
    msg: `${r.check}: ${r.detail}`,
    durationMs: r.ms,
    ...(r.items ? { items: r.items } : {}),
  });
}

/**
 * Clients and settings, built on the first invocation. The SDK modules are imported here, not at
 * the top: importing them costs 200–400 ms each, and the module init stays small (≤ 150 ms goal).
 */
interface World {
  readonly config: CanaryConfig;
  readonly keys: UserKeys;
  readonly clientFor: (region: string) => Sender;
  readonly bedrock: Parameters<typeof checkBedrockModels>[2];
  readonly ecs: Sender;
  readonly ecsCommands: Parameters<typeof checkOpenWebUiContainers>[1];
  readonly elb: Sender;
  readonly DescribeTargetHealthCommand: Parameters<typeof checkOpenWebUiTargets>[1];
  readonly readSecret: (secretId: string) => Promise<string>;
}
let world: Promise<World> | undefined;

async function load(): Promise<World> {
  const config = readConfig();
  const [bedrock, ecs, elb, sm] = await Promise.all([
    import("@aws-sdk/client-bedrock"),
    import("@aws-sdk/client-ecs"),
    import("@aws-sdk/client-elastic-load-balancing-v2"),
    config.invoke ? import("@aws-sdk/client-secrets-manager") : undefined,
  ]);
  const bedrockClients = new Map<string, Sender>();
  const smClient = sm ? new sm.SecretsManagerClient({}) : undefined;
  return {
    config,
    keys: new UserKeys({ hmacKeyId: config.hmacKeyId, applicationKeyId: config.applicationKeyId }),
    clientFor: (region) => {
      let c = bedrockClients.get(region);
      if (!c) bedrockClients.set(region, (c = new bedrock.BedrockClient({ region })));
      return c;
    },
    // The namespace: GetFoundationModelAvailabilityCommand is missing from older SDKs, and the check says so.
    bedrock: bedrock as unknown as World["bedrock"],
    ecs: new ecs.ECSClient({}),
    ecsCommands: { ListTasksCommand: ecs.ListTasksCommand, DescribeTasksCommand: ecs.DescribeTasksCommand },
    elb: new elb.ElasticLoadBalancingV2Client({}),
    DescribeTargetHealthCommand: elb.DescribeTargetHealthCommand,
    readSecret: async (secretId) => (await smClient!.send(new sm!.GetSecretValueCommand({ SecretId: secretId }))).SecretString ?? "",
  };
}

/** Every check once, in parallel (a failed world, e.g. missing settings, fails the invocation). */
export async function runChecks(): Promise<CanaryReport> {
  world ??= load();
  world.catch(() => (world = undefined));
  const w = await world;
  const { config } = w;
  const invoke = async (): Promise<CheckResult> => {
    const key = await w.readSecret(config.invoke!.masterKeySecretName).catch((e: unknown) => e as Error);
    if (key instanceof Error) return { check: "bedrock-invoke", ok: false, detail: `cannot read the LiteLLM master key: ${key.name}: ${key.message}`, ms: 0 };
    return checkBedrockInvoke(config.litellmUrl, config.invoke!.model, key);
  };
  const results = await Promise.all([
    checkKmsMac(w.keys),
    checkKmsDek(w.keys),
    checkBedrockModels(config.models, w.clientFor, w.bedrock),
    ...(config.invoke ? [invoke()] : []),
    checkLiteLlmReadiness(config.litellmUrl),
    checkOpenWebUiTargets(w.elb, w.DescribeTargetHealthCommand, config.targetGroupArn),
    checkOpenWebUiContainers(w.ecs, w.ecsCommands, config.cluster, config.openwebuiService, config.openwebuiContainer),
  ]);
  return { env: config.envName, ok: results.every((r) => r.ok), results };
}

export async function handler(): Promise<CanaryReport> {
  const report = await runChecks();
  const now = Date.now();
  const { config } = await world!;
  for (const r of report.results) process.stdout.write(`${emfLine(config.namespace, report.env, r, now)}\n`);
  return report;
}
