/**
 * `pnpm bench`: prints the repository's performance figures next to their goals. It measures and
 * prints; it asserts nothing and exits 0 (a failed measurement is reported as "error").
 *
 *   1. App-only synth: `buildApp({ outdir, hclOutput: true }).synth()` in a fresh Node process
 *      (bench/synth-app-only.ts), 1 warm-up + 5 measured runs; wall time and peak RSS.
 *   2. `pnpm synth` (`cdktf synth --hcl`, CHECKPOINT_DISABLE=1) into a temp dir, 3 runs; wall time.
 *   3. The provisioning worker figures from bench/provisioning.ts.
 *
 * See bench/README.md for what each figure means and how it is measured.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const APP_RUNS = 5;
const APP_WARMUP = 1;
const SYNTH_RUNS = 3;
const TIME = "/usr/bin/time";
const HAS_TIME = existsSync(TIME) && spawnSync(TIME, ["-v", "true"], { stdio: "ignore" }).status === 0;
const CHILD_ENV = { ...process.env, CHECKPOINT_DISABLE: "1", FORCE_COLOR: "0" };

interface Goal {
  readonly text: string;
  readonly ok: (v: number) => boolean;
}
const atMost = (limit: number, unit: string): Goal => ({ text: `≤ ${limit} ${unit}`.trim(), ok: (v) => v <= limit });
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
function measure(cmd: string, args: readonly string[]): Measured {
  const [file, argv] = HAS_TIME ? [TIME, ["-v", cmd, ...args]] : [cmd, [...args]];
  const t0 = performance.now();
  const r = spawnSync(file, argv, { cwd: ROOT, env: CHILD_ENV, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - t0;
  const m = HAS_TIME ? /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? "") : null;
  const ok = r.status === 0;
  const detail = ok ? "" : `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout || String(r.error ?? "")).trim().split("\n").slice(-8).join("\n")}`;
  return { ok, wallMs, rssMB: m ? Number(m[1]) / 1024 : undefined, stdout: r.stdout ?? "", detail };
}

// ---------------------------------------------------------------------------------------------
// 1. App-only synth, fresh process per run.
function appOnly(): void {
  section(`app-only synth (fresh \`node --import tsx\` process, ${APP_WARMUP} warm-up + ${APP_RUNS} runs)`);
  const wall: number[] = [];
  const rss: number[] = [];
  const phases: Record<string, number[]> = { startMs: [], importMs: [], constructMs: [], synthMs: [], execSyncMs: [], execSyncCalls: [] };
  for (let i = 0; i < APP_WARMUP + APP_RUNS; i++) {
    const tmp = mkdtempSync(join(tmpdir(), "bench-app-"));
    try {
      const r = measure(process.execPath, ["--import", "tsx", join("bench", "synth-app-only.ts"), join(tmp, "out")]);
      if (!r.ok) {
        log(`app-only run ${i} failed: ${r.detail}`);
        continue;
      }
      if (i < APP_WARMUP) continue;
      const child = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
      wall.push(r.wallMs);
      rss.push(r.rssMB ?? child.maxRssKB! / 1024);
      for (const k of Object.keys(phases)) phases[k]!.push(child[k]!);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  rows.push({ figure: "app-only synth wall time", values: wall.map((v) => v / 1000), unit: "s", goal: atMost(2, "s") });
  rows.push({
    figure: "app-only synth peak RSS",
    values: rss,
    unit: "MB",
    goal: atMost(300, "MB"),
    note: HAS_TIME ? "/usr/bin/time -v" : "process.resourceUsage().maxRSS",
  });
  rows.push({ figure: "  of which: node + tsx start", values: phases.startMs!, unit: "ms" });
  rows.push({ figure: "  of which: import stacks/app.ts", values: phases.importMs!, unit: "ms" });
  rows.push({ figure: "  of which: buildApp (construct)", values: phases.constructMs!, unit: "ms", note: "includes esbuild bundling" });
  rows.push({ figure: "  of which: app.synth()", values: phases.synthMs!, unit: "ms" });
  rows.push({
    figure: "    of which: asset zips",
    values: phases.execSyncMs!,
    unit: "ms",
    note: `cdktf TerraformAsset: 1 \`node\` child per asset (${median(phases.execSyncCalls!.length ? phases.execSyncCalls! : [0])} per synth)`,
  });
}

// ---------------------------------------------------------------------------------------------
// 2. `pnpm synth` into a temp output dir (the working tree's cdktf.out is left alone).
function pnpmSynth(): void {
  section(`\`pnpm synth\` (cdktf synth --hcl --output <tmp>, CHECKPOINT_DISABLE=1, ${SYNTH_RUNS} runs)`);
  const wall: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < SYNTH_RUNS; i++) {
    const tmp = mkdtempSync(join(tmpdir(), "bench-synth-"));
    try {
      const r = measure("pnpm", ["synth", "--output", join(tmp, "out")]);
      if (!r.ok || !existsSync(join(tmp, "out", "manifest.json"))) {
        log(`pnpm synth run ${i} failed: ${r.detail || "no manifest.json written"}`);
        continue;
      }
      wall.push(r.wallMs);
      if (r.rssMB !== undefined) rss.push(r.rssMB);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  rows.push({ figure: "pnpm synth wall time", values: wall.map((v) => v / 1000), unit: "s", goal: atMost(6, "s") });
  if (HAS_TIME) rows.push({ figure: "pnpm synth peak RSS (largest process)", values: rss, unit: "MB", note: "no goal" });
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
log("app-only synth…");
appOnly();
log("pnpm synth…");
pnpmSynth();
log("provisioning…");
await provisioning();
print();
process.stdout.write(`\nbench total: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
process.exit(0);
