/**
 * {@link UpgradeApi} on the SDK v3 clients, with their defaults: region, credentials and
 * `AWS_ENDPOINT_URL_ECS` / `AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING` come from the environment.
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from "@aws-sdk/client-application-auto-scaling";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  UpdateServiceCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { UpgradeError, type TaskState, type UpgradeApi } from "./gate.js";

const ECS_SERVICE = { ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount" } as const;

function taskState(t: Task): TaskState {
  return {
    taskArn: t.taskArn ?? "",
    taskDefinitionArn: t.taskDefinitionArn ?? "",
    lastStatus: t.lastStatus ?? "",
    startedBy: t.startedBy,
    stoppedReason: t.stoppedReason,
    stopCode: t.stopCode,
    containers: (t.containers ?? []).map((c) => ({ name: c.name ?? "", exitCode: c.exitCode, reason: c.reason })),
  };
}

export function awsUpgradeApi(ecs: ECSClient = new ECSClient({}), scaling: ApplicationAutoScalingClient = new ApplicationAutoScalingClient({})): UpgradeApi {
  return {
    async describeService(cluster, service) {
      const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
      const s = out.services?.find((x) => x.serviceName === service);
      if (!s) {
        const failure = out.failures?.[0];
        if (failure && failure.reason !== "MISSING") throw new UpgradeError(`DescribeServices ${service}: ${failure.reason}${failure.detail ? ` (${failure.detail})` : ""}`);
        return undefined;
      }
      return {
        status: s.status ?? "",
        taskDefinition: s.taskDefinition ?? "",
        desiredCount: s.desiredCount ?? 0,
        runningCount: s.runningCount ?? 0,
        pendingCount: s.pendingCount ?? 0,
      };
    },

    async containerImage(taskDefinitionArn, containerName) {
      const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
      return out.taskDefinition?.containerDefinitions?.find((c) => c.name === containerName)?.image;
    },

    async updateService(cluster, service, change) {
      await ecs.send(new UpdateServiceCommand({ cluster, service, ...change }));
    },

    async listTasks(cluster, filter, desiredStatus) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const out = await ecs.send(new ListTasksCommand({ cluster, ...filter, desiredStatus, nextToken }));
        arns.push(...(out.taskArns ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      return arns;
    },

    async describeTasks(cluster, taskArns) {
      const tasks: TaskState[] = [];
      for (let i = 0; i < taskArns.length; i += 100) {
        const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100) }));
        tasks.push(...(out.tasks ?? []).map(taskState));
      }
      return tasks;
    },

    async runTask({ cluster, taskDefinition, subnets, securityGroups, startedBy }) {
      const out = await ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition,
          count: 1,
          launchType: "FARGATE",
          platformVersion: "LATEST",
          networkConfiguration: { awsvpcConfiguration: { subnets: [...subnets], securityGroups: [...securityGroups], assignPublicIp: "DISABLED" } },
          startedBy,
        }),
      );
      const arn = out.tasks?.[0]?.taskArn;
      if (out.failures?.length || !arn) {
        const reasons = (out.failures ?? []).map((f) => `${f.reason ?? "?"}${f.detail ? ` (${f.detail})` : ""}`).join("; ") || "no task returned";
        throw new UpgradeError(`RunTask of ${taskDefinition} failed: ${reasons}`);
      }
      return arn;
    },

    async scalingSuspended(resourceId) {
      const out = await scaling.send(new DescribeScalableTargetsCommand({ ...ECS_SERVICE, ResourceIds: [resourceId] }));
      const target = out.ScalableTargets?.find((t) => t.ResourceId === resourceId);
      if (!target) return undefined;
      const s = target.SuspendedState ?? {};
      return [s.DynamicScalingInSuspended === true, s.DynamicScalingOutSuspended === true, s.ScheduledScalingSuspended === true];
    },

    async setScalingSuspended(resourceId, suspended) {
      await scaling.send(
        new RegisterScalableTargetCommand({
          ...ECS_SERVICE,
          ResourceId: resourceId,
          SuspendedState: { DynamicScalingInSuspended: suspended, DynamicScalingOutSuspended: suspended, ScheduledScalingSuspended: suspended },
        }),
      );
    },
  };
}
