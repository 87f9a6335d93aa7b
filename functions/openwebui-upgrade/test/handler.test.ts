/**
 * Black-box tests of the BUNDLED handler (what Lambda runs) against the local ECS + Application
 * Auto Scaling fake (test/fakes/ecs.ts), reached through AWS_ENDPOINT_URL_ECS and
 * AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING with the SDK v3 defaults.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { bundleFunction } from "../../../lib/bundle.js";
import { FAKE_AWS_ENV } from "../../../test/fakes/aws-json.js";
import { startEcsFake, type EcsFake } from "../../../test/fakes/ecs.js";

type Handler = (event: unknown, context?: { getRemainingTimeInMillis(): number }) => Promise<Record<string, any>>;

const SERVICE = "owui-test-openwebui";
const OLD_IMAGE = "ghcr.io/open-webui/open-webui:v0.9.5";
const NEW_IMAGE = "ghcr.io/open-webui/open-webui:v0.10.2";
const NETWORK = { subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], securityGroups: ["sg-0123456789abcdef0"] };

describe("openwebui-upgrade bundled handler against the ECS fake", () => {
  let handler: Handler;
  let bundle: ReturnType<typeof bundleFunction>;
  let ecs: EcsFake;
  const saved: Record<string, string | undefined> = {};
  const ENV = { ...FAKE_AWS_ENV, POLL_SECONDS: "0.001", DEADLINE_MARGIN_SECONDS: "0.001" };

  beforeAll(async () => {
    bundle = bundleFunction({ pkg: "openwebui-upgrade", entry: "src/index.ts" });
    handler = ((await import(bundle.file)) as { handler: Handler }).handler;
  });

  beforeEach(async () => {
    ecs = await startEcsFake();
    for (const [k, v] of Object.entries({ ...ENV, AWS_ENDPOINT_URL_ECS: ecs.url, AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING: ecs.url })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    vi.spyOn(console, "log").mockImplementation(() => undefined);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await ecs.close();
  });

  afterAll(() => vi.restoreAllMocks());

  /** A running service at OLD_IMAGE with `count` tasks and a scalable target (min 2), the new task definitions registered. */
  function world(count = 3) {
    const oldTd = ecs.registerTaskDefinition(SERVICE, [{ name: "openwebui", image: OLD_IMAGE }]);
    ecs.createService(SERVICE, oldTd, count);
    ecs.createScalableTarget(SERVICE, 2, 6);
    const newTd = ecs.registerTaskDefinition(SERVICE, [{ name: "openwebui", image: NEW_IMAGE }]);
    const migrationTd = ecs.registerTaskDefinition(`${SERVICE}-migrate`, [{ name: "openwebui", image: NEW_IMAGE }]);
    const event = {
      cluster: ecs.clusterArn,
      service: SERVICE,
      containerName: "openwebui",
      image: NEW_IMAGE,
      taskDefinitionArn: newTd,
      migrationTaskDefinitionArn: migrationTd,
      minCount: 2,
      logGroupName: "/owui/test/openwebui",
      logStreamPrefix: "migration",
      ...NETWORK,
    };
    return { oldTd, newTd, migrationTd, event };
  }

  const ops = () => ecs.calls.map((c) => c.operation);
  const lambda = (ms = 60_000) => ({ getRemainingTimeInMillis: () => ms });

  it("is one ESM file exporting handler, small enough to ship", () => {
    expect(typeof handler).toBe("function");
    const code = readFileSync(bundle.file);
    expect(bundle.bytes).toBe(code.length);
    expect(bundle.bytes).toBeLessThan(800_000);
    expect(gzipSync(code).length).toBeLessThan(250_000);
    console.info(`openwebui-upgrade bundle: ${(bundle.bytes / 1024).toFixed(0)} KiB, ${(gzipSync(code).length / 1024).toFixed(0)} KiB gzipped`);
  });

  it("does nothing when the service already runs the image (e.g. only an env value changed)", async () => {
    const { event } = world();
    ecs.service(SERVICE).taskDefinition = event.taskDefinitionArn.replace(/:\d+$/, ":2"); // the new image, already switched
    const result = await handler(event, lambda());
    expect(result).toMatchObject({ action: "none", previousImage: NEW_IMAGE });
    expect(ops()).toEqual(["DescribeServices", "DescribeTaskDefinition", "DescribeScalableTargets"]);
  });

  it("scales to 0, waits for every old task to stop, migrates, then switches: no old task lives during the migration", async () => {
    const { oldTd, newTd, migrationTd, event } = world(3);
    const result = await handler(event, lambda());

    expect(result).toMatchObject({ action: "upgraded", previousTaskDefinition: oldTd, previousImage: OLD_IMAGE, taskDefinition: newTd, desiredCount: 3 });
    expect(result.migration).toMatchObject({ exitCode: 0, adopted: false });

    const kinds = ecs.events.filter((e) => e.what !== "task-running" && e.what !== "task-stopped").map((e) => `${e.what} ${e.detail}`);
    expect(kinds[0]).toMatch(/^scaling-suspended .*"out":true/);
    expect(kinds[1]).toBe(`desired ${SERVICE} 3 → 0`);
    expect(kinds[2]).toMatch(new RegExp(`^run-task .* ${migrationTd}$`));
    expect(kinds[3]).toBe(`task-definition ${SERVICE} → ${newTd}`);
    expect(kinds[4]).toBe(`desired ${SERVICE} 0 → 3`);
    expect(kinds[5]).toMatch(/^scaling-suspended .*"out":false/);

    const runTask = ecs.events.find((e) => e.what === "run-task")!;
    expect(runTask.liveServiceTasks).toBe(0);
    // The old tasks were all stopped before the migration task started.
    const oldStops = ecs.events.filter((e) => e.what === "task-stopped" && ecs.tasks().find((t) => t.taskArn === e.detail)?.taskDefinitionArn === oldTd);
    expect(oldStops).toHaveLength(3);
    expect(Math.max(...oldStops.map((e) => e.tick))).toBeLessThan(runTask.tick);
    // The migration task had stopped (exit 0) before the switch, and no scaling activity brought old tasks back.
    const migrationTask = ecs.tasks().find((t) => t.taskDefinitionArn === migrationTd)!;
    const migrationStopped = ecs.events.find((e) => e.what === "task-stopped" && e.detail === migrationTask.taskArn)!;
    expect(migrationStopped.tick).toBeLessThan(ecs.events.find((e) => e.what === "task-definition")!.tick);
    expect(ecs.events.filter((e) => e.what === "scaled-to-min")).toHaveLength(0);
    expect(ecs.tasks().filter((t) => t.taskDefinitionArn === oldTd && t.lastStatus !== "STOPPED")).toHaveLength(0);

    const run = ecs.calls.find((c) => c.operation === "RunTask")!.input;
    expect(run).toMatchObject({
      cluster: "owui-test-cluster",
      taskDefinition: migrationTd,
      count: 1,
      launchType: "FARGATE",
      startedBy: "openwebui-upgrade",
      networkConfiguration: { awsvpcConfiguration: { ...NETWORK, assignPublicIp: "DISABLED" } },
    });
  });

  it("restores at least minCount tasks when the service had fewer", async () => {
    const { event } = world(2);
    const result = await handler({ ...event, minCount: 4 }, lambda());
    expect(result.desiredCount).toBe(4);
    expect(ecs.service(SERVICE).desiredCount).toBe(4);
  });

  it("fails with the exit code and the reason when the migration exits 1, and does NOT switch the service", async () => {
    const { oldTd, event } = world(2);
    ecs.migrationBehaves({ exitCode: 1 });
    const err = await handler(event, lambda()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/^migration task arn:aws:ecs:.*:task\/owui-test-cluster\/\w+ failed: exit code 1; stoppedReason "Essential container in task exited", stopCode EssentialContainerExited\./);
    expect(message).toContain(`the service ${SERVICE} stays at 0 tasks on ${oldTd} (auto scaling suspended) and was NOT switched`);
    expect(message).toMatch(/log group \/owui\/test\/openwebui, stream migration\/openwebui\/\w+/);
    expect(ecs.calls.filter((c) => c.operation === "UpdateService" && "taskDefinition" in c.input)).toHaveLength(0);
    expect(ecs.service(SERVICE)).toMatchObject({ taskDefinition: oldTd, desiredCount: 0 });
    expect(ecs.scalableTarget(SERVICE)!.suspended).toEqual({ in: true, out: true, scheduled: true });
  });

  it("explains exit code 3 (migrations swallowed an error: the database is not at the head)", async () => {
    const { event } = world(1);
    ecs.migrationBehaves({ exitCode: 3 });
    await expect(handler(event, lambda())).rejects.toThrow("exit code 3 (the migrations ran without raising, but the database is not at the image's Alembic head)");
  });

  it("fails with ECS's reason when the migration task never starts (e.g. a secret it reads is empty)", async () => {
    const { event } = world(1);
    ecs.migrationBehaves({ failToStart: "ResourceInitializationError: unable to pull secrets or registry auth" });
    await expect(handler(event, lambda())).rejects.toThrow(
      /failed: no exit code \(the container never ran\); stoppedReason "ResourceInitializationError: unable to pull secrets or registry auth", stopCode TaskFailedToStart/,
    );
  });

  it("times out clearly while the migration runs, and the retry waits for that same task instead of starting another", async () => {
    const { newTd, event } = world(2);
    ecs.migrationBehaves({ runTicks: 10_000 });
    // Budget enough to drain, not to finish the migration: fails with the gate's own message.
    const err = (await handler(event, lambda(400)).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^timed out after [\d.]+ s waiting for the migration task arn:\S+ to stop \(arn:\S+ is RUNNING\)/);
    expect(err.message).toContain("keeps running, and the next run waits for it instead of starting another");
    expect(err.message).toContain("Re-run the deploy (cdktf deploy)");
    expect(ecs.calls.filter((c) => c.operation === "UpdateService" && "taskDefinition" in c.input)).toHaveLength(0);

    // The task finishes soon after; Terraform re-invokes the same event.
    const migrationTask = ecs.tasks().find((t) => t.group.startsWith("family:"))!;
    migrationTask.runTicks = 30;
    ecs.migrationBehaves({});
    const result = await handler(event, lambda());
    expect(result).toMatchObject({ action: "upgraded", taskDefinition: newTd, desiredCount: 2 });
    expect(result.migration).toMatchObject({ taskArn: migrationTask.taskArn, adopted: true });
    expect(ecs.calls.filter((c) => c.operation === "RunTask")).toHaveLength(1);
  });

  it("times out clearly while old tasks drain", async () => {
    const { event } = world(2);
    const err = (await handler(event, lambda(5)).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^timed out after [\d.]+ s waiting for every task of owui-test-openwebui to stop \(runningCount \d, pendingCount 0, \d task\(s\) not stopped/);
    expect(err.message).toContain("was NOT switched");
    expect(ecs.calls.filter((c) => c.operation === "RunTask")).toHaveLength(0);
  });

  it("is idempotent: after a failed migration, a fixed re-run migrates and restores the recorded minimum; a further run does nothing", async () => {
    const { newTd, event } = world(3);
    ecs.migrationBehaves({ exitCode: 1 });
    await expect(handler(event, lambda())).rejects.toThrow("exit code 1");
    // The service is at 0 with scaling suspended: RegisterScalableTarget is not called again (it would lift the count to the minimum).
    const registersBefore = ecs.calls.filter((c) => c.operation === "RegisterScalableTarget").length;
    ecs.migrationBehaves({ exitCode: 0 });
    const retry = await handler(event, lambda());
    expect(retry).toMatchObject({ action: "upgraded", desiredCount: 2 });
    expect(ecs.events.filter((e) => e.what === "scaled-to-min")).toHaveLength(0);
    expect(ecs.calls.filter((c) => c.operation === "RegisterScalableTarget").length).toBe(registersBefore + 1); // only the final resume
    expect(ecs.scalableTarget(SERVICE)!.suspended).toEqual({ in: false, out: false, scheduled: false });

    const again = await handler(event, lambda());
    expect(again).toMatchObject({ action: "none", previousTaskDefinition: newTd });
    expect(ecs.calls.filter((c) => c.operation === "RunTask")).toHaveLength(2);
  });

  it("restores a service left at 0 on the same image (an abandoned upgrade) only after the migration task verified the database", async () => {
    const { oldTd, event } = world(2);
    ecs.service(SERVICE).desiredCount = 0;
    ecs.scalableTarget(SERVICE)!.suspended = { in: true, out: true, scheduled: true };
    const oldMigrationTd = ecs.registerTaskDefinition(`${SERVICE}-migrate`, [{ name: "openwebui", image: OLD_IMAGE }]);
    const result = await handler({ ...event, image: OLD_IMAGE, taskDefinitionArn: oldTd, migrationTaskDefinitionArn: oldMigrationTd }, lambda());
    expect(result).toMatchObject({ action: "restored", desiredCount: 2 });
    const run = ecs.events.find((e) => e.what === "run-task")!;
    expect(run.tick).toBeLessThan(ecs.events.find((e) => e.what === "desired")!.tick);
  });

  it("migrates before the service exists (first deploy), without touching a service", async () => {
    const newTd = ecs.registerTaskDefinition(SERVICE, [{ name: "openwebui", image: NEW_IMAGE }]);
    const migrationTd = ecs.registerTaskDefinition(`${SERVICE}-migrate`, [{ name: "openwebui", image: NEW_IMAGE }]);
    const event = { cluster: "owui-test-cluster", service: SERVICE, containerName: "openwebui", image: NEW_IMAGE, taskDefinitionArn: newTd, migrationTaskDefinitionArn: migrationTd, ...NETWORK };
    const result = await handler(event, lambda());
    expect(result).toMatchObject({ action: "migrated-before-create", migration: { exitCode: 0 } });
    expect(ops()).not.toContain("UpdateService");
  });

  it("never runs two migrations at once: an earlier revision's migration task still running is awaited first", async () => {
    const { event } = world(1);
    const stale = ecs.registerTaskDefinition(`${SERVICE}-migrate`, [{ name: "openwebui", image: "ghcr.io/open-webui/open-webui:v0.10.1" }]);
    ecs.migrationBehaves({ runTicks: 6 });
    // An earlier invocation (another image) started it: RunTask straight to the fake, as that run did.
    const sdkRun = await fetch(ecs.url, {
      method: "POST",
      headers: { "x-amz-target": "AmazonEC2ContainerServiceV20141113.RunTask", "content-type": "application/x-amz-json-1.1" },
      body: JSON.stringify({ cluster: "owui-test-cluster", taskDefinition: stale, launchType: "FARGATE", networkConfiguration: { awsvpcConfiguration: { subnets: NETWORK.subnets } } }),
    });
    const staleArn = ((await sdkRun.json()) as { tasks: { taskArn: string }[] }).tasks[0]!.taskArn;
    ecs.migrationBehaves({});
    await handler(event, lambda());
    const staleStopped = ecs.events.find((e) => e.what === "task-stopped" && e.detail === staleArn)!;
    const runs = ecs.events.filter((e) => e.what === "run-task");
    expect(runs).toHaveLength(2);
    expect(staleStopped.tick).toBeLessThan(runs[1]!.tick);
  });

  it("refuses a malformed event before calling AWS", async () => {
    const { event } = world(1);
    await expect(handler({ ...event, subnets: ["nope"] }, lambda())).rejects.toThrow('invalid event: subnets[0] must be a subnet id (got "nope")');
    expect(ecs.calls).toHaveLength(0);
  });
});
