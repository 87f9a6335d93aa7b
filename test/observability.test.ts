/** The observability layer: the env's encrypted alarm topic, its policy and its email subscriptions. */
import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { Observability, type ObservabilityProps } from "../modules/observability/index.js";
import { ENVS, envWith, foundationFixture, policyOf, type Synthesized, synthPlatform, synthStack } from "./support/synth.js";

function build(env: EnvConfig, over: Partial<ObservabilityProps> = {}): Synthesized {
  const { stack, aws, security } = foundationFixture(env);
  const observability = new Observability(stack, "observability", { envName: env.name, aws, security, alarmEmails: env.observability.alarmEmails, ...over });
  new TerraformOutput(stack, "observability_outputs", { value: { alarmTopicArn: observability.alarmTopicArn, alarmTopicName: observability.alarmTopicName } });
  return synthStack(stack);
}

const EMAILS = ["oncall@example.com", "platform-team@example.org"];
const env = envWith((raw) => {
  raw.auth = { mode: "oauth2-proxy", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" } };
  raw.observability = { alarmEmails: EMAILS };
});

describe("observability layer", () => {
  const s = build(env);
  const topicName = s.resources("aws_sns_topic")[0]![0];
  const topicArn = "${aws_sns_topic." + topicName + ".arn}";
  const keyArn = "${aws_kms_key." + s.resources("aws_kms_key").find(([n]) => n.includes("workload-key"))![0] + ".arn}";
  const ACCOUNT = "${data.aws_caller_identity.current.account_id}";
  const PARTITION = "${data.aws_partition.partition.partition}";

  it("creates one topic, owui-<env>-alarms, encrypted with the workload CMK", () => {
    expect(s.resources("aws_sns_topic")).toHaveLength(1);
    expect(s.resource("aws_sns_topic")).toMatchObject({ name: "owui-test-alarms", kms_master_key_id: keyArn });
  });

  it("topic policy: CloudWatch alarms of this account may publish; nothing may publish or subscribe without TLS", () => {
    const policy = s.resource("aws_sns_topic_policy");
    expect(policy.arn).toBe(topicArn);
    expect(policyOf(s, policy.policy).statement).toEqual([
      {
        sid: "CloudWatchAlarmsOfThisAccountPublish",
        effect: "Allow",
        actions: ["sns:Publish"],
        resources: [topicArn],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
          { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:${PARTITION}:cloudwatch:us-east-1:${ACCOUNT}:alarm:*`] },
        ],
      },
      {
        sid: "DenyInsecureTransport",
        effect: "Deny",
        actions: ["sns:Publish", "sns:Subscribe"],
        resources: [topicArn],
        principals: [{ type: "AWS", identifiers: ["*"] }],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      },
    ]);
  });

  it("the workload key lets CloudWatch (of this account) use it, or alarms could not publish to the encrypted topic", () => {
    const keyPolicy = policyOf(s, s.resource("aws_kms_key", "workload-key").policy);
    expect(keyPolicy.statement).toContainEqual(
      expect.objectContaining({
        sid: "CloudWatchAlarmsPublishToEncryptedTopics",
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }],
      }),
    );
  });

  it("subscribes each alarm email, by email, to the topic", () => {
    const subscriptions = s.resources("aws_sns_topic_subscription").map(([, c]) => c);
    expect(subscriptions).toEqual(EMAILS.map((endpoint) => expect.objectContaining({ topic_arn: topicArn, protocol: "email", endpoint })));
    expect(subscriptions).toHaveLength(EMAILS.length);
  });

  it("keys each subscription by its address, so reordering the list replaces nothing", () => {
    const reordered = build(envWith((raw) => (raw.observability = { alarmEmails: [...EMAILS].reverse() })));
    const byEndpoint = (x: Synthesized) => Object.fromEntries(x.resources("aws_sns_topic_subscription").map(([n, c]) => [c.endpoint, n]));
    expect(byEndpoint(reordered)).toEqual(byEndpoint(s));
  });

  it("outputs the topic's ARN and name", () => {
    expect(s.output("observability_outputs")!.value).toEqual({ alarmTopicArn: topicArn, alarmTopicName: "${aws_sns_topic." + topicName + ".name}" });
  });

  it("creates no subscription when alarmEmails is empty or left out", () => {
    const none = envWith(() => {});
    expect(none.observability.alarmEmails).toEqual([]);
    expect(build(none).resources("aws_sns_topic_subscription")).toHaveLength(0);
    expect(build(none, { alarmEmails: undefined }).resources("aws_sns_topic_subscription")).toHaveLength(0);
  });

  it("refuses a malformed address and a duplicate (case-insensitive), naming each", () => {
    expect(() => build(env, { alarmEmails: ["oncall@example.com", "not-an-address", "OnCall@Example.com"] })).toThrow(
      /alarmEmails\[1\]: "not-an-address" is not an email address\. Fix: e\.g\. "oncall@example\.com"; alarmEmails\[2\]: "OnCall@Example\.com" is already listed at alarmEmails\[0\]\. Fix: list each address once/,
    );
  });
});

describe("observability layer: existing topics, OTEL log groups", () => {
  const TOPICS = ["arn:aws:sns:us-east-1:123456789012:oncall", "arn:aws-us-gov:sns:us-east-1:123456789012:pager"];
  const withExtras = () => {
    const { stack, aws, security } = foundationFixture(env);
    const o = new Observability(stack, "observability", { envName: env.name, aws, security, alarmTopicArns: TOPICS, otel: { logGroups: ["logs", "metrics"], retentionDays: 30 } });
    new TerraformOutput(stack, "outputs", { value: { alarmActions: o.alarmActions, otel: o.otelLogGroupNames } });
    return { o, s: synthStack(stack) };
  };
  const { s } = withExtras();
  const topicArn = "${aws_sns_topic." + s.resources("aws_sns_topic")[0]![0] + ".arn}";

  it("alarm actions are the env's topic, then each existing topic; no SNS-to-SNS subscription (SNS has none)", () => {
    expect(s.output("outputs")!.value.alarmActions).toEqual([topicArn, ...TOPICS]);
    expect(s.resources("aws_sns_topic_subscription")).toEqual([]);
  });

  it("creates one log group /owui/<env>/otel/<name> per name, with the retention and the workload CMK, and outputs their names", () => {
    const key = "${aws_kms_key." + s.resources("aws_kms_key").find(([n]) => n.includes("workload-key"))![0] + ".arn}";
    const groups = s.resources("aws_cloudwatch_log_group").filter(([n]) => n.startsWith("observability_otel"));
    expect(groups.map(([, g]) => g)).toEqual([
      { name: "/owui/test/otel/logs", retention_in_days: 30, kms_key_id: key },
      { name: "/owui/test/otel/metrics", retention_in_days: 30, kms_key_id: key },
    ]);
    expect(s.output("outputs")!.value.otel).toEqual({ logs: "${" + "aws_cloudwatch_log_group." + groups[0]![0] + ".name}", metrics: "${" + "aws_cloudwatch_log_group." + groups[1]![0] + ".name}" });
  });

  it("the env stacks export the OTEL log group names, with a description", () => {
    const platform = synthPlatform(ENVS.nonprod);
    const out = platform.output("otel_log_group_names")!;
    expect(out.description).toMatch(/OpenTelemetry/);
    expect(Object.keys(out.value)).toEqual(ENVS.nonprod.observability.otel.logGroups);
    expect(ENVS.nonprod.observability.otel.logGroups).toEqual(["logs", "metrics"]);
  });

  it("refuses a malformed topic ARN, one in another region, a duplicate and a fifth topic", () => {
    const { stack, aws, security } = foundationFixture(env);
    const make = (id: string, alarmTopicArns: string[]) => () => new Observability(stack, id, { envName: env.name, aws, security, alarmTopicArns });
    expect(make("a", ["nope"])).toThrow(/alarmTopicArns\[0\]: "nope" is not an SNS topic ARN\. Fix:/);
    expect(make("b", ["arn:aws:sns:eu-west-1:123456789012:x"])).toThrow(/alarmTopicArns\[0\]: .* is not in us-east-1, and CloudWatch notifies only topics of its own region\. Fix: use a topic in us-east-1/);
    expect(make("c", [TOPICS[0]!, TOPICS[0]!])).toThrow(/alarmTopicArns\[1\]: .* is already listed at alarmTopicArns\[0\]/);
    expect(make("d", [1, 2, 3, 4, 5].map((n) => `arn:aws:sns:us-east-1:123456789012:t${n}`))).toThrow(/alarmTopicArns: 5 topics, but an alarm has at most 5 actions per state .*Fix: list at most 4/);
  });

  it("adds the platform alarms once only", () => {
    const { o } = withExtras();
    const thresholds = ENVS.nonprod.observability.alarms;
    o.addPlatformAlarms({ thresholds });
    expect(() => o.addPlatformAlarms({ thresholds })).toThrow(/addPlatformAlarms was already called/);
  });
});

describe("env stack outputs", () => {
  it.each(["nonprod", "prod", "sandbox"] as const)("%s: every output has a description", (name) => {
    const outputs = Object.entries(synthPlatform(ENVS[name]).json.output ?? {}) as [string, { description?: string }][];
    expect(outputs.length).toBeGreaterThan(15);
    expect(outputs.filter(([, o]) => !o.description).map(([n]) => n)).toEqual([]);
  });

  it("has the operator's values: app URL, topic, log groups, dashboard, Cognito domain, queues, parameter names", () => {
    const names = Object.keys(synthPlatform(ENVS.sandbox).json.output);
    for (const n of ["app_url", "alarm_topic_arn", "otel_log_group_names", "dashboard_url", "cognito_domain", "provisioning_queue_url", "provisioning_dlq_url", "integration_parameter_names", "alb_dns_name", "certificate_validation_records"]) {
      expect(names).toContain(n);
    }
  });
});
