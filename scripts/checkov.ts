/**
 * `pnpm checkov`: checkov (the pin in e2e/lock/components.json, installed by `pnpm e2e:install`)
 * over the Terraform JSON of every stack the app synthesizes, and over the seeded fixture
 * (test/fixtures/checkov-seeded-stack.ts) that proves which checks checkov really enforces.
 *
 *   pnpm checkov               # every stack, then the seeded fixture
 *   pnpm checkov --stacks      # the stacks only
 *   pnpm checkov --seeded      # the seeded fixture only
 *   pnpm checkov --json out.json   # also write every finding as JSON
 *
 * Stacks are synthesized in-process (JSON, `hclOutput: false`) into a temp dir; checkov runs once per
 * stack (`-f <stack>/cdk.tf.json --framework terraform_json`; the `terraform` framework on the HCL
 * `pnpm synth` writes reports the same checks and counts), several at a time.
 *
 * Failures are compared with policy/checkov-suppressions.json, keyed by stack, check id and Terraform
 * address. It fails (exit 1) on: a failure no suppression covers, a suppression that matches no
 * failure (stale), a result checkov skipped on its own (inline skips are not allowed: the file is
 * the one place), a parsing error, and a seed checkov judged other than the fixture says. Exit 2
 * when checkov cannot run at all.
 *
 * Output (stdout), in order:
 *   UNSUPPRESSED <stack> <check> <address>: <check name>
 *   STALE <stack> <check> <address>: suppressions[i] matches no failure
 *   SEED <check> <address>: expected <fail|blind|noise>, checkov said <FAILED|PASSED|nothing>
 *   checkov <stack>: N passed, N failed, N suppressed            (one per stack; failed = unsuppressed)
 *   checkov seeded: N of N seeds as expected (N caught, N blind, N noise)
 *   checkov took Ns (synth Ns, checkov Ns over N stacks)
 *   checkov: N passed, N failed                                  (last line: passed = checks passed over the
 *                                                                 stacks + seeds as expected; failed = every line above
 *                                                                 that starts UNSUPPRESSED, STALE, SKIPPED, PARSE or SEED)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { buildApp } from "../stacks/app.js";
import { buildSeededApp, SEEDED_STACK, SEEDS } from "../test/fixtures/checkov-seeded-stack.js";
import { type CheckovReport, type CheckovResult, compare, type Finding, readSuppressions, ROOT, SUPPRESSIONS_PATH, terraformAddress } from "./checkov-lib.js";

const args = process.argv.slice(2);
const only = args.includes("--seeded") ? "seeded" : args.includes("--stacks") ? "stacks" : "all";
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
for (const a of args) if (!["--seeded", "--stacks", "--json", jsonOut].includes(a)) usage(`unknown argument ${a}`);

function usage(problem: string): never {
  console.error(`checkov: ${problem}\nusage: pnpm checkov [--stacks | --seeded] [--json <file>]`);
  console.log("checkov: 0 passed, 1 failed");
  process.exit(2);
}

/** The pinned checkov, from the e2e installer's manifest (or $CHECKOV_BIN). */
function checkovBinary(): { bin: string; version: string } {
  const pinned = (JSON.parse(readFileSync(join(ROOT, "e2e/lock/components.json"), "utf8")) as { python: { checkov: { version: string } } }).python.checkov.version;
  let bin = process.env.CHECKOV_BIN;
  if (!bin) {
    const manifest = join(process.env.OWUI_E2E_CACHE ?? join(homedir(), ".cache/owui-e2e"), "manifest.json");
    if (!existsSync(manifest)) usage(`${manifest} is missing. Fix: pnpm e2e:install (installs checkov ${pinned}), or set CHECKOV_BIN`);
    bin = (JSON.parse(readFileSync(manifest, "utf8")) as { components?: { checkov?: { bin?: { checkov?: string } } } }).components?.checkov?.bin?.checkov;
    if (!bin || !existsSync(bin)) usage(`${manifest} names no checkov binary. Fix: pnpm e2e:install`);
  }
  return { bin, version: pinned };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, argv: string[], cwd: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "ERROR", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: "false" };
  // Never talk to the vendor's platform, whatever the caller's environment holds.
  for (const k of Object.keys(env)) if (/^(BC_|PRISMA_|CKV_)/.test(k)) delete env[k];
  return new Promise((done, fail) => {
    const child = spawn(bin, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

async function pool<T, R>(items: readonly T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

/** Synthesizes an app into `outdir` with SYNTH_HCL_OUTPUT unset; returns stack name → cdk.tf.json path. */
function synth(app: { synth(): void }, outdir: string): Map<string, string> {
  const saved = process.env.SYNTH_HCL_OUTPUT;
  delete process.env.SYNTH_HCL_OUTPUT;
  try {
    app.synth();
  } finally {
    if (saved !== undefined) process.env.SYNTH_HCL_OUTPUT = saved;
  }
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, { synthesizedStackPath: string }> };
  return new Map(Object.entries(manifest.stacks).map(([name, s]) => [name, join(outdir, s.synthesizedStackPath)]));
}

/** One stack's results: every check result with its Terraform address. */
interface StackResults {
  stack: string;
  results: { check: string; name: string; address: string; result: CheckovResult["check_result"]["result"] }[];
  parsingErrors: number;
}

async function scan(bin: string, stack: string, file: string): Promise<StackResults> {
  const r = await run(bin, ["-f", file, "--framework", "terraform_json", "-o", "json", "--compact", "--skip-download"], dirname(file));
  if (r.code !== 0 && r.code !== 1) throw new Error(`checkov exited ${r.code} on ${stack}:\n${r.stderr.slice(-2000)}`);
  let parsed: CheckovReport | CheckovReport[];
  try {
    parsed = JSON.parse(r.stdout) as CheckovReport | CheckovReport[];
  } catch {
    throw new Error(`checkov wrote no JSON report for ${stack}:\n${r.stdout.slice(0, 500)}\n${r.stderr.slice(-2000)}`);
  }
  const reports = (Array.isArray(parsed) ? parsed : [parsed]).filter((p) => p.results);
  const text = readFileSync(file, "utf8");
  const tf = JSON.parse(text) as Parameters<typeof terraformAddress>[1];
  const lines = text.split("\n");
  const results: StackResults["results"] = [];
  let parsingErrors = 0;
  for (const rep of reports) {
    if (rep.check_type !== "terraform_json") throw new Error(`unexpected checkov framework ${rep.check_type} on ${stack}`);
    parsingErrors += rep.summary.parsing_errors;
    for (const c of [...(rep.results.failed_checks ?? []), ...(rep.results.passed_checks ?? []), ...(rep.results.skipped_checks ?? [])]) {
      results.push({ check: c.check_id, name: c.check_name, address: terraformAddress(c, tf, lines), result: c.check_result.result });
    }
  }
  return { stack, results, parsingErrors };
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const { bin, version } = checkovBinary();
  const v = await run(bin, ["--version"], tmpdir());
  if (v.stdout.trim() !== version) usage(`${bin} is checkov ${v.stdout.trim() || "(no version)"}, the pin is ${version}. Fix: pnpm e2e:install`);
  const suppressions = readSuppressions();
  if (suppressions.checkov !== version) usage(`${SUPPRESSIONS_PATH} was written for checkov ${suppressions.checkov}, the pin is ${version}. Fix: re-run and review every suppression, then update "checkov"`);

  const outdir = mkdtempSync(join(tmpdir(), "owui-checkov-"));
  try {
    const files = new Map<string, string>();
    if (only !== "seeded") for (const [k, f] of synth(buildApp({ outdir: join(outdir, "app"), hclOutput: false }), join(outdir, "app"))) files.set(k, f);
    if (only !== "stacks") for (const [k, f] of synth(buildSeededApp({ outdir: join(outdir, "seeded") }), join(outdir, "seeded"))) files.set(`seeded:${k}`, f);
    const tSynth = performance.now();

    const scanned = await pool([...files], Math.max(2, availableParallelism()), ([stack, file]) => scan(bin, stack, file));
    const tScan = performance.now();

    let problems = 0;
    let passed = 0;
    const lines: string[] = [];
    const stackResults = scanned.filter((s) => !s.stack.startsWith("seeded:"));
    const report: Record<string, unknown> = { checkov: version };

    if (only !== "seeded") {
      const failures: Finding[] = stackResults.flatMap((s) => s.results.filter((r) => r.result === "FAILED").map((r) => ({ stack: s.stack, check: r.check, name: r.name, address: r.address })));
      const cmp = compare(failures, suppressions);
      for (const f of cmp.unsuppressed) lines.push(`UNSUPPRESSED ${f.stack} ${f.check} ${f.address}: ${f.name}`);
      for (const s of cmp.stale) lines.push(`STALE ${s.stack} ${s.check} ${s.address}: suppressions[${s.index}] matches no failure. Fix: drop this stack or address from that entry in ${SUPPRESSIONS_PATH}`);
      for (const s of stackResults) {
        for (const r of s.results.filter((x) => x.result === "SKIPPED")) lines.push(`SKIPPED ${s.stack} ${r.check} ${r.address}: skipped outside ${SUPPRESSIONS_PATH}. Fix: remove the inline skip and suppress it in the file with a reason`);
        if (s.parsingErrors) lines.push(`PARSE ${s.stack}: checkov could not parse ${s.parsingErrors} file(s)`);
      }
      problems += cmp.unsuppressed.length + cmp.stale.length + stackResults.reduce((n, s) => n + s.results.filter((x) => x.result === "SKIPPED").length + s.parsingErrors, 0);
      for (const s of [...stackResults].sort((a, b) => a.stack.localeCompare(b.stack))) {
        const p = s.results.filter((r) => r.result === "PASSED").length;
        const un = cmp.unsuppressed.filter((f) => f.stack === s.stack).length;
        const sup = cmp.suppressed.filter((f) => f.stack === s.stack).length;
        passed += p;
        lines.push(`checkov ${s.stack}: ${p} passed, ${un} failed, ${sup} suppressed`);
      }
      report.stacks = Object.fromEntries(stackResults.map((s) => [s.stack, s.results]));
      report.unsuppressed = cmp.unsuppressed;
      report.stale = cmp.stale;
    }

    if (only !== "stacks") {
      const seeded = scanned.find((s) => s.stack === `seeded:${SEEDED_STACK}`)!;
      const verdict = new Map(seeded.results.map((r) => [`${r.check} ${r.address}`, r.result]));
      const seedLines: string[] = [];
      const counts = { fail: 0, blind: 0, noise: 0 };
      for (const s of SEEDS) {
        const got = verdict.get(`${s.check} ${s.address}`);
        const ok = s.expect === "blind" ? got !== "FAILED" : got === "FAILED";
        if (ok) counts[s.expect]++;
        else seedLines.push(`SEED ${s.check} ${s.address}: expected ${s.expect}, checkov said ${got ?? "nothing"}. Fix: ${s.expect === "blind" ? "checkov now catches it: make the seed \"fail\" and drop the duplicate project rule" : "checkov no longer catches it: make the seed \"blind\" and give the rule to modules/policy"}`);
      }
      // A check relied upon must also be able to pass: seen PASSED on some resource of a real stack or the fixture.
      if (only === "all") {
        const passedSomewhere = new Set(scanned.flatMap((s) => s.results.filter((r) => r.result === "PASSED").map((r) => r.check)));
        for (const check of new Set(SEEDS.filter((s) => s.expect === "fail").map((s) => s.check))) {
          if (!passedSomewhere.has(check)) seedLines.push(`SEED ${check}: never passes on any resource, so a failure of it proves nothing. Fix: add a compliant twin to the fixture, or make its seeds "noise"`);
        }
      }
      lines.unshift(...seedLines);
      problems += seedLines.length;
      const ok = counts.fail + counts.blind + counts.noise;
      passed += ok;
      lines.push(`checkov seeded: ${ok} of ${SEEDS.length} seeds as expected (${counts.fail} caught, ${counts.blind} blind, ${counts.noise} noise)`);
      report.seeds = SEEDS.map((s) => ({ ...s, got: verdict.get(`${s.check} ${s.address}`) ?? null }));
    }

    const t1 = performance.now();
    const secs = (ms: number) => (ms / 1000).toFixed(1);
    lines.push(`checkov took ${secs(t1 - t0)}s (synth ${secs(tSynth - t0)}s, checkov ${secs(tScan - tSynth)}s over ${files.size} stacks)`);
    lines.push(`checkov: ${passed} passed, ${problems} failed`);
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2) + "\n");
    console.log(lines.join("\n"));
    return problems === 0 ? 0 : 1;
  } finally {
    if (!process.env.CHECKOV_KEEP_OUTDIR) rmSync(outdir, { recursive: true, force: true });
    else console.error(`checkov: kept ${outdir}`);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`checkov: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    console.log("checkov: 0 passed, 1 failed");
    process.exit(2);
  },
);
