/**
 * The pieces of `pnpm checkov` (scripts/checkov.ts) that need no checkov: the suppression file's
 * schema and its checks, Terraform addresses from checkov's results, and the comparison of failures
 * with suppressions. test/checkov-suppressions.test.ts and scripts/rules-md.ts use them too.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const SUPPRESSIONS_PATH = "policy/checkov-suppressions.json";

// ------------------------------------------------------------------------------------------------
// The suppression file
// ------------------------------------------------------------------------------------------------

const CHECK_ID = /^CKV2?_AWS_\d+$/;
/** `aws_x.name` or `data.aws_x.name`: Terraform's own address of a resource or data source. */
const ADDRESS = /^(data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+$/;
const STACK = /^[a-z][a-z0-9-]*$/;

/**
 * What makes the finding safe, by kind:
 * - `config`: a config switch, by its path in the env config (`data.aurora.deletionProtection`); the
 *   switch must exist in the config of every listed stack.
 * - `control`: a compensating control, by the file that enforces it, optionally `#<text>` that the
 *   file contains (a test title, a function name): `test/security-waf.test.ts#KnownBadInputs`.
 * - `readme`: a README section, by `file#heading-anchor` (GitHub's anchor of a heading in the file).
 */
export const becauseSchema = z.strictObject({
  kind: z.enum(["config", "control", "readme"]),
  ref: z.string().min(3),
});

export const suppressionSchema = z.strictObject({
  /** The checkov check id. */
  check: z.string().regex(CHECK_ID, { error: "must be a checkov AWS check id, e.g. CKV_AWS_158 or CKV2_AWS_57" }),
  /** Terraform addresses the check fails on (each is one key with `check`). */
  addresses: z.array(z.string().regex(ADDRESS, { error: "must be a Terraform address, e.g. aws_cloudwatch_log_group.foo or data.aws_iam_policy_document.foo" })).min(1),
  /** The stacks it fails in; a listed stack where it no longer fails makes the suppression stale. */
  stacks: z.array(z.string().regex(STACK)).min(1),
  because: becauseSchema,
  /** Why it is safe, in words, naming the switch, control or section (at least 10 characters). */
  reason: z.string().refine((r) => r.trim().length >= 10, { error: "must be at least 10 characters that say why the finding is safe" }),
});

export const suppressionFileSchema = z.strictObject({
  $comment: z.string().optional(),
  /** The checkov version the file was written against (the pin in e2e/lock/components.json). */
  checkov: z.string().regex(/^\d+\.\d+\.\d+$/),
  suppressions: z.array(suppressionSchema),
});

export type Because = z.output<typeof becauseSchema>;
export type Suppression = z.output<typeof suppressionSchema>;
export type SuppressionFile = z.output<typeof suppressionFileSchema>;

/** Reads and parses the suppression file (throws with every schema problem). */
export function readSuppressions(path = join(ROOT, SUPPRESSIONS_PATH)): SuppressionFile {
  const parsed = suppressionFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    throw new Error(`${SUPPRESSIONS_PATH} is malformed:\n${parsed.error.issues.map((i) => `  - ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  }
  return parsed.data;
}

/** GitHub's anchor for a Markdown heading. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of every ATX heading of a Markdown file (outside fenced code). */
export function markdownAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (m) anchors.add(headingAnchor(m[1]!));
  }
  return anchors;
}

/** Reads `path` (dot-separated, `[i]` for arrays) from a config object. */
export function configValue(config: unknown, path: string): unknown {
  let v: unknown = config;
  for (const part of path.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (v === null || typeof v !== "object" || !(part in (v as object))) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Every problem of a parsed suppression file beyond its schema: duplicate keys, and refs that do not
 * resolve. `configOf(stack)` gives the config a `config` ref is read from (undefined: no config).
 */
export function suppressionProblems(file: SuppressionFile, configOf: (stack: string) => unknown, root = ROOT): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  file.suppressions.forEach((s, i) => {
    const at = `suppressions[${i}] (${s.check})`;
    for (const a of s.addresses) {
      for (const stack of s.stacks) {
        const key = `${stack} ${s.check} ${a}`;
        if (seen.has(key)) problems.push(`${at}: ${key} is also suppressed by suppressions[${seen.get(key)}]. Fix: keep one`);
        else seen.set(key, i);
      }
    }
    if (new Set(s.addresses).size !== s.addresses.length) problems.push(`${at}: an address is listed twice`);
    if (new Set(s.stacks).size !== s.stacks.length) problems.push(`${at}: a stack is listed twice`);
    const { kind, ref } = s.because;
    if (kind === "config") {
      if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*|\[\d+\])*$/.test(ref)) problems.push(`${at}: because.ref "${ref}" is not a config path. Fix: e.g. "data.aurora.deletionProtection"`);
      else
        for (const stack of s.stacks) {
          const config = configOf(stack);
          if (config === undefined) problems.push(`${at}: stack ${stack} has no config to read "${ref}" from. Fix: use kind "control" or "readme"`);
          else if (configValue(config, ref) === undefined) problems.push(`${at}: config path "${ref}" does not exist in ${stack}'s config`);
        }
      if (!s.reason.includes(ref)) problems.push(`${at}: the reason must name the switch "${ref}"`);
    } else {
      const [file, fragment] = ref.split("#", 2) as [string, string | undefined];
      const full = join(root, file);
      if (!existsSync(full)) problems.push(`${at}: because.ref file ${file} does not exist`);
      else if (kind === "readme") {
        if (!file.endsWith(".md")) problems.push(`${at}: a readme ref must be a Markdown file, not ${file}`);
        else if (!fragment) problems.push(`${at}: a readme ref needs #<heading-anchor>, e.g. README.md#secrets-to-fill-after-apply`);
        else if (!markdownAnchors(readFileSync(full, "utf8")).has(fragment)) problems.push(`${at}: ${file} has no heading with anchor #${fragment}`);
      } else if (fragment && !readFileSync(full, "utf8").includes(fragment)) problems.push(`${at}: ${file} does not contain "${fragment}"`);
    }
  });
  return problems;
}

// ------------------------------------------------------------------------------------------------
// checkov's results
// ------------------------------------------------------------------------------------------------

/** One check result as checkov's JSON report has it (the fields used here). */
export interface CheckovResult {
  check_id: string;
  check_name: string;
  resource: string;
  file_line_range: [number, number];
  check_result: { result: "PASSED" | "FAILED" | "SKIPPED" };
}

export interface CheckovReport {
  check_type: string;
  results: { passed_checks?: CheckovResult[]; failed_checks?: CheckovResult[]; skipped_checks?: CheckovResult[]; parsing_errors?: string[] };
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number };
}

type TfJson = { resource?: Record<string, Record<string, unknown>>; data?: Record<string, Record<string, unknown>> };

/**
 * Terraform's address of checkov's `resource`. The JSON framework names a resource
 * `resource.<name>` or `data.<name>` in single-resource checks and `<type>.<name>` in graph checks;
 * the type is found from the line the block starts at (cdktf indents types by 4 spaces), and checked
 * against the stack's JSON.
 */
export function terraformAddress(r: Pick<CheckovResult, "resource" | "file_line_range">, tf: TfJson, lines: readonly string[]): string {
  const dot = r.resource.indexOf(".");
  const head = r.resource.slice(0, dot);
  const name = r.resource.slice(dot + 1);
  if (head === "resource" || head === "data") {
    const section = tf[head] ?? {};
    let type: string | undefined;
    for (let i = r.file_line_range[0] - 1; i >= 0; i--) {
      const m = /^ {4}"([^"]+)": \{$/.exec(lines[i] ?? "");
      if (m) {
        type = m[1];
        break;
      }
    }
    if (!type || !section[type] || !(name in section[type]!)) {
      const types = Object.entries(section).filter(([, v]) => name in v).map(([t]) => t);
      if (types.length !== 1) throw new Error(`cannot tell the type of ${r.resource} (line ${r.file_line_range[0]}; candidates: ${types.join(", ") || "none"})`);
      type = types[0];
    }
    return head === "data" ? `data.${type}.${name}` : `${type}.${name}`;
  }
  if (["provider", "module", "output", "variable", "locals", "terraform"].includes(head)) return r.resource;
  if (tf.resource?.[head] && name in tf.resource[head]!) return `${head}.${name}`;
  if (tf.data?.[head] && name in tf.data[head]!) return `data.${head}.${name}`;
  throw new Error(`${r.resource} is neither a resource nor a data source of the stack`);
}

/** A finding: one check's result on one address of one stack. */
export interface Finding {
  readonly stack: string;
  readonly check: string;
  readonly name: string;
  readonly address: string;
}

export const findingKey = (f: { stack: string; check: string; address: string }) => `${f.stack} ${f.check} ${f.address}`;

export interface Comparison {
  /** Failures no suppression covers. */
  readonly unsuppressed: Finding[];
  /** Failures a suppression covers, with its index. */
  readonly suppressed: (Finding & { readonly by: number })[];
  /** Suppression keys (stack, check, address) that match no failure. */
  readonly stale: { stack: string; check: string; address: string; index: number }[];
}

/**
 * Compares failures with suppressions. Every (stack, check, address) key a suppression lists and no
 * failure matches is stale, including keys of a stack that no longer exists.
 */
export function compare(failures: readonly Finding[], file: SuppressionFile): Comparison {
  const keys = new Map<string, number>();
  file.suppressions.forEach((s, index) => {
    for (const stack of s.stacks) for (const address of s.addresses) keys.set(findingKey({ stack, check: s.check, address }), index);
  });
  const used = new Set<string>();
  const unsuppressed: Finding[] = [];
  const suppressed: (Finding & { by: number })[] = [];
  for (const f of failures) {
    const k = findingKey(f);
    const by = keys.get(k);
    if (by === undefined) unsuppressed.push(f);
    else {
      used.add(k);
      suppressed.push({ ...f, by });
    }
  }
  const stale: Comparison["stale"] = [];
  for (const [k, index] of keys) {
    if (used.has(k)) continue;
    const [stack, check, address] = k.split(" ") as [string, string, string];
    stale.push({ stack, check, address, index });
  }
  return { unsuppressed, suppressed, stale };
}
