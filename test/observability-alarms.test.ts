/**
 * The platform alarms (modules/observability/alarms.ts) and the dashboard, in the synthesized env
 * stacks: each alarm's metric, namespace, dimensions, threshold, comparison, periods and actions;
 * the dimensions resolve to real resources of the same stack; absent resources get no alarms; bad
 * thresholds and topics are refused at synth.
 */
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { evaluateTemplate } from "./support/hcl-gate.js";
import { ENVS, envWith, type Json, type Synthesized, synthPlatform } from "./support/synth.js";

type Alarm = Json;

/** The one alarm named `owui-<env>-<suffix>`. */
function alarm(s: Synthesized, env: EnvConfig, suffix: string): Alarm {
  const hits = s.resources("aws_cloudwatch_metric_alarm").filter(([, c]) => c.alarm_name === `owui-${env.name}-${suffix}`);
  expect(hits.map(([n]) => n), `alarm owui-${env.name}-${suffix}`).toHaveLength(1);
  return hits[0]![1];
}
const alarmNames = (s: Synthesized) => s.resources("aws_cloudwatch_metric_alarm").map(([, c]) => String(c.alarm_name));

/** `${aws_x.name.attr}` (also inside a function call) → [type, name, attr]; the resource must exist in the stack. */
function resolve(s: Synthesized, reference: string): [string, string, string] {
  const m = /\$\{(?:[a-z]+\()*(?:tolist\()?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)/.exec(reference);
  if (!m) throw new Error(`not a resource reference: ${reference}`);
  const [, type, name, attr] = m;
  expect(s.json.resource?.[type!]?.[name!], `${type}.${name} exists`).toBeDefined();
  return [type!, name!, attr!];
}

const topicRef = (s: Synthesized) => "${aws_sns_topic." + s.resources("aws_sns_topic").find(([n]) => n.startsWith("observability_"))![0] + ".arn}";
const one = (s: Synthesized, type: string, part = "") => s.resources(type).filter(([n]) => n.includes(part)).map(([n]) => n);

describe.each([
  ["prod", ENVS.prod],
  ["nonprod", ENVS.nonprod],
  ["sandbox", ENVS.sandbox],
] as const)("alarms of %s", (_, env) => {
  const s = synthPlatform(env);
  const t = env.observability.alarms;
  const topic = topicRef(s);
  const ours = s.resources("aws_cloudwatch_metric_alarm").filter(([n]) => n.startsWith("observability_")).map(([, c]) => c);
  const [lb] = one(s, "aws_lb", "compute_alb");
  const lbSuffix = "${aws_lb." + lb + ".arn_suffix}";
  const clusterName = "${aws_ecs_cluster." + one(s, "aws_ecs_cluster")[0] + ".name}";
  const services = s.resources("aws_ecs_service").map(([n, c]) => ({ ref: "${aws_ecs_service." + n + ".name}", short: String(c.name).replace(`owui-${env.name}-`, "") }));

  it("every alarm of this layer notifies the topic on ALARM and OK, and nothing else", () => {
    expect(ours.length).toBeGreaterThan(15);
    for (const a of ours) {
      expect(a.alarm_actions, a.alarm_name).toEqual([topic]);
      expect(a.ok_actions, a.alarm_name).toEqual([topic]);
    }
  });

  it("every dimension of every alarm resolves to a resource of this stack, of the type the dimension names", () => {
    const expectedType: Record<string, string> = {
      LoadBalancer: "aws_lb",
      TargetGroup: "aws_lb_target_group",
      ClusterName: "aws_ecs_cluster",
      ServiceName: "aws_ecs_service",
      DBClusterIdentifier: "aws_rds_cluster",
      FunctionName: "aws_lambda_function",
      CacheClusterId: "aws_elasticache_replication_group",
      WebACL: "aws_wafv2_web_acl",
      RuleName: "aws_cloudwatch_event_rule",
    };
    let checked = 0;
    for (const a of ours) {
      const dims: Json = a.dimensions ?? a.metric_query?.find((q: Json) => q.metric)?.metric.dimensions;
      for (const [key, value] of Object.entries(dims)) {
        if (key === "Region" || key === "Rule") continue;
        expect(resolve(s, String(value))[0], `${a.alarm_name}: ${key}`).toBe(expectedType[key]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(ours.length);
  });

  it("Aurora: CPU, freeable memory and ACU at the maximum, on the cluster", () => {
    const cluster = "${aws_rds_cluster." + one(s, "aws_rds_cluster", "data_aurora")[0] + ".cluster_identifier}";
    const common = { namespace: "AWS/RDS", dimensions: { DBClusterIdentifier: cluster }, period: t.periodSeconds, evaluation_periods: t.evaluationPeriods };
    expect(alarm(s, env, "aurora-cpu")).toMatchObject({ ...common, metric_name: "CPUUtilization", statistic: "Average", comparison_operator: "GreaterThanThreshold", threshold: 80 });
    expect(alarm(s, env, "aurora-freeable-memory")).toMatchObject({ ...common, metric_name: "FreeableMemory", statistic: "Minimum", comparison_operator: "LessThanThreshold", threshold: 256 * 1024 * 1024 });
    expect(alarm(s, env, "aurora-acu-at-max")).toMatchObject({ ...common, metric_name: "ServerlessDatabaseCapacity", statistic: "Maximum", comparison_operator: "GreaterThanOrEqualToThreshold", threshold: env.data.aurora.maxAcu });
  });

  it("ALB: ELB and target 5xx, p95 response time, unhealthy hosts per target group", () => {
    const base = { namespace: "AWS/ApplicationELB", period: t.periodSeconds, comparison_operator: "GreaterThanThreshold" };
    expect(alarm(s, env, "alb-elb-5xx")).toMatchObject({ ...base, metric_name: "HTTPCode_ELB_5XX_Count", statistic: "Sum", threshold: 10, dimensions: { LoadBalancer: lbSuffix }, treat_missing_data: "notBreaching" });
    expect(alarm(s, env, "alb-target-5xx")).toMatchObject({ ...base, metric_name: "HTTPCode_Target_5XX_Count", statistic: "Sum", threshold: 10, dimensions: { LoadBalancer: lbSuffix } });
    expect(alarm(s, env, "alb-target-response-time")).toMatchObject({ ...base, metric_name: "TargetResponseTime", extended_statistic: "p95", threshold: 5, dimensions: { LoadBalancer: lbSuffix } });
    const groups = s.resources("aws_lb_target_group");
    expect(groups.length).toBeGreaterThan(0);
    for (const [name, tg] of groups) {
      const short = String(tg.name ?? name).includes("openwebui") || name.includes("openwebui") ? "openwebui" : name.split("_")[1]!;
      expect(alarm(s, env, `alb-${short}-unhealthy-hosts`)).toMatchObject({
        ...base,
        metric_name: "UnHealthyHostCount",
        statistic: "Maximum",
        threshold: 0,
        dimensions: { TargetGroup: "${aws_lb_target_group." + name + ".arn_suffix}", LoadBalancer: lbSuffix },
      });
    }
  });

  it("ECS: CPU and memory per service, on the cluster and the service", () => {
    expect(services.map((x) => x.short).sort()).toEqual(["litellm", "mcpo", "openwebui"]);
    for (const svc of services) {
      const dims = { ClusterName: clusterName, ServiceName: svc.ref };
      expect(alarm(s, env, `ecs-${svc.short}-cpu`)).toMatchObject({ namespace: "AWS/ECS", metric_name: "CPUUtilization", statistic: "Average", threshold: 85, comparison_operator: "GreaterThanThreshold", dimensions: dims });
      expect(alarm(s, env, `ecs-${svc.short}-memory`)).toMatchObject({ namespace: "AWS/ECS", metric_name: "MemoryUtilization", statistic: "Average", threshold: 85, comparison_operator: "GreaterThanThreshold", dimensions: dims });
    }
  });

  if (env.compute.containerInsights !== "disabled") {
    it("ECS with Container Insights: desired minus running tasks above 0, per service; no service-events rule", () => {
      for (const svc of services) {
        const a = alarm(s, env, `ecs-${svc.short}-tasks-below-desired`);
        const dims = { ClusterName: clusterName, ServiceName: svc.ref };
        expect(a).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 0, evaluation_periods: t.evaluationPeriods });
        expect(a.metric_query).toEqual([
          { id: "running", metric: { namespace: "ECS/ContainerInsights", metric_name: "RunningTaskCount", dimensions: dims, period: t.periodSeconds, stat: "Minimum" } },
          { id: "desired", metric: { namespace: "ECS/ContainerInsights", metric_name: "DesiredTaskCount", dimensions: dims, period: t.periodSeconds, stat: "Maximum" } },
          { id: "missing", expression: "desired - running", label: "Desired tasks not running", return_data: true },
        ]);
        expect(a.metric_name).toBeUndefined();
      }
      expect(s.resources("aws_cloudwatch_event_rule").filter(([n]) => n.startsWith("observability_"))).toEqual([]);
    });
  } else {
    it("ECS without Container Insights: an EventBridge rule on this cluster's service events, logged, and an alarm on its TriggeredRules", () => {
      expect(alarmNames(s).filter((n) => n.endsWith("tasks-below-desired"))).toEqual([]);
      const [ruleName, rule] = s.resources("aws_cloudwatch_event_rule").find(([n]) => n.startsWith("observability_ecs-service-events"))!;
      const pattern = JSON.parse(String(evaluateTemplate(rule.event_pattern, (a) => `<${a}>`)));
      expect(pattern).toEqual({
        source: ["aws.ecs"],
        "detail-type": ["ECS Service Action", "ECS Deployment State Change"],
        resources: [{ prefix: `arn:<data.aws_partition.partition.partition>:ecs:${env.region}:<data.aws_caller_identity.current.account_id>:service/<${clusterName.slice(2, -1)}>/` }],
        detail: { eventName: ["SERVICE_TASK_START_IMPAIRED", "SERVICE_DEPLOYMENT_FAILED", "SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED"] },
      });
      const a = alarm(s, env, "ecs-service-events");
      expect(a).toMatchObject({ namespace: "AWS/Events", metric_name: "TriggeredRules", statistic: "Sum", dimensions: { RuleName: "${aws_cloudwatch_event_rule." + ruleName + ".name}" }, threshold: 0, comparison_operator: "GreaterThanThreshold", evaluation_periods: 1, treat_missing_data: "notBreaching" });
      const target = s.resource("aws_cloudwatch_event_target", "observability_ecs-service-events-target");
      const group = s.resource("aws_cloudwatch_log_group", "observability_ecs-service-events-logs");
      expect(group).toMatchObject({ name: `/owui/${env.name}/ecs-service-events`, retention_in_days: env.logRetentionDays });
      expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\.security_workload-key_\w+\.arn\}$/);
      expect(resolve(s, target.arn)[0]).toBe("aws_cloudwatch_log_group");
      expect(resolve(s, target.rule)[1]).toBe(ruleName);
    });
  }

  it("Lambda: throttles for every function; errors for every function whose layer does not alarm on them already", () => {
    const functions = s.resources("aws_lambda_function");
    const ownerErrors = s.resources("aws_cloudwatch_metric_alarm").filter(([n, c]) => !n.startsWith("observability_") && c.metric_name === "Errors" && c.namespace === "AWS/Lambda");
    for (const [name, fn] of functions) {
      const ref = "${aws_lambda_function." + name + ".function_name}";
      const key = String(fn.function_name).replace(`owui-${env.name}-`, "");
      expect(alarm(s, env, `lambda-${key}-throttles`)).toMatchObject({ namespace: "AWS/Lambda", metric_name: "Throttles", statistic: "Sum", threshold: 0, comparison_operator: "GreaterThanThreshold", dimensions: { FunctionName: ref } });
      const owned = ownerErrors.filter(([, c]) => c.dimensions.FunctionName === ref);
      const mine = ours.filter((c) => c.metric_name === "Errors" && c.dimensions.FunctionName === ref);
      // Exactly one Errors alarm per function: the owner's or this layer's.
      expect(owned.length + mine.length, `${key}: Errors alarms`).toBe(1);
      if (mine.length) expect(mine[0]).toMatchObject({ namespace: "AWS/Lambda", statistic: "Sum", threshold: 0, comparison_operator: "GreaterThanThreshold", alarm_name: `owui-${env.name}-lambda-${key}-errors` });
    }
    if (env.name === "sandbox") expect(ownerErrors.map(([, c]) => c.alarm_name).sort()).toEqual(["owui-sandbox-provisioning-producer-errors", "owui-sandbox-provisioning-reconciler-errors", "owui-sandbox-provisioning-worker-errors"]);
  });

  if (env.data.redis.enabled) {
    it("Redis: engine CPU, memory and evictions per member cluster of the replication group", () => {
      const [rg] = one(s, "aws_elasticache_replication_group");
      const nodes = 1 + env.data.redis.replicas;
      for (let i = 0; i < nodes; i++) {
        const node = `redis-00${i + 1}`;
        const id = "${element(aws_elasticache_replication_group." + rg + ".member_clusters, " + i + ")}";
        const tolistId = "${element(tolist(aws_elasticache_replication_group." + rg + ".member_clusters), " + i + ")}";
        for (const [suffix, metric, stat, threshold] of [["engine-cpu", "EngineCPUUtilization", "Average", 80], ["memory", "DatabaseMemoryUsagePercentage", "Maximum", 80], ["evictions", "Evictions", "Sum", 0]] as const) {
          const a = alarm(s, env, `${node}-${suffix}`);
          expect(a).toMatchObject({ namespace: "AWS/ElastiCache", metric_name: metric, statistic: stat, threshold, comparison_operator: "GreaterThanThreshold" });
          expect([id, tolistId]).toContain(a.dimensions.CacheClusterId);
        }
      }
      expect(alarmNames(s).filter((n) => n.includes("-redis-"))).toHaveLength(3 * nodes);
    });
  } else {
    it("no Redis, no Redis alarms", () => {
      expect(s.resources("aws_elasticache_replication_group")).toEqual([]);
      expect(alarmNames(s).filter((n) => n.includes("redis"))).toEqual([]);
    });
  }

  it("WAF: blocked requests of the whole web ACL above the threshold", () => {
    expect(env.security.wafEnabled).toBe(true);
    const acl = one(s, "aws_wafv2_web_acl")[0];
    expect(alarm(s, env, "waf-blocked-requests")).toMatchObject({
      namespace: "AWS/WAFV2",
      metric_name: "BlockedRequests",
      statistic: "Sum",
      threshold: 100,
      comparison_operator: "GreaterThanThreshold",
      evaluation_periods: 1,
      dimensions: { WebACL: "${aws_wafv2_web_acl." + acl + ".visibility_config[0].metric_name}", Region: env.region, Rule: "ALL" },
    });
  });
});

describe("thresholds and topics from config", () => {
  const TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall";
  const env = envWith((raw) => {
    raw.observability = {
      alarmTopicArns: [TOPIC],
      alarms: { periodSeconds: 60, evaluationPeriods: 5, auroraCpuPercent: 70, auroraFreeableMemoryMiB: 512, auroraAcuPercentOfMax: 75, alb5xxCount: 3, albTargetResponseSeconds: 2.5, unhealthyHosts: 1, ecsCpuPercent: 60, ecsMemoryPercent: 65, lambdaThrottles: 2, wafBlockedRequests: 1000 },
    };
    raw.security.wafEnabled = false;
    raw.data = { aurora: { maxAcu: 8 } };
  });
  const s = synthPlatform(env);
  const topic = topicRef(s);

  it("uses each configured threshold, period and evaluation count", () => {
    const pick = (suffix: string) => {
      const a = alarm(s, env, suffix);
      return [a.threshold, a.period, a.evaluation_periods];
    };
    expect(pick("aurora-cpu")).toEqual([70, 60, 5]);
    expect(pick("aurora-freeable-memory")).toEqual([512 * 1024 * 1024, 60, 5]);
    expect(pick("aurora-acu-at-max")).toEqual([6, 60, 5]);
    expect(pick("alb-elb-5xx")).toEqual([3, 60, 5]);
    expect(pick("alb-target-response-time")).toEqual([2.5, 60, 5]);
    expect(pick("alb-openwebui-unhealthy-hosts")).toEqual([1, 60, 5]);
    expect(pick("ecs-openwebui-cpu")).toEqual([60, 60, 5]);
    expect(pick("ecs-openwebui-memory")).toEqual([65, 60, 5]);
    expect(pick("lambda-db-bootstrap-throttles")).toEqual([2, 60, 1]);
  });

  it("every alarm of this layer also notifies each existing topic, after the env's own", () => {
    const ours = s.resources("aws_cloudwatch_metric_alarm").filter(([n]) => n.startsWith("observability_"));
    expect(ours.length).toBeGreaterThan(10);
    for (const [, a] of ours) {
      expect(a.alarm_actions).toEqual([topic, TOPIC]);
      expect(a.ok_actions).toEqual([topic, TOPIC]);
    }
    expect(s.resources("aws_sns_topic_subscription").filter(([, c]) => c.protocol !== "email")).toEqual([]);
    expect(s.output("alarm_actions")?.value).toEqual([topic, TOPIC]);
  });

  it("no WAF, no WAF alarm", () => {
    expect(s.resources("aws_wafv2_web_acl")).toEqual([]);
    expect(alarmNames(s).filter((n) => n.includes("waf"))).toEqual([]);
  });
});

describe("refusals", () => {
  const refuse = (patch: (o: any) => void) => () => envWith((raw) => {
    raw.observability = {};
    patch(raw.observability);
  });
  it.each([
    ["auroraCpuPercent", 0, /observability\.alarms\.auroraCpuPercent: 0 is not a percentage in 1–100 \(a whole number\)\. Fix: use 1 to 100, e\.g\. 80/],
    ["ecsMemoryPercent", 150, /observability\.alarms\.ecsMemoryPercent: 150 is not a percentage in 1–100 .*Fix: use 1 to 100, e\.g\. 85/],
    ["evaluationPeriods", 0, /observability\.alarms\.evaluationPeriods: 0 is not a number of periods in 1–24 .*Fix: use 1 to 24, e\.g\. 3/],
    ["periodSeconds", 120, /observability\.alarms\.periodSeconds: 120 is not an alarm period this project uses\. Fix: use 60, 300, 900 or 3600/],
    ["albTargetResponseSeconds", 0, /observability\.alarms\.albTargetResponseSeconds: 0 is not a time in seconds in 0\.1–4000\. Fix: use 0\.1 to 4000, e\.g\. 5/],
    ["lambdaThrottles", -1, /observability\.alarms\.lambdaThrottles: -1 is not a count of throttles in 0–1000000 .*Fix/],
    ["alb5xxCount", 2.5, /observability\.alarms\.alb5xxCount: 2\.5 is not a count of responses in 1–1000000 \(a whole number\)/],
  ])("refuses alarms.%s = %s, naming the path, the value and the fix", (key, value, message) => {
    expect(refuse((o) => (o.alarms = { [key]: value }))).toThrow(message);
  });

  it("refuses an unknown threshold key", () => {
    expect(refuse((o) => (o.alarms = { auroraCpu: 80 }))).toThrow(/observability\.alarms: unknown key "auroraCpu"/);
  });

  it("refuses an OTEL log group name that is not a name part, or listed twice", () => {
    expect(refuse((o) => (o.otel = { logGroups: ["Logs/x"] }))).toThrow(/observability\.otel\.logGroups\[0\]: "Logs\/x" is not a log group name part\. Fix: 1–31 lower-case letters/);
    expect(refuse((o) => (o.otel = { logGroups: ["logs", "logs"] }))).toThrow(/observability\.otel\.logGroups: lists a name twice\. Fix: list each name once/);
    expect(refuse((o) => (o.otel = { retentionDays: 10 }))).toThrow(/observability\.otel\.retentionDays: 10 is not a CloudWatch Logs retention period\. Fix:/);
  });

  it("refuses a topic ARN that is malformed, in another region, listed twice, or a fifth topic", () => {
    const arn = (n: number, region = "us-east-1") => `arn:aws:sns:${region}:123456789012:t${n}`;
    expect(refuse((o) => (o.alarmTopicArns = ["oncall"]))).toThrow(/observability\.alarmTopicArns\[0\]: "oncall" is not an SNS topic ARN\. Fix: e\.g\./);
    expect(refuse((o) => (o.alarmTopicArns = [arn(1, "eu-west-1")]))).toThrow(/observability\.alarmTopicArns\[0\]: "arn:aws:sns:eu-west-1:123456789012:t1" is in eu-west-1, but the env's alarms are in us-east-1 .*Fix: use a topic in us-east-1/);
    expect(refuse((o) => (o.alarmTopicArns = [arn(1), arn(1)]))).toThrow(/observability\.alarmTopicArns\[1\]: "arn:aws:sns:us-east-1:123456789012:t1" is already listed at alarmTopicArns\[0\]\. Fix: list each topic once/);
    expect(refuse((o) => (o.alarmTopicArns = [1, 2, 3, 4, 5].map((n) => arn(n))))).toThrow(/observability\.alarmTopicArns: lists more than 4 topics; an alarm has at most 5 actions per state .*Fix: list at most 4/);
  });
});

describe("existing topics reach every alarm of the env, not only this layer's", () => {
  // sandbox has the provisioning pipeline and the canary, whose alarms other layers own.
  const TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall";
  const env: EnvConfig = { ...ENVS.sandbox, observability: { ...ENVS.sandbox.observability, alarmTopicArns: [TOPIC] } };
  const s = synthPlatform(env);

  it("each alarm (observability's, provisioning's, the canary's) notifies the env's topic, then the existing one, on ALARM and OK", () => {
    const alarms = s.resources("aws_cloudwatch_metric_alarm");
    const owners = new Set(alarms.map(([n]) => n.split("_")[0]));
    expect([...owners].sort()).toEqual(expect.arrayContaining(["canary", "observability", "provisioning"]));
    for (const [name, a] of alarms) {
      expect(a.alarm_actions, name).toEqual([topicRef(s), TOPIC]);
      expect(a.ok_actions, name).toEqual([topicRef(s), TOPIC]);
    }
  });
});

describe("dashboard", () => {
  const env = ENVS.sandbox;
  const s = synthPlatform(env);
  const dashboards = s.resources("aws_cloudwatch_dashboard");
  const body = () => JSON.parse(String(evaluateTemplate(dashboards[0]![1].dashboard_body, (a) => `<${a}>`))) as { widgets: Json[] };

  it("one dashboard, owui-<env>, whose body is JSON rendered by Terraform (jsonencode), references resolved at apply", () => {
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]![1].dashboard_name).toBe(`owui-${env.name}`);
    expect(dashboards[0]![1].dashboard_body).toMatch(/^\$\{jsonencode\(\{/);
    expect(s.output("dashboard_url")?.value).toBe(`https://${env.region}.console.aws.amazon.com/cloudwatch/home?region=${env.region}#dashboards/dashboard/owui-${env.name}`);
  });

  it("shows ALB requests, 5xx and latency; CPU and memory of each ECS service; Aurora; the provisioning queue and DLQ depths", () => {
    const widgets = body().widgets.filter((w) => w.type === "metric");
    const lines = (title: string) => widgets.find((w) => w.properties.title === title)!.properties.metrics as unknown[][];
    const lb = `<aws_lb.${one(s, "aws_lb", "compute_alb")[0]}.arn_suffix>`;
    expect(lines("ALB requests")).toEqual([["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, { stat: "Sum", label: "requests" }]]);
    expect(lines("ALB 5xx").map((l) => l[1])).toEqual(["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"]);
    expect(lines("ALB target response time (s)").map((l) => (l[4] as Json).stat)).toEqual(["p50", "p95"]);
    const cluster = `<aws_ecs_cluster.${one(s, "aws_ecs_cluster")[0]}.name>`;
    for (const metric of ["CPUUtilization", "MemoryUtilization"]) {
      const per = widgets.find((w) => w.properties.metrics[0][1] === metric && w.properties.metrics[0][0] === "AWS/ECS")!.properties.metrics as unknown[][];
      expect(per.map((l) => l.slice(0, 6))).toEqual(s.resources("aws_ecs_service").map(([n]) => ["AWS/ECS", metric, "ClusterName", cluster, "ServiceName", `<aws_ecs_service.${n}.name>`]));
    }
    const db = `<aws_rds_cluster.${one(s, "aws_rds_cluster", "data_aurora")[0]}.cluster_identifier>`;
    expect(lines("Aurora CPU (%) and capacity (ACU)").map((l) => l.slice(0, 4))).toEqual([["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", db], ["AWS/RDS", "ServerlessDatabaseCapacity", "DBClusterIdentifier", db]]);
    const queues = lines("Queue depths (messages visible)");
    expect(queues.map((l) => l.slice(0, 4))).toEqual([
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", `<aws_sqs_queue.${one(s, "aws_sqs_queue", "provisioning_queue")[0]}.name>`],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", `<aws_sqs_queue.${one(s, "aws_sqs_queue", "dead-letter-queue")[0]}.name>`],
    ]);
  });

  it("lists the state of every alarm of the stack (this layer's and the other layers'), each a real alarm", () => {
    const widget = body().widgets.find((w) => w.type === "alarm")!;
    const listed = (widget.properties.alarms as string[]).map((a) => /^<aws_cloudwatch_metric_alarm\.(.+)\.arn>$/.exec(a)![1]).sort();
    expect(listed).toEqual(s.resources("aws_cloudwatch_metric_alarm").map(([n]) => n).sort());
    expect(widget).toMatchObject({ x: 0, width: 24 });
  });

  it("lays metric widgets out two per row, inside the 24-column grid", () => {
    for (const w of body().widgets) expect(w.x + w.width, w.properties.title).toBeLessThanOrEqual(24);
  });
});
