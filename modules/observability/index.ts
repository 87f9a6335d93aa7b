/**
 * Observability layer: the environment's alarm topic, the platform's alarms, the OTEL collectors'
 * log groups and the env's dashboard.
 *
 * The topic `owui-<env>-alarms` is encrypted with the workload CMK; only CloudWatch alarms of this
 * account (and IAM principals of this account) may publish to it, only over TLS, with an email
 * subscription per on-call address. It exists from the constructor on, so layers built later (the
 * provisioning DLQ) take `alarmTopicArn`. Once every layer exists, `addPlatformAlarms` adds the
 * alarms on their resources (alarms.ts) and the dashboard (dashboard.ts).
 */
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { OTEL_LOG_GROUP_NAME_RE, SNS_TOPIC_ARN_RE } from "../../envs/schema.js";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { denyInsecureTransport, policyDocument } from "../../lib/policy.js";
import type { SecurityOutputs } from "../security/index.js";
import { addPlatformAlarms, type PlatformAlarmProps } from "./alarms.js";
import { dashboardBody, type QueueFacts } from "./dashboard.js";

export * from "./alarms.js";
export * from "./dashboard.js";

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
  /**
   * Existing SNS topics (`observability.alarmTopicArns`) every alarm of this layer also notifies, as
   * further alarm actions: SNS cannot subscribe a topic to a topic. At most 4, in the env's region;
   * each must let `cloudwatch.amazonaws.com` publish (and use its KMS key, if encrypted).
   * @default - none
   */
  readonly alarmTopicArns?: readonly string[];
  /**
   * Log groups `/owui/<env>/otel/<name>` for OpenTelemetry collectors, with their retention.
   * @default - none
   */
  readonly otel?: { readonly logGroups: readonly string[]; readonly retentionDays: number };
  /** Retention of this layer's own log group (ECS service events, without Container Insights). @default 90 */
  readonly logRetentionDays?: number;
}

/** What `addPlatformAlarms` needs: the resources to alarm on, and what the dashboard shows besides. */
export interface PlatformMonitoringProps extends PlatformAlarmProps {
  /** Queues whose depth the dashboard shows (the provisioning queue and its DLQ). @default - none */
  readonly queues?: readonly QueueFacts[];
  /** ARNs of alarms other layers own (the provisioning alarms): listed in the dashboard's alarm widget. @default - none */
  readonly otherAlarmArns?: readonly string[];
}

/** What other layers may use of the observability layer. */
export interface ObservabilityOutputs {
  /** ARN of the alarm topic: use it as `alarm_actions` and `ok_actions`. */
  readonly alarmTopicArn: string;
  /** `owui-<env>-alarms`. */
  readonly alarmTopicName: string;
  /** `alarm_actions` / `ok_actions` of every alarm: the topic, then the existing topics. */
  readonly alarmActions: readonly string[];
  /** OTEL log group names by their short name (`logs` → `/owui/<env>/otel/logs`). */
  readonly otelLogGroupNames: Readonly<Record<string, string>>;
}

/** What `addPlatformAlarms` returns. */
export interface PlatformMonitoring {
  /** Every alarm it created, in creation order. */
  readonly alarms: readonly CloudwatchMetricAlarm[];
  /** `owui-<env>`. */
  readonly dashboardName: string;
  /** The dashboard in the CloudWatch console. */
  readonly dashboardUrl: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** CloudWatch allows 5 actions per alarm state; the env's own topic is one. */
export const MAX_EXISTING_TOPICS = 4;

export class Observability extends Construct implements ObservabilityOutputs {
  /** The `aws_sns_topic`. */
  readonly topic: SnsTopic;
  readonly alarmTopicArn: string;
  readonly alarmTopicName: string;
  readonly alarmActions: readonly string[];
  readonly otelLogGroupNames: Readonly<Record<string, string>>;
  private readonly props: ObservabilityProps;
  private monitoring?: PlatformMonitoring;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.props = props;
    const emails = props.alarmEmails ?? [];
    checkEmails(this, emails);
    const existing = props.alarmTopicArns ?? [];
    checkTopics(this, existing, props.aws.region);
    const { aws } = props;

    this.topic = new SnsTopic(this, "alarm-topic", {
      name: resourceName(props.envName, "alarms"),
      displayName: `owui ${props.envName} alarms`,
      kmsMasterKeyId: props.security.workloadKey.keyArn,
    });
    this.alarmTopicArn = this.topic.arn;
    this.alarmTopicName = this.topic.name;
    this.alarmActions = [this.topic.arn, ...existing];

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

    const otel: Record<string, string> = {};
    for (const name of props.otel?.logGroups ?? []) {
      if (!OTEL_LOG_GROUP_NAME_RE.test(name) || name in otel) {
        throw new Error(`Observability ${this.node.path}: otel.logGroups: "${name}" is ${name in otel ? "listed twice" : "not a log group name part"}. Fix: list each name once, 1–31 lower-case letters, digits and dashes, e.g. "logs"`);
      }
      const group = new CloudwatchLogGroup(this, `otel-${name}`, {
        name: `/owui/${props.envName}/otel/${name}`,
        retentionInDays: props.otel!.retentionDays,
        kmsKeyId: props.security.workloadKey.keyArn,
      });
      otel[name] = group.name;
    }
    this.otelLogGroupNames = otel;
  }

  /**
   * Adds the alarms on the platform's resources (every one notifies `alarmActions`) and the env's
   * dashboard. Call once, after the layers it looks at exist.
   */
  addPlatformAlarms(props: PlatformMonitoringProps): PlatformMonitoring {
    if (this.monitoring) throw new Error(`Observability ${this.node.path}: addPlatformAlarms was already called. Fix: call it once, with every layer's facts`);
    const { envName, aws } = this.props;
    const alarms = addPlatformAlarms(
      this,
      { envName, aws, actions: this.alarmActions, kmsKeyArn: this.props.security.workloadKey.keyArn, logRetentionDays: this.props.logRetentionDays ?? 90 },
      props,
    );
    const dashboardName = resourceName(envName);
    new CloudwatchDashboard(this, "dashboard", {
      dashboardName,
      dashboardBody: Fn.jsonencode(
        dashboardBody({
          region: aws.region,
          periodSeconds: props.thresholds.periodSeconds,
          aurora: props.aurora,
          alb: props.alb,
          ecs: props.ecs,
          queues: props.queues ?? [],
          alarmArns: [...alarms.map((a) => a.arn), ...(props.otherAlarmArns ?? [])],
        }),
      ),
    });
    this.monitoring = {
      alarms,
      dashboardName,
      dashboardUrl: `https://${aws.region}.console.aws.amazon.com/cloudwatch/home?region=${aws.region}#dashboards/dashboard/${dashboardName}`,
    };
    return this.monitoring;
  }
}

/** Refuses malformed, duplicate and foreign-region topic ARNs, and more than CloudWatch can notify. */
function checkTopics(scope: Construct, arns: readonly string[], region: string): void {
  const problems: string[] = [];
  if (arns.length > MAX_EXISTING_TOPICS) problems.push(`alarmTopicArns: ${arns.length} topics, but an alarm has at most 5 actions per state and the env's own topic is one. Fix: list at most ${MAX_EXISTING_TOPICS}`);
  arns.forEach((arn, i) => {
    if (!SNS_TOPIC_ARN_RE.test(arn)) problems.push(`alarmTopicArns[${i}]: "${arn}" is not an SNS topic ARN. Fix: e.g. "arn:aws:sns:${region}:123456789012:oncall"`);
    else if (arn.split(":")[3] !== region) problems.push(`alarmTopicArns[${i}]: "${arn}" is not in ${region}, and CloudWatch notifies only topics of its own region. Fix: use a topic in ${region}`);
    const first = arns.indexOf(arn);
    if (first < i) problems.push(`alarmTopicArns[${i}]: "${arn}" is already listed at alarmTopicArns[${first}]. Fix: list each topic once`);
  });
  if (problems.length > 0) throw new Error(`Observability ${scope.node.path}: ${problems.join("; ")}`);
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
