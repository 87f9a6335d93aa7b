/**
 * In-memory ECS (Fargate) behind the AWS JSON fake, with the Application Auto Scaling target of
 * its services: both speak AWS JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`
 * and `AnyScaleFrontendService.<Op>`), so one fake serves both; point `AWS_ENDPOINT_URL_ECS` and
 * `AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING` at it.
 *
 * Shapes follow the ECS API reference (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/):
 * - DescribeServices `{cluster, services[]}` → `{services: [Service], failures: [{arn, reason: "MISSING"}]}`;
 *   a Service has `serviceName, serviceArn, clusterArn, status, taskDefinition, desiredCount,
 *   runningCount, pendingCount, deployments[]`. `runningCount` counts the service's tasks whose
 *   lastStatus is RUNNING, `pendingCount` those PENDING (here: PROVISIONING/PENDING/ACTIVATING).
 * - UpdateService `{cluster, service, desiredCount?, taskDefinition?}` → `{service}`: a new task
 *   definition starts a new PRIMARY deployment (the old one becomes ACTIVE and is drained).
 * - RunTask `{cluster, taskDefinition, count, launchType, networkConfiguration.awsvpcConfiguration,
 *   startedBy}` → `{tasks: [Task], failures: []}`.
 * - DescribeTasks `{cluster, tasks[≤100]}` → `{tasks, failures}`; a Task has `taskArn,
 *   taskDefinitionArn, lastStatus, desiredStatus, group, startedBy, containers[{name, lastStatus,
 *   exitCode, reason}], stoppedReason, stopCode`.
 * - ListTasks `{cluster, serviceName? | family?, desiredStatus (default RUNNING), nextToken?}` →
 *   `{taskArns, nextToken}`; STOPPED lists tasks ECS set to stop, including ones still stopping.
 * - DescribeTaskDefinition `{taskDefinition}` → `{taskDefinition: {taskDefinitionArn, family, revision, containerDefinitions}}`;
 *   container definitions are returned as registered (`name`, `image`, and `environment`,
 *   `secrets`, `command`, … when given).
 * - Deployments (API_Deployment.html): `rolloutState` is IN_PROGRESS when a deployment starts,
 *   COMPLETED at steady state, and FAILED when the deployment circuit breaker is on and the
 *   deployment's failed tasks reach its threshold (developer guide, "deployment circuit breaker":
 *   0.5 × desired count, at least 3, at most 200); "a deployment in FAILED state doesn't launch any
 *   new tasks". Rollback is not modelled. UpdateService `{forceNewDeployment: true}` starts a new
 *   deployment of the same task definition (here: its failure count and FAILED state reset).
 * - Task lifecycle (developer guide, "Task lifecycle"): PROVISIONING → PENDING → ACTIVATING →
 *   RUNNING → DEACTIVATING (load balancer draining) → STOPPING → DEPROVISIONING → STOPPED. Each
 *   step here takes one tick; the world advances one tick per ECS/AAS call, so a poller sees every state.
 *
 * Application Auto Scaling (https://docs.aws.amazon.com/autoscaling/application/APIReference/):
 * DescribeScalableTargets `{ServiceNamespace, ResourceIds}` → `{ScalableTargets: [{…, SuspendedState}]}`;
 * RegisterScalableTarget `{…, SuspendedState}` → `{ScalableTargetARN}`. As documented ("Application
 * Auto Scaling concepts"), whenever a scaling policy runs or RegisterScalableTarget is called, a
 * capacity outside [min, max] is brought back into it. The fake is pessimistic: on every tick in
 * which dynamic scale-out is not suspended, a desired count below the minimum is raised to it.
 */
import { AwsError, startAwsJsonFake, type AwsJsonFake } from "./aws-json.js";

export const ECS_ACCOUNT = "123456789012";
const REGION = "us-east-1";

const LIFECYCLE = ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"] as const;
const STOPPING = ["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"] as const;

export interface FakeTaskDefinition {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly containers: FakeContainer[];
}

/** A container definition as registered: name and image, plus any other ContainerDefinition field. */
export interface FakeContainer {
  readonly name: string;
  readonly image: string;
  readonly [field: string]: unknown;
}

export interface FakeTask {
  readonly taskArn: string;
  readonly taskDefinitionArn: string;
  readonly group: string;
  readonly startedBy?: string;
  readonly containerName: string;
  lastStatus: string;
  desiredStatus: "RUNNING" | "STOPPED";
  /** Ticks the (migration) container runs before it exits. */
  runTicks: number;
  exitCode?: number;
  stoppedReason?: string;
  stopCode?: string;
  /** Tasks that failed to start (e.g. an empty secret): no container ran. */
  failToStart?: string;
}

export interface FakeService {
  readonly name: string;
  readonly arn: string;
  taskDefinition: string;
  desiredCount: number;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  /** deploymentConfiguration.deploymentCircuitBreaker.enable */
  readonly circuitBreaker: boolean;
}

export interface FakeScalableTarget {
  readonly resourceId: string;
  readonly arn: string;
  readonly min: number;
  readonly max: number;
  suspended: { in: boolean; out: boolean; scheduled: boolean };
}

/** How the next migration task (RunTask) behaves. */
export interface MigrationBehaviour {
  /** @default 0 */
  readonly exitCode?: number;
  /** Ticks it runs once RUNNING. @default 3 */
  readonly runTicks?: number;
  /** Fails before any container runs, with this stoppedReason (e.g. ResourceInitializationError). */
  readonly failToStart?: string;
}

/** One thing that happened in the world, in order (for ordering assertions). */
export interface WorldEvent {
  readonly tick: number;
  readonly what: "desired" | "task-definition" | "run-task" | "task-stopped" | "task-running" | "scaling-suspended" | "scaled-to-min";
  readonly detail: string;
  /** Tasks of the service whose containers may still run (not DEPROVISIONING/STOPPED) at that moment. */
  readonly liveServiceTasks: number;
  /** …of which run an older task definition than the service's current one. */
  readonly liveOldTasks: number;
}

export interface EcsFake extends AwsJsonFake {
  readonly clusterName: string;
  readonly clusterArn: string;
  registerTaskDefinition(family: string, containers: FakeContainer[]): string;
  /** Creates a service with `desiredCount` RUNNING tasks of `taskDefinition`. */
  createService(name: string, taskDefinition: string, desiredCount: number, options?: { circuitBreaker?: boolean }): FakeService;
  /** Service tasks started from `taskDefinition` from now on fail to start with `reason` (undefined: they start again). */
  failTasksOf(taskDefinition: string, reason: string | undefined): void;
  /** Registers the service's scalable target (ecs:service:DesiredCount). */
  createScalableTarget(service: string, min: number, max: number): FakeScalableTarget;
  service(name: string): FakeService;
  scalableTarget(service: string): FakeScalableTarget | undefined;
  tasks(): readonly FakeTask[];
  /** Behaviour of the migration tasks started from now on. */
  migrationBehaves(b: MigrationBehaviour): void;
  readonly events: readonly WorldEvent[];
  /** Advances the world one tick (every call already does). */
  tick(): void;
}

export async function startEcsFake(options: { clusterName?: string } = {}): Promise<EcsFake> {
  const clusterName = options.clusterName ?? "owui-test-cluster";
  const clusterArn = `arn:aws:ecs:${REGION}:${ECS_ACCOUNT}:cluster/${clusterName}`;
  const taskDefinitions = new Map<string, FakeTaskDefinition>();
  const services = new Map<string, FakeService>();
  const targets = new Map<string, FakeScalableTarget>();
  const tasks = new Map<string, FakeTask>();
  const events: WorldEvent[] = [];
  let migration: MigrationBehaviour = {};
  /** Task definition → stoppedReason of service tasks that fail to start. */
  const failing = new Map<string, string>();
  /** `<service> <task definition>` → failed tasks of the current deployment, and the FAILED ones. */
  const failedTasks = new Map<string, number>();
  const failedDeployments = new Set<string>();
  const threshold = (s: FakeService) => Math.min(200, Math.max(3, Math.ceil(0.5 * s.desiredCount)));
  let now = 0;
  let seq = 0;

  const serviceTasks = (s: FakeService) => [...tasks.values()].filter((t) => t.group === `service:${s.name}`);
  const live = (t: FakeTask) => t.lastStatus !== "DEPROVISIONING" && t.lastStatus !== "STOPPED";
  const record = (what: WorldEvent["what"], detail: string, s?: FakeService) => {
    const liveTasks = s ? serviceTasks(s).filter(live) : [];
    events.push({ tick: now, what, detail, liveServiceTasks: liveTasks.length, liveOldTasks: liveTasks.filter((t) => t.taskDefinitionArn !== s!.taskDefinition).length });
  };

  const startTask = (taskDefinitionArn: string, group: string, startedBy?: string, behaviour: MigrationBehaviour = {}): FakeTask => {
    const td = taskDefinitions.get(taskDefinitionArn)!;
    const task: FakeTask = {
      taskArn: `arn:aws:ecs:${REGION}:${ECS_ACCOUNT}:task/${clusterName}/${(++seq).toString(16).padStart(32, "0")}`,
      taskDefinitionArn,
      group,
      startedBy,
      containerName: td.containers[0]!.name,
      lastStatus: "PROVISIONING",
      desiredStatus: "RUNNING",
      runTicks: behaviour.runTicks ?? Infinity,
      ...(behaviour.exitCode !== undefined ? { exitCode: behaviour.exitCode } : {}),
      ...(behaviour.failToStart ? { failToStart: behaviour.failToStart } : {}),
    };
    tasks.set(task.taskArn, task);
    return task;
  };
  const stopTask = (t: FakeTask, reason: string, code = "ServiceSchedulerInitiated") => {
    if (t.desiredStatus === "STOPPED") return;
    t.desiredStatus = "STOPPED";
    t.stoppedReason = reason;
    t.stopCode = code;
  };

  /** One tick: every task moves one lifecycle step; services reconcile toward their desired state. */
  const tick = () => {
    now += 1;
    for (const t of tasks.values()) {
      const before = t.lastStatus;
      if (t.desiredStatus === "STOPPED") {
        const i = STOPPING.indexOf(t.lastStatus as (typeof STOPPING)[number]);
        // A task stopped before it ran skips DEACTIVATING.
        t.lastStatus = i >= 0 ? STOPPING[Math.min(i + 1, STOPPING.length - 1)]! : t.lastStatus === "RUNNING" ? "DEACTIVATING" : "STOPPING";
      } else if (t.lastStatus !== "RUNNING") {
        if (t.failToStart && t.lastStatus === "PENDING") {
          stopTask(t, t.failToStart, "TaskFailedToStart");
          t.lastStatus = "STOPPING";
          const owner = t.group.startsWith("service:") ? services.get(t.group.slice(8)) : undefined;
          if (owner) {
            const key = `${owner.name} ${t.taskDefinitionArn}`;
            failedTasks.set(key, (failedTasks.get(key) ?? 0) + 1);
            if (owner.circuitBreaker && failedTasks.get(key)! >= threshold(owner)) failedDeployments.add(key);
          }
        } else {
          t.lastStatus = LIFECYCLE[LIFECYCLE.indexOf(t.lastStatus as (typeof LIFECYCLE)[number]) + 1]!;
        }
      } else if (Number.isFinite(t.runTicks) && --t.runTicks <= 0) {
        stopTask(t, "Essential container in task exited", "EssentialContainerExited");
        t.exitCode ??= 0;
        t.lastStatus = "STOPPING";
      }
      const s = t.group.startsWith("service:") ? services.get(t.group.slice(8)) : undefined;
      if (before !== "STOPPED" && t.lastStatus === "STOPPED") record("task-stopped", t.taskArn, s);
      if (before !== "RUNNING" && t.lastStatus === "RUNNING") record("task-running", `${t.taskArn} ${t.taskDefinitionArn}`, s);
    }
    for (const s of services.values()) {
      if (s.status !== "ACTIVE") continue;
      const target = targets.get(`service/${clusterName}/${s.name}`);
      if (target && !target.suspended.out && s.desiredCount < target.min) {
        s.desiredCount = target.min;
        record("scaled-to-min", `${s.name} → ${target.min}`, s);
      }
      const wanted = serviceTasks(s).filter((t) => t.desiredStatus === "RUNNING");
      const current = wanted.filter((t) => t.taskDefinitionArn === s.taskDefinition);
      const old = wanted.filter((t) => t.taskDefinitionArn !== s.taskDefinition);
      // Rolling deployment (minimum 100 %, maximum 200 %): start the new ones, stop the old once enough new ones run.
      // A FAILED deployment launches no new tasks.
      if (!failedDeployments.has(`${s.name} ${s.taskDefinition}`)) {
        for (let i = current.length; i < s.desiredCount; i++) startTask(s.taskDefinition, `service:${s.name}`, `ecs-svc/${s.name}`, { failToStart: failing.get(s.taskDefinition) });
      }
      const currentRunning = current.filter((t) => t.lastStatus === "RUNNING").length;
      if (currentRunning >= s.desiredCount) old.forEach((t) => stopTask(t, "Task stopped by a deployment"));
      current.slice(s.desiredCount).forEach((t) => stopTask(t, "Scaling activity initiated by (deployment ecs-svc)"));
    }
  };

  const serviceOf = (input: Record<string, unknown>, field: string): FakeService => {
    const name = String(input[field] ?? "").split("/").at(-1)!;
    const s = services.get(name);
    if (!s) throw new AwsError("ServiceNotFoundException", "Service not found.");
    if (s.status !== "ACTIVE") throw new AwsError("ServiceNotActiveException", "Service was not ACTIVE.");
    return s;
  };
  const checkCluster = (input: Record<string, unknown>) => {
    const c = String(input.cluster ?? "default");
    if (c !== clusterName && c !== clusterArn) throw new AwsError("ClusterNotFoundException", "Cluster not found.");
  };
  const describeService = (s: FakeService) => {
    const mine = serviceTasks(s);
    const count = (statuses: string[], td?: string) => mine.filter((t) => statuses.includes(t.lastStatus) && (td === undefined || t.taskDefinitionArn === td)).length;
    const deploymentTds = [s.taskDefinition, ...new Set(mine.filter((t) => t.desiredStatus === "RUNNING" && t.taskDefinitionArn !== s.taskDefinition).map((t) => t.taskDefinitionArn))];
    return {
      serviceName: s.name,
      serviceArn: s.arn,
      clusterArn,
      status: s.status,
      taskDefinition: s.taskDefinition,
      desiredCount: s.desiredCount,
      runningCount: count(["RUNNING"]),
      pendingCount: count(["PROVISIONING", "PENDING", "ACTIVATING"]),
      launchType: "FARGATE",
      deployments: deploymentTds.map((td, i) => ({
        id: `ecs-svc/${i}`,
        status: i === 0 ? "PRIMARY" : "ACTIVE",
        taskDefinition: td,
        desiredCount: i === 0 ? s.desiredCount : 0,
        runningCount: count(["RUNNING"], td),
        pendingCount: count(["PROVISIONING", "PENDING", "ACTIVATING"], td),
        rolloutState: i === 0 && failedDeployments.has(`${s.name} ${td}`) ? "FAILED" : i === 0 && count(["RUNNING"], td) >= s.desiredCount ? "COMPLETED" : "IN_PROGRESS",
        ...(i === 0 ? { failedTasks: failedTasks.get(`${s.name} ${td}`) ?? 0 } : {}),
        ...(i === 0 && failedDeployments.has(`${s.name} ${td}`) ? { rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." } : {}),
      })),
    };
  };
  const describeTask = (t: FakeTask) => ({
    taskArn: t.taskArn,
    clusterArn,
    taskDefinitionArn: t.taskDefinitionArn,
    group: t.group,
    ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    launchType: "FARGATE",
    containers: [
      {
        name: t.containerName,
        lastStatus: t.lastStatus === "STOPPED" || t.lastStatus === "DEPROVISIONING" ? "STOPPED" : t.lastStatus === "RUNNING" ? "RUNNING" : "PENDING",
        ...(t.lastStatus === "STOPPED" && t.exitCode !== undefined && !t.failToStart ? { exitCode: t.exitCode } : {}),
        ...(t.failToStart && t.lastStatus === "STOPPED" ? { reason: t.failToStart } : {}),
      },
    ],
    ...(t.stoppedReason && t.lastStatus === "STOPPED" ? { stoppedReason: t.stoppedReason, stopCode: t.stopCode } : {}),
  });

  const ticking =
    (fn: (input: Record<string, unknown>) => unknown) =>
    (input: Record<string, unknown>): unknown => {
      tick();
      return fn(input);
    };

  const fake = await startAwsJsonFake({
    DescribeServices: ticking((input) => {
      checkCluster(input);
      const names = (input.services as string[]) ?? [];
      const found = names.map((n) => services.get(n.split("/").at(-1)!)).filter((s): s is FakeService => s !== undefined);
      return {
        services: found.map(describeService),
        failures: names.filter((n) => !services.has(n.split("/").at(-1)!)).map((n) => ({ arn: `arn:aws:ecs:${REGION}:${ECS_ACCOUNT}:service/${clusterName}/${n}`, reason: "MISSING" })),
      };
    }),
    UpdateService: ticking((input) => {
      checkCluster(input);
      const s = serviceOf(input, "service");
      if (typeof input.taskDefinition === "string") {
        if (!taskDefinitions.has(input.taskDefinition)) throw new AwsError("ClientException", "TaskDefinition not found.");
        if (input.taskDefinition !== s.taskDefinition) {
          s.taskDefinition = input.taskDefinition;
          record("task-definition", `${s.name} → ${input.taskDefinition}`, s);
        }
      }
      if (input.forceNewDeployment === true) {
        failedTasks.delete(`${s.name} ${s.taskDefinition}`);
        failedDeployments.delete(`${s.name} ${s.taskDefinition}`);
      }
      if (typeof input.desiredCount === "number") {
        record("desired", `${s.name} ${s.desiredCount} → ${input.desiredCount}`, s);
        s.desiredCount = input.desiredCount;
      }
      return { service: describeService(s) };
    }),
    RunTask: ticking((input) => {
      checkCluster(input);
      const td = taskDefinitions.get(String(input.taskDefinition));
      if (!td) throw new AwsError("ClientException", "TaskDefinition not found.");
      const vpc = (input.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined)?.awsvpcConfiguration;
      if (input.launchType !== "FARGATE" || !vpc?.subnets?.length) throw new AwsError("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
      const t = startTask(td.arn, `family:${td.family}`, input.startedBy as string | undefined, { exitCode: migration.exitCode ?? 0, runTicks: migration.runTicks ?? 3, failToStart: migration.failToStart });
      const s = [...services.values()][0];
      record("run-task", `${t.taskArn} ${td.arn}`, s);
      return { tasks: [describeTask(t)], failures: [] };
    }),
    DescribeTasks: ticking((input) => {
      checkCluster(input);
      const arns = (input.tasks as string[]) ?? [];
      if (arns.length > 100) throw new AwsError("InvalidParameterException", "Tasks cannot be longer than 100.");
      return {
        tasks: arns.flatMap((a) => (tasks.has(a) ? [describeTask(tasks.get(a)!)] : [])),
        failures: arns.filter((a) => !tasks.has(a)).map((arn) => ({ arn, reason: "MISSING" })),
      };
    }),
    ListTasks: ticking((input) => {
      checkCluster(input);
      const desired = (input.desiredStatus as string | undefined) ?? "RUNNING";
      const all = [...tasks.values()].filter(
        (t) =>
          t.desiredStatus === desired &&
          (input.serviceName === undefined || t.group === `service:${String(input.serviceName)}`) &&
          (input.family === undefined || t.group === `family:${String(input.family)}`),
      );
      // Pages of 2 here (ECS: up to 100), so callers must follow nextToken.
      const start = Number(input.nextToken ?? 0);
      const page = all.slice(start, start + 2).map((t) => t.taskArn);
      return { taskArns: page, ...(start + 2 < all.length ? { nextToken: String(start + 2) } : {}) };
    }),
    DescribeTaskDefinition: ticking((input) => {
      const td = taskDefinitions.get(String(input.taskDefinition));
      if (!td) throw new AwsError("ClientException", "Unable to describe task definition.");
      return { taskDefinition: { taskDefinitionArn: td.arn, family: td.family, revision: td.revision, status: "ACTIVE", containerDefinitions: td.containers } };
    }),
    DescribeScalableTargets: ticking((input) => {
      const ids = (input.ResourceIds as string[] | undefined) ?? [...targets.keys()];
      return {
        ScalableTargets: ids.flatMap((id) => {
          const t = targets.get(id);
          if (!t || input.ServiceNamespace !== "ecs") return [];
          return [
            {
              ServiceNamespace: "ecs",
              ResourceId: t.resourceId,
              ScalableDimension: "ecs:service:DesiredCount",
              MinCapacity: t.min,
              MaxCapacity: t.max,
              RoleARN: `arn:aws:iam::${ECS_ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
              CreationTime: 1_700_000_000,
              SuspendedState: { DynamicScalingInSuspended: t.suspended.in, DynamicScalingOutSuspended: t.suspended.out, ScheduledScalingSuspended: t.suspended.scheduled },
              ScalableTargetARN: t.arn,
            },
          ];
        }),
      };
    }),
    RegisterScalableTarget: ticking((input) => {
      const t = targets.get(String(input.ResourceId));
      if (!t || input.ScalableDimension !== "ecs:service:DesiredCount") throw new AwsError("ValidationException", "only updates of existing ECS service targets are faked");
      const st = input.SuspendedState as { DynamicScalingInSuspended?: boolean; DynamicScalingOutSuspended?: boolean; ScheduledScalingSuspended?: boolean } | undefined;
      if (st) t.suspended = { in: st.DynamicScalingInSuspended ?? t.suspended.in, out: st.DynamicScalingOutSuspended ?? t.suspended.out, scheduled: st.ScheduledScalingSuspended ?? t.suspended.scheduled };
      const s = services.get(t.resourceId.split("/").at(-1)!);
      record("scaling-suspended", `${t.resourceId} ${JSON.stringify(t.suspended)}`, s);
      // "anytime … RegisterScalableTarget is called", a capacity outside [min, max] is brought back in.
      if (s && s.desiredCount < t.min) {
        s.desiredCount = t.min;
        record("scaled-to-min", `${s.name} → ${t.min}`, s);
      }
      return { ScalableTargetARN: t.arn };
    }),
  });

  return {
    ...fake,
    clusterName,
    clusterArn,
    events,
    tick,
    registerTaskDefinition(family, containers) {
      const revision = [...taskDefinitions.values()].filter((t) => t.family === family).length + 1;
      const arn = `arn:aws:ecs:${REGION}:${ECS_ACCOUNT}:task-definition/${family}:${revision}`;
      taskDefinitions.set(arn, { arn, family, revision, containers });
      return arn;
    },
    createService(name, taskDefinition, desiredCount, options = {}) {
      const s: FakeService = { name, arn: `arn:aws:ecs:${REGION}:${ECS_ACCOUNT}:service/${clusterName}/${name}`, taskDefinition, desiredCount, status: "ACTIVE", circuitBreaker: options.circuitBreaker ?? false };
      services.set(name, s);
      for (let i = 0; i < desiredCount; i++) startTask(taskDefinition, `service:${name}`, `ecs-svc/${name}`).lastStatus = "RUNNING";
      return s;
    },
    createScalableTarget(service, min, max) {
      const resourceId = `service/${clusterName}/${service}`;
      const t: FakeScalableTarget = { resourceId, arn: `arn:aws:application-autoscaling:${REGION}:${ECS_ACCOUNT}:scalable-target/0ec5${service}`, min, max, suspended: { in: false, out: false, scheduled: false } };
      targets.set(resourceId, t);
      return t;
    },
    service(name) {
      const s = services.get(name);
      if (!s) throw new Error(`no service ${name}`);
      return s;
    },
    scalableTarget: (service) => targets.get(`service/${clusterName}/${service}`),
    tasks: () => [...tasks.values()],
    migrationBehaves(b) {
      migration = b;
    },
    failTasksOf(taskDefinition, reason) {
      if (reason === undefined) failing.delete(taskDefinition);
      else failing.set(taskDefinition, reason);
    },
  };
}
