/**
 * The CI/CD plan and deploy policies, generated from the Terraform types the env stacks synthesize
 * (stack-types.generated.ts) and what each type needs (lib/iam-actions.ts). Pure functions: the
 * test validates their output against AWS's Service Authorization Reference.
 */
import { PASS_ROLE_SERVICES, SERVICE_LINKED_ROLES, TERRAFORM_IAM_ACTIONS, type Bound, type NameKind, type TypeActions } from "../../lib/iam-actions.js";
import type { PolicyCondition, PolicyStatement } from "../../lib/policy.js";

export interface CiPolicyContext {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** Resource-name prefix, e.g. `owui-`; slash-separated names use it without the dash (`owui/`). */
  readonly resourcePrefix: string;
  /** The tag every project resource carries through the provider's default_tags. */
  readonly tag: { readonly key: string; readonly value: string };
}

/** The table entry of each type; throws, naming the types, when one has none. */
export function entriesFor(types: readonly string[]): [string, TypeActions][] {
  const missing = types.filter((t) => !(t in TERRAFORM_IAM_ACTIONS));
  if (missing.length > 0) {
    throw new Error(`lib/iam-actions.ts has no entry for ${missing.join(", ")}. Fix: add what Terraform's AWS provider calls for each (see the file's header)`);
  }
  return types.map((t) => [t, TERRAFORM_IAM_ACTIONS[t]!]);
}

const serviceOf = (action: string) => action.slice(0, action.indexOf(":"));
const pascal = (s: string) => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** ARN patterns of the names the project owns. */
export function namePatterns(ctx: CiPolicyContext, kind: NameKind): string[] {
  const { partition: p, region: r, accountId: a, resourcePrefix: dash } = ctx;
  const slash = `${dash.replace(/-$/, "")}/`;
  const arn = (service: string, resource: string, region = r, account = a) => `arn:${p}:${service}:${region}:${account}:${resource}`;
  switch (kind) {
    case "secret":
      // Secrets Manager appends `-` and 6 random characters to the name: `owui/<env>/x-AbC123`.
      return [arn("secretsmanager", `secret:${slash}*`)];
    case "log-group":
      // The WAF can log only to groups named aws-waf-logs-*.
      return [`log-group:/${slash}*`, `log-group:/aws/lambda/${dash}*`, `log-group:/aws/rds/cluster/${dash}*`, `log-group:aws-waf-logs-${dash}*`].map((g) => arn("logs", g));
    case "parameter":
      return [arn("ssm", `parameter/${slash}*`)];
    case "function":
      return [arn("lambda", `function:${dash}*`)];
    case "event-source-mapping":
      return ["*"];
    case "queue":
      return [arn("sqs", `${dash}*`)];
    case "topic":
      return [arn("sns", `${dash}*`)];
    case "alarm":
      return [arn("cloudwatch", `alarm:${dash}*`)];
    case "dashboard":
      // Dashboards are global: their ARNs have no region.
      return [arn("cloudwatch", `dashboard/${dash}*`, "")];
    case "rule":
      return [arn("events", `rule/${dash}*`)];
    case "bucket":
      return [arn("s3", `${dash}*`, "", "")];
    case "object":
      return [arn("s3", `${dash}*/*`, "", "")];
    case "role":
      return [arn("iam", `role/${dash}*`, "")];
    case "kms-alias":
      return [arn("kms", `alias/${dash}*`)];
    case "rds":
      return ["cluster", "db", "subgrp", "cluster-pg"].map((t) => arn("rds", `${t}:${dash}*`));
    case "elasticache":
      // The replication group's member clusters are `<group>-001`…; it uses a default parameter group.
      return [...["replicationgroup", "cluster", "subnetgroup"].map((t) => arn("elasticache", `${t}:${dash}*`)), arn("elasticache", "parametergroup:default.*")];
    case "ecs":
      return [arn("ecs", `cluster/${dash}*`), arn("ecs", `service/${dash}*/*`), arn("ecs", `task-definition/${dash}*:*`)];
    case "web-acl":
      return [arn("wafv2", `regional/webacl/${dash}*/*`)];
    case "load-balancer":
      return [arn("elasticloadbalancing", `loadbalancer/app/${dash}*/*`)];
  }
}

/** Extra conditions a name family needs (event source mappings are named by ID; their function by name). */
function nameConditions(ctx: CiPolicyContext, names: readonly NameKind[]): PolicyCondition[] {
  if (!names.includes("event-source-mapping")) return [];
  return [{ test: "ArnLike", variable: "lambda:FunctionArn", values: namePatterns(ctx, "function") }];
}

/** Bounds whose statements hold only tag or region conditions on `*`: one statement for all services. */
const SHARED: ReadonlySet<Bound["kind"]> = new Set(["create", "owned", "retag", "tag-at-create-unmarked", "unscopable"]);

function boundStatement(ctx: CiPolicyContext, bound: Bound, service: string, actions: string[]): PolicyStatement {
  const region: PolicyCondition = { test: "StringEquals", variable: "aws:RequestedRegion", values: [ctx.region] };
  const requestTag: PolicyCondition = { test: "StringEquals", variable: `aws:RequestTag/${ctx.tag.key}`, values: [ctx.tag.value] };
  const resourceTag: PolicyCondition = { test: "StringEquals", variable: `aws:ResourceTag/${ctx.tag.key}`, values: [ctx.tag.value] };
  const svc = pascal(service);
  switch (bound.kind) {
    case "create":
      return { sid: "CreateWithProjectTag", actions, resources: ["*"], conditions: [region, requestTag] };
    case "owned":
      return { sid: "ChangeProjectTagged", actions, resources: ["*"], conditions: [region, resourceTag] };
    case "retag":
      return {
        sid: "RetagProjectTagged",
        actions,
        resources: ["*"],
        // Any tag but the project tag: it can be neither moved onto nor taken off a resource.
        conditions: [region, resourceTag, { test: "ForAllValues:StringNotEquals", variable: "aws:TagKeys", values: [ctx.tag.key] }],
      };
    case "tag-at-create":
      return { sid: `Tag${svc}AtCreate`, actions, resources: ["*"], conditions: [region, requestTag, { test: "Null", variable: `${service}:CreateAction`, values: ["false"] }] };
    case "tag-at-create-unmarked":
      return {
        sid: "TagAtCreateUnmarked",
        actions,
        resources: ["*"],
        conditions: [region, requestTag, { test: "Null", variable: `aws:ResourceTag/${ctx.tag.key}`, values: ["true"] }],
      };
    case "named": {
      const resources = sorted(bound.names.flatMap((n) => namePatterns(ctx, n)));
      const conditions = nameConditions(ctx, bound.names);
      // An empty condition list would render as JSON `condition: []`, which HCL cannot say: leave it out.
      return { sid: `Manage${svc}Named${bound.names.map(pascal).join("")}`, actions, resources, ...(conditions.length > 0 ? { conditions } : {}) };
    }
    case "unscopable":
      // AWS authorizes these only on `*` and offers no condition key: bound to the region only.
      return { sid: "Unscopable", actions, resources: ["*"], conditions: [region] };
  }
}

/** The deploy policy: every write action of `types`, grouped by bound and service. */
export function deployStatements(ctx: CiPolicyContext, types: readonly string[]): PolicyStatement[] {
  const groups = new Map<string, { bound: Bound; service: string; actions: Set<string> }>();
  for (const [, entry] of entriesFor(types)) {
    for (const grant of entry.write) {
      for (const action of grant.actions) {
        const service = serviceOf(action);
        const key = `${boundKey(grant.bound)}|${SHARED.has(grant.bound.kind) ? "" : service}`;
        const group = groups.get(key) ?? groups.set(key, { bound: grant.bound, service: SHARED.has(grant.bound.kind) ? "" : service, actions: new Set() }).get(key)!;
        group.actions.add(action);
      }
    }
  }
  const statements = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => boundStatement(ctx, g.bound, g.service, sorted(g.actions)));
  const passTo = sorted(types.flatMap((t) => PASS_ROLE_SERVICES[t] ?? []));
  if (passTo.length > 0) {
    statements.push({
      sid: "PassProjectRolesToPlatformServices",
      actions: ["iam:PassRole"],
      resources: namePatterns(ctx, "role"),
      conditions: [{ test: "StringEquals", variable: "iam:PassedToService", values: passTo }],
    });
  }
  const linked = sorted(types.flatMap((t) => SERVICE_LINKED_ROLES[t] ?? []));
  if (linked.length > 0) {
    statements.push({
      sid: "CreateServiceLinkedRolesOfPlatformServices",
      actions: ["iam:CreateServiceLinkedRole"],
      resources: [`arn:${ctx.partition}:iam::${ctx.accountId}:role/aws-service-role/*`],
      conditions: [{ test: "StringEquals", variable: "iam:AWSServiceName", values: linked }],
    });
  }
  return statements;
}

function boundKey(b: Bound): string {
  return b.kind === "named" ? `named:${b.names.join(",")}` : b.kind;
}

/**
 * The plan policy: every read action of `types`. IAM, S3 and SSM reads are bound to the project's
 * names; the other services' Describe/List/Get calls take no resource (or none known before the
 * read), so they stay on `*`, read-only and bound to the region.
 */
export function planStatements(ctx: CiPolicyContext, types: readonly string[]): PolicyStatement[] {
  const reads = sorted(entriesFor(types).flatMap(([, e]) => e.read));
  const byNames: [NameKind, (a: string) => boolean][] = [
    ["role", (a) => a.startsWith("iam:")],
    ["bucket", (a) => a.startsWith("s3:")],
    ["parameter", (a) => /^ssm:GetParameters?$/.test(a)],
  ];
  const statements: PolicyStatement[] = [];
  const rest = reads.filter((a) => !byNames.some(([, is]) => is(a)));
  if (rest.length > 0) {
    statements.push({ sid: "ReadPlatformInRegion", actions: rest, resources: ["*"], conditions: [{ test: "StringEquals", variable: "aws:RequestedRegion", values: [ctx.region] }] });
  }
  for (const [kind, is] of byNames) {
    const actions = reads.filter(is);
    if (actions.length > 0) statements.push({ sid: `ReadProject${pascal(kind)}s`, actions, resources: namePatterns(ctx, kind) });
  }
  return statements;
}

/** IAM's size limit of a managed policy (characters of its JSON without whitespace). */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** The JSON IAM measures, for a statement rendered with a given partition and account. */
function renderedLength(statements: readonly PolicyStatement[]): number {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Sid: s.sid,
      Effect: s.effect ?? "Allow",
      Action: s.actions,
      Resource: s.resources,
      Condition: Object.fromEntries((s.conditions ?? []).map((c) => [c.test, { [c.variable]: c.values }])),
    })),
  }).length;
}

/**
 * Splits statements into groups that each fit one managed policy. Sizes are measured on
 * `sizing`, the same statements rendered with the longest partition and a 12-digit account (the
 * real ones are Terraform references until apply); a statement too big for one policy has its
 * actions halved until it fits.
 */
export function splitForManagedPolicies(
  build: (ctx: CiPolicyContext) => PolicyStatement[],
  ctx: CiPolicyContext,
  maxChars = MANAGED_POLICY_MAX_CHARS - 300,
): PolicyStatement[][] {
  const sizingCtx: CiPolicyContext = { ...ctx, partition: "aws-us-gov", accountId: "123456789012" };
  const halve = (pair: [PolicyStatement, PolicyStatement]): [PolicyStatement, PolicyStatement][] => {
    const [real, sizing] = pair;
    if (renderedLength([sizing]) <= maxChars || real.actions.length < 2) return [pair];
    const mid = Math.ceil(real.actions.length / 2);
    const part = (s: PolicyStatement, from: number, to: number, suffix: string): PolicyStatement => ({ ...s, sid: `${s.sid}${suffix}`, actions: s.actions.slice(from, to) });
    return [
      ...halve([part(real, 0, mid, "A"), part(sizing, 0, mid, "A")]),
      ...halve([part(real, mid, real.actions.length, "B"), part(sizing, mid, sizing.actions.length, "B")]),
    ];
  };
  const sizing = build(sizingCtx);
  const pairs = build(ctx).flatMap((real, i) => halve([real, sizing[i]!]));
  const parts: [PolicyStatement, PolicyStatement][][] = [];
  for (const pair of pairs) {
    const last = parts.at(-1);
    if (last && renderedLength([...last.map(([, s]) => s), pair[1]]) <= maxChars) last.push(pair);
    else parts.push([pair]);
  }
  return parts.map((p) => p.map(([real]) => real));
}
