/**
 * `pnpm bench`: prints the repository's performance figures next to their goals. It measures and
 * prints; it asserts nothing and exits 0 (a failed measurement is reported as "error").
 *
 *   1. `pnpm synth` (the fast path, scripts/synth.ts), with its format cache warm and with none,
 *      against `cdktf synth --hcl` running the app the old way (`--app "node --import tsx
 *      stacks/main.ts"`), in turn (A A' B A A' B …), ratio per round.
 *   2. The app alone: the precompiled app in plain Node (`node .gen/synth.mjs --app`) against the
 *      same app under tsx (`node --import tsx stacks/main.ts`), in turn, ratio per pair.
 *   3. Growth: bench/synth-envs.ts with 3, 12 and 24 generated environments (precompiled, plain
 *      Node); seconds per added environment (least squares) and peak RSS at 24.
 *   4. The provisioning figures from bench/provisioning.ts (init times under Node 22).
 *   5. `pnpm test:unit`, whole runs (BENCH_TEST_UNIT_RUNS, default 3).
 *
 * See bench/README.md for what each figure means and how it is measured.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const APP_PAIRS = 5;
const SYNTH_PAIRS = 3;
const ENV_COUNTS = [3, 12, 24] as const;
const ENV_RUNS = 3;
const TEST_UNIT_RUNS = Number(process.env.BENCH_TEST_UNIT_RUNS ?? 3);
const TIME = "/usr/bin/time";
const HAS_TIME = existsSync(TIME) && spawnSync(TIME, ["-v", "true"], { stdio: "ignore" }).status === 0;
const CHILD_ENV = { ...process.env, CHECKPOINT_DISABLE: "1", FORCE_COLOR: "0" };

interface Goal {
  readonly text: string;
  readonly ok: (v: number) => boolean;
}
const atMost = (limit: number, unit: string): Goal => ({ text: `≤ ${limit} ${unit}`.trim(), ok: (v) => v <= limit });
const ratioAtMost = (limit: number): Goal => ({ text: `≤ ${limit}×`, ok: (v) => v <= limit });
const equals = (want: number): Goal => ({ text: `= ${want}`, ok: (v) => v === want });

interface Row {
  readonly figure: string;
  /** Samples; one sample means a single figure (min/max shown as "-"). Empty means it failed. */
  readonly values: readonly number[];
  readonly unit: string;
  readonly goal?: Goal;
  readonly note?: string;
}
const rows: Row[] = [];
const section = (title: string) => rows.push({ figure: `# ${title}`, values: [], unit: "" });

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Measured {
  readonly ok: boolean;
  readonly wallMs: number;
  /** Peak RSS in MB (from /usr/bin/time -v: the largest process in the tree), if known. */
  readonly rssMB?: number;
  readonly stdout: string;
  readonly detail: string;
}

/** Runs a command, under `/usr/bin/time -v` when present, and times it from this process. */
function measure(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Measured {
  const [file, argv] = HAS_TIME ? [TIME, ["-v", cmd, ...args]] : [cmd, [...args]];
  const t0 = performance.now();
  const r = spawnSync(file, argv, { cwd: ROOT, env: { ...CHILD_ENV, ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - t0;
  const m = HAS_TIME ? /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? "") : null;
  const ok = r.status === 0;
  const detail = ok ? "" : `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout || String(r.error ?? "")).trim().split("\n").slice(-8).join("\n")}`;
  return { ok, wallMs, rssMB: m ? Number(m[1]) / 1024 : undefined, stdout: r.stdout ?? "", detail };
}

// ---------------------------------------------------------------------------------------------
// Side-by-side rounds: the commands in turn (A B A B …, or A A' B …), so a drift in the machine's
// speed hits all alike; the last command is the yardstick B.
interface Rounds {
  /** Each command's successful runs, in the order given. */
  readonly runs: Measured[][];
  /** For each command but the last: its wall time over B's, round by round (both succeeded). */
  readonly ratios: number[][];
}

function rounds(count: number, warmup: number, commands: readonly ((tmp: string) => Measured)[], label: string, check?: (tmpA: string, tmpB: string) => void): Rounds {
  const out: Rounds = { runs: commands.map(() => []), ratios: commands.slice(1).map(() => []) };
  const last = commands.length - 1;
  for (let i = 0; i < warmup + count; i++) {
    const tmps = commands.map(() => mkdtempSync(join(tmpdir(), "bench-")));
    try {
      const rs = commands.map((run, c) => run(tmps[c]!));
      rs.forEach((r, c) => r.ok || log(`${label} command ${c + 1} run ${i} failed: ${r.detail}`));
      if (i === 0 && rs[0]!.ok && rs[last]!.ok) check?.(tmps[0]!, tmps[last]!);
      if (i < warmup) continue;
      rs.forEach((r, c) => r.ok && out.runs[c]!.push(r));
      for (let c = 0; c < last; c++) if (rs[c]!.ok && rs[last]!.ok) out.ratios[c]!.push(rs[c]!.wallMs / rs[last]!.wallMs);
    } finally {
      for (const t of tmps) rmSync(t, { recursive: true, force: true });
    }
  }
  return out;
}

const seconds = (ms: readonly Measured[]) => ms.map((m) => m.wallMs / 1000);
const rssOf = (ms: readonly Measured[]) => ms.flatMap((m) => (m.rssMB === undefined ? [] : [m.rssMB]));

/** Every file under `dir`, relative path → bytes. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

let identical = "not compared";

// ---------------------------------------------------------------------------------------------
// 1. `pnpm synth` against the CLI running the app under tsx, as `pnpm synth` did before.
const OLD_APP = "node --import tsx stacks/main.ts";

function pnpmSynthVsCli(): void {
  section(
    `\`pnpm synth --output <tmp>\` (A: format cache warm), \`pnpm synth --no-format-cache …\` (A': every stack formatted) vs ` +
      `\`npx cdktf synth --hcl --output <tmp> --app "${OLD_APP}"\` (B), in turn, 1 warm-up + ${SYNTH_PAIRS} rounds`,
  );
  const r = rounds(
    SYNTH_PAIRS,
    1,
    [
      (tmp) => measure("pnpm", ["synth", "--output", join(tmp, "out")]),
      (tmp) => measure("pnpm", ["synth", "--no-format-cache", "--output", join(tmp, "out")]),
      (tmp) => measure("npx", ["cdktf", "synth", "--hcl", "--output", join(tmp, "out"), "--app", OLD_APP]),
    ],
    "synth",
    (tmpA, tmpB) => {
      const a = tree(join(tmpA, "out"));
      const b = tree(join(tmpB, "out"));
      const differing = [...new Set([...a.keys(), ...b.keys()])].filter((f) => !a.get(f) || !b.get(f) || !a.get(f)!.equals(b.get(f)!));
      identical = differing.length === 0 ? `yes (${a.size} files)` : `NO: ${differing.slice(0, 5).join(", ")}${differing.length > 5 ? ", …" : ""}`;
    },
  );
  const [warm, cold, cli] = r.runs as [Measured[], Measured[], Measured[]];
  rows.push({ figure: "pnpm synth / npx cdktf synth --hcl (tsx app)", values: r.ratios[0]!, unit: "×", goal: ratioAtMost(0.3), note: "wall time ratio per round; stacks unchanged since the last synth (format cache warm)" });
  rows.push({ figure: "pnpm synth --no-format-cache / npx cdktf …", values: r.ratios[1]!, unit: "×", goal: ratioAtMost(0.3), note: "every stack through the formatter (as after a change to every stack)" });
  rows.push({ figure: "  pnpm synth wall time", values: seconds(warm), unit: "s" });
  rows.push({ figure: "  pnpm synth --no-format-cache wall time", values: seconds(cold), unit: "s" });
  rows.push({ figure: "  npx cdktf synth --hcl (tsx app) wall time", values: seconds(cli), unit: "s" });
  if (HAS_TIME) {
    rows.push({ figure: "  pnpm synth peak RSS (largest process)", values: rssOf(warm), unit: "MB", note: "no goal" });
    rows.push({ figure: "  pnpm synth --no-format-cache peak RSS", values: rssOf(cold), unit: "MB", note: "no goal" });
    rows.push({ figure: "  cdktf synth peak RSS (largest process)", values: rssOf(cli), unit: "MB", note: "no goal" });
  }
  rows.push({ figure: "  same files, byte for byte", values: [identical.startsWith("yes") ? 1 : 0], unit: "", goal: equals(1), note: identical });
}

// ---------------------------------------------------------------------------------------------
// 2. The app alone (no CLI, no format pass): precompiled in plain Node against tsx.
function appOnlyVsTsx(): void {
  section(`app only: \`node .gen/synth.mjs --app\` (A) vs \`${OLD_APP}\` (B), HCL into <tmp>, 1 warm-up + ${APP_PAIRS} pairs`);
  const env = (tmp: string) => ({ CDKTF_OUTDIR: tmp, SYNTH_HCL_OUTPUT: "true", CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true" });
  // The launcher as package.json builds it (the app bundle itself is built or reused by the launcher).
  const launcher = spawnSync("pnpm", ["exec", "esbuild", ...SYNTH_LAUNCHER_ARGS], { cwd: ROOT, encoding: "utf8" });
  if (launcher.status !== 0) log(`building .gen/synth.mjs failed: ${launcher.stderr}`);
  const r = rounds(
    APP_PAIRS,
    1,
    [
      (tmp) => measure(process.execPath, [join(".gen", "synth.mjs"), "--app"], env(tmp)),
      (tmp) => measure(process.execPath, ["--import", "tsx", join("stacks", "main.ts")], env(tmp)),
    ],
    "app-only",
  );
  const [fast, tsx] = r.runs as [Measured[], Measured[]];
  rows.push({ figure: "app only: precompiled / tsx", values: r.ratios[0]!, unit: "×", goal: ratioAtMost(0.5), note: "wall time ratio per pair" });
  rows.push({ figure: "  precompiled (plain node) wall time", values: seconds(fast), unit: "s" });
  rows.push({ figure: "  tsx wall time", values: seconds(tsx), unit: "s" });
  rows.push({ figure: "  precompiled peak RSS", values: rssOf(fast), unit: "MB", goal: atMost(300, "MB") });
  rows.push({ figure: "  tsx peak RSS", values: rssOf(tsx), unit: "MB", note: "no goal" });
}

/** The esbuild arguments of package.json's `synth` script (the launcher, scripts/synth.ts → .gen/synth.mjs). */
const SYNTH_LAUNCHER_ARGS = (() => {
  const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.synth ?? "";
  const m = /^esbuild (.*?) &&/.exec(script);
  return m ? m[1]!.split(" ") : ["scripts/synth.ts", "--bundle", "--platform=node", "--format=esm", "--packages=external", "--outfile=.gen/synth.mjs"];
})();

// ---------------------------------------------------------------------------------------------
// 3. Growth per added environment: bench/synth-envs.ts, precompiled, with 3, 12 and 24 envs.
async function growth(): Promise<void> {
  section(`growth: bench/synth-envs.ts precompiled, plain node, ${ENV_COUNTS.join(" / ")} generated envs, ${ENV_RUNS} rounds`);
  let file: string;
  try {
    const { buildAppBundle } = await import("../lib/app-build.js");
    file = (await buildAppBundle({ entry: "bench/synth-envs.ts" })).file;
  } catch (err) {
    log(`building bench/synth-envs.ts failed: ${(err as Error).stack ?? err}`);
    rows.push({ figure: "growth", values: [], unit: "", note: "error (see stderr)" });
    return;
  }
  const wall = new Map<number, number[]>(ENV_COUNTS.map((n) => [n, []]));
  const rss = new Map<number, number[]>(ENV_COUNTS.map((n) => [n, []]));
  // Round-robin over the env counts, so a drift in the machine's speed hits every count alike.
  for (let round = 0; round < 1 + ENV_RUNS; round++) {
    for (const n of ENV_COUNTS) {
      const tmp = mkdtempSync(join(tmpdir(), "bench-envs-"));
      try {
        const r = measure(process.execPath, [file, String(n), join(tmp, "out")]);
        if (!r.ok) {
          log(`synth-envs ${n} failed: ${r.detail}`);
          continue;
        }
        if (round === 0) continue; // warm-up round
        wall.get(n)!.push(r.wallMs / 1000);
        const child = JSON.parse(r.stdout.trim().split("\n").pop()!) as { maxRssKB: number };
        rss.get(n)!.push(r.rssMB ?? child.maxRssKB / 1024);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
  for (const n of ENV_COUNTS) rows.push({ figure: `  ${n} envs wall time`, values: wall.get(n)!, unit: "s" });
  // Least-squares slope through the medians: seconds per added environment.
  const points = ENV_COUNTS.filter((n) => wall.get(n)!.length).map((n) => [n, median(wall.get(n)!)] as const);
  const slope = (() => {
    if (points.length < 2) return [];
    const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
    const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
    const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
    const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
    return [num / den];
  })();
  rows.push({ figure: "per added environment", values: slope, unit: "s", goal: atMost(0.08, "s"), note: "least-squares slope of the medians" });
  const top = ENV_COUNTS[ENV_COUNTS.length - 1]!;
  rows.push({ figure: `peak RSS at ${top} envs`, values: rss.get(top)!, unit: "MB", goal: atMost(300, "MB"), note: HAS_TIME ? "/usr/bin/time -v" : "process.resourceUsage().maxRSS" });
}

// ---------------------------------------------------------------------------------------------
// 3. Provisioning worker figures (bench/provisioning.ts; single figures, init times are medians of 5).
function provisioningGoal(key: string): Goal | undefined {
  if (/^(producer|worker|reconciler)\.bundleKB$/.test(key)) return atMost(250, "KB");
  if (/^(producer|worker|reconciler)\.initMs$/.test(key)) return atMost(150, "ms");
  if (/^drain\.parallel\d+\.wallMs$/.test(key)) return atMost(10000, "ms");
  if (/\.scimCallsPerUser$/.test(key)) return atMost(1.05, "");
  if (/\.provisioned$/.test(key)) return equals(1000);
  if (/\.(lost|dlq)$/.test(key)) return equals(0);
  return undefined;
}
const provisioningUnit = (key: string) => (/KB$/.test(key) ? "KB" : /[mM]s$/.test(key) ? "ms" : "");

async function provisioning(): Promise<void> {
  section("provisioning (bench/provisioning.ts: 1,000 sign-ups through SQS fake → worker → SCIM fake)");
  try {
    const { runProvisioningBench } = await import("./provisioning.js");
    const figures = await runProvisioningBench();
    for (const [key, v] of Object.entries(figures)) {
      const n = typeof v === "number" ? v : Number(v);
      rows.push({
        figure: key,
        values: Number.isFinite(n) ? [n] : [],
        unit: provisioningUnit(key),
        goal: provisioningGoal(key),
        note: key.includes("sdkBundled") ? "comparison only (SDK bundled in)" : undefined,
      });
    }
  } catch (err) {
    log(`provisioning bench failed: ${(err as Error).stack ?? err}`);
    rows.push({ figure: "provisioning bench", values: [], unit: "", note: "error (see stderr)" });
  }
}

// ---------------------------------------------------------------------------------------------
// 5. `pnpm test:unit` (the vitest run: unit and function tests, both cores), several whole runs.
function testUnit(): void {
  section(`\`pnpm test:unit\`, ${TEST_UNIT_RUNS} runs (BENCH_TEST_UNIT_RUNS; 0 skips)`);
  const runs: Measured[] = [];
  for (let i = 0; i < TEST_UNIT_RUNS; i++) {
    const r = measure("pnpm", ["test:unit"]);
    if (r.ok) runs.push(r);
    else log(`pnpm test:unit run ${i} failed: ${r.detail}`);
  }
  rows.push({ figure: "pnpm test:unit wall time", values: seconds(runs), unit: "s", goal: atMost(60, "s"), note: "2 vitest workers; no type-check (pnpm typecheck)" });
}

// ---------------------------------------------------------------------------------------------
function fmt(v: number, unit: string): string {
  const digits = unit === "s" ? 2 : unit === "MB" || unit === "KB" ? 1 : Number.isInteger(v) ? 0 : Math.abs(v) < 10 ? 3 : 1;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
}

function print(): void {
  const header = ["figure", "n", "median", "min", "max", "goal", "within goal", "note"];
  const table: string[][] = [];
  const sections = new Set<number>();
  for (const r of rows) {
    if (r.figure.startsWith("# ")) {
      sections.add(table.length);
      table.push([r.figure.slice(2)]);
      continue;
    }
    if (r.values.length === 0) {
      table.push([r.figure, "0", "error", "-", "-", r.goal?.text ?? "-", r.goal ? "no" : "-", r.note ?? ""]);
      continue;
    }
    const med = median(r.values);
    const single = r.values.length === 1;
    table.push([
      r.figure,
      String(r.values.length),
      fmt(med, r.unit),
      single ? "-" : fmt(Math.min(...r.values), r.unit),
      single ? "-" : fmt(Math.max(...r.values), r.unit),
      r.goal?.text ?? "-",
      r.goal ? (r.goal.ok(med) ? "yes" : "NO") : "-",
      r.note ?? "",
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.filter((_, j) => !sections.has(j)).map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 || i >= 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const out: string[] = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  table.forEach((row, j) => out.push(sections.has(j) ? `\n${row[0]}` : line(row)));
  process.stdout.write(`${out.join("\n")}\n`);
}

/** What was measured: the commit, and whether the app's sources had uncommitted changes. */
function revision(): string {
  const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--", "stacks", "modules", "lib", "envs", "functions", "package.json", "pnpm-lock.yaml");
  return dirty ? `${head} + uncommitted changes in ${dirty.split("\n").length} app file(s)` : head;
}

const cpuList = cpus();
process.stdout.write(
  `bench: node ${process.version}, ${cpuList.length} CPU(s) (${cpuList[0]?.model.trim() ?? "unknown"}), ${process.platform}/${process.arch}; ` +
    `peak RSS via ${HAS_TIME ? "/usr/bin/time -v" : "process.resourceUsage().maxRSS"}\n` +
    `tree: ${revision()}; load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n` +
    `Goals are compared against the median. Figures only: nothing is asserted.\n\n`,
);
const t0 = performance.now();
log("pnpm synth vs cdktf synth --hcl…");
pnpmSynthVsCli();
log("app only, fast vs tsx…");
appOnlyVsTsx();
log("growth per environment…");
await growth();
log("provisioning…");
await provisioning();
if (TEST_UNIT_RUNS > 0) {
  log("pnpm test:unit…");
  testUnit();
}
print();
process.stdout.write(`\nbench total: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
process.exit(0);
