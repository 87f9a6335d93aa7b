/**
 * The upgrade gate's flow, against {@link UpgradeApi} (ECS and Application Auto Scaling as this
 * function uses them). No SDK import here: src/aws.ts adapts the SDK v3 clients, tests use fakes.
 *
 * When the image changes: suspend the service's auto scaling, scale the service to 0 and wait until
 * no task of it is left (not even draining), run the migration task and wait for it to stop, then
 * point the service at the new task definition with its task count back, and resume scaling.
 * No old replica ever serves beside a migrated schema, and no new one starts before the migration.
 */
import { familyOf, type UpgradeEvent } from "./event.js";

/** `startedBy` of the migration tasks this function starts (ListTasks/DescribeTasks show it). */
export const STARTED_BY = "openwebui-upgrade";

/** Task `lastStatus` values after the containers stopped (ECS task lifecycle). */
const GONE = new Set(["DEPROVISIONING", "STOPPED", "DELETED"]);

export interface ServiceState {
  /** `ACTIVE`, `DRAINING` or `INACTIVE`. */
  readonly status: string;
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
}

export interface TaskState {
  readonly taskArn: string;
  readonly taskDefinitionArn: string;
  readonly lastStatus: string;
  readonly startedBy?: string;
  readonly stoppedReason?: string;
  readonly stopCode?: string;
  readonly containers: readonly { readonly name: string; readonly exitCode?: number; readonly reason?: string }[];
}

/** What the gate calls; see src/aws.ts for the SDK calls behind each. */
export interface UpgradeApi {
  /** DescribeServices; undefined when ECS answers MISSING. */
  describeService(cluster: string, service: string): Promise<ServiceState | undefined>;
  /** DescribeTaskDefinition: the image of one container, undefined when it has no such container. */
  containerImage(taskDefinitionArn: string, containerName: string): Promise<string | undefined>;
  /** UpdateService with only the given fields. */
  updateService(cluster: string, service: string, change: { readonly desiredCount?: number; readonly taskDefinition?: string }): Promise<void>;
  /** ListTasks (every page) of a service or a task definition family with that desired status. */
  listTasks(cluster: string, filter: { readonly serviceName: string } | { readonly family: string }, desiredStatus: "RUNNING" | "STOPPED"): Promise<string[]>;
  /** DescribeTasks (in chunks of 100). */
  describeTasks(cluster: string, taskArns: readonly string[]): Promise<TaskState[]>;
  /** RunTask of one Fargate task, awsvpc, no public IP; returns its ARN, throws with ECS's failure reasons. */
  runTask(input: { readonly cluster: string; readonly taskDefinition: string; readonly subnets: readonly string[]; readonly securityGroups: readonly string[]; readonly startedBy: string }): Promise<string>;
  /** DescribeScalableTargets: whether each kind of scaling is suspended; undefined when the service has no scalable target. */
  scalingSuspended(resourceId: string): Promise<boolean[] | undefined>;
  /** RegisterScalableTarget with only SuspendedState (dynamic in, dynamic out, scheduled) all set to `suspended`. */
  setScalingSuspended(resourceId: string, suspended: boolean): Promise<void>;
}

export interface GateSettings {
  /** Time between polls. */
  readonly pollMs: number;
  /** Epoch ms after which the gate stops waiting and fails (the function's timeout minus a margin). */
  readonly deadline: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** One JSON line per step. */
  readonly log: (line: Record<string, unknown>) => void;
}

export interface MigrationOutcome {
  readonly taskArn: string;
  readonly exitCode: 0;
  /** True when an earlier invocation started it and this one waited for it. */
  readonly adopted: boolean;
  readonly seconds: number;
}

export interface UpgradeResult {
  /**
   * `none`: the service already runs the image with tasks, nothing done (Terraform's service update
   * rolls any other change) · `upgraded`: scaled to 0, migrated, switched · `restored`: same image
   * but the service was at 0 tasks (an earlier failed run): migrated (verified), switched back up ·
   * `migrated-before-create`: the service does not exist yet; the database was migrated for it.
   */
  readonly action: "none" | "upgraded" | "restored" | "migrated-before-create";
  readonly service: string;
  readonly image: string;
  readonly taskDefinition: string;
  readonly previousTaskDefinition?: string;
  readonly previousImage?: string;
  readonly desiredCount?: number;
  readonly migration?: MigrationOutcome;
  readonly seconds: number;
}

export class UpgradeError extends Error {
  override readonly name = "UpgradeError";
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export async function runUpgrade(ev: UpgradeEvent, api: UpgradeApi, s: GateSettings): Promise<UpgradeResult> {
  const started = s.now();
  const done = (r: Omit<UpgradeResult, "service" | "image" | "taskDefinition" | "seconds">): UpgradeResult => {
    const result = { service: ev.service, image: ev.image, taskDefinition: ev.taskDefinitionArn, ...r, seconds: seconds(s.now() - started) };
    s.log({ msg: "upgrade done", ...result });
    return result;
  };
  const resourceId = `service/${ev.cluster}/${ev.service}`;
  const svc = await api.describeService(ev.cluster, ev.service);

  if (!svc || svc.status !== "ACTIVE") {
    // First deploy (or a deleted service): Terraform creates the service after this invocation,
    // with migrations off, so the database must be at the new head before it does.
    s.log({ msg: "service absent: migrating before it is created", service: ev.service, status: svc?.status ?? "MISSING" });
    const migration = await migrate(ev, api, s, `the service ${ev.service} does not exist yet; Terraform creates it only after this gate succeeds`);
    return done({ action: "migrated-before-create", migration });
  }

  const previousImage = await api.containerImage(svc.taskDefinition, ev.containerName);
  if (previousImage === ev.image && svc.desiredCount > 0) {
    // Same version: nothing to migrate. A run that stopped after its switch may have left scaling suspended.
    await setScaling(api, s, resourceId, false);
    s.log({ msg: "image unchanged: nothing to do", service: ev.service, image: ev.image, taskDefinition: svc.taskDefinition });
    return done({ action: "none", previousTaskDefinition: svc.taskDefinition, previousImage });
  }

  const recorded = svc.desiredCount;
  // Suspend first: RegisterScalableTarget (and any scaling activity) lifts a count below the
  // target's minimum back to it, which would start old tasks while the schema changes.
  await setScaling(api, s, resourceId, true);
  if (svc.desiredCount !== 0) {
    await api.updateService(ev.cluster, ev.service, { desiredCount: 0 });
    s.log({ msg: "scaled to zero", service: ev.service, from: recorded, taskDefinition: svc.taskDefinition });
  }
  const notSwitched = `the service ${ev.service} stays at 0 tasks on ${svc.taskDefinition} (auto scaling suspended) and was NOT switched to ${ev.taskDefinitionArn}`;
  await waitForNoServiceTasks(ev, api, s, notSwitched);
  const migration = await migrate(ev, api, s, notSwitched);

  const desiredCount = Math.max(recorded, ev.minCount, 1);
  await api.updateService(ev.cluster, ev.service, { taskDefinition: ev.taskDefinitionArn, desiredCount });
  s.log({ msg: "switched", service: ev.service, taskDefinition: ev.taskDefinitionArn, desiredCount });
  await setScaling(api, s, resourceId, false);
  return done({ action: previousImage === ev.image ? "restored" : "upgraded", previousTaskDefinition: svc.taskDefinition, previousImage, desiredCount, migration });
}

/** Suspends or resumes every kind of scaling of the service's scalable target, if it has one and it is not already so. */
async function setScaling(api: UpgradeApi, s: GateSettings, resourceId: string, suspended: boolean): Promise<void> {
  const state = await api.scalingSuspended(resourceId);
  if (!state || state.every((v) => v === suspended)) return;
  await api.setScalingSuspended(resourceId, suspended);
  s.log({ msg: suspended ? "auto scaling suspended" : "auto scaling resumed", resourceId });
}

/** Polls until `check` returns undefined (done); otherwise it returns what is still awaited, named in the timeout error. */
async function waitUntil(s: GateSettings, what: string, consequence: string, check: () => Promise<string | undefined>): Promise<void> {
  const from = s.now();
  for (;;) {
    const pending = await check();
    if (pending === undefined) return;
    if (s.now() + s.pollMs > s.deadline) {
      throw new UpgradeError(
        `timed out after ${seconds(s.now() - from)} s waiting for ${what} (${pending}); the gate stops before the function's own timeout. ` +
          `${consequence}. Re-run the deploy (cdktf deploy): the gate is idempotent and continues from here`,
      );
    }
    await s.sleep(s.pollMs);
  }
}

async function describe(api: UpgradeApi, cluster: string, arns: readonly string[]): Promise<TaskState[]> {
  return arns.length === 0 ? [] : api.describeTasks(cluster, arns);
}

/** Until the service has no task whose containers may still run: RUNNING, pending, or draining/stopping. */
async function waitForNoServiceTasks(ev: UpgradeEvent, api: UpgradeApi, s: GateSettings, consequence: string): Promise<void> {
  const from = s.now();
  await waitUntil(s, `every task of ${ev.service} to stop`, consequence, async () => {
    const svc = await api.describeService(ev.cluster, ev.service);
    const arns = [
      ...(await api.listTasks(ev.cluster, { serviceName: ev.service }, "RUNNING")),
      ...(await api.listTasks(ev.cluster, { serviceName: ev.service }, "STOPPED")),
    ];
    const live = (await describe(api, ev.cluster, [...new Set(arns)])).filter((t) => !GONE.has(t.lastStatus));
    const running = svc?.runningCount ?? 0;
    const pending = svc?.pendingCount ?? 0;
    if (live.length === 0 && running === 0 && pending === 0) return undefined;
    return `runningCount ${running}, pendingCount ${pending}, ${live.length} task(s) not stopped${live.length ? `: ${live.map((t) => `${t.taskArn} ${t.lastStatus}`).join(", ")}` : ""}`;
  });
  s.log({ msg: "no task left", service: ev.service, seconds: seconds(s.now() - from) });
}

async function waitStopped(ev: UpgradeEvent, api: UpgradeApi, s: GateSettings, taskArn: string, what: string, consequence: string): Promise<TaskState> {
  let task: TaskState | undefined;
  await waitUntil(s, what, consequence, async () => {
    [task] = await api.describeTasks(ev.cluster, [taskArn]);
    if (!task) return `${taskArn} not found`;
    return task.lastStatus === "STOPPED" || task.lastStatus === "DELETED" ? undefined : `${taskArn} is ${task.lastStatus}`;
  });
  return task!;
}

/**
 * Runs the migration task and waits for it to stop; fails unless its container exited 0. Never two
 * at once: a migration task still running from an earlier invocation (one that timed out) is waited
 * for, and adopted as this run's when it runs the same task definition.
 */
async function migrate(ev: UpgradeEvent, api: UpgradeApi, s: GateSettings, consequence: string): Promise<MigrationOutcome> {
  const from = s.now();
  const family = familyOf(ev.migrationTaskDefinitionArn);
  const running = (await describe(api, ev.cluster, await api.listTasks(ev.cluster, { family }, "RUNNING"))).filter((t) => !GONE.has(t.lastStatus));
  const ours = running.find((t) => t.taskDefinitionArn === ev.migrationTaskDefinitionArn);
  for (const other of running.filter((t) => t !== ours)) {
    s.log({ msg: "waiting for an earlier migration task", taskArn: other.taskArn, taskDefinition: other.taskDefinitionArn });
    await waitStopped(ev, api, s, other.taskArn, "an earlier migration task (another revision) to stop", consequence);
  }
  const adopted = ours !== undefined;
  const taskArn =
    ours?.taskArn ??
    (await api.runTask({ cluster: ev.cluster, taskDefinition: ev.migrationTaskDefinitionArn, subnets: ev.subnets, securityGroups: ev.securityGroups, startedBy: STARTED_BY }));
  s.log({ msg: adopted ? "migration task adopted" : "migration task started", taskArn, taskDefinition: ev.migrationTaskDefinitionArn });
  const stillRunning = `${consequence}; the migration task ${taskArn} keeps running, and the next run waits for it instead of starting another`;
  const task = await waitStopped(ev, api, s, taskArn, `the migration task ${taskArn} to stop`, stillRunning);
  const container = task.containers.find((c) => c.name === ev.containerName) ?? task.containers[0];
  const exitCode = container?.exitCode;
  if (exitCode !== 0) throw new UpgradeError(migrationFailure(ev, task, exitCode, container?.reason, consequence));
  const outcome: MigrationOutcome = { taskArn, exitCode: 0, adopted, seconds: seconds(s.now() - from) };
  s.log({ msg: "migration succeeded", ...outcome });
  return outcome;
}

function migrationFailure(ev: UpgradeEvent, task: TaskState, exitCode: number | undefined, reason: string | undefined, consequence: string): string {
  const taskId = task.taskArn.slice(task.taskArn.lastIndexOf("/") + 1);
  const logs =
    ev.logGroupName && ev.logStreamPrefix
      ? ` Its output: log group ${ev.logGroupName}, stream ${ev.logStreamPrefix}/${ev.containerName}/${taskId}.`
      : "";
  const code = exitCode === undefined ? "no exit code (the container never ran)" : `exit code ${exitCode}${exitCode === 3 ? " (the migrations ran without raising, but the database is not at the image's Alembic head)" : ""}`;
  return (
    `migration task ${task.taskArn} failed: ${code}; stoppedReason ${JSON.stringify(task.stoppedReason ?? "")}` +
    `${task.stopCode ? `, stopCode ${task.stopCode}` : ""}${reason ? `, container reason ${JSON.stringify(reason)}` : ""}. ${consequence}.${logs}` +
    " See docs/upgrade.md (when the migration fails)"
  );
}
