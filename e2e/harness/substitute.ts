/**
 * The ONLY differences between a launched local process and its container definition. Each kind is a
 * row of {@link SUBSTITUTION_TABLE}; {@link launchEnvOf} applies them and {@link diff} reports any
 * difference between a launched environment and the definition that none of them explains.
 *
 * A container's environment, as ECS builds it: the image's ENV, overlaid by the definition's
 * `environment`, overlaid by its `secrets` (resolved by the agent). The harness adds only the listed
 * extras and the PATH of the local programs.
 */
import { factsFor, localBinDirs, type ImageFacts } from "./images.js";
import type { Manifest } from "./manifest.js";
import { PLACEHOLDER_RE, type ContainerDefinition } from "./taskdefs.js";

/** An endpoint URL the task would reach over the internet (IdP, AWS) and its stand-in. */
export interface EndpointSubstitution {
  /** URL prefix as the definition writes it (after references are resolved), e.g. `https://cognito-idp.us-east-1.amazonaws.com`. */
  readonly from: string;
  /** Stand-in prefix, e.g. `https://127.0.0.1:9443`. */
  readonly to: string;
  readonly reason: string;
}

/** An environment variable the harness adds, with why. */
export interface ExtraEnv {
  readonly name: string;
  readonly value: string;
  readonly reason: string;
  /** Only for these containers (default: every container). */
  readonly containers?: readonly string[];
}

/** A variable of the definition left out of the launch, with why. */
export interface OmittedEnv {
  readonly name: string;
  readonly reason: string;
  /** Only for these containers (default: every container). */
  readonly containers?: readonly string[];
}

export interface Substitutions {
  /** The env's Cloud Map namespace: `owui-<env>.internal`. */
  readonly namespace: string;
  /** This task's own loopback address (127.0.1.N): its "ENI". */
  readonly taskIp: string;
  /** Service discovery: service name → the loopback address of its (one) local task. */
  readonly discovery: Readonly<Record<string, string>>;
  /** Internet endpoints → stand-ins (prefix replacement). */
  readonly endpoints: readonly EndpointSubstitution[];
  /** Values of Terraform references (`aws_s3_bucket.x.bucket` → `owui-…`), as Terraform would resolve them at apply. */
  readonly references: Readonly<Record<string, string>>;
  /**
   * Secret values from test fixtures, keyed by the secret reference: the exact `valueFrom`, or the
   * secret's ARN (placeholder) without the `:<jsonKey>::` suffix (then the value is the secret's JSON
   * and the key is picked from it, as ECS does).
   */
  readonly secrets: Readonly<Record<string, string>>;
  /** Per-task directory; container paths map to `<taskDir>/<container><path>`. */
  readonly taskDir: string;
  /** Environment the harness adds, each with a reason. */
  readonly extraEnv: readonly ExtraEnv[];
  /**
   * Variables of the definition the local process does NOT get, each with a reason (a component
   * that cannot run here, e.g. LiteLLM's database, whose Prisma engines come from no registry).
   * @default none
   */
  readonly omitEnv?: readonly OmittedEnv[];
  /** For PATH: the local programs' directories come first. */
  readonly manifest?: Manifest;
  /** The host PATH appended after the local programs. @default process.env.PATH */
  readonly hostPath?: string;
}

/** The documented substitutions: what may differ, and why. */
export const SUBSTITUTION_TABLE: readonly { readonly kind: string; readonly what: string; readonly why: string }[] = [
  { kind: "reference", what: "`<address>` placeholders of Terraform references (bucket names, pool ids, KMS key ids, locals) → the values the test gives", why: "Terraform resolves them at apply; synth has only the reference" },
  { kind: "discovery", what: "`<service>.owui-<env>.internal` → the loopback address of that service's local task", why: "Cloud Map DNS answers with the task's ENI address; locally each task has its own 127.0.1.N" },
  { kind: "endpoint", what: "IdP/AWS endpoint URL prefixes → stand-in URLs (listed per run with a reason)", why: "no internet: Cognito/Entra/AWS APIs are local stand-ins" },
  { kind: "bind", what: "`0.0.0.0`, `127.0.0.1` and `//localhost` in the definition's environment, command and health check → the task's 127.0.1.N; CLIs whose default bind is 0.0.0.0 (litellm, mcpo) get `--host <task IP>` first; start.sh's HOST default likewise", why: "awsvpc gives every task its own network namespace; two local tasks can only share container ports on distinct loopback addresses" },
  { kind: "secret", what: "`secrets[].valueFrom` → fixture values (JSON key picked for `:<key>::`); discovery/endpoint substitutions apply inside them", why: "the ECS agent resolves them from Secrets Manager/SSM; locally from fixtures" },
  { kind: "path", what: "container paths (mount points, the image's writable paths and WORKDIR, /tmp) → `<taskDir>/<container><path>`, in environment, command and health check", why: "EFS, scratch volumes and the container's own filesystem are per task" },
  { kind: "program", what: "the image's executables → the locally installed ones (images.ts); image scripts (start.sh, prod_entrypoint.sh) reproduced; PATH → the local programs' directories, then the host's", why: "no container runtime: the same programs at the same versions run as host processes" },
  { kind: "omit", what: "variables of the definition listed in `omitEnv`, each with a reason (LiteLLM's DATABASE_URL: Prisma's engines are downloaded from binaries.prisma.sh at start, which no registry mirrors)", why: "a dependency that cannot run here; the scenarios that need it are marked" },
  { kind: "extra", what: "environment the harness adds, each listed with a reason (e.g. HF_HUB_OFFLINE, SSL_CERT_FILE of the test CA, AWS_ENDPOINT_URL_*, dummy AWS credentials)", why: "no internet and no task role: point SDKs at stand-ins, trust the test CA" },
];

/** Not reproduced (noted, not substituted): user/uid, read-only root, CPU/memory limits, the init process, log driver. */
export const NOT_REPRODUCED = ["user (processes run as the test's user)", "readonlyRootFilesystem (only the path mapping confines writes)", "cpu/memory", "initProcessEnabled (the harness signals the process group instead)", "logConfiguration (logs go to files)"] as const;

// ---------------------------------------------------------------------------------------------

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The local directory of a container's path. */
export const localPath = (subs: Pick<Substitutions, "taskDir">, container: string, path: string) => `${subs.taskDir}/${container}${path}`;

/** Container paths that map to the per-container directory, longest first. */
export function containerPaths(def: ContainerDefinition, facts: ImageFacts): string[] {
  const paths = new Set<string>(["/tmp", ...def.mountPoints.map((m) => m.containerPath), ...facts.writablePaths.value, def.workingDirectory ?? facts.workdir.value]);
  paths.delete("/");
  return [...paths].sort((a, b) => b.length - a.length);
}

function replaceReferences(text: string, subs: Substitutions): string {
  return text.replace(PLACEHOLDER_RE, (whole, address: string) => subs.references[address] ?? whole);
}

function replaceAddresses(text: string, subs: Substitutions): string {
  let out = text;
  for (const e of subs.endpoints) out = out.split(e.from).join(e.to);
  const host = new RegExp(`\\b([a-z][a-z0-9-]*)\\.${escapeRe(subs.namespace)}\\b`, "g");
  out = out.replace(host, (whole, service: string) => {
    const ip = subs.discovery[service];
    if (!ip) throw new Error(`${whole}: no local task for service "${service}" (discovery knows ${Object.keys(subs.discovery).join(", ") || "nothing"})`);
    return ip;
  });
  return out;
}

function replaceBind(text: string, subs: Substitutions): string {
  return text.replace(/(?<![\d.])(?:0\.0\.0\.0|127\.0\.0\.1)(?![\d.])/g, subs.taskIp).replace(/(?<=\/\/)localhost(?=[:/]|$)/g, subs.taskIp);
}

function replacePaths(text: string, def: ContainerDefinition, facts: ImageFacts, subs: Substitutions): string {
  const paths = containerPaths(def, facts);
  if (paths.length === 0) return text;
  const re = new RegExp(`(?<=^|[\\s"'=:;,(>])(${paths.map(escapeRe).join("|")})(?=$|[/\\s"';:,)<])`, "g");
  return text.replace(re, (p) => localPath(subs, def.name, p));
}

/**
 * A value of the definition (environment, command, health check) as the local process sees it. Bind
 * and path substitutions apply to the definition's own text only (first), so the addresses the other
 * substitutions insert (a stand-in on 127.0.0.1, a service's 127.0.1.N) are left as given.
 */
export function substituteValue(text: string, def: ContainerDefinition, subs: Substitutions, facts: ImageFacts = factsFor(def.image).facts): string {
  return replaceAddresses(replaceReferences(replacePaths(replaceBind(text, subs), def, facts, subs), subs), subs);
}

/** An argv element or health-check command: same substitutions as values. */
export const substituteArgv = (argv: readonly string[], def: ContainerDefinition, subs: Substitutions, facts?: ImageFacts) => argv.map((a) => substituteValue(a, def, subs, facts));

/** `<arn>:<jsonKey>:<stage>:<id>` → the ARN and the key (ECS's syntax for one JSON key of a secret). */
export function parseValueFrom(valueFrom: string): { arn: string; jsonKey?: string; versionStage?: string; versionId?: string } {
  // Placeholder form: `<aws_secretsmanager_secret.x.arn>:key::`; real form: arn:aws:secretsmanager:r:a:secret:name:key::
  const placeholder = /^(<[^>]+>)(?::([^:]*):([^:]*):([^:]*))?$/.exec(valueFrom);
  if (placeholder) return { arn: placeholder[1]!, ...(placeholder[2] ? { jsonKey: placeholder[2] } : {}), ...(placeholder[3] ? { versionStage: placeholder[3] } : {}), ...(placeholder[4] ? { versionId: placeholder[4] } : {}) };
  const parts = valueFrom.split(":");
  if (parts[2] === "secretsmanager" && parts.length > 7) {
    const [key, stage, id] = parts.slice(7);
    return { arn: parts.slice(0, 7).join(":"), ...(key ? { jsonKey: key } : {}), ...(stage ? { versionStage: stage } : {}), ...(id ? { versionId: id } : {}) };
  }
  return { arn: valueFrom };
}

/** A secret's value from the fixtures, as the ECS agent would inject it. */
export function secretValue(valueFrom: string, subs: Substitutions): string {
  const direct = subs.secrets[valueFrom];
  let value: string;
  if (direct !== undefined) value = direct;
  else {
    const { arn, jsonKey } = parseValueFrom(valueFrom);
    const whole = subs.secrets[arn];
    if (whole === undefined) throw new Error(`no fixture value for secret ${valueFrom} (give subs.secrets["${valueFrom}"] or ["${arn}"])`);
    if (!jsonKey) value = whole;
    else {
      let json: unknown;
      try {
        json = JSON.parse(whole);
      } catch {
        throw new Error(`secret ${arn} is not JSON, but ${valueFrom} asks for its key "${jsonKey}" (ECS would fail the task: ResourceInitializationError)`);
      }
      const picked = (json as Record<string, unknown>)?.[jsonKey];
      if (picked === undefined) throw new Error(`secret ${arn} has no JSON key "${jsonKey}" (ECS would fail the task: ResourceInitializationError)`);
      value = typeof picked === "string" ? picked : JSON.stringify(picked);
    }
  }
  return replaceAddresses(value, subs);
}

function extrasFor(def: ContainerDefinition, subs: Substitutions): ExtraEnv[] {
  const extras = subs.extraEnv.filter((e) => !e.containers || e.containers.includes(def.name));
  const own = new Set([...def.environment.map((e) => e.name), ...def.secrets.map((s) => s.name)]);
  const clash = extras.filter((e) => own.has(e.name));
  if (clash.length > 0) throw new Error(`extra env ${clash.map((e) => e.name).join(", ")} would override the task definition's ${def.name} container; change the definition or use a documented substitution`);
  for (const e of extras) if (!e.reason.trim()) throw new Error(`extra env ${e.name} has no reason`);
  return extras;
}

function pathOf(facts: ImageFacts, subs: Substitutions): string {
  const dirs = subs.manifest ? localBinDirs(facts, subs.manifest) : [];
  return [...dirs, subs.hostPath ?? process.env.PATH ?? "/usr/bin:/bin"].join(":");
}

/** Where each variable of a launched environment comes from. */
export type EnvOrigin = "image" | "environment" | "secret" | "extra" | "path";

/** The expected launch environment, with each variable's origin. */
export function expectedEnv(def: ContainerDefinition, subs: Substitutions, facts: ImageFacts = factsFor(def.image).facts): Map<string, { value: string; origin: EnvOrigin }> {
  const out = new Map<string, { value: string; origin: EnvOrigin }>();
  for (const [name, value] of Object.entries(facts.env.value)) out.set(name, { value: substituteValue(value, def, subs, facts), origin: "image" });
  out.set("PATH", { value: pathOf(facts, subs), origin: "path" });
  const omitted = new Set((subs.omitEnv ?? []).filter((o) => !o.containers || o.containers.includes(def.name)).map((o) => {
    if (!o.reason.trim()) throw new Error(`omitted env ${o.name} has no reason`);
    return o.name;
  }));
  for (const e of def.environment) if (!omitted.has(e.name)) out.set(e.name, { value: substituteValue(e.value, def, subs, facts), origin: "environment" });
  for (const s of def.secrets) if (!omitted.has(s.name)) out.set(s.name, { value: secretValue(s.valueFrom, subs), origin: "secret" });
  for (const e of extrasFor(def, subs)) out.set(e.name, { value: e.value, origin: "extra" });
  return out;
}

/** The environment a container's local process gets. */
export function launchEnvOf(def: ContainerDefinition, subs: Substitutions, facts?: ImageFacts): Record<string, string> {
  return Object.fromEntries([...expectedEnv(def, subs, facts)].map(([k, v]) => [k, v.value]));
}

/** A difference no documented substitution explains. */
export interface EnvDifference {
  readonly name: string;
  readonly kind: "added" | "removed" | "changed";
  readonly expected?: string;
  readonly actual?: string;
  /** The task definition's own value (before substitutions), when it has one. */
  readonly defined?: string;
}

/**
 * Every difference between a launched environment and the container definition that the documented
 * substitutions do not explain (empty when the launch is faithful). Reference placeholders left
 * unresolved are reported too: a launch must not carry `<aws_…>` text.
 */
export function diff(launched: Readonly<Record<string, string>>, def: ContainerDefinition, subs: Substitutions, facts?: ImageFacts): EnvDifference[] {
  const expected = expectedEnv(def, subs, facts);
  const defined = new Map<string, string>([...def.environment.map((e): [string, string] => [e.name, e.value]), ...def.secrets.map((s): [string, string] => [s.name, s.valueFrom])]);
  const out: EnvDifference[] = [];
  for (const [name, { value }] of expected) {
    if (!(name in launched)) out.push({ name, kind: "removed", expected: value, ...(defined.has(name) ? { defined: defined.get(name)! } : {}) });
    else if (launched[name] !== value) out.push({ name, kind: "changed", expected: value, actual: launched[name]!, ...(defined.has(name) ? { defined: defined.get(name)! } : {}) });
  }
  for (const [name, value] of Object.entries(launched)) {
    if (!expected.has(name)) out.push({ name, kind: "added", actual: value });
    else if (new RegExp(PLACEHOLDER_RE.source).test(value)) out.push({ name, kind: "changed", actual: value, expected: "(a value for every <reference>: add it to substitutions.references)" });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Placeholders still unresolved in an environment (name → placeholders). */
export function unresolvedIn(env: Readonly<Record<string, string>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(env)) {
    const hits = [...v.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!);
    if (hits.length > 0) out[k] = hits;
  }
  return out;
}
