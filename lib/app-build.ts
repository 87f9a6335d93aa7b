/**
 * The precompiled app behind `pnpm synth` and `cdktf diff/deploy`: `stacks/main.ts` and every
 * project file it imports, bundled by esbuild into one CommonJS file, `.gen/app/main.cjs`, that
 * plain Node runs without tsx and without source maps. npm packages stay outside the bundle
 * (`packages: "external"`), so `cdktf`, `constructs` and the deep `@cdktf/provider-*` modules load
 * with Node's own `require` (measured: faster than bundling them in, see bench/README.md).
 *
 * A stale build is impossible: the build is reused only when the esbuild options, this file's own
 * source and the content of every file esbuild read for it (its metafile inputs: every project
 * source file the app imports, however many modules are added later) hash as they did when it was
 * built; anything else rebuilds.
 * Same scheme as the Lambda bundles in lib/bundle.ts.
 */
import { build, version as esbuildVersion, type BuildOptions, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { hashInputs, REPO_ROOT } from "./bundle.js";

export interface AppBuild {
  /** Absolute path of the CommonJS bundle; `require()` it to run the app. */
  readonly file: string;
  /** True when this call (re)built it; false when the cached build was reused. */
  readonly rebuilt: boolean;
  /** Project files the bundle was built from (repo-relative, sorted). */
  readonly inputs: readonly string[];
}

export interface AppBuildProps {
  /** Entry, repo-relative. @default "stacks/main.ts" */
  readonly entry?: string;
  /** Where the bundle goes. @default `<repo>/.gen/app` */
  readonly outDir?: string;
}

/**
 * Reads every project file for esbuild, so the cache key hashes exactly the text that was compiled.
 * It also gives each file's `import.meta.url` its own source file's URL: in a CommonJS bundle
 * `import.meta` is empty, and lib/bundle.ts finds the repo root with it, so the code behaves exactly
 * as it does when run from source.
 */
const META_URL = "__appBuildImportMetaUrl";

/** This file, repo-relative: its content is part of every build's key. */
export const BUILDER_SOURCE = "lib/app-build.ts";

function readInputs(seen: Map<string, Buffer>): Plugin {
  const loaders: Record<string, "ts" | "js" | "json"> = { ts: "ts", mts: "ts", cts: "ts", js: "js", mjs: "js", cjs: "js", json: "json" };
  return {
    name: "read-inputs",
    setup(b) {
      b.onLoad({ filter: /\.([cm]?[tj]s|json)$/ }, (args) => {
        const bytes = readFileSync(args.path);
        seen.set(relative(REPO_ROOT, args.path).split(sep).join("/"), bytes);
        const text = bytes.toString("utf8");
        // `define` (below) turns every `import.meta.url` expression (never one inside a string) into
        // this module-scoped constant; esbuild keeps each module's copy apart.
        const contents = text.includes("import.meta.url") ? `const ${META_URL} = ${JSON.stringify(pathToFileURL(args.path).href)};\n${text}` : text;
        return { contents, loader: loaders[args.path.replace(/^.*\./, "")]! };
      });
    },
  };
}

interface Manifest {
  readonly optionsKey: string;
  readonly inputs: string[];
  readonly inputsHash: string;
  readonly sha256: string;
}

/** Builds `entry` unless the cached build's inputs are unchanged. Safe to call from parallel processes. */
export async function buildAppBundle(props: AppBuildProps = {}): Promise<AppBuild> {
  const entry = props.entry ?? "stacks/main.ts";
  const outDir = props.outDir ?? join(REPO_ROOT, ".gen", "app");
  const base = entry.replace(/^.*\//, "").replace(/\.[cm]?ts$/, "");
  const file = join(outDir, `${base}.cjs`);
  const manifestFile = join(outDir, `${base}.inputs.json`);
  const options: BuildOptions = {
    entryPoints: [join(REPO_ROOT, entry)],
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "cjs",
    // Class and function names stay as written (esbuild would rename clashing ones).
    keepNames: true,
    define: { "import.meta.url": META_URL },
    sourcemap: false,
    legalComments: "none",
    logLevel: "error",
    absWorkingDir: REPO_ROOT,
  };
  // The builder's own source is part of the key: a change to how it transforms inputs (the
  // read-inputs plugin, `define`) rebuilds, though no input changed.
  const builder = createHash("sha256").update(readFileSync(join(REPO_ROOT, BUILDER_SOURCE))).digest("hex");
  const optionsKey = JSON.stringify({ esbuildVersion, root: REPO_ROOT, builder, plugins: ["read-inputs"], ...options });

  try {
    const m = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
    if (m.optionsKey === optionsKey && hashInputs(m.inputs) === m.inputsHash) {
      if (createHash("sha256").update(readFileSync(file)).digest("hex") === m.sha256) return { file, rebuilt: false, inputs: m.inputs };
    }
  } catch {
    // No build yet, an input gone, or a damaged manifest: build.
  }

  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `.${base}-${process.pid}-${Date.now()}.cjs`);
  const seen = new Map<string, Buffer>();
  const result = await build({ ...options, outfile: tmp, metafile: true, plugins: [readInputs(seen)] });
  const inputs = Object.keys(result.metafile!.inputs).sort();
  const sha256 = createHash("sha256").update(readFileSync(tmp)).digest("hex");
  // The hash is of the bytes esbuild compiled: a file edited during the build makes the next call rebuild.
  const manifest: Manifest = {
    optionsKey,
    inputs,
    inputsHash: hashInputs(inputs, (input) => seen.get(input) ?? readFileSync(join(REPO_ROOT, input))),
    sha256,
  };
  renameSync(tmp, file);
  writeFileSync(`${tmp}.json`, JSON.stringify(manifest));
  renameSync(`${tmp}.json`, manifestFile);
  return { file, rebuilt: true, inputs };
}
