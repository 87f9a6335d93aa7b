/**
 * Observability layer: the environment's alarm topic. One SNS topic `owui-<env>-alarms`, encrypted
 * with the workload CMK, that only CloudWatch alarms of this account (and IAM principals of this
 * account) may publish to, only over TLS, with an email subscription per on-call address. Alarms of
 * other layers (e.g. the provisioning DLQ) take `alarmTopicArn` as their `alarm_actions`.
 */
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { denyInsecureTransport, policyDocument } from "../../lib/policy.js";
import type { SecurityOutputs } from "../security/index.js";

export interface ObservabilityProps {
  /** Names the topic `owui-<env>-alarms`. */
  readonly envName: string;
  /** Account and region: the topic policy lets only this account's CloudWatch alarms publish. */
  readonly aws: AwsContext;
  /**
   * The workload CMK encrypts the topic (`kms_master_key_id`). Its key policy must let
   * `cloudwatch.amazonaws.com` use it (the security layer's `CloudWatchAlarmsPublishToEncryptedTopics`).
   */
  readonly security: Pick<SecurityOutputs, "workloadKey">;
  /**
   * Addresses subscribed to the topic by email (`observability.alarmEmails` in the env). Each one
   * receives a confirmation mail and gets alarms only after confirming.
   * @default - no subscriptions (subscribe by hand, or leave the topic to other integrations)
   */
  readonly alarmEmails?: readonly string[];
}

/** What other layers may use of the observability layer. */
export interface ObservabilityOutputs {
  /** ARN of the alarm topic: use it as `alarm_actions` and `ok_actions`. */
  readonly alarmTopicArn: string;
  /** `owui-<env>-alarms`. */
  readonly alarmTopicName: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export class Observability extends Construct implements ObservabilityOutputs {
  /** The `aws_sns_topic`. */
  readonly topic: SnsTopic;
  readonly alarmTopicArn: string;
  readonly alarmTopicName: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const emails = props.alarmEmails ?? [];
    checkEmails(this, emails);
    const { aws } = props;

    this.topic = new SnsTopic(this, "alarm-topic", {
      name: resourceName(props.envName, "alarms"),
      displayName: `owui ${props.envName} alarms`,
      kmsMasterKeyId: props.security.workloadKey.keyArn,
    });
    this.alarmTopicArn = this.topic.arn;
    this.alarmTopicName = this.topic.name;

    // The topic policy replaces SNS's default one. Principals of this account keep their access
    // through IAM (same-account identity policies suffice); the policy only adds the CloudWatch
    // service principal and the TLS-only rule.
    new SnsTopicPolicy(this, "alarm-topic-policy", {
      arn: this.topic.arn,
      policy: policyDocument(this, "alarm-topic-policy-document", [
        {
          sid: "CloudWatchAlarmsOfThisAccountPublish",
          actions: ["sns:Publish"],
          resources: [this.topic.arn],
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          conditions: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [aws.accountId] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:${aws.partition}:cloudwatch:${aws.region}:${aws.accountId}:alarm:*`] },
          ],
        },
        denyInsecureTransport([this.topic.arn], ["sns:Publish", "sns:Subscribe"]),
      ]).json,
    });

    for (const email of emails) {
      new SnsTopicSubscription(this, `email-${email.toLowerCase()}`, { topicArn: this.topic.arn, protocol: "email", endpoint: email });
    }
  }
}

/** Refuses malformed and duplicate addresses (SNS would accept a typo and never deliver). */
function checkEmails(scope: Construct, emails: readonly string[]): void {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  emails.forEach((email, i) => {
    if (!EMAIL.test(email)) problems.push(`alarmEmails[${i}]: "${email}" is not an email address. Fix: e.g. "oncall@example.com"`);
    const key = email.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) problems.push(`alarmEmails[${i}]: "${email}" is already listed at alarmEmails[${first}]. Fix: list each address once`);
    else seen.set(key, i);
  });
  if (problems.length > 0) throw new Error(`Observability ${scope.node.path}: ${problems.join("; ")}`);
}
