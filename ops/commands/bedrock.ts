/**
 * `pnpm ops bedrock models <env>` and `pnpm ops bedrock check <env>`.
 *
 * - `models` lists the foundation models and inference profiles Bedrock offers in each region the
 *   env's catalog uses, marks the ones the catalog uses (★), and checks every catalog entry: missing
 *   in its region, or a bare model id without on-demand throughput, is a ✗ (exit 1).
 * - `check` runs the canary's Bedrock and health checks once from this machine, with the canary's
 *   own code (functions/canary/src/checks.ts), a progress line per model; or, with `--invoke`, runs
 *   the deployed canary and prints its results. ✓/✗ table; exit 1 on any ✗.
 *
 * The catalog and region come from the env's config (the same `resolveModels` the services layer
 * uses); cluster, service and function names from its synthesized stack (ops/lib/stack.ts).
 */
import * as bedrockSdk from "@aws-sdk/client-bedrock";
import { BedrockClient, ListFoundationModelsCommand, ListInferenceProfilesCommand, type FoundationModelSummary, type InferenceProfileSummary } from "@aws-sdk/client-bedrock";
import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { Command } from "commander";
import pc from "picocolors";
import type { EnvConfig } from "../../envs/schema.js";
import { checkBedrockModels, checkLiteLlmReadiness, checkOpenWebUiContainers, checkOpenWebUiTargets, type BedrockCommands, type CatalogModel, type CheckResult, type Sender } from "../../functions/canary/src/checks.js";
import type { CanaryReport } from "../../functions/canary/src/handler.js";
import { resolveModels } from "../../modules/services/catalog.js";
import { type Check, progress, reportChecks } from "../lib/output.js";
import { envNamed, loadEnv, type SynthesizedStack } from "../lib/stack.js";
import { envArgument, synthDirOption } from "./options.js";

type Out = (line: string) => void;

export interface BedrockOptions {
  readonly synthDir?: string;
  readonly out?: Out;
  /** Progress lines (stderr by default). */
  readonly progress?: Out;
}

/** The env's catalog as the services layer resolves it: the chat models and the embedding model. */
export function catalogOf(env: EnvConfig): CatalogModel[] {
  const retrieval = env.services.openwebui.retrieval;
  return resolveModels([...env.services.litellm.models, { name: retrieval.embeddingName, modelId: retrieval.embeddingModelId }], env.region);
}

async function listAll<T>(fetchPage: (token?: string) => Promise<{ items?: T[]; nextToken?: string }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    all.push(...(page.items ?? []));
    token = page.nextToken;
  } while (token);
  return all;
}

/** `ops bedrock models`: returns whether every catalog entry is offered and invocable as configured. */
export async function bedrockModels(envName: string, options: BedrockOptions = {}): Promise<boolean> {
  const out = options.out ?? console.log;
  const say = options.progress ?? progress;
  const env = envNamed(envName);
  const catalog = catalogOf(env);
  const checks: Check[] = [];
  for (const region of [...new Set(catalog.map((m) => m.region))].sort()) {
    const client = new BedrockClient({ region });
    say(`listing foundation models and inference profiles in ${region}`);
    const [models, profiles] = await Promise.all([
      client.send(new ListFoundationModelsCommand({})).then((r) => r.modelSummaries ?? []),
      listAll<InferenceProfileSummary>(async (nextToken) => {
        const r = await client.send(new ListInferenceProfilesCommand({ nextToken, maxResults: 1000 }));
        return { items: r.inferenceProfileSummaries, nextToken: r.nextToken };
      }),
    ]);
    client.destroy();
    const inRegion = catalog.filter((m) => m.region === region);
    const used = new Set(inRegion.map((m) => m.modelId));
    out(pc.bold(`${region}: ${models.length} foundation models, ${profiles.length} inference profiles (★ = in ${env.name}'s catalog)`));
    for (const m of [...models].sort((a, b) => (a.modelId ?? "").localeCompare(b.modelId ?? ""))) out(`  ${used.has(m.modelId ?? "") ? "★" : " "} ${m.modelId}  ${pc.dim(`${m.providerName ?? ""} ${(m.inferenceTypesSupported ?? []).join("/")}`)}`);
    for (const p of [...profiles].sort((a, b) => (a.inferenceProfileId ?? "").localeCompare(b.inferenceProfileId ?? ""))) out(`  ${used.has(p.inferenceProfileId ?? "") ? "★" : " "} ${p.inferenceProfileId}  ${pc.dim(`profile ${p.status ?? ""}`)}`);
    for (const m of inRegion) checks.push({ name: m.name, ...catalogEntryState(m, models, profiles) });
  }
  out("");
  out(pc.bold(`${env.name}'s catalog`));
  return reportChecks(checks, out);
}

/** Whether one catalog entry is listed in its region and callable as configured. */
export function catalogEntryState(m: CatalogModel, models: readonly FoundationModelSummary[], profiles: readonly InferenceProfileSummary[]): { ok: boolean; detail: string } {
  if (m.profile) {
    const p = profiles.find((x) => x.inferenceProfileId === m.modelId);
    if (!p) return { ok: false, detail: `inference profile ${m.modelId} is missing in ${m.region}` };
    return p.status && p.status !== "ACTIVE" ? { ok: false, detail: `inference profile ${m.modelId} is ${p.status}` } : { ok: true, detail: `${m.modelId} (inference profile)` };
  }
  const f = models.find((x) => x.modelId === m.modelId);
  if (!f) return { ok: false, detail: `${m.modelId} is missing in ${m.region}` };
  if (!(f.inferenceTypesSupported ?? []).includes("ON_DEMAND")) {
    const profile = profiles.find((p) => p.inferenceProfileId?.endsWith(`.${m.modelId}`));
    return { ok: false, detail: `${m.modelId} is not invocable on demand in ${m.region}${profile ? `; use the inference profile ${profile.inferenceProfileId}` : ""}` };
  }
  return { ok: true, detail: `${m.modelId} (on demand)` };
}

export interface CheckOptions extends BedrockOptions {
  /** Run the deployed canary instead. */
  readonly invoke?: boolean;
  /** LiteLLM's base URL as reachable from here (its internal name resolves only inside the VPC). */
  readonly litellmUrl?: string;
}

/** The names the checks need, from the synthesized stack (literals there: names are derived at synth). */
export function stackNames(stack: SynthesizedStack): { cluster: string; openwebuiService: string; openwebuiContainer: string; canaryFunction?: string } {
  const cluster = stack.resources("aws_ecs_cluster").map(([, c]) => String(c.name))[0];
  const openwebuiService = stack.resources("aws_ecs_service").map(([, s]) => String(s.name)).find((n) => n.endsWith("-openwebui"));
  const canary = stack.resources("aws_lambda_function").map(([, f]) => f).find((f) => String(f.function_name).endsWith("-canary"));
  if (!cluster || !openwebuiService) throw new Error(`stack ${stack.name} has no ECS cluster or no openwebui service`);
  // The container the canary judges (its OPENWEBUI_CONTAINER); the services layer names it after the service.
  const openwebuiContainer = String(canary?.environment?.variables?.OPENWEBUI_CONTAINER ?? "openwebui");
  return { cluster, openwebuiService, openwebuiContainer, canaryFunction: canary ? String(canary.function_name) : undefined };
}

/** `ops bedrock check`: returns whether every check passed. */
export async function bedrockCheck(envName: string, options: CheckOptions = {}): Promise<boolean> {
  const out = options.out ?? console.log;
  const say = options.progress ?? progress;
  const { env, stack } = await loadEnv(envName, options.synthDir);
  const names = stackNames(stack);
  let results: readonly CheckResult[];
  if (options.invoke) {
    if (!names.canaryFunction) throw new Error(`${env.name} has no canary (canary.enabled is false). Fix: run without --invoke`);
    say(`invoking ${names.canaryFunction}`);
    const lambda = new LambdaClient({ region: env.region });
    const res = await lambda.send(new InvokeCommand({ FunctionName: names.canaryFunction, Payload: new TextEncoder().encode("{}") }));
    lambda.destroy();
    const payload = new TextDecoder().decode(res.Payload ?? new Uint8Array());
    if (res.FunctionError) throw new Error(`${names.canaryFunction} failed (${res.FunctionError}): ${payload.slice(0, 500)}`);
    results = (JSON.parse(payload) as CanaryReport).results;
  } else {
    const clients = new Map<string, BedrockClient>();
    const clientFor = (region: string): Sender => {
      let c = clients.get(region);
      if (!c) clients.set(region, (c = new BedrockClient({ region })));
      return c;
    };
    const ecs = new ECSClient({ region: env.region });
    const elb = new ElasticLoadBalancingV2Client({ region: env.region });
    try {
      const bedrock = await checkBedrockModels(catalogOf(env), clientFor, bedrockSdk as unknown as BedrockCommands, (name, ok, detail) => say(`${ok ? pc.green("✓") : pc.red("✗")} ${name}: ${detail}`));
      const service = await ecs.send(new DescribeServicesCommand({ cluster: names.cluster, services: [names.openwebuiService] })).catch((e: Error) => e);
      const targetGroupArn = service instanceof Error ? undefined : service.services?.[0]?.loadBalancers?.[0]?.targetGroupArn;
      const targets: CheckResult = targetGroupArn
        ? await checkOpenWebUiTargets(elb, DescribeTargetHealthCommand, targetGroupArn)
        : { check: "openwebui-targets", ok: false, detail: service instanceof Error ? `DescribeServices: ${service.name}: ${service.message}` : `${names.openwebuiService} has no target group in ${names.cluster}`, ms: 0 };
      const containers = await checkOpenWebUiContainers(ecs, { ListTasksCommand, DescribeTasksCommand }, names.cluster, names.openwebuiService, names.openwebuiContainer);
      const litellm = options.litellmUrl ? [await checkLiteLlmReadiness(options.litellmUrl)] : [];
      if (!options.litellmUrl) say("litellm-readiness skipped: LiteLLM's internal name resolves only inside the VPC (use --invoke, or --litellm-url through a tunnel)");
      results = [bedrock, ...litellm, targets, containers];
    } finally {
      for (const c of clients.values()) c.destroy();
      ecs.destroy();
      elb.destroy();
    }
  }
  const rows: Check[] = results.flatMap((r) => (r.items && r.items.length > 0 ? r.items.map((i) => ({ name: `${r.check} ${i.name}`, ok: i.ok, detail: i.detail })) : [{ name: r.check, ok: r.ok, detail: r.detail }]));
  return reportChecks(rows, out);
}

export function register(program: Command): void {
  const bedrock = program.command("bedrock").description("Bedrock models of an env: what is offered, what the catalog uses, whether it works");
  bedrock
    .command("models")
    .description("list foundation models and inference profiles in the env's region(s), marking the catalog's; ✗ for catalog entries missing or not invocable on demand")
    .addArgument(envArgument())
    .action(async (envName: string) => {
      await bedrockModels(envName);
    });
  bedrock
    .command("check")
    .description("run the canary's Bedrock and health checks once from here (or --invoke the deployed canary); ✓/✗ table, exit 1 on ✗")
    .addArgument(envArgument())
    .option("--invoke", "invoke the deployed canary (owui-<env>-canary) instead of checking from here")
    .option("--litellm-url <url>", "LiteLLM's base URL as reachable from here (e.g. through an SSM port forward)")
    .addOption(synthDirOption())
    .action(async (envName: string, opts: { invoke?: boolean; litellmUrl?: string; synthDir?: string }) => {
      await bedrockCheck(envName, opts);
    });
}
