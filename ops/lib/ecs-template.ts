/**
 * Reads the synthesized ECS task definitions the way Terraform would evaluate them.
 *
 * `aws_ecs_task_definition.container_definitions` is a Terraform template: `${jsonencode([...])}`
 * with references inside (secret ARNs, KMS key ids, log groups, `local.openwebui_signout_redirect_url`,
 * which itself calls `urlencode`). Templates are tokenized and evaluated by lib/hcl-template.ts
 * (`evaluateTemplate`, the repo's one evaluator, shared with the tests) for the subset cdktf emits:
 * literals, tuples, objects, references (with `[n]` indexes) and the functions `jsonencode` and
 * `urlencode`; anything else throws. This class supplies the references: locals (evaluated from the
 * synthesized stack), what the caller can resolve, and holes for the rest.
 *
 * A reference the caller cannot resolve becomes a *hole*: a marker (`__tfref_<n>__`, only
 * characters `urlencode` and JSON leave alone) standing for the reference's address. A value with
 * holes is compared as a pattern (each hole matches any non-empty text), so `ops doctor` can say
 * exactly what it compared literally and what it could only match as a shape.
 */
import { evaluateTemplate } from "../../lib/hcl-template.js";
import type { Json, SynthesizedStack } from "./stack.js";

/** Resolves a reference address (`aws_secretsmanager_secret.x.arn`) to its value, or undefined. */
export type Resolver = (address: string) => string | undefined;

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
    return evaluateTemplate(text, (address) => this.reference(address));
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
}

/** The `[type, logical name]` of a `${type.name.attr}` reference that is the whole template, or undefined. */
export function referencedResource(template: unknown): { type: string; name: string; attribute: string } | undefined {
  const m = /^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_]+)\}$/.exec(String(template));
  return m ? { type: m[1]!, name: m[2]!, attribute: m[3]! } : undefined;
}
