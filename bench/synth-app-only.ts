/**
 * App-only synth, run in a fresh process by bench/run.ts:
 *
 *   node --import tsx bench/synth-app-only.ts <outdir>
 *
 * Imports stacks/app.ts, builds every stack with `hclOutput: true` and synthesises into <outdir>.
 * Prints one JSON line on stdout: phase times (ms since process start, via performance.now()) and
 * the time spent in synchronous child processes (cdktf's asset zipping) and this process's peak RSS (`process.resourceUsage().maxRSS`, KB), for when /usr/bin/time is absent.
 */
import { createRequire } from "node:module";

const tStart = performance.now();
const outdir = process.argv[2];
if (!outdir) {
  process.stderr.write("usage: node --import tsx bench/synth-app-only.ts <outdir>\n");
  process.exit(2);
}

// Time the child processes cdktf's TerraformAsset starts to zip each asset (`execSync("node fs.js
// <src> <dest>")`, CommonJS, so it sees this wrapper). Only timing is added; behaviour is unchanged.
const childProcess = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
const execSyncOriginal = childProcess.execSync;
let execSyncMs = 0;
let execSyncCalls = 0;
childProcess.execSync = ((...args: Parameters<typeof execSyncOriginal>) => {
  const t0 = performance.now();
  try {
    return execSyncOriginal(...args);
  } finally {
    execSyncMs += performance.now() - t0;
    execSyncCalls++;
  }
}) as typeof execSyncOriginal;

const { buildApp } = await import("../stacks/app.js");
const tImported = performance.now();
const app = buildApp({ outdir, hclOutput: true });
const tBuilt = performance.now();
app.synth();
const tSynth = performance.now();

process.stdout.write(
  `${JSON.stringify({
    // performance.now() counts from process start (timeOrigin), so `start` is Node + tsx boot time.
    startMs: tStart,
    importMs: tImported - tStart,
    constructMs: tBuilt - tImported,
    synthMs: tSynth - tBuilt,
    execSyncMs,
    execSyncCalls,
    totalInProcessMs: tSynth,
    maxRssKB: process.resourceUsage().maxRSS,
  })}\n`,
);
