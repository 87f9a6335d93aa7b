/**
 * The secrets of an env, read from its synthesized stack (never from a hand-kept list):
 * - every `aws_secretsmanager_secret` the stack creates, with who fills it:
 *   - `terraform`: the stack writes an `aws_secretsmanager_secret_version` for it (the Cognito
 *     client secret);
 *   - `platform`: an IAM policy document of the stack grants `secretsmanager:PutSecretValue` on it
 *     (a function fills it at apply, e.g. db-bootstrap's database logins);
 *   - `generated`: a placeholder whose consumer variable has a generator (ops/lib/secrets-format.ts);
 *   - `operator`: a placeholder only an operator can supply (the Entra client secret);
 * - with its consumers: the task definitions' `secrets[]` entries that reference it;
 * - the SSM parameters the stack reads but does not create (the Entra ids), which an operator
 *   publishes before the first plan;
 * - the secrets AWS manages (RDS `manage_master_user_password`), listed for completeness.
 */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, ParameterNotFound, type Parameter, type SSMClient } from "@aws-sdk/client-ssm";
import { TemplateEvaluator } from "./ecs-template.js";
import { GENERATOR_BY_VARIABLE, type GeneratorId } from "./secrets-format.js";
import type { Json, SynthesizedStack } from "./stack.js";

export type SecretSource = "terraform" | "platform" | "generated" | "operator";

/** A task definition's `secrets[]` entry that reads a secret. */
export interface SecretConsumer {
  /** Task definition family, e.g. `owui-sandbox-openwebui`. */
  readonly family: string;
  readonly container: string;
  /** The variable the container reads it as. */
  readonly variable: string;
  /** The JSON key, for `…:<key>::` references. */
  readonly jsonKey?: string;
}

export interface StackSecret {
  /** Logical id in the stack. */
  readonly id: string;
  /** Secrets Manager name, e.g. `owui/sandbox/litellm/master-key`. */
  readonly name: string;
  readonly description: string;
  readonly source: SecretSource;
  readonly consumers: readonly SecretConsumer[];
  /** For `generated`. */
  readonly generator?: GeneratorId;
  /** For `platform`: the policy document that grants the write. */
  readonly writer?: string;
}

/** An SSM parameter the stack reads (at plan or at task start) but does not create. */
export interface OperatorParameter {
  readonly name: string;
  /** `plan` (a data source) or `task start` (an ECS `secrets[]` reference). */
  readonly readAt: readonly ("plan" | "task start")[];
  readonly consumers: readonly SecretConsumer[];
}

/** Every `secrets[]` reference of every synthesized task definition, with its evaluated `valueFrom`. */
export interface SecretReference extends SecretConsumer {
  /** The secret's logical id when `valueFrom` is a stack secret's ARN. */
  readonly secretId?: string;
  /** The SSM parameter's name when `valueFrom` is a parameter ARN. */
  readonly parameterName?: string;
}

const SECRET_ARN = /^aws_secretsmanager_secret\.([^.]+)\.arn$/;
const PARAMETER_ARN = /^aws_ssm_parameter\.([^.]+)\.arn$/;

/** The `secrets[]` references of every task definition in the stack. */
export function secretReferences(stack: SynthesizedStack): SecretReference[] {
  const refs: SecretReference[] = [];
  for (const [, td] of stack.resources("aws_ecs_task_definition")) {
    const ev = new TemplateEvaluator(stack);
    for (const container of ev.containers(td)) {
      for (const s of (container.secrets ?? []) as { name: string; valueFrom: string }[]) {
        const base = { family: String(td.family), container: String(container.name), variable: s.name };
        const holes = ev.holesIn(s.valueFrom);
        const secret = holes.map((a) => SECRET_ARN.exec(a)?.[1]).find(Boolean);
        const parameter = holes.map((a) => PARAMETER_ARN.exec(a)?.[1]).find(Boolean);
        if (secret) {
          // `<arn>:<json-key>:<version-stage>:<version-id>`
          const jsonKey = s.valueFrom.replace(/^__tfref_\d+__/, "").split(":")[1];
          refs.push({ ...base, secretId: secret, ...(jsonKey ? { jsonKey } : {}) });
        } else if (parameter) {
          refs.push({ ...base, parameterName: String(stack.json.resource.aws_ssm_parameter[parameter].name) });
        } else if (/:ssm:/.test(s.valueFrom)) {
          refs.push({ ...base, parameterName: s.valueFrom.slice(s.valueFrom.indexOf(":parameter") + ":parameter".length) });
        } else {
          refs.push(base);
        }
      }
    }
  }
  return refs;
}

/** Logical ids of the secrets an IAM policy document of the stack lets something write, with the document's id. */
function writtenSecrets(stack: SynthesizedStack): Map<string, string> {
  const written = new Map<string, string>();
  for (const [docId, doc] of stack.data("aws_iam_policy_document")) {
    for (const st of (doc.statement ?? []) as Json[]) {
      if (st.effect === "Deny" || !((st.actions ?? []) as string[]).some((a) => a === "secretsmanager:PutSecretValue" || a === "secretsmanager:*")) continue;
      for (const r of (st.resources ?? []) as string[]) {
        const m = /^\$\{aws_secretsmanager_secret\.([^.]+)\.arn\}/.exec(r);
        if (m) written.set(m[1]!, docId);
      }
    }
  }
  return written;
}

/** Every secret the stack creates, classified by who fills it. */
export function stackSecrets(stack: SynthesizedStack): StackSecret[] {
  const refs = secretReferences(stack);
  const versions = new Set(
    stack
      .resources("aws_secretsmanager_secret_version")
      .map(([, v]) => /^\$\{aws_secretsmanager_secret\.([^.]+)\.(id|arn)\}$/.exec(String(v.secret_id))?.[1])
      .filter((x): x is string => x !== undefined),
  );
  const written = writtenSecrets(stack);
  return stack.resources("aws_secretsmanager_secret").map(([id, s]) => {
    const consumers = refs.filter((r) => r.secretId === id).map(({ family, container, variable, jsonKey }) => ({ family, container, variable, ...(jsonKey ? { jsonKey } : {}) }));
    const base = { id, name: String(s.name), description: String(s.description ?? ""), consumers };
    if (versions.has(id)) return { ...base, source: "terraform" as const };
    const writer = written.get(id);
    if (writer) return { ...base, source: "platform" as const, writer };
    const generators = [...new Set(consumers.map((c) => GENERATOR_BY_VARIABLE[c.variable]))];
    if (generators.length > 1) throw new Error(`secret ${s.name} is read as ${consumers.map((c) => c.variable).join(", ")}, which need different formats (${generators.join(", ")}): a bug in the stack or in ops/lib/secrets-format.ts`);
    const generator = generators[0];
    return generator ? { ...base, source: "generated" as const, generator } : { ...base, source: "operator" as const };
  });
}

/** SSM parameters the stack reads but does not create: an operator publishes them. */
export function operatorParameters(stack: SynthesizedStack): OperatorParameter[] {
  const created = new Set(stack.resources("aws_ssm_parameter").map(([, p]) => String(p.name)));
  const byName = new Map<string, { readAt: Set<"plan" | "task start">; consumers: SecretConsumer[] }>();
  const entry = (name: string) => byName.get(name) ?? byName.set(name, { readAt: new Set(), consumers: [] }).get(name)!;
  for (const [, d] of stack.data("aws_ssm_parameter")) if (!created.has(String(d.name))) entry(String(d.name)).readAt.add("plan");
  for (const r of secretReferences(stack)) {
    if (r.parameterName && !created.has(r.parameterName)) {
      const e = entry(r.parameterName);
      e.readAt.add("task start");
      e.consumers.push({ family: r.family, container: r.container, variable: r.variable });
    }
  }
  return [...byName].map(([name, e]) => ({ name, readAt: [...e.readAt], consumers: e.consumers })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Secrets AWS creates and rotates itself (RDS-managed master passwords): nothing to fill. */
export function awsManagedSecrets(stack: SynthesizedStack): string[] {
  return stack
    .resources("aws_rds_cluster")
    .filter(([, c]) => c.manage_master_user_password === true)
    .map(([, c]) => `the master password of Aurora cluster ${String(c.cluster_identifier ?? "?")} (RDS manage_master_user_password)`);
}

/** `http://<discovery name>.<namespace>:<port>` of the ECS service whose task reads `variable`, from the stack. */
export function internalUrlOf(stack: SynthesizedStack, family: string, container: string): string {
  const [tdId, td] = stack.resources("aws_ecs_task_definition").find(([, t]) => t.family === family) ?? [];
  if (!td) throw new Error(`no task definition of family ${family} in stack ${stack.name}`);
  const service = stack.resources("aws_ecs_service").find(([, s]) => String(s.task_definition) === `\${aws_ecs_task_definition.${tdId}.arn}`)?.[1];
  // A single block synthesizes as an object, several as a list.
  const registry = ([service?.service_registries ?? []].flat() as Json[]).find((r) => r.container_name === container);
  const discoveryId = /^\$\{aws_service_discovery_service\.([^.]+)\.arn\}$/.exec(String(registry?.registry_arn))?.[1];
  const discovery = discoveryId ? stack.json.resource.aws_service_discovery_service?.[discoveryId] : undefined;
  const namespaceId = /^\$\{aws_service_discovery_private_dns_namespace\.([^.]+)\.id\}$/.exec(String(discovery?.dns_config?.namespace_id))?.[1];
  const namespace = namespaceId ? stack.json.resource.aws_service_discovery_private_dns_namespace?.[namespaceId] : undefined;
  if (!discovery || !namespace) throw new Error(`the ECS service of ${family} has no Cloud Map registration for container ${container} in stack ${stack.name}`);
  const c = new TemplateEvaluator(stack).containers(td).find((x) => x.name === container);
  const port = (c?.portMappings as Json[] | undefined)?.[0]?.containerPort;
  if (port === undefined) throw new Error(`container ${container} of ${family} maps no port`);
  return `http://${String(discovery.name)}.${String(namespace.name)}:${String(port)}`;
}

/** mcpo's URL and server names, from the task that reads the mcpo key (`MCPO_API_KEY`) and its `MCPO_CONFIG_JSON`. */
export function mcpoOf(stack: SynthesizedStack, secrets: readonly StackSecret[]): { url: string; servers: string[] } {
  const consumer = secrets.flatMap((s) => s.consumers).find((c) => GENERATOR_BY_VARIABLE[c.variable] === "mcpo-api-key");
  if (!consumer) throw new Error(`stack ${stack.name}: no task reads the mcpo key (MCPO_API_KEY)`);
  const td = stack.resources("aws_ecs_task_definition").find(([, t]) => t.family === consumer.family)![1];
  const container = new TemplateEvaluator(stack).containers(td).find((c) => c.name === consumer.container)!;
  const config = ((container.environment ?? []) as { name: string; value: string }[]).find((e) => e.name === "MCPO_CONFIG_JSON");
  if (!config) throw new Error(`stack ${stack.name}: mcpo's container has no MCPO_CONFIG_JSON`);
  const servers = Object.keys((JSON.parse(config.value) as { mcpServers: Record<string, unknown> }).mcpServers).sort();
  return { url: internalUrlOf(stack, consumer.family, consumer.container), servers };
}

// ---------------------------------------------------------------------------------------------
// Live state (Secrets Manager, SSM). Values are read only where a value is derived from another
// (the mcpo key for the tool-server connections) or a JSON key must be checked; never printed.
// ---------------------------------------------------------------------------------------------

export type SecretState = { readonly exists: false } | { readonly exists: true; readonly arn: string; readonly hasValue: boolean };

/** Whether the secret exists and has a current value (DescribeSecret: a version staged AWSCURRENT). */
export async function secretState(sm: SecretsManagerClient, name: string): Promise<SecretState> {
  try {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    if (d.DeletedDate) return { exists: false };
    const hasValue = Object.values(d.VersionIdsToStages ?? {}).some((stages) => stages.includes("AWSCURRENT"));
    return { exists: true, arn: String(d.ARN), hasValue };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return { exists: false };
    throw error;
  }
}

/** The current value, or undefined when the secret has none. */
export async function secretValue(sm: SecretsManagerClient, name: string): Promise<string | undefined> {
  try {
    return (await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** The SSM parameter (GetParameter, not decrypted), or undefined when it does not exist. */
export async function getParameter(ssm: SSMClient, name: string): Promise<Parameter | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter ?? {};
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

export async function putSecret(sm: SecretsManagerClient, name: string, value: string): Promise<void> {
  await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
}

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The exact command that fills a secret by hand (`<value>` is the operator's to type). */
export function putSecretCommand(name: string, region: string): string {
  return `aws secretsmanager put-secret-value --region ${region} --secret-id ${shellQuote(name)} --secret-string '<value>'`;
}

/** The exact command that publishes an SSM parameter. */
export function putParameterCommand(name: string, region: string): string {
  return `aws ssm put-parameter --region ${region} --type String --name ${shellQuote(name)} --value '<value>'`;
}
