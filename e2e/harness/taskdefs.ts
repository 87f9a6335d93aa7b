/**
 * The synthesized ECS task definitions, decoded: `aws_ecs_task_definition.container_definitions` is
 * `${jsonencode([...])}` holding Terraform references; lib/hcl-template.ts evaluates it, and every
 * reference becomes the placeholder `<address>` (e.g. `<aws_secretsmanager_secret.x.arn>`) so the
 * substitutions ({@link ./substitute.ts}) can map it to a local value.
 */
import { z } from "zod";
import { evaluateTemplate } from "../../lib/hcl-template.js";

const keyValue = z.object({ name: z.string(), value: z.string() });
const secret = z.object({ name: z.string(), valueFrom: z.string() });

/** One container definition, as ECS reads it (only the fields the harness honours or reports). */
const containerSchema = z.object({
  name: z.string(),
  image: z.string(),
  essential: z.boolean().default(true),
  command: z.array(z.string()).optional(),
  entryPoint: z.array(z.string()).optional(),
  environment: z.array(keyValue).default([]),
  secrets: z.array(secret).default([]),
  portMappings: z.array(z.object({ containerPort: z.number().int(), protocol: z.string().default("tcp"), name: z.string().optional() })).default([]),
  healthCheck: z
    .object({
      command: z.array(z.string()).min(1),
      interval: z.number().default(30),
      timeout: z.number().default(5),
      retries: z.number().int().default(3),
      startPeriod: z.number().default(0),
    })
    .optional(),
  dependsOn: z.array(z.object({ containerName: z.string(), condition: z.enum(["START", "HEALTHY", "COMPLETE", "SUCCESS"]) })).optional(),
  user: z.string().optional(),
  readonlyRootFilesystem: z.boolean().default(false),
  mountPoints: z.array(z.object({ sourceVolume: z.string(), containerPath: z.string(), readOnly: z.boolean().default(false) })).default([]),
  workingDirectory: z.string().optional(),
  stopTimeout: z.number().optional(),
}).loose();

export type ContainerDefinition = z.infer<typeof containerSchema>;
export type HealthCheckDef = NonNullable<ContainerDefinition["healthCheck"]>;

/** The placeholder a Terraform reference decodes to. */
export const placeholder = (address: string) => `<${address}>`;
/** Every `<address>` placeholder in a text. */
export const PLACEHOLDER_RE = /<((?:data\.|local\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_.-]+)>/g;

/** Decodes one `container_definitions` template into typed definitions (references as placeholders). */
export function decodeContainerDefinitions(template: string): ContainerDefinition[] {
  const rendered = evaluateTemplate(template, placeholder);
  const json = typeof rendered === "string" ? JSON.parse(rendered) : rendered;
  return z.array(containerSchema).parse(json);
}

interface SynthLike {
  resources(type: string): [string, Record<string, any>][];
  readonly json: Record<string, any>;
}

/** Service name of a task definition: `compute_<service>_task_<hash>` (the compute layer's construct path). */
export function serviceOfTask(logicalName: string, family?: string): string {
  const m = /^compute_([a-z][a-z0-9-]*)_task_[0-9A-F]{8}$/.exec(logicalName);
  if (m) return m[1]!;
  const f = family ? /^owui-[a-z0-9]+-(.+)$/.exec(family) : null;
  if (f) return f[1]!;
  throw new Error(`cannot tell the service of task definition ${logicalName} (family ${family ?? "?"})`);
}

/** Every service's container definitions, decoded: `{ openwebui: [...], litellm: [...], mcpo: [...] }`. */
export function taskDefinitionsOf(synth: SynthLike): Record<string, ContainerDefinition[]> {
  const out: Record<string, ContainerDefinition[]> = {};
  for (const [name, task] of synth.resources("aws_ecs_task_definition")) {
    const service = serviceOfTask(name, task.family);
    if (out[service]) throw new Error(`two task definitions for service ${service}`);
    out[service] = decodeContainerDefinitions(task.container_definitions as string);
  }
  return out;
}

/** Every `<address>` placeholder a container's definition holds (environment, secrets, command, health check). */
export function placeholdersOf(def: ContainerDefinition): string[] {
  const texts = [
    ...def.environment.map((e) => e.value),
    ...def.secrets.map((s) => s.valueFrom),
    ...(def.command ?? []),
    ...(def.entryPoint ?? []),
    ...(def.healthCheck?.command ?? []),
  ];
  return [...new Set(texts.flatMap((t) => [...t.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!)))].sort();
}

/**
 * The value of a stack `local` given the values of the references it holds, evaluated as Terraform
 * would (lib/hcl-template.ts: literal text, references, `urlencode(...)`, …). Throws on anything else.
 */
export function evaluateLocal(synth: SynthLike, name: string, refs: (address: string) => string): string {
  const text = synth.json.locals?.[name];
  if (typeof text !== "string") throw new Error(`no local "${name}" in the stack`);
  return String(evaluateTemplate(text, refs));
}
