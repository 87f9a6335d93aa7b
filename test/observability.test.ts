/** The observability layer: the env's encrypted alarm topic, its policy and its email subscriptions. */
import { TerraformOutput } from "cdktf";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { Observability, type ObservabilityProps } from "../modules/observability/index.js";
import { envWith, foundationFixture, policyOf, type Synthesized, synthStack } from "./support/synth.js";

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
