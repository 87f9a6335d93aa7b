/**
 * The ALB's web ACL: managed groups with their body rules counted everywhere, one rule that blocks
 * their labels on Open WebUI's sign-in and admin routes only, the WCU budget, and logging to a
 * KMS-encrypted `aws-waf-logs-` log group without credential headers.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../lib/errors.js";
import { Network } from "../modules/network/index.js";
import {
  BODY_RULES_ENFORCED_PATHS,
  BODY_RULES_EXEMPT_PATHS,
  prefixRegex,
  Security,
  type SecurityProps,
  statementWcu,
  WEB_ACL_WCU_LIMIT,
  webAclRules,
  webAclWcu,
} from "../modules/security/index.js";
import { networkPropsOf } from "../stacks/platform-stack.js";
import { evaluateTemplate } from "./support/hcl-gate.js";
import { ENVS, policyOf, refOf, synthStack, type Json, type Synthesized } from "./support/synth.js";

/** The security layer alone, with `over` applied to its props. */
function securityStack(over: Partial<SecurityProps> = {}): { s: Synthesized; security: Security } {
  const env = ENVS.nonprod;
  const stack = new TerraformStack(Testing.app(), env.name);
  new AwsProvider(stack, "aws", { region: env.region });
  const aws = { region: env.region, accountId: new DataAwsCallerIdentity(stack, "current").accountId, partition: new DataAwsPartition(stack, "partition").partition };
  const network = new Network(stack, "network", networkPropsOf(env));
  const security = new Security(stack, "security", { envName: env.name, aws, network, albIngressCidrs: env.security.albIngressCidrs, ...over });
  return { s: synthStack(stack), security };
}

/** The web ACL's `rule_json` (`${jsonencode([...])}`), evaluated. */
const rulesOf = (s: Synthesized): Json[] => JSON.parse(evaluateTemplate(s.resource("aws_wafv2_web_acl").rule_json as string, (a) => "${" + a + "}") as string) as Json[];

const COMMON_BODY = ["CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"];
const KNOWN_BAD_BODY = ["JavaDeserializationRCE_BODY", "Log4JRCE_BODY", "ReactJSRCE_BODY"];
const LABELS = [
  "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body",
  "awswaf:managed:aws:core-rule-set:GenericLFI_Body",
  "awswaf:managed:aws:core-rule-set:GenericRFI_Body",
  "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body",
  "awswaf:managed:aws:known-bad-inputs:JavaDeserializationRCE_Body",
  "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Body",
  "awswaf:managed:aws:known-bad-inputs:ReactJSRCE_Body",
];

describe("the web ACL's rules", () => {
  const { s } = securityStack();
  const rules = rulesOf(s);
  const byName = Object.fromEntries(rules.map((r) => [r.Name, r])) as Record<string, Json>;
  const overrides = (r: Json) => (r.Statement.ManagedRuleGroupStatement.RuleActionOverrides as Json[]).map((o) => [o.Name, o.ActionToUse]);

  it("are the Common group, the KnownBadInputs group and the body-rule enforcer, in that order", () => {
    expect(rules.map((r) => [r.Name, r.Priority])).toEqual([
      ["AWSManagedRulesCommonRuleSet", 10],
      ["AWSManagedRulesKnownBadInputsRuleSet", 20],
      ["BodyRulesOnSignInAndAdminRoutes", 30],
    ]);
    expect(rules).toEqual(webAclRules());
  });

  it("run the Common group with its body rules (and the 8 KB body-size rule) counted, every other rule at its own action", () => {
    const common = byName.AWSManagedRulesCommonRuleSet!;
    expect(common.OverrideAction).toEqual({ None: {} });
    expect(common.Statement.ManagedRuleGroupStatement).toMatchObject({ VendorName: "AWS", Name: "AWSManagedRulesCommonRuleSet" });
    expect(common.Statement.ManagedRuleGroupStatement.ScopeDownStatement).toBeUndefined();
    expect(overrides(common)).toEqual(["SizeRestrictions_BODY", ...COMMON_BODY].map((n) => [n, { Count: {} }]));
  });

  it("run the KnownBadInputs group with its body rules counted", () => {
    const bad = byName.AWSManagedRulesKnownBadInputsRuleSet!;
    expect(bad.OverrideAction).toEqual({ None: {} });
    expect(overrides(bad)).toEqual(KNOWN_BAD_BODY.map((n) => [n, { Count: {} }]));
  });

  it("block a request with any body-rule label whose URL-decoded path is a sign-in or admin route, except a user's own settings", () => {
    const enforcer = byName.BodyRulesOnSignInAndAdminRoutes!;
    expect(enforcer.Action).toEqual({ Block: {} });
    expect(enforcer.Statement).toEqual({
      AndStatement: {
        Statements: [
          { OrStatement: { Statements: LABELS.map((Key) => ({ LabelMatchStatement: { Scope: "LABEL", Key } })) } },
          {
            RegexMatchStatement: {
              RegexString: "^(?:/api/v1/auths/|/oauth|/api/v1/users/|/api/v1/groups/|/api/v1/configs/|/api/v1/scim/)",
              FieldToMatch: { UriPath: {} },
              TextTransformations: [{ Priority: 0, Type: "URL_DECODE" }],
            },
          },
          { NotStatement: { Statement: { RegexMatchStatement: { RegexString: "^(?:/api/v1/users/user/)", FieldToMatch: { UriPath: {} }, TextTransformations: [{ Priority: 0, Type: "URL_DECODE" }] } } } },
        ],
      },
    });
  });

  it("put the enforcer after every group whose labels it reads (a label match sees only earlier rules' labels)", () => {
    const enforcer = byName.BodyRulesOnSignInAndAdminRoutes!;
    for (const r of rules.filter((x) => x.Statement.ManagedRuleGroupStatement)) expect(r.Priority).toBeLessThan(enforcer.Priority);
  });

  it("give every rule its own CloudWatch metric and sampled requests", () => {
    for (const r of rules) expect(r.VisibilityConfig).toEqual({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: r.Name });
  });

  it("use 933 WCUs: 700 + 200 for the groups, 7 label matches, two URL-decoded regex matches (3 + 10 each), under the 1,500 default", () => {
    expect(webAclWcu(rules)).toBe(700 + 200 + 7 * 1 + 2 * (3 + 10));
    expect(webAclWcu(rules)).toBe(933);
    expect(webAclWcu(rules)).toBeLessThanOrEqual(WEB_ACL_WCU_LIMIT);
  });

  it("count a second Common instance as over budget (why the enforcer reads labels instead)", () => {
    const second = { ...rules[0]!, Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: "AWSManagedRulesCommonRuleSet", ScopeDownStatement: rules[2]!.Statement.AndStatement.Statements[1] } } };
    expect(statementWcu(second.Statement)).toBe(713);
    expect(webAclWcu([...rules, second])).toBeGreaterThan(WEB_ACL_WCU_LIMIT);
  });
});

describe("where the body rules block (Open WebUI 0.10.2's routes, open_webui/main.py)", () => {
  const enforced = new RegExp(prefixRegex(BODY_RULES_ENFORCED_PATHS));
  const exempt = new RegExp(prefixRegex(BODY_RULES_EXEMPT_PATHS));
  /** The enforcer's path condition, as WAF evaluates it on the URL-decoded path. */
  const blocksBodyRulesOn = (path: string) => {
    const decoded = decodeURIComponent(path);
    return enforced.test(decoded) && !exempt.test(decoded);
  };

  it.each([
    "/api/v1/auths/signin",
    "/api/v1/auths/signup",
    "/api/v1/auths/ldap",
    "/api/v1/auths/update/password",
    "/api/v1/auths/admin/config",
    "/api/v1/auths/api_key",
    "/oauth/oidc/login",
    "/oauth/oidc/callback",
    "/oauth/backchannel-logout",
    "/oauth2/sign_in",
    "/oauth2/callback",
    "/api/v1/users/0b6f/update",
    "/api/v1/users/default/permissions",
    "/api/v1/groups/create",
    "/api/v1/groups/id/g1/update",
    "/api/v1/configs/import",
    "/api/v1/configs/connections",
    "/api/v1/scim/v2/Users",
    // Percent-encoded: Starlette routes the decoded path, so WAF must match it decoded.
    "/api/v1/%61uths/signin",
    "/api%2Fv1%2Fusers%2F0b6f%2Fupdate",
  ])("sign-in and admin: %s", (path) => {
    expect(blocksBodyRulesOn(path)).toBe(true);
  });

  it.each([
    "/api/chat/completions",
    "/api/v1/chat/completions",
    "/api/chat/completed",
    "/api/v1/messages",
    "/api/v1/chats/new",
    "/api/v1/chats/c1",
    "/ws/socket.io/",
    "/api/v1/files/",
    "/api/v1/retrieval/process/file",
    "/api/v1/knowledge/create",
    "/openai/chat/completions",
    "/api/v1/tools/create",
    "/api/v1/functions/create",
    "/api/v1/notes/create",
    "/api/v1/channels/ch1/messages/post",
    "/api/v1/memories/add",
    "/api/v1/prompts/create",
    "/api/v1/users/user/settings/update",
    "/api/v1/users/user/info/update",
    "/api/v1/users/%75ser/settings/update",
  ])("chat, upload and content: %s", (path) => {
    expect(blocksBodyRulesOn(path)).toBe(false);
  });
});

describe("WAF logging", () => {
  const { s, security } = securityStack({ wafLogRetentionDays: 365 });
  const P = "${data.aws_partition.partition.partition}";
  const ACCOUNT = "${data.aws_caller_identity.current.account_id}";

  it("goes to a log group named aws-waf-logs-owui-<env>, encrypted with the workload CMK, kept for the configured days", () => {
    expect(s.resource("aws_cloudwatch_log_group", "security_waf-logs")).toEqual(
      expect.objectContaining({ name: "aws-waf-logs-owui-nonprod", kms_key_id: refOf(s, "aws_kms_key", "security_workload", "arn"), retention_in_days: 365 }),
    );
    expect(security.webAclLogGroupName).toBeDefined();
    expect(security.webAclWcu).toBe(933);
  });

  it("lets CloudWatch Logs use the workload CMK for exactly that log group", () => {
    const policy = policyOf(s, s.resource("aws_kms_key", "workload").policy);
    const logs = policy.statement.find((st: Json) => st.sid === "CloudWatchLogsEncryptsThisEnvironmentsLogGroups");
    expect(logs.condition[0].values).toContain(`arn:${P}:logs:us-east-1:${ACCOUNT}:log-group:aws-waf-logs-owui-nonprod`);
  });

  it("has its own delivery policy for the log group (not WAF's shared AWSWAF-LOGS one), created before the logging configuration", () => {
    const delivery = s.resource("aws_cloudwatch_log_resource_policy");
    expect(delivery.policy_name).toBe("owui-nonprod-waf-logs");
    expect(policyOf(s, delivery.policy_document).statement).toEqual([
      {
        sid: "WafDeliversToThisLogGroup",
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${refOf(s, "aws_cloudwatch_log_group", "security_waf-logs", "arn")}:*`],
        principals: [{ type: "Service", identifiers: ["delivery.logs.amazonaws.com"] }],
        condition: [
          { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:${P}:logs:us-east-1:${ACCOUNT}:*`] },
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
        ],
      },
    ]);
    const [[name]] = s.resources("aws_cloudwatch_log_resource_policy");
    expect(s.resource("aws_wafv2_web_acl_logging_configuration").depends_on).toEqual([`aws_cloudwatch_log_resource_policy.${name}`]);
  });

  it("logs the web ACL with the authorization and cookie headers redacted", () => {
    expect(s.resource("aws_wafv2_web_acl_logging_configuration")).toEqual(
      expect.objectContaining({
        resource_arn: refOf(s, "aws_wafv2_web_acl", "security_web-acl", "arn"),
        log_destination_configs: [refOf(s, "aws_cloudwatch_log_group", "security_waf-logs", "arn")],
        redacted_fields: [{ single_header: { name: "authorization" } }, { single_header: { name: "cookie" } }],
      }),
    );
  });

  it("keeps logs 90 days by default", () => {
    expect(securityStack().s.resource("aws_cloudwatch_log_group", "security_waf-logs").retention_in_days).toBe(90);
  });

  it("refuses a retention CloudWatch Logs does not offer, naming the field and the valid values", () => {
    expect(() => securityStack({ wafLogRetentionDays: 100 })).toThrow(ConfigError);
    expect(() => securityStack({ wafLogRetentionDays: 100 })).toThrow(/nonprod: security\.wafLogRetentionDays: 100 is not a CloudWatch Logs retention period\. Fix: use one of 1, 3, 5, .*, 90, .*3653/);
  });

  it("creates no web ACL, log group, delivery policy or key-policy entry when the WAF is off", () => {
    const { s: off, security: offSecurity } = securityStack({ wafEnabled: false });
    for (const type of ["aws_wafv2_web_acl", "aws_wafv2_web_acl_logging_configuration", "aws_cloudwatch_log_group", "aws_cloudwatch_log_resource_policy"]) expect(off.resources(type)).toEqual([]);
    const logs = policyOf(off, off.resource("aws_kms_key", "workload").policy).statement.find((st: Json) => st.sid === "CloudWatchLogsEncryptsThisEnvironmentsLogGroups");
    expect(logs.condition[0].values.filter((v: string) => v.includes("aws-waf-logs-"))).toEqual([]);
    expect(offSecurity.webAclArn).toBeUndefined();
  });
});
