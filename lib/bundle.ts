/**
 * Bundles a Lambda function package with esbuild, deterministically: the same source gives the same
 * bytes and the same hash. Used at synth time (TerraformAsset ships `dir`) and by the functions'
 * black-box tests (they import `file`).
 */
import { buildSync, type BuildOptions } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { zipDeterministic } from "./zip.js";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (absolute), whatever the current directory. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface BundleProps {
  /** Workspace package folder under `functions/`, e.g. `provisioning`. */
  readonly pkg: string;
  /** Entry file relative to the package, e.g. `src/worker.ts`. */
  readonly entry: string;
  /** Output name; the bundle is `<outRoot>/<pkg>/<name>/index.mjs`. @default - the entry's base name */
  readonly name?: string;
  /** Module ids left out of the bundle (e.g. ones the Lambda runtime provides). @default - none */
  readonly external?: readonly string[];
  /** Where bundles go. @default - `<repo>/.gen/functions` */
  readonly outRoot?: string;
}

export interface Bundle {
  /** Absolute folder holding only `index.mjs` (what TerraformAsset zips). */
  readonly dir: string;
  /** Absolute path of `index.mjs`. */
  readonly file: string;
  /** Absolute path of a deterministic ZIP holding `index.mjs` (what Lambda runs; ship it as a FILE asset). */
  readonly zip: string;
  /** Size of the minified bundle in bytes. */
  readonly bytes: number;
  /** Base64 SHA-256 of the bundle, for `source_code_hash`. */
  readonly sha256: string;
}

const cache = new Map<string, Bundle>();
const FIXED_MTIME = new Date("2000-01-01T00:00:00Z");

/** Forgets the bundles built in this process (tests of the on-disk reuse). */
export function clearBundleMemo(): void {
  cache.clear();
}

/**
 * Bundles once per process and per output path. Across processes a bundle is reused when the
 * esbuild options and the content of every file esbuild read for it are unchanged.
 */
export function bundleFunction(props: BundleProps): Bundle {
  const name = props.name ?? props.entry.replace(/^.*\//, "").replace(/\.[cm]?[tj]s$/, "");
  const dir = join(props.outRoot ?? join(REPO_ROOT, ".gen", "functions"), props.pkg, name);
  const hit = cache.get(dir);
  if (hit) return hit;
  const file = join(dir, "index.mjs");
  const zip = `${dir}.zip`;
  const manifest = `${dir}.inputs.json`;
  const options: BuildOptions = {
    entryPoints: [join(REPO_ROOT, "functions", props.pkg, props.entry)],
    bundle: true,
    minify: true,
    platform: "node",
    target: "node22",
    format: "esm",
    // ESM bundles of CommonJS dependencies need a require() for Node built-ins.
    banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
    external: [...(props.external ?? [])],
    legalComments: "none",
    sourcemap: false,
    logLevel: "error",
    absWorkingDir: REPO_ROOT,
  };
  // The lockfile is part of the key: a resolution change (e.g. `pnpm dedupe`) can leave every
  // previously bundled input file in place and unchanged, yet make esbuild pick other files.
  const optionsKey = JSON.stringify({ options, lockfile: lockfileHash() });
  const reused = reuse(manifest, optionsKey, file, zip);
  if (reused) {
    const bundle: Bundle = { dir, file, zip, ...reused };
    cache.set(dir, bundle);
    return bundle;
  }

  // Several processes (parallel test files, a synth) may bundle at once: build to a private temp
  // file, then rename it into place atomically; the folder only ever holds a complete index.mjs.
  const tmpDir = join(dirname(dir), ".tmp");
  const tmp = join(tmpDir, `${name}-${process.pid}-${Date.now()}.mjs`);
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  for (const stray of readdirSync(dir)) if (stray !== "index.mjs") rmSync(join(dir, stray), { recursive: true, force: true });
  const result = buildSync({ ...options, outfile: tmp, metafile: true });
  // A fixed mtime makes the zip TerraformAsset builds byte-identical across synths.
  utimesSync(tmp, FIXED_MTIME, FIXED_MTIME);
  renameSync(tmp, file);
  if (!existsSync(file)) throw new Error(`bundle ${file} vanished after rename`);
  const bytesBuf = readFileSync(file);
  const tmpZip = `${tmp}.zip`;
  writeFileSync(tmpZip, zipDeterministic({ "index.mjs": bytesBuf }));
  renameSync(tmpZip, zip);
  const inputs = Object.keys(result.metafile!.inputs).sort();
  const sha256 = createHash("sha256").update(bytesBuf).digest("base64");
  const tmpManifest = `${tmp}.json`;
  writeFileSync(tmpManifest, JSON.stringify({ optionsKey, inputs, inputsHash: hashInputs(inputs), sha256, bytes: bytesBuf.length }));
  renameSync(tmpManifest, manifest);
  const bundle: Bundle = { dir, file, zip, bytes: bytesBuf.length, sha256 };
  cache.set(dir, bundle);
  return bundle;
}

/** Where pnpm keeps installed packages, relative to the repo root. */
const PNPM_STORE = "node_modules/.pnpm/";

/**
 * Hash of every input file esbuild read (paths relative to `root`, the repo root by default).
 * A project file counts by its content; `read` gives its bytes (lib/app-build.ts passes the bytes
 * esbuild compiled). A file in pnpm's virtual store (`node_modules/.pnpm/<name>@<version>[_patch_hash=…]/…`)
 * counts by its path, size and mtime: the path names the package version and its patch, and the
 * Lambda bundles' key also carries the lockfile, which pins each package's integrity hash, so the
 * content is fixed by the path; size and mtime catch an edit in place. (The app build keeps npm
 * packages outside its bundle and has no such inputs.) The two Lambda bundles
 * with dependencies read about a thousand such files: by content that took about 90 ms per synth.
 */
export function hashInputs(inputs: readonly string[], read?: (input: string) => Buffer, root: string = REPO_ROOT): string {
  const readInput = read ?? ((input: string) => readFileSync(join(root, input)));
  const h = createHash("sha256");
  for (const input of inputs) {
    h.update(input).update("\0");
    if (input.startsWith(PNPM_STORE)) {
      const st = statSync(join(root, input));
      h.update(`store:${st.size}:${st.mtimeMs}`);
    } else h.update(readInput(input));
    h.update("\0");
  }
  return h.digest("hex");
}

let lockfile: string | undefined;
/** sha256 of the workspace's pnpm-lock.yaml (once per process; "none" without one). */
function lockfileHash(): string {
  if (lockfile === undefined) {
    const path = join(REPO_ROOT, "pnpm-lock.yaml");
    lockfile = existsSync(path) ? createHash("sha256").update(readFileSync(path)).digest("hex") : "none";
  }
  return lockfile;
}

/**
 * Reuses the previous build when the options and every input esbuild read last time are
 * unchanged (same content, not mtime) and the outputs are intact; otherwise undefined.
 */
function reuse(manifest: string, optionsKey: string, file: string, zip: string): { bytes: number; sha256: string } | undefined {
  try {
    const m = JSON.parse(readFileSync(manifest, "utf8")) as { optionsKey: string; inputs: string[]; inputsHash: string; sha256: string; bytes: number };
    if (m.optionsKey !== optionsKey || hashInputs(m.inputs) !== m.inputsHash) return undefined;
    const bytes = readFileSync(file);
    if (createHash("sha256").update(bytes).digest("base64") !== m.sha256 || !existsSync(zip)) return undefined;
    return { bytes: m.bytes, sha256: m.sha256 };
  } catch {
    return undefined;
  }
}
