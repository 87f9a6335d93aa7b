/**
 * `ops doctor`: the live ECS services and task definitions of an env against its synthesized stack.
 *
 * What is compared, per ECS service of the stack (`aws_ecs_service` → its `aws_ecs_task_definition`):
 * - the service exists, is ACTIVE, and runs a task definition of the synthesized family;
 * - per container of the synthesized task definition: the image (exact); each watched setting
 *   ({@link isWatched}: `WEBUI_AUTH`, the trusted-header names, the sign-out URL, `ENABLE_SIGNUP`
 *   and the other sign-in switches, the role and group settings, every `OAUTH2_PROXY_*` variable)
 *   on its own row; every other environment variable in one row; `command`/`entryPoint`; the
 *   `secrets[]` names and `valueFrom`s;
 * - desired vs running count, and the rollout: stuck when several deployments are IN_PROGRESS or
 *   one is FAILED (the deployment circuit breaker tripped), with the one command that fixes it;
 * - every secret a synthesized task definition references has a value (and its JSON key, for
 *   `…:<key>::` references); every SSM parameter referenced exists.
 *
 * How: container definitions are evaluated from the synthesized templates (ops/lib/ecs-template.ts).
 * References doctor can resolve from live AWS are substituted before comparing: secret ARNs
 * (DescribeSecret by the synthesized name), SSM parameter ARNs (GetParameter), the account id and
 * partition (STS GetCallerIdentity). Values with other references (KMS key ids, log group names,
 * the Cognito client id and domain inside the sign-out URL) are compared as patterns: the literal
 * text exactly, each reference as any non-empty text; the row says which references were not resolved.
 */
import { type ECSClient } from "@aws-sdk/client-ecs";
import { type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import type { EnvConfig } from "../../envs/schema.js";
import type { Check } from "./output.js";
import { TemplateEvaluator } from "./ecs-template.js";
import { describeServices, describeTaskDefinition, type LiveContainer, type LiveService } from "./ecs.js";
import { getParameter, putParameterCommand, putSecretCommand, secretReferences, secretState, secretValue, stackSecrets, type SecretState } from "./secrets.js";
import { ecsServicesOf, type Json, type SynthesizedStack } from "./stack.js";

export interface DoctorClients {
  readonly ecs: ECSClient;
  readonly sm: SecretsManagerClient;
  readonly ssm: SSMClient;
  readonly sts?: STSClient;
}

/** The settings whose drift broke sign-ins before: each gets its own row. */
const WATCHED: readonly (string | RegExp)[] = [
  "WEBUI_AUTH",
  /^WEBUI_AUTH_TRUSTED_[A-Z_]+_HEADER$/,
  "WEBUI_AUTH_SIGNOUT_REDIRECT_URL",
  "ENABLE_SIGNUP",
  "ENABLE_LOGIN_FORM",
  "ENABLE_PASSWORD_AUTH",
  "ENABLE_OAUTH_SIGNUP",
  "ENABLE_API_KEYS",
  "OAUTH_MERGE_ACCOUNTS_BY_EMAIL",
  "DEFAULT_USER_ROLE",
  /^ENABLE_OAUTH_(ROLE|GROUP)_MANAGEMENT$/,
  /^OAUTH_(ROLES|GROUPS)_CLAIM$/,
  "OAUTH_ALLOWED_ROLES",
  "OAUTH_ADMIN_ROLES",
  "OPENID_PROVIDER_URL",
  "OPENID_REDIRECT_URI",
  "ENABLE_SCIM",
  /^OAUTH2_PROXY_/,
];

/** Whether an environment variable is a watched setting (its own row in the table). */
export function isWatched(name: string): boolean {
  return WATCHED.some((w) => (typeof w === "string" ? w === name : w.test(name)));
}

const clip = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** One synthesized ECS service with its evaluated containers. */
export interface SynthService {
  readonly name: string;
  readonly cluster: string;
  readonly family: string;
  readonly containers: readonly Json[];
}

export function synthServices(stack: SynthesizedStack, ev: TemplateEvaluator): SynthService[] {
  return ecsServicesOf(stack).map((s) => ({ name: s.name, cluster: s.cluster, family: String(s.taskDefinition.family), containers: ev.containers(s.taskDefinition) }));
}

/** One value: exact when the synthesized value has no unresolved reference, else as a pattern. */
export function valueCheck(name: string, expected: string | undefined, live: string | undefined, ev: TemplateEvaluator): Check {
  if (expected === undefined) return { name, ok: false, detail: `set live ("${clip(String(live))}") but not in the synthesized task definition` };
  if (live === undefined) return { name, ok: false, detail: `missing live; synthesized "${clip(ev.show(expected))}"` };
  if (!ev.matches(expected, live)) return { name, ok: false, detail: `live "${clip(live)}", synthesized "${clip(ev.show(expected))}"` };
  const holes = ev.holesIn(expected);
  return { name, ok: true, detail: holes.length === 0 ? `= "${clip(live)}"` : `= "${clip(live)}" (matches the synthesized template; not resolved: ${[...new Set(holes)].join(", ")})` };
}

const envOf = (c: Json): Record<string, string> => Object.fromEntries(((c.environment ?? []) as { name: string; value: string }[]).map((e) => [e.name, String(e.value)]));
const secretsOf = (c: Json): Record<string, string> => Object.fromEntries(((c.secrets ?? []) as { name: string; valueFrom: string }[]).map((e) => [e.name, String(e.valueFrom)]));

/** The checks of one container: image, watched settings, other environment, command, secrets. */
export function containerChecks(service: string, synth: Json, live: LiveContainer | undefined, ev: TemplateEvaluator): Check[] {
  const at = `${service}/${String(synth.name)}`;
  if (!live) return [{ name: at, ok: false, detail: "container missing from the live task definition" }];
  const checks: Check[] = [valueCheck(`${at} image`, String(synth.image), live.image, ev)];
  const synthEnv = envOf(synth);
  const names = [...new Set([...Object.keys(synthEnv), ...Object.keys(live.environment)])].sort();
  for (const n of names.filter(isWatched)) checks.push(valueCheck(`${at} ${n}`, synthEnv[n], live.environment[n], ev));
  const others = names.filter((n) => !isWatched(n));
  const otherDrift = others.filter((n) => !valueCheck(n, synthEnv[n], live.environment[n], ev).ok);
  checks.push({
    name: `${at} other environment`,
    ok: otherDrift.length === 0,
    detail: otherDrift.length === 0 ? `${others.length} variables match` : `differ: ${otherDrift.map((n) => (synthEnv[n] === undefined ? `${n} (only live)` : live.environment[n] === undefined ? `${n} (missing live)` : n)).join(", ")}`,
  });
  for (const field of ["command", "entryPoint"] as const) {
    const expected = synth[field] as string[] | undefined;
    const actual = live[field];
    if (expected === undefined && actual === undefined) continue;
    checks.push(valueCheck(`${at} ${field}`, expected === undefined ? undefined : JSON.stringify(expected), actual === undefined ? undefined : JSON.stringify(actual), ev));
  }
  const synthSecrets = secretsOf(synth);
  const secretNames = [...new Set([...Object.keys(synthSecrets), ...Object.keys(live.secrets)])].sort();
  const secretDrift = secretNames.filter((n) => !valueCheck(n, synthSecrets[n], live.secrets[n], ev).ok);
  checks.push({
    name: `${at} secrets`,
    ok: secretDrift.length === 0,
    detail: secretDrift.length === 0 ? `${secretNames.length} references match (${secretNames.join(", ")})` : `differ: ${secretDrift.map((n) => (synthSecrets[n] === undefined ? `${n} (only live)` : live.secrets[n] === undefined ? `${n} (missing live)` : `${n} (live ${clip(live.secrets[n]!, 80)})`)).join(", ")}`,
  });
  return checks;
}

/** The command that replaces a stuck deployment: a fresh deployment of the task definition the service should run. */
export function fixStuckCommand(region: string, cluster: string, service: string, taskDefinition: string): string {
  return `aws ecs update-service --region ${region} --cluster ${cluster} --service ${service} --task-definition ${taskDefinition} --force-new-deployment`;
}

/** Desired vs running, and whether a deployment is stuck. `drifted`: the live task definition differs from the synthesized one. */
export function rolloutChecks(envName: string, region: string, cluster: string, live: LiveService, drifted: boolean): Check[] {
  const counts: Check = {
    name: `${live.name} tasks`,
    ok: live.runningCount === live.desiredCount,
    detail: `${live.runningCount} running of ${live.desiredCount} desired${live.pendingCount ? `, ${live.pendingCount} pending` : ""}${live.runningCount === live.desiredCount ? "" : `. Look at why tasks stop: aws ecs list-tasks --region ${region} --cluster ${cluster} --service-name ${live.name} --desired-status STOPPED`}`,
  };
  const failed = live.deployments.filter((d) => d.rolloutState === "FAILED");
  const inProgress = live.deployments.filter((d) => d.rolloutState === "IN_PROGRESS");
  const primary = live.deployments.find((d) => d.status === "PRIMARY");
  const fix = drifted ? `the live task definition drifted from the synthesized one: pnpm exec cdktf deploy ${envName}` : fixStuckCommand(region, cluster, live.name, live.taskDefinition);
  let rollout: Check;
  if (failed.length > 0) {
    rollout = { name: `${live.name} deployment`, ok: false, detail: `circuit breaker tripped: ${failed.map((d) => `${d.id} FAILED${d.rolloutStateReason ? ` (${clip(d.rolloutStateReason, 100)})` : ""}`).join("; ")}. Fix (once the cause is fixed): ${fix}` };
  } else if (inProgress.length > 1) {
    rollout = { name: `${live.name} deployment`, ok: false, detail: `stuck: ${inProgress.length} deployments IN_PROGRESS (${inProgress.map((d) => `${d.id} ${d.status} ${d.taskDefinition.split("/").at(-1)}: ${d.runningCount}/${d.desiredCount}`).join("; ")}). Fix: ${fix}` };
  } else {
    rollout = { name: `${live.name} deployment`, ok: true, detail: primary ? `${live.deployments.length} deployment(s); PRIMARY ${primary.rolloutState ?? "(no rollout state)"}` : "no deployment" };
  }
  return [counts, rollout];
}

const parameterArn = async (ssm: SSMClient, name: string): Promise<string | undefined> => (await getParameter(ssm, name))?.ARN;

/** Runs every check of `ops doctor` for an env; the caller prints them. */
export async function doctorChecks(env: EnvConfig, stack: SynthesizedStack, clients: DoctorClients): Promise<Check[]> {
  const secrets = stackSecrets(stack);
  const states = new Map<string, SecretState>();
  for (const s of secrets) states.set(s.id, await secretState(clients.sm, s.name));
  const parameters = new Map<string, string | undefined>();
  const resolved = new Map<string, string>();
  for (const s of secrets) {
    const st = states.get(s.id)!;
    if (st.exists) resolved.set(`aws_secretsmanager_secret.${s.id}.arn`, st.arn);
  }
  for (const [id, p] of stack.resources("aws_ssm_parameter")) {
    const arn = await parameterArn(clients.ssm, String(p.name));
    parameters.set(String(p.name), arn);
    if (arn) resolved.set(`aws_ssm_parameter.${id}.arn`, arn);
  }
  if (clients.sts) {
    try {
      const who = await clients.sts.send(new GetCallerIdentityCommand({}));
      const partition = String(who.Arn).split(":")[1];
      for (const [id] of stack.data("aws_caller_identity")) resolved.set(`data.aws_caller_identity.${id}.account_id`, String(who.Account));
      for (const [id] of stack.data("aws_partition")) if (partition) resolved.set(`data.aws_partition.${id}.partition`, partition);
    } catch {
      // Unresolved: the account id and partition are then compared as patterns.
    }
  }
  const ev = new TemplateEvaluator(stack, (a) => resolved.get(a));
  const checks: Check[] = [];

  const services = synthServices(stack, ev);
  const byCluster = new Map<string, SynthService[]>();
  for (const s of services) byCluster.set(s.cluster, [...(byCluster.get(s.cluster) ?? []), s]);
  for (const [cluster, list] of byCluster) {
    let live: Map<string, LiveService>;
    try {
      live = await describeServices(clients.ecs, cluster, list.map((s) => s.name));
    } catch (error) {
      if ((error as { name?: string }).name !== "ClusterNotFoundException") throw error;
      checks.push({ name: `cluster ${cluster}`, ok: false, detail: `not found, so none of ${list.map((s) => s.name).join(", ")} runs. Fix: pnpm exec cdktf deploy ${env.name}` });
      continue;
    }
    for (const s of list) {
      const l = live.get(s.name);
      if (!l || l.status !== "ACTIVE") {
        checks.push({ name: s.name, ok: false, detail: `${l ? `status ${l.status}` : "not found"} in cluster ${cluster}. Fix: pnpm exec cdktf deploy ${env.name}` });
        continue;
      }
      const td = await describeTaskDefinition(clients.ecs, l.taskDefinition);
      const familyOk = td.family === s.family;
      checks.push({ name: `${s.name} task definition`, ok: familyOk, detail: familyOk ? `${td.family}:${td.revision}` : `runs ${td.family}:${td.revision}, synthesized family ${s.family}` });
      const containerRows = s.containers.flatMap((c) => containerChecks(s.name, c, td.containers.find((x) => x.name === c.name), ev));
      const extra = td.containers.filter((c) => !s.containers.some((x) => x.name === c.name));
      for (const c of extra) containerRows.push({ name: `${s.name}/${c.name}`, ok: false, detail: "container only in the live task definition" });
      checks.push(...containerRows);
      const drifted = !familyOk || containerRows.some((c) => !c.ok);
      checks.push(...rolloutChecks(env.name, env.region, cluster, l, drifted));
    }
  }

  // Every secret a synthesized task definition reads has a value (and its JSON key).
  const refs = secretReferences(stack);
  for (const s of secrets.filter((x) => refs.some((r) => r.secretId === x.id))) {
    const st = states.get(s.id)!;
    const keys = [...new Set(refs.filter((r) => r.secretId === s.id && r.jsonKey).map((r) => r.jsonKey!))];
    const fill = s.source === "generated" ? `pnpm ops secrets init ${env.name}` : s.source === "operator" ? putSecretCommand(s.name, env.region) : `pnpm exec cdktf deploy ${env.name}`;
    if (!st.exists) checks.push({ name: `secret ${s.name}`, ok: false, detail: `missing. Fix: pnpm exec cdktf deploy ${env.name}` });
    else if (!st.hasValue) checks.push({ name: `secret ${s.name}`, ok: false, detail: `EMPTY: tasks that read it fail to start. Fix: ${fill}` });
    else if (keys.length > 0) {
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse((await secretValue(clients.sm, s.name)) ?? "") as Record<string, unknown>;
      } catch {
        // not JSON: every key is missing
      }
      const missing = keys.filter((k) => parsed[k] === undefined || parsed[k] === "");
      checks.push({ name: `secret ${s.name}`, ok: missing.length === 0, detail: missing.length === 0 ? `has a value with key ${keys.join(", ")}` : `has a value without JSON key ${missing.join(", ")}. Fix: ${fill}` });
    } else checks.push({ name: `secret ${s.name}`, ok: true, detail: "has a value" });
  }
  const paramNames = [...new Set(refs.filter((r) => r.parameterName).map((r) => r.parameterName!))];
  for (const name of paramNames) {
    const arn = parameters.has(name) ? parameters.get(name) : await parameterArn(clients.ssm, name);
    checks.push({ name: `ssm:${name}`, ok: arn !== undefined, detail: arn ? "exists" : `MISSING: tasks that read it fail to start. Fix: ${putParameterCommand(name, env.region)}` });
  }
  return checks;
}
