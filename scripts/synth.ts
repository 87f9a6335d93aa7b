/**
 * `pnpm synth`: writes what `cdktf synth --hcl` writes, byte for byte, in one plain Node process.
 *
 *   pnpm synth [--output <dir>]     every stack's cdk.tf into <dir> (default: cdktf.out)
 *              [--format-cache <dir> | --no-format-cache]
 *                                   where formatted stacks are kept by content (default
 *                                   .gen/hcl-format-cache; lib/hcl-format-cache.ts), or none
 *   node .gen/synth.mjs --app       the app alone, as cdktf.json's `app` (`cdktf diff/deploy/synth`):
 *                                   the CLI sets CDKTF_OUTDIR, SYNTH_HCL_OUTPUT, … and formats itself
 *
 * package.json and cdktf.json build this file with esbuild's CLI into `.gen/synth.mjs` (a few ms)
 * and run it with `node`: no tsx, no source maps. It
 *   1. builds the app (`stacks/main.ts` and every project file it imports) into `.gen/app/main.cjs`,
 *      or reuses that build when no input changed (lib/app-build.ts);
 *   2. runs it in this process with the environment the cdktf CLI gives the app (CDKTF_OUTDIR,
 *      SYNTH_HCL_OUTPUT=true, CDKTF_CONTEXT_JSON with cdktf.json's context and relative modules,
 *      CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS, no TF_VAR_*);
 *   3. formats every stack's cdk.tf with `format()` from the `@cdktf/hcl-tools` the CLI itself loads
 *      (cli-core's `SynthStack.formatHclFiles`), in two worker threads, and removes stack folders
 *      no stack wrote any more, as the CLI does. A text this formatter formatted before comes from
 *      the format cache (lib/hcl-format-cache.ts: keyed by the formatter's bytes and the text), so
 *      only changed stacks are formatted.
 * No `terraform` is started (the CLI probes `terraform version` three times) and no spinner drawn.
 *
 * SYNTH_TIMING=1 prints the phases on stderr.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as nodeModule from "node:module";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { buildAppBundle } from "../lib/app-build.js";
import { HclFormatCache } from "../lib/hcl-format-cache.js";
import { REPO_ROOT } from "../lib/bundle.js";

const requireHere = createRequire(join(REPO_ROOT, "package.json"));
// Node ≥ 22.1 keeps V8's compiled code of every CommonJS module it loads (cdktf, constructs, the
// provider classes, the app bundle) on disk and reuses it next time; a no-op on Node 20.
(nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache?.(join(REPO_ROOT, ".gen", "compile-cache"));
const timing = process.env.SYNTH_TIMING === "1";
const mark = (label: string) => {
  if (timing) process.stderr.write(`[synth] ${label}: ${performance.now().toFixed(0)} ms\n`);
};

interface Args {
  readonly app: boolean;
  readonly output: string;
  /** Folder of the format cache, or undefined for none. */
  readonly formatCache: string | undefined;
}

const USAGE = "Usage: pnpm synth [--output <dir>] [--format-cache <dir> | --no-format-cache]";

function parseArgs(argv: readonly string[]): Args {
  let app = false;
  let output = cdktfJson().output ?? "cdktf.out";
  let formatCache: string | undefined = join(REPO_ROOT, ".gen", "hcl-format-cache");
  const value = (i: number, a: string, example: string): string => {
    const v = argv[i];
    if (!v || v.startsWith("--")) fail(`${a} needs a directory, e.g. \`pnpm synth ${a} ${example}\``);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--app") app = true;
    else if (a === "--output" || a === "-o") output = value(++i, a, "cdktf.out");
    else if (a.startsWith("--output=")) output = a.slice("--output=".length);
    else if (a === "--format-cache") formatCache = resolve(value(++i, a, "/tmp/hcl-format-cache"));
    else if (a === "--no-format-cache") formatCache = undefined;
    else if (a === "--hcl") continue; // always HCL, as `cdktf synth --hcl`
    else fail(`unknown argument ${JSON.stringify(a)}. ${USAGE}`);
  }
  return { app, output, formatCache };
}

function fail(message: string): never {
  process.stderr.write(`synth: ${message}\n`);
  process.exit(2);
}

interface CdktfJson {
  readonly output?: string;
  readonly context?: Record<string, unknown>;
  readonly terraformModules?: (string | { source: string })[];
}
const cdktfJson = (): CdktfJson => JSON.parse(readFileSync(join(REPO_ROOT, "cdktf.json"), "utf8")) as CdktfJson;

/** cdktf.json's context plus the relative Terraform modules, as the CLI passes them to the app. */
function cliContext(): string {
  const config = cdktfJson();
  const current = process.env.CDKTF_CONTEXT_JSON ? (JSON.parse(process.env.CDKTF_CONTEXT_JSON) as Record<string, unknown>) : (config.context ?? {});
  const relative = (config.terraformModules ?? []).filter((m) => {
    const source = typeof m === "string" ? m : m.source;
    return source.startsWith("./") || source.startsWith("../");
  });
  return JSON.stringify({ ...current, cdktfRelativeModules: relative });
}

function stackDirs(outdir: string): string[] {
  const stacks = join(outdir, "stacks");
  if (!existsSync(stacks)) return [];
  return readdirSync(stacks).filter((n) => statSync(join(stacks, n)).isDirectory());
}

/** Runs the built app in this process; its errors are the app's (e.g. a refused env config). */
function runApp(file: string): void {
  try {
    requireHere(file);
  } catch (err) {
    const e = err as Error;
    // Typed config refusals carry their own message (lib/errors.ts); anything else shows its stack.
    process.stderr.write(`synth failed: ${e?.name === "ConfigErrors" ? e.message : (e?.stack ?? String(err))}\n`);
    process.exit(1);
  }
}

/** Two: one per core of the 2-core machines this runs on; more only adds WASM instances. */
const FORMAT_WORKERS = 2;

/** `src/index.js` of the `@cdktf/hcl-tools` that the cdktf CLI loads. */
const hclToolsEntry = (): string => createRequire(requireHere.resolve("cdktf-cli/package.json")).resolve("@cdktf/hcl-tools");

/**
 * Worker threads that each load `format()` from the `@cdktf/hcl-tools` the cdktf CLI loads (its
 * format pass, cli-core `SynthStack.formatHclFiles`); the function returned sends each text to the
 * worker with the fewest bytes outstanding.
 */
function startFormatters(count: number): (hcl: string) => Promise<string> {
  const hclTools = hclToolsEntry();
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { format } = require(workerData.hclTools);
    parentPort.on("message", ({ id, text }) =>
      format(text).then((out) => parentPort.postMessage({ id, out }), (err) => parentPort.postMessage({ id, err: String((err && err.stack) || err) })));
  `;
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(source, { eval: true, workerData: { hclTools } });
    worker.unref();
    const pending = new Map<number, { bytes: number; resolve: (s: string) => void; reject: (e: Error) => void }>();
    const state = { worker, pending, outstanding: 0 };
    worker.on("message", ({ id, out, err }: { id: number; out?: string; err?: string }) => {
      const p = pending.get(id)!;
      pending.delete(id);
      state.outstanding -= p.bytes;
      if (err !== undefined) p.reject(new Error(`formatting HCL failed: ${err}`));
      else p.resolve(out!);
    });
    worker.on("error", (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return state;
  });
  let next = 0;
  return (text: string) =>
    new Promise<string>((resolve, reject) => {
      const target = workers.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
      const id = next++;
      target.pending.set(id, { bytes: text.length, resolve, reject });
      target.outstanding += text.length;
      target.worker.postMessage({ id, text });
    });
}

/**
 * cdktf 0.21 calls `util.isArray`, which Node 22 flags at run time (DEP0044) on every synth: noise
 * nobody here can act on. Only that warning is dropped; every other warning is printed as usual.
 */
function dropCdktfDeprecationNoise(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === "object" && typeOrOptions !== null ? (typeOrOptions as { code?: string }).code : code;
    if (warningCode === "DEP0044") return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}

async function main(): Promise<void> {
  dropCdktfDeprecationNoise();
  const args = parseArgs(process.argv.slice(2));
  const built = await buildAppBundle();
  mark(built.rebuilt ? "app built" : "app build reused");
  if (args.app) {
    runApp(built.file);
    mark("app synthesized");
    return;
  }

  const outdir = resolve(args.output);
  const before = stackDirs(outdir);
  for (const key of Object.keys(process.env)) if (key.startsWith("TF_VAR_")) delete process.env[key];
  Object.assign(process.env, {
    CDKTF_OUTDIR: outdir,
    CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true",
    CDKTF_CONTEXT_JSON: cliContext(),
    SYNTH_HCL_OUTPUT: "true",
  });
  // The formatter (Go compiled to WASM) runs in two worker threads, started at the first stack the
  // format cache does not hold. Measured with farm-bench on 2 cores: starting them before the app
  // (to load the WASM on the other core meanwhile) made a synth with every stack cached 1.15× slower
  // and one with none cached no faster (0.99×); sending each cdk.tf the moment cdktf wrote it was
  // no faster either (1.03×).
  let formatImpl: ((t: string) => Promise<string>) | undefined;
  const format = (t: string) => (formatImpl ??= startFormatters(FORMAT_WORKERS))(t);
  runApp(built.file);
  mark("app synthesized");

  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  const names = Object.keys(manifest.stacks);
  const cache = args.formatCache === undefined ? undefined : new HclFormatCache({ dir: args.formatCache, hclToolsEntry: hclToolsEntry() });
  await Promise.all(
    names.map(async (name) => {
      const path = join(outdir, manifest.stacks[name]!.synthesizedStackPath);
      const text = readFileSync(path, "utf8");
      let formatted = cache?.get(text);
      if (formatted === undefined) {
        formatted = await format(text);
        cache?.set(text, formatted);
      }
      writeFileSync(path, formatted);
    }),
  );
  mark(cache ? `formatted (${cache.misses} of ${names.length} stacks; ${cache.hits} from the format cache)` : "formatted");
  cache?.prune();
  for (const dir of before) if (!names.includes(dir)) rmSync(join(outdir, "stacks", dir), { recursive: true });
  if (names.length === 0) process.stderr.write("synth: no Terraform code synthesized\n");
  process.stdout.write(`Generated Terraform code for the stacks: ${names.join(", ")}\n`);
}

await main();
// The Go runtime behind the formatter keeps timers of its own (see patches/@cdktf__hcl-tools*); the work is done.
process.exit(0);
