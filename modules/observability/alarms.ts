/**
 * The platform's CloudWatch alarms, built from narrow typed facts about the resources (names, ARN
 * suffixes, identifiers): Aurora, the ALB and its target groups, the ECS services, the Lambda
 * functions, Redis and the WAF. Every alarm notifies the same actions (the env's topic and any
 * existing topics) on ALARM and on OK.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import type { EnvConfig } from "../../envs/schema.js";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { policyDocument } from "../../lib/policy.js";

/** Thresholds, periods and evaluation periods (`observability.alarms` in the env). */
export type AlarmThresholds = EnvConfig["observability"]["alarms"];

/** One ECS service: its short name (alarm names) and the `aws_ecs_service` name (the dimension). */
export interface ServiceFacts {
  /** Short name, e.g. `openwebui`. */
  readonly name: string;
  /** The ECS service's name (`ServiceName` dimension). */
  readonly serviceName: string;
  /** ARN suffix of its ALB target group (`TargetGroup` dimension), when ALB-routed. */
  readonly targetGroupArnSuffix?: string;
}

/** One Lambda function. */
export interface FunctionFacts {
  /** Short name for the alarm, e.g. `db-bootstrap`. */
  readonly key: string;
  /** The function's name (`FunctionName` dimension). */
  readonly functionName: string;
  /** Its `Errors` alarm already exists in the layer that owns it (provisioning): add only `Throttles`. */
  readonly errorsAlarmedByOwner?: boolean;
}

/** Everything the platform alarms look at. Absent parts get no alarms. */
export interface PlatformAlarmProps {
  readonly thresholds: AlarmThresholds;
  /** The Aurora cluster and its Serverless v2 ceiling. */
  readonly aurora?: { readonly clusterIdentifier: string; readonly maxAcu: number };
  /** The ALB (`LoadBalancer` dimension: its ARN suffix). */
  readonly alb?: { readonly arnSuffix: string };
  /**
   * The ECS cluster and its services. `containerInsights` false: running-below-desired comes from
   * ECS service events (EventBridge) instead of Container Insights' task counts.
   */
  readonly ecs?: { readonly clusterName: string; readonly clusterArn: string; readonly containerInsights: boolean; readonly services: readonly ServiceFacts[] };
  /** Every Lambda function of the stack. */
  readonly functions?: readonly FunctionFacts[];
  /** Redis: the replication group's member clusters (`CacheClusterId` dimension), when Redis exists. */
  readonly redis?: { readonly cacheClusterIds: readonly string[] };
  /** The WAF web ACL (`WebACL` dimension: its metric name), when the WAF is on. */
  readonly waf?: { readonly webAclMetricName: string };
}

/** What the alarm builder needs of its surroundings. */
export interface AlarmContext {
  readonly envName: string;
  readonly aws: AwsContext;
  /** Alarm and OK actions of every alarm. */
  readonly actions: readonly string[];
  /** Workload CMK: the ECS-events log group (Container Insights off). */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
}

type Metric = Pick<CloudwatchMetricAlarmConfig, "namespace" | "metricName" | "dimensions" | "statistic" | "extendedStatistic">;
type Comparison = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";

const MIB = 1024 * 1024;

/** Creates the alarms in `scope` and returns them in creation order. */
export function addPlatformAlarms(scope: Construct, ctx: AlarmContext, props: PlatformAlarmProps): CloudwatchMetricAlarm[] {
  const t = props.thresholds;
  const alarms: CloudwatchMetricAlarm[] = [];
  const name = (...parts: string[]) => resourceName(ctx.envName, ...parts);
  const alarm = (id: string, description: string, metric: Metric | Pick<CloudwatchMetricAlarmConfig, "metricQuery">, comparisonOperator: Comparison, threshold: number, over: Partial<CloudwatchMetricAlarmConfig> = {}) => {
    const a = new CloudwatchMetricAlarm(scope, id, {
      alarmName: name(id),
      alarmDescription: description,
      ...metric,
      ...("metricQuery" in metric ? {} : { period: t.periodSeconds }),
      comparisonOperator,
      threshold,
      evaluationPeriods: t.evaluationPeriods,
      treatMissingData: "missing",
      alarmActions: [...ctx.actions],
      okActions: [...ctx.actions],
      ...over,
    });
    alarms.push(a);
    return a;
  };
  /** Counts (errors, 5xx, evictions): no data means nothing happened. */
  const countAlarm = { treatMissingData: "notBreaching" } as const;

  if (props.aurora) {
    const dims = { DBClusterIdentifier: props.aurora.clusterIdentifier };
    alarm("aurora-cpu", `Aurora CPU above ${t.auroraCpuPercent}% (observability.alarms.auroraCpuPercent)`, { namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: dims, statistic: "Average" }, "GreaterThanThreshold", t.auroraCpuPercent);
    alarm("aurora-freeable-memory", `Aurora freeable memory below ${t.auroraFreeableMemoryMiB} MiB (observability.alarms.auroraFreeableMemoryMiB)`, { namespace: "AWS/RDS", metricName: "FreeableMemory", dimensions: dims, statistic: "Minimum" }, "LessThanThreshold", t.auroraFreeableMemoryMiB * MIB);
    const acu = (props.aurora.maxAcu * t.auroraAcuPercentOfMax) / 100;
    alarm(
      "aurora-acu-at-max",
      `Aurora Serverless v2 capacity at ${acu} ACU or more: ${t.auroraAcuPercentOfMax}% of data.aurora.maxAcu (${props.aurora.maxAcu}); raise maxAcu if it stays there`,
      { namespace: "AWS/RDS", metricName: "ServerlessDatabaseCapacity", dimensions: dims, statistic: "Maximum" },
      "GreaterThanOrEqualToThreshold",
      acu,
    );
  }

  if (props.alb) {
    const lb = { LoadBalancer: props.alb.arnSuffix };
    alarm("alb-elb-5xx", `More than ${t.alb5xxCount} 5xx responses per period generated by the ALB itself (no healthy target, timeouts)`, { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", dimensions: lb, statistic: "Sum" }, "GreaterThanThreshold", t.alb5xxCount, countAlarm);
    alarm("alb-target-5xx", `More than ${t.alb5xxCount} 5xx responses per period returned by the services behind the ALB`, { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: lb, statistic: "Sum" }, "GreaterThanThreshold", t.alb5xxCount, countAlarm);
    alarm("alb-target-response-time", `p95 target response time above ${t.albTargetResponseSeconds} s (observability.alarms.albTargetResponseSeconds)`, { namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", dimensions: lb, extendedStatistic: "p95" }, "GreaterThanThreshold", t.albTargetResponseSeconds);
    for (const s of props.ecs?.services ?? []) {
      if (!s.targetGroupArnSuffix) continue;
      alarm(
        `alb-${s.name}-unhealthy-hosts`,
        `More than ${t.unhealthyHosts} unhealthy ${s.name} targets (observability.alarms.unhealthyHosts)`,
        { namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", dimensions: { TargetGroup: s.targetGroupArnSuffix, LoadBalancer: props.alb.arnSuffix }, statistic: "Maximum" },
        "GreaterThanThreshold",
        t.unhealthyHosts,
      );
    }
  }

  if (props.ecs) {
    const { clusterName } = props.ecs;
    for (const s of props.ecs.services) {
      const dims = { ClusterName: clusterName, ServiceName: s.serviceName };
      alarm(`ecs-${s.name}-cpu`, `${s.name}: CPU above ${t.ecsCpuPercent}% of its reservation (observability.alarms.ecsCpuPercent)`, { namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: dims, statistic: "Average" }, "GreaterThanThreshold", t.ecsCpuPercent);
      alarm(`ecs-${s.name}-memory`, `${s.name}: memory above ${t.ecsMemoryPercent}% of its reservation (observability.alarms.ecsMemoryPercent)`, { namespace: "AWS/ECS", metricName: "MemoryUtilization", dimensions: dims, statistic: "Average" }, "GreaterThanThreshold", t.ecsMemoryPercent);
      if (props.ecs.containerInsights) {
        const count = (id: string, metricName: string, stat: string) => ({ id, metric: { namespace: "ECS/ContainerInsights", metricName, dimensions: dims, period: t.periodSeconds, stat } });
        alarm(
          `ecs-${s.name}-tasks-below-desired`,
          `${s.name}: fewer tasks running than desired for ${t.evaluationPeriods} periods (tasks failing to start or crashing)`,
          {
            metricQuery: [
              count("running", "RunningTaskCount", "Minimum"),
              count("desired", "DesiredTaskCount", "Maximum"),
              { id: "missing", expression: "desired - running", label: "Desired tasks not running", returnData: true },
            ],
          },
          "GreaterThanThreshold",
          0,
        );
      }
    }
    if (!props.ecs.containerInsights) alarms.push(serviceEventsAlarm(scope, ctx, props.ecs.clusterName, t));
  }

  for (const f of props.functions ?? []) {
    const dims = { FunctionName: f.functionName };
    if (!f.errorsAlarmedByOwner) {
      alarm(`lambda-${f.key}-errors`, `${f.key}: more than ${t.lambdaErrors} invocation errors per period (crash, timeout, out of memory)`, { namespace: "AWS/Lambda", metricName: "Errors", dimensions: dims, statistic: "Sum" }, "GreaterThanThreshold", t.lambdaErrors, { ...countAlarm, evaluationPeriods: 1 });
    }
    alarm(`lambda-${f.key}-throttles`, `${f.key}: more than ${t.lambdaThrottles} throttled invocations per period (account or reserved concurrency exhausted)`, { namespace: "AWS/Lambda", metricName: "Throttles", dimensions: dims, statistic: "Sum" }, "GreaterThanThreshold", t.lambdaThrottles, { ...countAlarm, evaluationPeriods: 1 });
  }

  (props.redis?.cacheClusterIds ?? []).forEach((cacheClusterId, i) => {
    const node = `redis-${String(i + 1).padStart(3, "0")}`;
    const dims = { CacheClusterId: cacheClusterId };
    alarm(`${node}-engine-cpu`, `Redis node ${i + 1}: engine CPU above ${t.redisCpuPercent}% (observability.alarms.redisCpuPercent)`, { namespace: "AWS/ElastiCache", metricName: "EngineCPUUtilization", dimensions: dims, statistic: "Average" }, "GreaterThanThreshold", t.redisCpuPercent);
    alarm(`${node}-memory`, `Redis node ${i + 1}: memory above ${t.redisMemoryPercent}% of max memory (observability.alarms.redisMemoryPercent)`, { namespace: "AWS/ElastiCache", metricName: "DatabaseMemoryUsagePercentage", dimensions: dims, statistic: "Maximum" }, "GreaterThanThreshold", t.redisMemoryPercent);
    alarm(`${node}-evictions`, `Redis node ${i + 1}: more than ${t.redisEvictions} keys evicted per period (memory full: sessions and websocket state get lost)`, { namespace: "AWS/ElastiCache", metricName: "Evictions", dimensions: dims, statistic: "Sum" }, "GreaterThanThreshold", t.redisEvictions, countAlarm);
  });

  if (props.waf) {
    alarm(
      "waf-blocked-requests",
      `The WAF blocked more than ${t.wafBlockedRequests} requests in one period: a scan or an attack, or a rule blocking real users (check the WAF logs)`,
      { namespace: "AWS/WAFV2", metricName: "BlockedRequests", dimensions: { WebACL: props.waf.webAclMetricName, Region: ctx.aws.region, Rule: "ALL" }, statistic: "Sum" },
      "GreaterThanThreshold",
      t.wafBlockedRequests,
      { ...countAlarm, evaluationPeriods: 1 },
    );
  }
  return alarms;
}

/** ECS service events EventBridge matches: a service's tasks fail to start, or a deployment fails. */
export const SERVICE_EVENT_NAMES = ["SERVICE_TASK_START_IMPAIRED", "SERVICE_DEPLOYMENT_FAILED", "SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED"] as const;

/**
 * Without Container Insights there is no task-count metric. ECS reports a service that cannot keep
 * its desired count as service events; an EventBridge rule matches this cluster's, writes them to a
 * log group (to read what happened), and an alarm on the rule's `TriggeredRules` notifies the topic.
 */
function serviceEventsAlarm(scope: Construct, ctx: AlarmContext, clusterName: string, t: AlarmThresholds): CloudwatchMetricAlarm {
  const name = (...parts: string[]) => resourceName(ctx.envName, ...parts);
  const { aws } = ctx;
  const rule = new CloudwatchEventRule(scope, "ecs-service-events", {
    name: name("ecs-service-events"),
    description: "ECS services of this env that cannot reach their desired count, and failed deployments",
    eventPattern: Fn.jsonencode({
      source: ["aws.ecs"],
      "detail-type": ["ECS Service Action", "ECS Deployment State Change"],
      // A service's ARN is arn:<partition>:ecs:<region>:<account>:service/<cluster>/<service>.
      resources: [{ prefix: `arn:${aws.partition}:ecs:${aws.region}:${aws.accountId}:service/${clusterName}/` }],
      detail: { eventName: [...SERVICE_EVENT_NAMES] },
    }),
  });
  const logGroup = new CloudwatchLogGroup(scope, "ecs-service-events-logs", {
    name: `/owui/${ctx.envName}/ecs-service-events`,
    retentionInDays: ctx.logRetentionDays,
    kmsKeyId: ctx.kmsKeyArn,
  });
  const delivery = new CloudwatchLogResourcePolicy(scope, "ecs-service-events-delivery", {
    policyName: name("ecs-service-events"),
    policyDocument: policyDocument(scope, "ecs-service-events-delivery-policy", [
      {
        sid: "EventBridgeRuleWritesServiceEvents",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${logGroup.arn}:*`],
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }],
        conditions: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [rule.arn] }],
      },
    ]).json,
  });
  new CloudwatchEventTarget(scope, "ecs-service-events-target", { rule: rule.name, targetId: "log-group", arn: logGroup.arn, dependsOn: [delivery] });
  return new CloudwatchMetricAlarm(scope, "ecs-service-events-alarm", {
    alarmName: name("ecs-service-events"),
    alarmDescription: `An ECS service could not keep its desired count, or a deployment failed (Container Insights is off, so this replaces the tasks-below-desired alarms). The events are in /owui/${ctx.envName}/ecs-service-events`,
    namespace: "AWS/Events",
    metricName: "TriggeredRules",
    dimensions: { RuleName: rule.name },
    statistic: "Sum",
    period: t.periodSeconds,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    alarmActions: [...ctx.actions],
    okActions: [...ctx.actions],
  });
}
