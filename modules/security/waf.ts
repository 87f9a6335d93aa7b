/**
 * The ALB's WAFv2 web ACL and its logging.
 *
 * The AWS managed groups' body rules (XSS, LFI, RFI, EC2 metadata SSRF, Java deserialization,
 * Log4j, React RCE) match ordinary chat: a prompt that quotes `<script>`, `../..` or
 * `169.254.169.254`, or an uploaded file that contains them. So the managed groups run with those
 * rules overridden to Count everywhere (they still label the request), and one rule after them
 * blocks a request that carries any of their labels when its URL-decoded path is a sign-in or admin
 * route. Chat, upload, retrieval, tool and websocket routes are inspected by every other managed
 * rule (headers, query, path, cookies) but not blocked on body content.
 *
 * The label rule costs 33 WCUs (933 in all); a second, scoped-down instance of the Common group
 * would cost another 700 and exceed the 1,500 WCU web ACL default.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { policyDocument } from "../../lib/policy.js";

/** A web ACL's capacity without extra charges (AWS WAF quota "WCUs per web ACL"). */
export const WEB_ACL_WCU_LIMIT = 1500;

/** WAF accepts a CloudWatch Logs destination only under this name prefix. */
export const WAF_LOG_GROUP_PREFIX = "aws-waf-logs-";

/** Headers that carry credentials (Open WebUI's bearer tokens and API keys, session and proxy cookies): never logged. */
export const WAF_REDACTED_HEADERS = ["authorization", "cookie"] as const;

/** An AWS managed rule group as this web ACL runs it. */
export interface ManagedGroup {
  readonly name: string;
  readonly priority: number;
  /** The group's fixed capacity (AWS WAF developer guide, baseline rule groups). */
  readonly wcu: number;
  /** Rules counted everywhere and never enforced by this ACL. */
  readonly countedRules: readonly string[];
  /** Body rules: counted everywhere, enforced by the label rule on the enforced paths. Rule name → its label. */
  readonly bodyRules: Readonly<Record<string, string>>;
}

export const MANAGED_GROUPS: readonly ManagedGroup[] = [
  {
    name: "AWSManagedRulesCommonRuleSet",
    priority: 10,
    wcu: 700,
    // Chat prompts and file uploads exceed the 8 KB body limit (so does a profile image on
    // /api/v1/auths/update/profile): counted, enforced nowhere.
    countedRules: ["SizeRestrictions_BODY"],
    bodyRules: {
      CrossSiteScripting_BODY: "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body",
      GenericLFI_BODY: "awswaf:managed:aws:core-rule-set:GenericLFI_Body",
      GenericRFI_BODY: "awswaf:managed:aws:core-rule-set:GenericRFI_Body",
      EC2MetaDataSSRF_BODY: "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body",
    },
  },
  {
    name: "AWSManagedRulesKnownBadInputsRuleSet",
    priority: 20,
    wcu: 200,
    countedRules: [],
    bodyRules: {
      JavaDeserializationRCE_BODY: "awswaf:managed:aws:known-bad-inputs:JavaDeserializationRCE_Body",
      Log4JRCE_BODY: "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Body",
      ReactJSRCE_BODY: "awswaf:managed:aws:known-bad-inputs:ReactJSRCE_Body",
    },
  },
];

/**
 * Path prefixes (URL-decoded, as Starlette routes them) where the body rules block: Open WebUI
 * 0.10.2's sign-in (`/api/v1/auths/*`, `/oauth/*`, and oauth2-proxy's `/oauth2/*`) and admin
 * routers (users, groups, configs, SCIM). Every other route counts them only.
 */
export const BODY_RULES_ENFORCED_PATHS = ["/api/v1/auths/", "/oauth", "/api/v1/users/", "/api/v1/groups/", "/api/v1/configs/", "/api/v1/scim/"] as const;

/** Inside the enforced prefixes, a user's own settings (personal system prompt, UI settings): content, not admin. */
export const BODY_RULES_EXEMPT_PATHS = ["/api/v1/users/user/"] as const;

/** Name and priority of the rule that enforces the body rules on the sign-in and admin routes (after the managed groups, whose labels it reads). */
export const BODY_RULE_ENFORCER = { name: "BodyRulesOnSignInAndAdminRoutes", priority: 30 } as const;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** `^(?:a|b|…)` over literal prefixes: one regex statement (3 WCUs) instead of one string match per prefix. */
export const prefixRegex = (prefixes: readonly string[]) => `^(?:${prefixes.map(escapeRegex).join("|")})`;

/**
 * `/api/v1/%61uths/signin` routes as `/api/v1/auths/signin`: match what the application routes.
 * A regex statement, not a string match: `rule_json` is decoded into the SDK's types, where a
 * string match's `SearchString` is bytes (base64 in JSON), an easy value to get wrong.
 */
const decodedPath = (prefixes: readonly string[]) => ({
  RegexMatchStatement: { RegexString: prefixRegex(prefixes), FieldToMatch: { UriPath: {} }, TextTransformations: [{ Priority: 0, Type: "URL_DECODE" }] },
});

const visibility = (metric: string) => ({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: metric });

/** The web ACL's rules, in the WAF API's JSON shape (what `rule_json` takes). */
export function webAclRules(): Record<string, unknown>[] {
  const managed = MANAGED_GROUPS.map((g) => {
    const counted = [...g.countedRules, ...Object.keys(g.bodyRules)];
    return {
      Name: g.name,
      Priority: g.priority,
      OverrideAction: { None: {} },
      Statement: {
        ManagedRuleGroupStatement: {
          VendorName: "AWS",
          Name: g.name,
          ...(counted.length > 0 ? { RuleActionOverrides: counted.map((name) => ({ Name: name, ActionToUse: { Count: {} } })) } : {}),
        },
      },
      VisibilityConfig: visibility(g.name),
    };
  });
  const labels = MANAGED_GROUPS.flatMap((g) => Object.values(g.bodyRules));
  const enforcer = {
    Name: BODY_RULE_ENFORCER.name,
    Priority: BODY_RULE_ENFORCER.priority,
    Action: { Block: {} },
    Statement: {
      AndStatement: {
        Statements: [
          { OrStatement: { Statements: labels.map((key) => ({ LabelMatchStatement: { Scope: "LABEL", Key: key } })) } },
          decodedPath(BODY_RULES_ENFORCED_PATHS),
          { NotStatement: { Statement: decodedPath(BODY_RULES_EXEMPT_PATHS) } },
        ],
      },
    },
    VisibilityConfig: visibility(BODY_RULE_ENFORCER.name),
  };
  return [...managed, enforcer];
}

type Statement = Record<string, any>;

/** WCUs of one statement, per the AWS WAF developer guide's statement pages (only the kinds this ACL uses). */
export function statementWcu(statement: Statement): number {
  const transforms = (s: Statement) => (s.TextTransformations as { Type: string }[]).filter((t) => t.Type !== "NONE").length * 10;
  const [kind, body] = Object.entries(statement)[0] as [string, Statement];
  switch (kind) {
    case "ManagedRuleGroupStatement": {
      const group = MANAGED_GROUPS.find((g) => g.name === body.Name);
      if (!group) throw new Error(`no known capacity for managed rule group ${String(body.Name)}`);
      return group.wcu + (body.ScopeDownStatement ? statementWcu(body.ScopeDownStatement) : 0);
    }
    case "LabelMatchStatement":
      return 1;
    case "RegexMatchStatement":
      return 3 + transforms(body);
    case "AndStatement":
    case "OrStatement":
      return (body.Statements as Statement[]).reduce((sum, s) => sum + statementWcu(s), 0);
    case "NotStatement":
      return statementWcu(body.Statement);
    default:
      throw new Error(`no WCU rule for ${kind}`);
  }
}

/** Total WCUs of a web ACL's rules. */
export function webAclWcu(rules: readonly Record<string, any>[]): number {
  return rules.reduce((sum, r) => sum + statementWcu(r.Statement), 0);
}

export interface WebAclProps {
  /** `owui-<env>`: the web ACL is `<prefix>-alb`, its log group `aws-waf-logs-<prefix>`. */
  readonly namePrefix: string;
  readonly aws: AwsContext;
  /** The workload CMK; its policy must let CloudWatch Logs use it for the log group (see {@link wafLogGroupName}). */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
}

/** The WAF log group's name for a resource-name prefix (`owui-<env>`). */
export const wafLogGroupName = (namePrefix: string) => `${WAF_LOG_GROUP_PREFIX}${namePrefix}`;

/** What {@link addAlbWebAcl} created. */
export interface AlbWebAcl {
  readonly webAcl: Wafv2WebAcl;
  readonly logGroup: CloudwatchLogGroup;
  /** Total WCUs the rules use (checked against {@link WEB_ACL_WCU_LIMIT} at synth). */
  readonly wcu: number;
}

/**
 * The web ACL, its KMS-encrypted log group with retention, the log delivery policy and the logging
 * configuration, created directly in `scope` (the security layer), so the web ACL keeps its address.
 */
export function addAlbWebAcl(scope: Construct, props: WebAclProps): AlbWebAcl {
  const rules = webAclRules();
  const wcu = webAclWcu(rules);
  if (wcu > WEB_ACL_WCU_LIMIT) {
    throw new Error(`${scope.node.path}: the web ACL's rules need ${wcu} WCUs, over the ${WEB_ACL_WCU_LIMIT} WCU default. Fix: scope rules with labels instead of adding managed group instances`);
  }
  const { aws } = props;

  const webAcl = new Wafv2WebAcl(scope, "web-acl", {
    name: `${props.namePrefix}-alb`,
    description: "AWS Common and KnownBadInputs groups; body rules block on sign-in and admin routes only",
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    // rule_json keeps the nested WAF statements a plain JSON value (the provider types `statement` as any).
    ruleJson: Fn.jsonencode(rules),
    visibilityConfig: { sampledRequestsEnabled: true, cloudwatchMetricsEnabled: true, metricName: `${props.namePrefix}-alb` },
  });

  const logGroup = new CloudwatchLogGroup(scope, "waf-logs", {
    name: wafLogGroupName(props.namePrefix),
    retentionInDays: props.logRetentionDays,
    kmsKeyId: props.kmsKeyArn,
  });
  // Our own delivery policy: without one, WAF appends to a shared AWSWAF-LOGS policy that outgrows
  // its size limit in busy accounts and that no stack owns.
  const delivery = new CloudwatchLogResourcePolicy(scope, "waf-logs-delivery", {
    policyName: `${props.namePrefix}-waf-logs`,
    policyDocument: policyDocument(scope, "waf-logs-delivery-policy", [
      {
        sid: "WafDeliversToThisLogGroup",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${logGroup.arn}:*`],
        principals: [{ type: "Service", identifiers: ["delivery.logs.amazonaws.com"] }],
        conditions: [
          { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:*`] },
          { test: "StringEquals", variable: "aws:SourceAccount", values: [aws.accountId] },
        ],
      },
    ]).json,
  });
  new Wafv2WebAclLoggingConfiguration(scope, "waf-logging", {
    resourceArn: webAcl.arn,
    logDestinationConfigs: [logGroup.arn],
    redactedFields: WAF_REDACTED_HEADERS.map((name) => ({ singleHeader: { name } })),
    dependsOn: [delivery],
  });
  return { webAcl, logGroup, wcu };
}
