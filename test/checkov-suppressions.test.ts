/**
 * The checkov suppression file (policy/checkov-suppressions.json), the seeded fixture's table and
 * RULES.md, without running checkov (`pnpm checkov` does that): every suppression is keyed by check,
 * Terraform address and stack, and names what makes it safe (a config switch that exists, a control
 * file that says it, a README heading that exists); RULES.md is what scripts/rules-md.ts renders.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrap } from "../envs/bootstrap.js";
import { ACCOUNT_STACKS, ENVIRONMENTS } from "../envs/index.js";
import { compare, configValue, headingAnchor, markdownAnchors, readSuppressions, ROOT, suppressionFileSchema, suppressionProblems, terraformAddress, type SuppressionFile } from "../scripts/checkov-lib.js";
import { baselineRules, duplicatesWithCheckov, renderRulesMd, RULES_MD } from "../scripts/rules-md.js";
import { SEEDS } from "./fixtures/checkov-seeded-stack.js";

/** The config a `config` suppression of `stack` is read from. */
function configOf(stack: string): unknown {
  if (stack === "bootstrap") return bootstrap;
  const env = ENVIRONMENTS.find((e) => stack === e.name || stack === `${e.name}-certificate`);
  if (env) return env;
  return ACCOUNT_STACKS.find((a) => a.stackId === stack);
}

const file = readSuppressions();

describe("policy/checkov-suppressions.json", () => {
  it("parses: check id, Terraform addresses, stacks, because {kind, ref} and a reason of 10+ characters in every entry", () => {
    expect(file.suppressions.length).toBeGreaterThan(0);
    for (const s of file.suppressions) {
      expect(s.reason.trim().length).toBeGreaterThanOrEqual(10);
      expect(["config", "control", "readme"]).toContain(s.because.kind);
    }
  });

  it("is pinned to the checkov the e2e installer installs", () => {
    const components = JSON.parse(readFileSync(join(ROOT, "e2e/lock/components.json"), "utf8")) as { python: { checkov: { version: string } } };
    expect(file.checkov).toBe(components.python.checkov.version);
  });

  it("names what makes each finding safe, and every name resolves: config paths exist in the stack's config, control files say the text, README anchors exist", () => {
    expect(suppressionProblems(file, configOf)).toEqual([]);
  });

  it("suppresses a noise check (checkov fails compliant resources) only with the project rule that owns it as the control", () => {
    const noise = new Map(SEEDS.filter((s) => s.expect === "noise").map((s) => [s.check, s.owner!]));
    for (const s of file.suppressions.filter((x) => noise.has(x.check))) {
      expect(s.because.kind, s.check).toBe("control");
      expect(s.because.ref.split("#")[0], s.check).toBe(noise.get(s.check));
    }
  });

  it("suppresses no check that checkov is blind to (it can never fail, so the entry would be stale)", () => {
    const blindOnly = new Set(SEEDS.filter((s) => s.expect === "blind").map((s) => s.check));
    for (const s of SEEDS.filter((x) => x.expect !== "blind")) blindOnly.delete(s.check);
    expect(file.suppressions.filter((s) => blindOnly.has(s.check)).map((s) => s.check)).toEqual([]);
  });
});

describe("the suppression checks refuse", () => {
  const valid = file.suppressions[0]!;
  const withOne = (s: unknown) => ({ checkov: "3.3.30", suppressions: [s] });
  const schemaErrors = (s: unknown) => {
    const r = suppressionFileSchema.safeParse(withOne(s));
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  const problems = (s: SuppressionFile["suppressions"][number]) => suppressionProblems({ checkov: "3.3.30", suppressions: [s] }, configOf);

  it("a free-text reason without `because`", () => {
    const { because: _, ...bare } = valid;
    expect(schemaErrors(bare).join("\n")).toMatch(/because/);
  });

  it("a reason shorter than 10 characters", () => {
    expect(schemaErrors({ ...valid, reason: "  safe    " }).join("\n")).toMatch(/at least 10 characters/);
  });

  it("a kind other than config, control or readme", () => {
    expect(schemaErrors({ ...valid, because: { kind: "trust-me", ref: "x.y" } }).join("\n")).toMatch(/because\.kind/);
  });

  it("a check id or an address in checkov's own spelling", () => {
    expect(schemaErrors({ ...valid, check: "CKV_AZURE_1" }).join("\n")).toMatch(/checkov AWS check id/);
    expect(schemaErrors({ ...valid, addresses: ["resource.compute_alb_C4E31DFD"] }).join("\n")).toMatch(/Terraform address/);
  });

  it("a config path that is not in the stack's config, or that the reason does not name", () => {
    const s = { check: "CKV_AWS_139", addresses: ["aws_rds_cluster.x"], stacks: ["nonprod"], because: { kind: "config" as const, ref: "data.aurora.deletionProtectionn" }, reason: "data.aurora.deletionProtectionn is off in nonprod" };
    expect(problems(s)).toEqual([`suppressions[0] (CKV_AWS_139): config path "data.aurora.deletionProtectionn" does not exist in nonprod's config`]);
    expect(problems({ ...s, because: { kind: "config", ref: "data.aurora.deletionProtection" }, reason: "switched off in nonprod on purpose" })).toEqual([`suppressions[0] (CKV_AWS_139): the reason must name the switch "data.aurora.deletionProtection"`]);
  });

  it("a README anchor that no heading has, and a control text the file does not contain", () => {
    const s = { check: "CKV2_AWS_57", addresses: ["aws_secretsmanager_secret.x"], stacks: ["prod"], because: { kind: "readme" as const, ref: "README.md#secrets-to-fill-before-apply" }, reason: "a placeholder the operator fills" };
    expect(problems(s)).toEqual(["suppressions[0] (CKV2_AWS_57): README.md has no heading with anchor #secrets-to-fill-before-apply"]);
    expect(problems({ ...s, because: { kind: "control", ref: "lib/node-function.ts#NoSuchStatement" } })).toEqual(['suppressions[0] (CKV2_AWS_57): lib/node-function.ts does not contain "NoSuchStatement"']);
  });

  it("the same (stack, check, address) twice", () => {
    const s = file.suppressions.find((x) => x.stacks.length > 1)!;
    expect(suppressionProblems({ checkov: "3.3.30", suppressions: [s, s] }, configOf).some((p) => p.includes("is also suppressed by suppressions[0]"))).toBe(true);
  });
});

describe("comparing failures with suppressions", () => {
  const supp: SuppressionFile = {
    checkov: "3.3.30",
    suppressions: [{ check: "CKV_AWS_1", addresses: ["aws_a.x", "aws_a.y"], stacks: ["s1", "s2"], because: { kind: "readme", ref: "README.md#x" }, reason: "a reason, long enough" }],
  };
  it("reports unsuppressed failures and every suppression key that matches no failure as stale", () => {
    const r = compare(
      [
        { stack: "s1", check: "CKV_AWS_1", name: "n", address: "aws_a.x" },
        { stack: "s1", check: "CKV_AWS_2", name: "n", address: "aws_a.x" },
        { stack: "s2", check: "CKV_AWS_1", name: "n", address: "aws_a.y" },
      ],
      supp,
    );
    expect(r.unsuppressed.map((f) => `${f.stack} ${f.check} ${f.address}`)).toEqual(["s1 CKV_AWS_2 aws_a.x"]);
    expect(r.suppressed.length).toBe(2);
    expect(r.stale.map((s) => `${s.stack} ${s.check} ${s.address}`).sort()).toEqual(["s1 CKV_AWS_1 aws_a.y", "s2 CKV_AWS_1 aws_a.x"]);
  });
});

describe("Terraform addresses of checkov's results", () => {
  const tf = { resource: { aws_s3_bucket: { b: {} }, aws_sqs_queue: { b: {} } }, data: { aws_iam_policy_document: { d: {} } } };
  const lines = ["{", '  "resource": {', '    "aws_s3_bucket": {', '      "b": {', "      }", "    },", '    "aws_sqs_queue": {', '      "b": {'];
  it("finds the type of `resource.<name>` from the block's line, and prefixes data sources with data.", () => {
    expect(terraformAddress({ resource: "resource.b", file_line_range: [4, 5] }, tf, lines)).toBe("aws_s3_bucket.b");
    expect(terraformAddress({ resource: "resource.b", file_line_range: [8, 9] }, tf, lines)).toBe("aws_sqs_queue.b");
    expect(terraformAddress({ resource: "data.d", file_line_range: [1, 1] }, tf, [])).toBe("data.aws_iam_policy_document.d");
    expect(terraformAddress({ resource: "aws_iam_policy_document.d", file_line_range: [1, 1] }, tf, [])).toBe("data.aws_iam_policy_document.d");
    expect(() => terraformAddress({ resource: "resource.b", file_line_range: [1, 1] }, tf, [])).toThrow(/cannot tell the type/);
  });
});

describe("the seeded fixture's table", () => {
  it("lists each (check, address) once, and gives every blind or noise seed an owner", () => {
    const keys = SEEDS.map((s) => `${s.check} ${s.address}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(SEEDS.filter((s) => s.expect !== "fail" && !s.owner).map((s) => s.check)).toEqual([]);
  });
});

describe("RULES.md", () => {
  it("is what scripts/rules-md.ts renders from the seeds, the suppressions, modules/policy and the baseline test (fix: pnpm exec tsx scripts/rules-md.ts)", () => {
    expect(readFileSync(RULES_MD, "utf8")).toBe(renderRulesMd());
  });

  it("names the baseline rules that repeat a check checkov is proven to enforce", () => {
    const dups = duplicatesWithCheckov();
    expect(baselineRules().length).toBeGreaterThan(0);
    for (const d of dups) expect(renderRulesMd()).toContain(d.checks.join(", "));
  });

  it("anchors headings the way GitHub does", () => {
    expect(headingAnchor("Design: the Redis AUTH token never enters state")).toBe("design-the-redis-auth-token-never-enters-state");
    expect(markdownAnchors("# A\n```\n# not a heading\n```\n### Secrets to fill after apply\n")).toEqual(new Set(["a", "secrets-to-fill-after-apply"]));
    expect(configValue({ a: { b: [{ c: 1 }] } }, "a.b[0].c")).toBe(1);
  });
});
