/**
 * The deploy pipeline's stack lists, read from the synthesized manifest (cdktf.out/manifest.json),
 * never kept by hand: which stacks a pull request plans, and, per apply job of deploy.yml, which
 * stacks it applies in which order.
 *
 *   pnpm exec tsx .github/scripts/stacks.ts --groups account,sandbox,nonprod,prod [--outdir cdktf.out]
 *
 * prints the lists and, under GitHub Actions, writes `plan` and `apply` (JSON) to $GITHUB_OUTPUT.
 * It fails when a stack belongs to no group (an env added to envs/ without an apply job), when a
 * group has no stack, or when a stack keeps remote state without `state.profile` (CI's AWS
 * credentials would then be sent to the state store; the pipeline writes the store's own
 * credentials into that profile).
 *
 * `bootstrap` is never planned or applied by CI: it holds the roles CI assumes (a role that could
 * rewrite its own trust would be an administrator) and the OIDC provider CI needs to sign in at all,
 * and the CI policies cover every stack but it (modules/bootstrap/generate-stack-types.ts).
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ManifestStack {
  readonly name: string;
  readonly dependencies: readonly string[];
  readonly workingDirectory: string;
}

/** Stacks CI never touches (see the header). */
export const NOT_IN_CI = ["bootstrap"] as const;

/**
 * Within one group, stacks apply in the order of the manifest's dependencies; between stacks that
 * are both ready, by their role: the certificate, then the Cloudflare records that validate it,
 * then the env (whose certificate validation waits for those records), then the env's DNS record.
 */
const ROLE_ORDER = ["-certificate", "-dns-validation", "", "-dns"];

function roleRank(group: string, stack: string): number {
  const suffix = stack.slice(group.length);
  const i = ROLE_ORDER.indexOf(suffix);
  return i === -1 ? ROLE_ORDER.length : i;
}

/** The group a stack belongs to: `account` for `account-*`, else the longest env name it is or starts with. */
export function groupOf(stack: string, groups: readonly string[]): string | undefined {
  return groups
    .filter((g) => stack === g || stack.startsWith(`${g}-`))
    .sort((a, b) => b.length - a.length)[0];
}

/** Orders stacks so each follows its dependencies (ties by role, then name); throws on a cycle. */
export function applyOrder(group: string, stacks: readonly ManifestStack[]): string[] {
  const names = new Set(stacks.map((s) => s.name));
  const done: string[] = [];
  const left = [...stacks];
  while (left.length > 0) {
    const ready = left
      .filter((s) => s.dependencies.every((d) => !names.has(d) || done.includes(d)))
      .sort((a, b) => roleRank(group, a.name) - roleRank(group, b.name) || a.name.localeCompare(b.name));
    if (ready.length === 0) throw new Error(`stacks ${left.map((s) => s.name).join(", ")} depend on each other in a cycle`);
    done.push(ready[0]!.name);
    left.splice(left.indexOf(ready[0]!), 1);
  }
  return done;
}

export interface Pipeline {
  /** Every stack a pull request plans (all but bootstrap). */
  readonly plan: string[];
  /** Per group (an apply job and GitHub environment), its stacks in apply order. */
  readonly apply: Record<string, string[]>;
}

/** The plan list and the apply groups; throws naming every stack or group that does not fit. */
export function pipelineOf(stacks: readonly ManifestStack[], groups: readonly string[]): Pipeline {
  const problems: string[] = [];
  const ci = stacks.filter((s) => !(NOT_IN_CI as readonly string[]).includes(s.name));
  const byGroup = new Map<string, ManifestStack[]>(groups.map((g) => [g, []]));
  for (const s of ci) {
    const g = groupOf(s.name, groups);
    if (g) byGroup.get(g)!.push(s);
    else problems.push(`stack "${s.name}" belongs to no apply job (groups: ${groups.join(", ")}). Fix: add a job for it to .github/workflows/deploy.yml and its name to --groups there, and the environment to envs/bootstrap.ts github.deployEnvironments`);
  }
  for (const [g, list] of byGroup) {
    if (list.length === 0) problems.push(`group "${g}" has no stack in the manifest. Fix: remove its job from .github/workflows/deploy.yml, or check the env's name`);
  }
  // A group must not apply a stack before one it depends on in an earlier group… or in a later one.
  const position = new Map(ci.map((s) => [s.name, groups.indexOf(groupOf(s.name, groups) ?? "")]));
  for (const s of ci) {
    for (const d of s.dependencies) {
      if ((position.get(d) ?? -1) > (position.get(s.name) ?? -1)) problems.push(`stack "${s.name}" depends on "${d}", which a later job applies. Fix: reorder the jobs in .github/workflows/deploy.yml`);
    }
  }
  if (problems.length > 0) throw new Error(`the deploy pipeline does not fit the synthesized stacks:\n  - ${problems.join("\n  - ")}`);
  return {
    plan: ci.map((s) => s.name).sort(),
    apply: Object.fromEntries([...byGroup].map(([g, list]) => [g, applyOrder(g, list)])),
  };
}

/** The `profile` of a synthesized stack's S3 backend (HCL from `cdktf synth --hcl`, or JSON). */
export function stateProfileOf(synthesized: string): string | undefined | null {
  if (synthesized.trimStart().startsWith("{")) {
    const backend = (JSON.parse(synthesized) as { terraform?: { backend?: Record<string, { profile?: string }> } }).terraform?.backend;
    if (!backend) return null;
    return backend.s3?.profile;
  }
  const block = /^\s*backend "(\w+)" \{\n([\s\S]*?)\n\s{2}\}$/m.exec(synthesized);
  if (!block) return null;
  if (block[1] !== "s3") return null;
  return /^\s*profile\s*=\s*"([^"]+)"$/m.exec(block[2]!)?.[1];
}

export function readManifest(outdir: string): ManifestStack[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, ManifestStack> };
  return Object.values(manifest.stacks);
}

function main(argv: string[]): void {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const outdir = arg("--outdir") ?? "cdktf.out";
  const groups = (arg("--groups") ?? "").split(",").filter(Boolean);
  if (groups.length === 0) throw new Error("--groups is required: the apply jobs of .github/workflows/deploy.yml, in order");
  const stacks = readManifest(outdir);
  const pipeline = pipelineOf(stacks, groups);
  const missingProfile = pipeline.plan.filter((name) => {
    const dir = join(outdir, "stacks", name);
    const file = ["cdk.tf", "cdk.tf.json"].map((f) => join(dir, f)).find((f) => existsSync(f));
    return file !== undefined && stateProfileOf(readFileSync(file, "utf8")) === undefined;
  });
  if (missingProfile.length > 0) {
    throw new Error(
      `stacks ${missingProfile.join(", ")} keep remote state without state.profile, so Terraform would send the pipeline's AWS credentials to the state store. ` +
        `Fix: set state: { profile: "owui-state", … } in their env files (envs/<env>.ts, envs/accounts.ts); the pipeline writes the store's credentials into that profile`,
    );
  }
  console.log(`plan (pull requests): ${pipeline.plan.join(" ")}`);
  for (const [g, list] of Object.entries(pipeline.apply)) console.log(`apply ${g}: ${list.join(" → ")}`);
  if (process.env.GITHUB_OUTPUT) {
    appendFileSync(process.env.GITHUB_OUTPUT, `plan=${JSON.stringify(pipeline.plan)}\napply=${JSON.stringify(pipeline.apply)}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
