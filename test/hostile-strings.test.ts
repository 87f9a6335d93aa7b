/**
 * Hostile strings survive both synths exactly. For each value we recover what
 * Terraform would see from BOTH cdk.tf.json and cdk.tf (parsed by HashiCorp's
 * parser, hcl2json), instead of trusting either file's spelling:
 *  - a plain attribute is a template: tfLiteral put `$${`/`%%{` in, and
 *    decodeTemplateLiteral (which rejects any live `${`/`%{`) takes them out;
 *  - a jsonencode'd value is an HCL expression inside `${…}`: evaluateTemplate
 *    parses it (string escapes, objects, tuples, jsonencode) and references are
 *    replaced by placeholders `<address>`; the JSON string it encodes is parsed;
 *  - a literal place (variable default) is raw text in JSON and a literal-only
 *    template in HCL.
 * On top, the gate proves the two files are equivalent as a whole.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeTemplateLiteral } from "../lib/hcl.js";
import {
  HOSTILE,
  HOSTILE_MULTILINE,
  LOOKALIKES,
  POLICY_CONDITION_KEY,
  SCIM_ROUTE_REGEX,
  SKIP_AUTH_ROUTES,
  buildHostileApp,
} from "./fixtures/hostile-stack.js";
import { buildAppBundle } from "../lib/app-build.js";
import { type SynthOutput, diffStack, evaluateTemplate, parseHcl, synthHcl, synthJson, synthWithCli, terraformBinary } from "./support/hcl-gate.js";

type Config = Record<string, any>;
const ref = (address: string) => `<${address}>`;

let json: SynthOutput;
let hcl: SynthOutput;
const views: Record<"json" | "hcl", Config> = { json: {}, hcl: {} };

beforeAll(async () => {
  json = synthJson(buildHostileApp);
  hcl = await synthHcl(buildHostileApp);
  views.json = JSON.parse(json.stacks.hostile!.text) as Config;
  views.hcl = await parseHcl(hcl.stacks.hostile!.text);
});
afterAll(() => {
  json?.cleanup();
  hcl?.cleanup();
});

/** hcl2json wraps each block in an array; unwrap single blocks so both views read alike. */
function get(config: Config, ...path: string[]): any {
  let v: any = config;
  for (const k of path) {
    if (Array.isArray(v) && v.length === 1) v = v[0];
    v = v?.[k];
  }
  return Array.isArray(v) && v.length === 1 && typeof v[0] === "object" ? v[0] : v;
}
const resource = (view: Config, type: string, name: string) => get(view, "resource", type, name);

describe.each(["json", "hcl"] as const)("from %s", (side) => {
  const view = () => views[side];

  it("container env values inside container_definitions = jsonencode(...)", () => {
    const text = resource(view(), "aws_ecs_task_definition", "task").container_definitions;
    const defs = JSON.parse(evaluateTemplate(text, ref) as string);
    const env = Object.fromEntries(defs[0].environment.map((e: any) => [e.name, e.value]));
    expect(env).toEqual({
      HOSTILE,
      OAUTH2_PROXY_SKIP_AUTH_ROUTES: SKIP_AUTH_ROUTES,
      BUCKET_ARN: "<aws_s3_bucket.bucket.arn>",
      MULTILINE: HOSTILE_MULTILINE,
    });
  });

  it("IAM policy condition built with Fn.jsonencode", () => {
    const text = resource(view(), "aws_iam_policy", "policy-jsonencode").policy;
    const statement = JSON.parse(evaluateTemplate(text, ref) as string).Statement[0];
    expect(statement.Condition.StringEquals[POLICY_CONDITION_KEY]).toBe(HOSTILE);
    expect(statement.Resource).toBe("<aws_s3_bucket.bucket.arn>");
  });

  it("IAM policy condition built with JSON.stringify of a value holding a token", () => {
    const text = resource(view(), "aws_iam_policy", "policy-stringify").policy;
    const statement = JSON.parse(evaluateTemplate(text, ref) as string).Statement[0];
    expect(statement.Condition.StringEquals[POLICY_CONDITION_KEY]).toBe(HOSTILE);
    expect(statement.Resource).toBe("<aws_s3_bucket.bucket.arn>");
  });

  it("tags: hostile text, the oauth2-proxy regex, and look-alikes keep value and type", () => {
    const tags = resource(view(), "aws_s3_bucket", "bucket").tags;
    expect(decodeTemplateLiteral(tags.Hostile)).toBe(HOSTILE);
    expect(decodeTemplateLiteral(tags.Regex)).toBe(SCIM_ROUTE_REGEX);
    LOOKALIKES.forEach((v, i) => expect(tags[`Lookalike${i}`]).toBe(v));
  });

  it("multi-line SSM parameter value, without an added trailing newline", () => {
    const value = resource(view(), "aws_ssm_parameter", "multiline").value;
    expect(decodeTemplateLiteral(value)).toBe(HOSTILE_MULTILINE);
  });

  it("variable default (a literal place in Terraform JSON)", () => {
    const value = get(view(), "variable", "hostile_default").default;
    expect(side === "json" ? value : decodeTemplateLiteral(value)).toBe(HOSTILE);
  });
});

describe("cdk.tf", () => {
  it("decodes to exactly the JSON synth (HCL gate)", async () => {
    expect(await diffStack(json.stacks.hostile!.text, hcl.stacks.hostile!.text)).toEqual([]);
  });

  it("uses no heredocs and bare meta-argument references", () => {
    const text = hcl.stacks.hostile!.text;
    expect(text).not.toMatch(/<</);
    expect(text).toMatch(/depends_on\s+= \[aws_s3_bucket\.bucket\]/);
    expect(text).toMatch(/provider\s+= aws\.east2\n/);
    expect(text).toMatch(/ignore_changes\s+= \[tags_all\]/);
    expect(text).toMatch(/type\s+= string\n/);
  });

  it.runIf(terraformBinary())("parses with Terraform's own parser (terraform fmt)", () => {
    expect(() =>
      execFileSync(terraformBinary()!, ["fmt", "-no-color", "-"], { input: hcl.stacks.hostile!.text, stdio: "pipe" }),
    ).not.toThrow();
  });

  it("is what the real CLI writes (`cdktf synth --hcl --app <fixture>`)", async () => {
    // The fixture precompiled as `pnpm synth` precompiles the app (lib/app-build.ts) and run in plain
    // Node: what the CLI writes does not depend on how the app was started, and tsx cost 4–5 s of CPU.
    const fixture = await buildAppBundle({ entry: "test/fixtures/hostile-stack.ts" });
    const cli = await synthWithCli({ hcl: true, app: `node -e 'require(${JSON.stringify(fixture.file)}).buildHostileApp().synth()'` });
    try {
      expect(cli.stacks.hostile!.text).toBe(hcl.stacks.hostile!.text);
    } finally {
      cli.cleanup();
    }
  });
});
