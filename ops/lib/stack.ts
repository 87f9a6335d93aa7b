/**
 * The synthesized app, as the `ops` commands read it: every command that names an env works from
 * that env's synthesized Terraform JSON (and its `EnvConfig`), never from a second, hand-kept list of
 * resources. By default the app is synthesized in-process (`buildApp`, JSON output) into a temp
 * directory; `--synth-dir <dir>` reads an existing JSON synth instead (`cdktf synth` without `--hcl`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../envs/index.js";
import type { EnvConfig } from "../../envs/schema.js";

export type Json = Record<string, any>;

/** One synthesized stack's Terraform JSON, with queries by type. */
export interface SynthesizedStack {
  readonly name: string;
  readonly json: Json;
  /** Stack names this one depends on (the manifest's `dependencies`). */
  readonly dependencies: readonly string[];
  /** All resources of a type, as [logical name, config]. */
  resources(type: string): [string, Json][];
  /** All data sources of a type, as [logical name, config]. */
  data(type: string): [string, Json][];
  /** An output's config (`value`, `description`, …), or undefined. */
  output(name: string): Json | undefined;
}

/** An ECS service of a synthesized stack, with its task definition and cluster name resolved. */
export interface StackService {
  /** The service's logical name in the stack (`aws_ecs_service.<id>`). */
  readonly id: string;
  /** The service's `aws_ecs_service` config. */
  readonly config: Json;
  readonly name: string;
  /** The cluster's name (or the reference as written, if the cluster is not in the stack). */
  readonly cluster: string;
  /** The service's `aws_ecs_task_definition` config. */
  readonly taskDefinition: Json;
}

/** The stack's ECS services; throws when one runs a task definition the stack does not hold. */
export function ecsServicesOf(stack: SynthesizedStack): StackService[] {
  const tds = new Map(stack.resources("aws_ecs_task_definition").map(([id, td]) => [`\${aws_ecs_task_definition.${id}.arn}`, td]));
  const clusters = new Map(stack.resources("aws_ecs_cluster").map(([id, c]) => [`\${aws_ecs_cluster.${id}.arn}`, String(c.name)]));
  return stack.resources("aws_ecs_service").map(([id, s]) => {
    const taskDefinition = tds.get(String(s.task_definition));
    if (!taskDefinition) throw new Error(`stack ${stack.name}: service ${String(s.name)} runs ${String(s.task_definition)}, not a task definition of the stack`);
    return { id, config: s, name: String(s.name), cluster: clusters.get(String(s.cluster)) ?? String(s.cluster), taskDefinition };
  });
}

/** Every stack of one synth, by name. */
export interface SynthesizedApp {
  readonly stacks: ReadonlyMap<string, SynthesizedStack>;
  stack(name: string): SynthesizedStack;
}

export function stackOf(name: string, json: Json, dependencies: readonly string[] = []): SynthesizedStack {
  return {
    name,
    json,
    dependencies,
    resources: (type) => Object.entries(json.resource?.[type] ?? {}),
    data: (type) => Object.entries(json.data?.[type] ?? {}),
    output: (output) => json.output?.[output],
  };
}

/** Reads a JSON synth (`manifest.json` + `stacks/<name>/cdk.tf.json`). */
export function readSynth(dir: string): SynthesizedApp {
  const manifestPath = join(dir, "manifest.json");
  if (!existsSync(manifestPath)) throw new Error(`${dir} holds no manifest.json. Fix: run \`pnpm exec cdktf synth --output ${dir}\` (JSON, without --hcl), or leave out --synth-dir to synthesize in-process`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { stacks: Record<string, { synthesizedStackPath: string; dependencies?: string[] }> };
  const stacks = new Map<string, SynthesizedStack>();
  for (const [name, entry] of Object.entries(manifest.stacks)) {
    if (!entry.synthesizedStackPath.endsWith(".json")) throw new Error(`${dir}: stack ${name} was synthesized as HCL (${entry.synthesizedStackPath}). Fix: synthesize JSON (\`cdktf synth\` without --hcl), or leave out --synth-dir`);
    stacks.set(name, stackOf(name, JSON.parse(readFileSync(join(dir, entry.synthesizedStackPath), "utf8")) as Json, entry.dependencies ?? []));
  }
  return appOf(stacks);
}

function appOf(stacks: Map<string, SynthesizedStack>): SynthesizedApp {
  return {
    stacks,
    stack(name) {
      const hit = stacks.get(name);
      if (!hit) throw new Error(`the synthesized app has no stack "${name}" (it has: ${[...stacks.keys()].join(", ")})`);
      return hit;
    },
  };
}

let cached: SynthesizedApp | undefined;

/** Synthesizes the whole app in-process (JSON) into a temp dir, once per process. */
export async function synthesize(): Promise<SynthesizedApp> {
  if (cached) return cached;
  const { buildApp } = await import("../../stacks/app.js");
  const outdir = mkdtempSync(join(tmpdir(), "owui-ops-synth-"));
  try {
    buildApp({ outdir, hclOutput: false }).synth();
    cached = readSynth(outdir);
    return cached;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The app from `--synth-dir`, or a fresh in-process synth. */
export async function loadApp(synthDir?: string): Promise<SynthesizedApp> {
  return synthDir ? readSynth(synthDir) : synthesize();
}

/** An env's config by name; the error lists the envs there are. */
export function envNamed(name: string): EnvConfig {
  const env = ENVIRONMENTS.find((e) => e.name === name);
  if (!env) throw new Error(`no env named "${name}". Fix: one of ${ENVIRONMENTS.map((e) => e.name).join(", ")} (envs/index.ts)`);
  return env;
}

/** An env's config and its synthesized platform stack (stack name = env name). */
export async function loadEnv(name: string, synthDir?: string): Promise<{ env: EnvConfig; app: SynthesizedApp; stack: SynthesizedStack }> {
  const env = envNamed(name);
  const app = await loadApp(synthDir);
  return { env, app, stack: app.stack(env.name) };
}
