/**
 * Reading Terraform templates: the one tokenizer and the one evaluator of the repo.
 *
 * In cdktf every attribute string is a Terraform template: literal text, `${…}` interpolations and
 * `%{…}` directives (lib/hcl.ts writes literal text safely; this module reads templates back).
 * {@link parseTemplate} splits template text (JSON form, as in `cdk.tf.json` or hcl2json output)
 * into literal parts and each sequence's HCL tokens; the HCL gate (test/support/hcl-gate.ts)
 * compares templates as those parses. {@link evaluateTemplate} evaluates a template for the subset
 * cdktf emits: literals, tuples, objects, references (with `[n]` indexes) and the functions
 * `jsonencode` and `urlencode`. Anything else throws. `ops` (ops/lib/ecs-template.ts) and the tests
 * both evaluate with it; what a reference is worth is the caller's (locals included).
 *
 * Pure TypeScript, no dependencies: `pnpm ops` loads it at run time.
 */

/** A template part: literal text, or a sequence (`$` interpolation or `%` directive) as tokens. */
export type TemplatePart = string | { readonly $: string[] } | { readonly "%": string[] };

const OPERATORS = ["...", "==", "!=", "<=", ">=", "&&", "||", "=>", "::"];

/** Reads the HCL expression of a template sequence whose body starts at `i`; `end` is past its `}`. */
function readSequence(src: string, i: number): { tokens: string[]; end: number } {
  const tokens: string[] = [];
  let depth = 0;
  while (i < src.length) {
    const c = src[i]!;
    const rest = src.slice(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '"') {
      const { template, end } = readQuoted(src, i + 1);
      tokens.push(JSON.stringify(parseTemplate(template)));
      i = end;
    } else if (rest.startsWith("<<") || c === "#" || rest.startsWith("//") || rest.startsWith("/*")) {
      throw new Error(`Heredocs and comments are not supported in template sequences: ${src}`);
    } else if (/[A-Za-z_]/.test(c)) {
      const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(rest)![0];
      tokens.push(id);
      i += id.length;
    } else if (/[0-9]/.test(c)) {
      const num = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(rest)![0];
      tokens.push(num);
      i += num.length;
    } else if (c === "}" && depth === 0) {
      return { tokens, end: i + 1 };
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o)) ?? c;
      if ("{([".includes(op)) depth += 1;
      if ("})]".includes(op)) depth -= 1;
      tokens.push(op);
      i += op.length;
    }
  }
  throw new Error(`Unterminated template sequence in ${JSON.stringify(src)}`);
}

/**
 * Reads an HCL quoted string whose body starts at `i` and returns its template
 * text in JSON form: backslash escapes decoded, template sequences kept as source.
 */
function readQuoted(src: string, i: number): { template: string; end: number } {
  let out = "";
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') return { template: out, end: i + 1 };
    if (c === "\\") {
      const e = src[i + 1];
      const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
      if (e !== undefined && e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === "u" || e === "U") {
        const len = e === "u" ? 4 : 8;
        out += String.fromCodePoint(parseInt(src.slice(i + 2, i + 2 + len), 16));
        i += 2 + len;
      } else {
        throw new Error(`Invalid escape \\${e} in ${JSON.stringify(src)}`);
      }
    } else if (src.startsWith("$${", i) || src.startsWith("%%{", i)) {
      out += src.slice(i, i + 3);
      i += 3;
    } else if (src.startsWith("${", i) || src.startsWith("%{", i)) {
      const { end } = readSequence(src, i + 2);
      out += src.slice(i, end);
      i = end;
    } else {
      out += c;
      i += 1;
    }
  }
  throw new Error(`Unterminated string literal in ${JSON.stringify(src)}`);
}

/**
 * Parses template text (JSON form) into literal parts and token lists. A quoted string inside a
 * sequence is one token: the JSON text of its own parse (so it starts with `[`).
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  for (let i = 0; i < text.length; ) {
    if (text.startsWith("$${", i) || text.startsWith("%%{", i)) {
      literal += text.slice(i + 1, i + 3);
      i += 3;
    } else if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      if (literal) parts.push(literal);
      literal = "";
      const { tokens, end } = readSequence(text, i + 2);
      parts.push(text[i] === "$" ? { $: tokens } : { "%": tokens });
      i = end;
    } else {
      literal += text[i];
      i += 1;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/**
 * Go's `url.QueryEscape`, which Terraform's `urlencode` is: every byte of the UTF-8 form except
 * `A–Z a–z 0–9 - _ . ~` becomes `%XX` (upper-case hex), and a space becomes `+`.
 */
export function queryEscape(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The value of a reference address (`aws_s3_bucket.b.arn`, `local.x`, `aws_subnet.a[0].id`). */
export type ReferenceValue = (address: string) => unknown;

/**
 * Evaluates template text (JSON form) the way Terraform would, for the subset cdktf emits: literal
 * text, references (`a.b.c`, with `[n]` indexes), string/number/bool/null literals, tuples, objects,
 * `jsonencode(...)` and `urlencode(...)`. `ref` supplies the value of each reference. A template
 * that is a single interpolation yields the expression's value; otherwise the parts are
 * concatenated as strings (non-strings as JSON). Throws on anything else.
 */
export function evaluateTemplate(text: string, ref: ReferenceValue): unknown {
  return evaluateParts(parseTemplate(text), ref);
}

function evaluateParts(parts: TemplatePart[], ref: ReferenceValue): unknown {
  const values = parts.map((p) => {
    if (typeof p === "string") return p;
    if ("%" in p) throw new Error(`template directives are not supported: %{${p["%"].join(" ")}}`);
    return evaluateTokens(p.$, ref);
  });
  if (parts.length === 1 && typeof parts[0] !== "string") return values[0];
  return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("");
}

function evaluateTokens(tokens: string[], ref: ReferenceValue): unknown {
  let i = 0;
  const peek = (k = 0) => tokens[i + k];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw new Error(`expected ${expected ?? "a token"} at ${i - 1} in ${tokens.join(" ")}`);
    return t;
  };
  const expr = (): unknown => {
    const t = take();
    if (t.startsWith("[") && t.length > 1) return evaluateParts(JSON.parse(t) as TemplatePart[], ref);
    if (t === "[") {
      const items: unknown[] = [];
      while (peek() !== "]") {
        items.push(expr());
        if (peek() === ",") take(",");
      }
      take("]");
      return items;
    }
    if (t === "{") {
      const obj: Record<string, unknown> = {};
      while (peek() !== "}") {
        const k = take();
        const key = k.startsWith("[") ? evaluateParts(JSON.parse(k) as TemplatePart[], ref) : k;
        take("=");
        obj[String(key)] = expr();
        if (peek() === ",") take(",");
      }
      take("}");
      return obj;
    }
    if (t === "true" || t === "false") return t === "true";
    if (t === "null") return null;
    if (/^[0-9]/.test(t)) return Number(t);
    if ((t === "jsonencode" || t === "urlencode") && peek() === "(") {
      take("(");
      const v = expr();
      take(")");
      if (t === "jsonencode") return JSON.stringify(v);
      if (typeof v !== "string") throw new Error(`urlencode of a non-string in ${tokens.join(" ")}`);
      return queryEscape(v);
    }
    if (/^[A-Za-z_]/.test(t)) {
      let address = t;
      for (;;) {
        if (peek() === "." && /^[A-Za-z_]/.test(peek(1) ?? "")) {
          take(".");
          address += `.${take()}`;
        } else if (peek() === "[" && /^[0-9]+$/.test(peek(1) ?? "") && peek(2) === "]") {
          take("[");
          address += `[${take()}]`;
          take("]");
        } else break;
      }
      return ref(address);
    }
    throw new Error(`unsupported token ${t} in ${tokens.join(" ")}`);
  };
  const value = expr();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${tokens.join(" ")}`);
  return value;
}
