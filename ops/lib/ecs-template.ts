/**
 * Reads the synthesized ECS task definitions the way Terraform would evaluate them.
 *
 * `aws_ecs_task_definition.container_definitions` is a Terraform template: `${jsonencode([...])}`
 * with references inside (secret ARNs, KMS key ids, log groups, `local.openwebui_signout_redirect_url`,
 * which itself calls `urlencode`). Templates are tokenized by the HCL gate's parser
 * (test/support/hcl-gate.ts `parseTemplate`, one tokenizer for the repo) and evaluated here for the
 * subset cdktf emits: literals, tuples, objects, references (with `[n]` indexes), locals, and the
 * functions `jsonencode` and `urlencode`. Anything else throws.
 *
 * A reference the caller cannot resolve becomes a *hole*: a marker (`__tfref_<n>__`, only
 * characters `urlencode` and JSON leave alone) standing for the reference's address. A value with
 * holes is compared as a pattern (each hole matches any non-empty text), so `ops doctor` can say
 * exactly what it compared literally and what it could only match as a shape.
 */
import { parseTemplate, type TemplatePart } from "../../test/support/hcl-gate.js";
import type { Json, SynthesizedStack } from "./stack.js";

/** Resolves a reference address (`aws_secretsmanager_secret.x.arn`) to its value, or undefined. */
export type Resolver = (address: string) => string | undefined;

/** Go's `url.QueryEscape` (Terraform's `urlencode`): every byte but `A–Z a–z 0–9 - _ . ~` as %XX, space as `+`. */
function urlencode(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const HOLE = /__tfref_(\d+)__/g;
const HAS_HOLE = /__tfref_\d+__/;

/** Evaluates templates of one stack; collects the addresses of unresolved references as holes. */
export class TemplateEvaluator {
  /** Hole number → reference address. */
  readonly holes: string[] = [];

  constructor(
    private readonly stack: SynthesizedStack,
    private readonly resolve: Resolver = () => undefined,
  ) {}

  /** The value of a template (a string, or the expression's value when it is one interpolation). */
  evaluate(text: string): unknown {
    return this.parts(parseTemplate(text));
  }

  /** The containers of a synthesized `aws_ecs_task_definition`. */
  containers(taskDefinition: Json): Json[] {
    const value = this.evaluate(String(taskDefinition.container_definitions));
    return JSON.parse(typeof value === "string" ? value : JSON.stringify(value)) as Json[];
  }

  /** Whether a value has holes (unresolved references). */
  hasHoles(value: string): boolean {
    return HAS_HOLE.test(value);
  }

  /** The reference addresses a value's holes stand for. */
  holesIn(value: string): string[] {
    return [...value.matchAll(HOLE)].map((m) => this.holes[Number(m[1])]!);
  }

  /**
   * Whether `live` is what the synthesized `expected` evaluates to: exactly, when `expected` has no
   * holes; otherwise as a pattern where each hole matches any non-empty text.
   */
  matches(expected: string, live: string): boolean {
    if (!HAS_HOLE.test(expected)) return expected === live;
    const pattern = expected
      .split(/__tfref_(\d+)__/)
      .map((piece, i) => (i % 2 === 1 ? "[\\s\\S]+?" : piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("");
    return new RegExp(`^${pattern}$`).test(live);
  }

  /** `expected` for humans: each hole shown as `${address}`. */
  show(expected: string): string {
    return expected.replace(HOLE, (_, n: string) => `\${${this.holes[Number(n)]}}`);
  }

  private hole(address: string): string {
    let n = this.holes.indexOf(address);
    if (n < 0) n = this.holes.push(address) - 1;
    return `__tfref_${n}__`;
  }

  private reference(address: string): unknown {
    if (address.startsWith("local.")) {
      const name = address.slice("local.".length);
      const local = this.stack.json.locals?.[name];
      if (local === undefined) throw new Error(`the synthesized stack ${this.stack.name} has no local "${name}"`);
      return typeof local === "string" ? this.evaluate(local) : local;
    }
    return this.resolve(address) ?? this.hole(address);
  }

  private parts(parts: TemplatePart[]): unknown {
    const values = parts.map((p) => {
      if (typeof p === "string") return p;
      if ("%" in p) throw new Error(`template directives are not supported: %{${p["%"].join(" ")}}`);
      return this.tokens(p.$);
    });
    if (parts.length === 1 && typeof parts[0] !== "string") return values[0];
    return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("");
  }

  private tokens(tokens: string[]): unknown {
    let i = 0;
    const peek = (k = 0) => tokens[i + k];
    const take = (expected?: string) => {
      const t = tokens[i++];
      if (t === undefined || (expected !== undefined && t !== expected)) throw new Error(`expected ${expected ?? "a token"} at ${i - 1} in ${tokens.join(" ")}`);
      return t;
    };
    const expr = (): unknown => {
      const t = take();
      if (t.startsWith("[") && t.length > 1) return this.parts(JSON.parse(t) as TemplatePart[]);
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
          const key = k.startsWith("[") ? this.parts(JSON.parse(k) as TemplatePart[]) : k;
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
        return urlencode(v);
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
        return this.reference(address);
      }
      throw new Error(`unsupported token ${t} in ${tokens.join(" ")}`);
    };
    const value = expr();
    if (i !== tokens.length) throw new Error(`trailing tokens in ${tokens.join(" ")}`);
    return value;
  }
}

/** The `[type, logical name]` of a `${type.name.attr}` reference that is the whole template, or undefined. */
export function referencedResource(template: unknown): { type: string; name: string; attribute: string } | undefined {
  const m = /^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_]+)\}$/.exec(String(template));
  return m ? { type: m[1]!, name: m[2]!, attribute: m[3]! } : undefined;
}
