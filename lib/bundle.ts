/**
 * Bundles a Lambda function package with esbuild, deterministically: the same source gives the same
 * bytes and the same hash. Used at synth time (TerraformAsset ships `dir`) and by the functions'
 * black-box tests (they import `file`).
 */
import { buildSync, type BuildOptions } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
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

/** Bundles once per process and per output path. */
export function bundleFunction(props: BundleProps): Bundle {
  const name = props.name ?? props.entry.replace(/^.*\//, "").replace(/\.[cm]?[tj]s$/, "");
  const dir = join(props.outRoot ?? join(REPO_ROOT, ".gen", "functions"), props.pkg, name);
  const hit = cache.get(dir);
  if (hit) return hit;
  const file = join(dir, "index.mjs");
  // Several processes (parallel test files, a synth) may bundle at once: build to a private temp
  // file, then rename it into place atomically; the folder only ever holds a complete index.mjs.
  const tmpDir = join(dirname(dir), ".tmp");
  const tmp = join(tmpDir, `${name}-${process.pid}-${Date.now()}.mjs`);
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  for (const stray of readdirSync(dir)) if (stray !== "index.mjs") rmSync(join(dir, stray), { recursive: true, force: true });
  const options: BuildOptions = {
    entryPoints: [join(REPO_ROOT, "functions", props.pkg, props.entry)],
    outfile: tmp,
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
  buildSync(options);
  // A fixed mtime makes the zip TerraformAsset builds byte-identical across synths.
  utimesSync(tmp, FIXED_MTIME, FIXED_MTIME);
  renameSync(tmp, file);
  if (!existsSync(file)) throw new Error(`bundle ${file} vanished after rename`);
  const bytesBuf = readFileSync(file);
  const zip = `${dir}.zip`;
  const tmpZip = `${tmp}.zip`;
  writeFileSync(tmpZip, zipDeterministic({ "index.mjs": bytesBuf }));
  renameSync(tmpZip, zip);
  const bundle: Bundle = { dir, file, zip, bytes: bytesBuf.length, sha256: createHash("sha256").update(bytesBuf).digest("base64") };
  cache.set(dir, bundle);
  return bundle;
}
