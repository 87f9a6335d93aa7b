/**
 * The HCL gate: proves that the HCL `cdktf synth --hcl` writes (`cdk.tf`) is
 * valid HCL that decodes to exactly the configuration of the JSON synth
 * (`cdk.tf.json`) of the same stack.
 *
 * How it gets the HCL that `pnpm synth` writes: the CLI runs the app with
 * `SYNTH_HCL_OUTPUT=true` and then rewrites every stack file with
 * `format()` from `@cdktf/hcl-tools` (cli-core `SynthStack.formatHclFiles`).
 * {@link synthHcl} does the same in-process: it synthesizes the app with
 * `hclOutput: true` and formats each `cdk.tf` with that very function, loaded
 * from the `cdktf-cli` package's own dependency tree. {@link synthWithCli}
 * runs the real CLI once (about 3 s) for the tests that pin the in-process path
 * to it byte for byte, and {@link synthFast} runs `pnpm synth` (scripts/synth.ts,
 * the precompiled app in plain Node) for the same comparison.
 *
 * How it compares: {@link parseHcl} parses `cdk.tf` with HashiCorp's parser
 * (`@cdktf/hcl2json`, hclsyntax compiled to WASM). {@link normalizeJsonConfig}
 * and {@link normalizeHclConfig} map both shapes to one canonical form and
 * {@link diffConfigs} compares every value exactly. See those for the rules.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "@cdktf/hcl2json";
import type { App } from "cdktf";
import { parseTemplate } from "../../lib/hcl-template.js";

const requireHere = createRequire(import.meta.url);
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The app factory contract of `stacks/app.ts`. */
export type AppFactory = (options: { outdir?: string; hclOutput?: boolean }) => App;

/** One synthesized stack: its file's path and text. */
export interface SynthStackFile {
  readonly name: string;
  readonly path: string;
  readonly text: string;
}

/** The stacks of one synth, by stack name, and the outdir they live in. */
export interface SynthOutput {
  readonly outdir: string;
  readonly stacks: Record<string, SynthStackFile>;
  /** Removes `outdir`. */
  cleanup(): void;
}

function readManifest(outdir: string): SynthOutput {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { name: string; synthesizedStackPath: string }>;
  };
  const stacks: Record<string, SynthStackFile> = {};
  for (const [name, s] of Object.entries(manifest.stacks)) {
    const path = join(outdir, s.synthesizedStackPath);
    stacks[name] = { name, path, text: readFileSync(path, "utf8") };
  }
  return { outdir, stacks, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Runs `fn` with SYNTH_HCL_OUTPUT unset, so the App option alone decides the mode. */
function withoutHclEnv<T>(fn: () => T): T {
  const saved = process.env.SYNTH_HCL_OUTPUT;
  delete process.env.SYNTH_HCL_OUTPUT;
  try {
    return fn();
  } finally {
    if (saved !== undefined) process.env.SYNTH_HCL_OUTPUT = saved;
  }
}

function synthInto(factory: AppFactory, hclOutput: boolean): SynthOutput {
  const outdir = mkdtempSync(join(tmpdir(), hclOutput ? "hcl-gate-hcl-" : "hcl-gate-json-"));
  withoutHclEnv(() => factory({ outdir, hclOutput }).synth());
  return readManifest(outdir);
}

/** Synthesizes the app's JSON (`cdk.tf.json`) into a fresh temp dir. */
export function synthJson(factory: AppFactory): SynthOutput {
  return synthInto(factory, false);
}

const formatted = new Map<string, Promise<string>>();

/**
 * `format` from the `@cdktf/hcl-tools` that `cdktf-cli` itself loads. It is a pure function of its
 * text, so a text this test process formatted before is answered from memory (the determinism test
 * formats the same stacks twice, and the Go/WASM formatter costs about 1.5 s per app).
 */
export async function cliHclFormat(): Promise<(hcl: string) => Promise<string>> {
  const cliRequire = createRequire(requireHere.resolve("cdktf-cli/package.json"));
  const tools = cliRequire("@cdktf/hcl-tools") as { format(hcl: string): Promise<string> };
  return (hcl) => {
    let out = formatted.get(hcl);
    if (!out) formatted.set(hcl, (out = tools.format(hcl)));
    return out;
  };
}

/**
 * Synthesizes the app's HCL into a fresh temp dir and formats every stack file
 * exactly as `cdktf synth --hcl` does, so the files are what `pnpm synth` writes.
 */
export async function synthHcl(factory: AppFactory): Promise<SynthOutput> {
  const out = synthInto(factory, true);
  const format = await cliHclFormat();
  for (const stack of Object.values(out.stacks)) {
    writeFileSync(stack.path, await format(stack.text));
  }
  return readManifest(out.outdir);
}

/**
 * Runs the real CLI: `cdktf synth [--hcl] --output <tmp>` in the project root.
 * `app` overrides cdktf.json's app command (e.g. `"tsx test/fixtures/hostile-stack.ts"`).
 */
export async function synthWithCli(options: { hcl: boolean; app?: string }): Promise<SynthOutput> {
  const outdir = mkdtempSync(join(tmpdir(), "hcl-gate-cli-"));
  const args = ["synth", "--output", outdir, ...(options.hcl ? ["--hcl"] : [])];
  if (options.app) args.push("--app", options.app);
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1", FORCE_COLOR: "0" };
  delete env.SYNTH_HCL_OUTPUT;
  await promisify(execFile)(join(ROOT, "node_modules/.bin/cdktf"), args, {
    cwd: ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return readManifest(outdir);
}

/**
 * Runs `pnpm synth --output <tmp> [args]`: package.json's `synth` script itself (through `sh`, with
 * `node_modules/.bin` on PATH as pnpm puts it), without pnpm's own start-up.
 */
export async function synthFast(args: readonly string[] = []): Promise<SynthOutput> {
  const outdir = mkdtempSync(join(tmpdir(), "hcl-gate-fast-"));
  const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.synth!;
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` };
  delete env.SYNTH_HCL_OUTPUT;
  delete env.CDKTF_OUTDIR;
  delete env.CDKTF_CONTEXT_JSON;
  await promisify(execFile)("sh", ["-c", `${script} --output "$@"`, "synth", outdir, ...args], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
  return readManifest(outdir);
}

/** Every file under `dir` (relative path → bytes), for byte-for-byte comparison of two synths. */
export function filesUnder(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

export { terraformBinary } from "./terraform.js";
/** The template tokenizer and evaluator (lib/hcl-template.ts), re-exported for the tests that use the gate. */
export { evaluateTemplate, parseTemplate, type TemplatePart } from "../../lib/hcl-template.js";

/** Parses HCL with HashiCorp's parser (hcl2json). Throws on invalid HCL. */
export async function parseHcl(text: string, filename = "cdk.tf"): Promise<Record<string, unknown>> {
  return (await parse(filename, text)) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Templates and expressions
//
// A string in the JSON synth is a Terraform template (the text of a JSON
// string). hcl2json returns an HCL quoted template in the same form: literal
// text decoded, `$${`/`%%{` kept, each `${…}`/`%{…}` as its source text. The
// formatter changes whitespace inside sequences, and escapes inside nested
// string literals may be spelled differently, so a template is compared as its
// parse: literal text (exact), and each sequence as its list of HCL tokens with
// nested quoted strings decoded and canonicalized recursively. The parser is
// lib/hcl-template.ts (`parseTemplate`), which also evaluates templates.
// ---------------------------------------------------------------------------

/** The canonical text of a template: equal iff the templates mean the same. */
export function canonicalTemplate(text: string): string {
  return `tmpl:${JSON.stringify(parseTemplate(text))}`;
}

/** The canonical text of an expression given as bare source (a JSON reference string). */
function canonicalReference(expr: string): string {
  return canonicalTemplate("${" + expr + "}");
}

// ---------------------------------------------------------------------------
// Normalization
//
// The same logical path (keys only, array indices skipped) decides how a
// string is read, mirroring Terraform's decoding of JSON syntax:
//  - "template": the default; compared with canonicalTemplate.
//  - "literal": places Terraform decodes without an evaluation context, where
//    JSON strings are literal (terraform {} incl. backend, variable default and
//    description, output description, module source/version, provider alias).
//    The JSON string s is canonicalized as the template that evaluates to s.
//  - "reference": meta-arguments whose JSON strings are parsed as expressions
//    (depends_on, provider, lifecycle ignore_changes/replace_triggered_by,
//    variable type, moved from/to, import to/provider, module providers).
//    The JSON string s is canonicalized as `${s}`; hcl2json shows a bare HCL
//    expression as `${…}` too, and a quoted one as a literal, which differs.
// `//` keys (cdktf metadata) exist only in the JSON and are dropped.
// ---------------------------------------------------------------------------

type StringKind = "template" | "literal" | "reference";

function stringKind(path: readonly string[]): StringKind {
  const [top, a, b, c, d] = path;
  if (top === "terraform") return "literal";
  if (top === "variable") {
    if (b === "default" || b === "description") return "literal";
    if (b === "type") return "reference";
  }
  if (top === "output") {
    if (b === "description") return "literal";
    if (b === "depends_on") return "reference";
  }
  if (top === "module") {
    if (b === "source" || b === "version") return "literal";
    if (b === "depends_on" || b === "providers") return "reference";
  }
  if (top === "provider" && b === "alias") return "literal";
  if (top === "resource" || top === "data") {
    if (c === "depends_on" || c === "provider") return "reference";
    if (c === "lifecycle" && (d === "ignore_changes" || d === "replace_triggered_by")) return "reference";
  }
  if (top === "moved" && (a === "from" || a === "to")) return "reference";
  if (top === "import" && (a === "to" || a === "provider")) return "reference";
  return "template";
}

/** A canonical configuration tree: objects, arrays, and canonical strings/numbers/booleans/null. */
export type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

function normalize(value: unknown, path: string[], side: "json" | "hcl"): Canonical {
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") {
    const kind = stringKind(path);
    if (side === "hcl" || kind === "template") return canonicalTemplate(value);
    if (kind === "literal") return canonicalTemplate(value.replace(/\$\{/g, "$$$${").replace(/%\{/g, "%%{"));
    return canonicalReference(value);
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, path, side));
  if (typeof value === "object") {
    const out: Record<string, Canonical> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === "//") continue;
      out[k] = normalize(v, [...path, k], side);
    }
    return out;
  }
  throw new Error(`Unexpected ${typeof value} at ${path.join(".")}`);
}

/** The JSON synth (`cdk.tf.json` parsed) in canonical form. */
export function normalizeJsonConfig(config: unknown): Canonical {
  return normalize(config, [], "json");
}

/**
 * hcl2json's output in canonical form. Several `locals` blocks are merged into
 * one object, as Terraform does (the JSON synth has one `locals` object).
 */
export function normalizeHclConfig(parsed: Record<string, unknown>): Canonical {
  const out = normalize(parsed, [], "hcl") as Record<string, Canonical>;
  if (Array.isArray(out.locals)) out.locals = Object.assign({}, ...(out.locals as object[]));
  return out;
}

function isPlainObject(v: Canonical): v is { [key: string]: Canonical } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Every difference between the canonical JSON synth and canonical HCL, as
 * `path: message` lines; empty means equivalent. Strict: same keys, same array
 * lengths, same types, equal canonical strings. The one shape difference it
 * accepts is the one hcl2json introduces: a block becomes an array of objects,
 * so a JSON object may match an HCL array holding exactly one object (a single
 * block); the HCL side may also show it as an object (a map attribute).
 */
export function diffConfigs(json: Canonical, hcl: Canonical, path = "$"): string[] {
  if (isPlainObject(json) && Array.isArray(hcl) && hcl.length === 1 && isPlainObject(hcl[0]!)) {
    return diffConfigs(json, hcl[0]!, path);
  }
  if (isPlainObject(json) && isPlainObject(hcl)) {
    const diffs: string[] = [];
    for (const k of new Set([...Object.keys(json), ...Object.keys(hcl)])) {
      if (!(k in hcl)) diffs.push(`${path}.${k}: missing in HCL`);
      else if (!(k in json)) diffs.push(`${path}.${k}: only in HCL: ${JSON.stringify(hcl[k])}`);
      else diffs.push(...diffConfigs(json[k]!, hcl[k]!, `${path}.${k}`));
    }
    return diffs;
  }
  if (Array.isArray(json) && Array.isArray(hcl)) {
    if (json.length !== hcl.length) {
      return [`${path}: JSON has ${json.length} elements, HCL ${hcl.length}`];
    }
    return json.flatMap((v, i) => diffConfigs(v, hcl[i]!, `${path}[${i}]`));
  }
  if (json === hcl) return [];
  return [`${path}: JSON ${JSON.stringify(json)} != HCL ${JSON.stringify(hcl)}`];
}

/** Differences between a stack's JSON synth text and its HCL synth text ([] = equivalent). */
export async function diffStack(jsonText: string, hclText: string): Promise<string[]> {
  const hcl = normalizeHclConfig(await parseHcl(hclText));
  return diffConfigs(normalizeJsonConfig(JSON.parse(jsonText)), hcl);
}

/** The HCL gate for one app: per stack, the differences between its HCL and its JSON. */
export async function gateApp(factory: AppFactory): Promise<Record<string, string[]>> {
  const json = synthJson(factory);
  const hcl = await synthHcl(factory);
  try {
    return await gateOutputs(json, hcl);
  } finally {
    json.cleanup();
    hcl.cleanup();
  }
}

/** The HCL gate for two synth outputs of the same app (e.g. from {@link synthWithCli}). */
export async function gateOutputs(json: SynthOutput, hcl: SynthOutput): Promise<Record<string, string[]>> {
  const names = Object.keys(json.stacks).sort();
  const hclNames = Object.keys(hcl.stacks).sort();
  if (JSON.stringify(names) !== JSON.stringify(hclNames)) {
    throw new Error(`Stacks differ: JSON ${names.join(",")} vs HCL ${hclNames.join(",")}`);
  }
  const result: Record<string, string[]> = {};
  for (const name of names) {
    result[name] = await diffStack(json.stacks[name]!.text, hcl.stacks[name]!.text);
  }
  return result;
}
