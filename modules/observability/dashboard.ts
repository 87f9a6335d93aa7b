/**
 * The env's CloudWatch dashboard body: ALB requests, 5xx and latency; CPU and memory per ECS
 * service; Aurora; the provisioning queue depths; and the state of every alarm. Built as a plain
 * object whose strings may be Terraform references; `Fn.jsonencode` renders it in Terraform, so
 * ARN suffixes and alarm ARNs resolve at apply and nothing is hand-escaped.
 */
import type { PlatformAlarmProps } from "./alarms.js";

/** A queue shown on the dashboard. */
export interface QueueFacts {
  /** Legend label, e.g. `provisioning` or `provisioning DLQ`. */
  readonly label: string;
  /** The queue's name (`QueueName` dimension). */
  readonly queueName: string;
}

export interface DashboardFacts extends Pick<PlatformAlarmProps, "aurora" | "alb" | "ecs"> {
  readonly region: string;
  readonly periodSeconds: number;
  readonly queues: readonly QueueFacts[];
  /** ARNs of the alarms the status widget lists (CloudWatch shows at most 100). */
  readonly alarmArns: readonly string[];
}

/** CloudWatch's limit on the alarms one alarm-status widget lists. */
export const ALARM_WIDGET_MAX = 100;

type Widget = Record<string, unknown>;
const WIDTH = 12;
const HEIGHT = 6;

/** The dashboard body as an object (for `Fn.jsonencode`). Widgets flow two per row. */
export function dashboardBody(f: DashboardFacts): { widgets: Widget[] } {
  const metrics = (title: string, lines: unknown[][], extra: Record<string, unknown> = {}): Widget => ({
    type: "metric",
    properties: { title, region: f.region, period: f.periodSeconds, view: "timeSeries", stacked: false, metrics: lines, ...extra },
  });
  const widgets: Widget[] = [];

  if (f.alb) {
    const lb = ["LoadBalancer", f.alb.arnSuffix];
    widgets.push(metrics("ALB requests", [["AWS/ApplicationELB", "RequestCount", ...lb, { stat: "Sum", label: "requests" }]]));
    widgets.push(
      metrics("ALB 5xx", [
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ...lb, { stat: "Sum", label: "ALB 5xx" }],
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ...lb, { stat: "Sum", label: "target 5xx" }],
      ]),
    );
    widgets.push(
      metrics("ALB target response time (s)", [
        ["AWS/ApplicationELB", "TargetResponseTime", ...lb, { stat: "p50", label: "p50" }],
        ["AWS/ApplicationELB", "TargetResponseTime", ...lb, { stat: "p95", label: "p95" }],
      ]),
    );
  }

  if (f.ecs && f.ecs.services.length > 0) {
    const { clusterName, services } = f.ecs;
    const per = (metricName: string) => services.map((s) => ["AWS/ECS", metricName, "ClusterName", clusterName, "ServiceName", s.serviceName, { stat: "Average", label: s.name }]);
    widgets.push(metrics("ECS CPU per service (% of reservation)", per("CPUUtilization"), { yAxis: { left: { min: 0, max: 100 } } }));
    widgets.push(metrics("ECS memory per service (% of reservation)", per("MemoryUtilization"), { yAxis: { left: { min: 0, max: 100 } } }));
  }

  if (f.aurora) {
    const db = ["DBClusterIdentifier", f.aurora.clusterIdentifier];
    widgets.push(
      metrics("Aurora CPU (%) and capacity (ACU)", [
        ["AWS/RDS", "CPUUtilization", ...db, { stat: "Average", label: "CPU %" }],
        ["AWS/RDS", "ServerlessDatabaseCapacity", ...db, { stat: "Maximum", label: "ACU", yAxis: "right" }],
      ], { annotations: { horizontal: [{ label: "max ACU", value: f.aurora.maxAcu, yAxis: "right" }] } }),
    );
    widgets.push(
      metrics("Aurora connections and freeable memory", [
        ["AWS/RDS", "DatabaseConnections", ...db, { stat: "Maximum", label: "connections" }],
        ["AWS/RDS", "FreeableMemory", ...db, { stat: "Minimum", label: "freeable memory (bytes)", yAxis: "right" }],
      ]),
    );
  }

  if (f.queues.length > 0) {
    widgets.push(metrics("Queue depths (messages visible)", f.queues.map((q) => ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.queueName, { stat: "Maximum", label: q.label }])));
  }

  if (f.alarmArns.length > 0) {
    if (f.alarmArns.length > ALARM_WIDGET_MAX) throw new Error(`the dashboard's alarm widget lists at most ${ALARM_WIDGET_MAX} alarms; the platform has ${f.alarmArns.length}`);
    widgets.push({ type: "alarm", properties: { title: "Alarm states", alarms: [...f.alarmArns], sortBy: "stateUpdatedTimestamp" } });
  }

  // Metric widgets two per row; the alarm list on a row of its own, full width, below them.
  const rows = Math.ceil(widgets.filter((w) => w.type === "metric").length / 2);
  let i = 0;
  return {
    widgets: widgets.map((w) =>
      w.type === "alarm" ? { ...w, x: 0, y: rows * HEIGHT, width: 2 * WIDTH, height: HEIGHT } : { ...w, x: (i % 2) * WIDTH, y: Math.floor(i++ / 2) * HEIGHT, width: WIDTH, height: HEIGHT },
    ),
  };
}
