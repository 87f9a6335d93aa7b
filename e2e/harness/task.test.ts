import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ImageFacts } from "./images.js";
import { FAKE_MANIFEST } from "./fixtures.js";
import type { Substitutions } from "./substitute.js";
import { allocateTaskIp, startTask, TaskStartError, type Task } from "./task.js";
import type { ContainerDefinition } from "./taskdefs.js";

const root = mkdtempSync(join(tmpdir(), "owui-task-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cited = <T>(value: T) => ({ value, source: "test", verified: "test" });
/** An image with a shell and node, nothing else. */
const FAKE_IMAGE: ImageFacts = {
  repository: "example.test/fake",
  upstream: "test",
  checkedTag: "1",
  entrypoint: cited(null),
  cmd: cited(["sh", "-c", "sleep 1000"]),
  user: cited("0:0"),
  workdir: cited("/srv"),
  env: cited({ IMAGE_VAR: "from-image", HOME: "/root" }),
  shell: cited(true),
  curl: cited(true),
  jq: cited(false),
  writablePaths: cited(["/root", "/tmp"]),
  exposedPort: cited(null),
  executables: [
    { names: ["sh"], local: () => ({ file: "/bin/sh", reason: "test" }), substitution: "test" },
    { names: ["node"], local: () => ({ file: process.execPath, reason: "test" }), substitution: "test" },
  ],
};

/** A node HTTP server on `0.0.0.0:<port>` (bind-substituted), answering 200 on /health once `delayMs` passed. */
const server = (port: number, delayMs = 0) =>
  `const t=Date.now();require("http").createServer((q,s)=>{s.statusCode=Date.now()-t>=${delayMs}?200:503;s.end(process.env.IMAGE_VAR+" "+process.env.TASK_VAR)}).listen(${port},"0.0.0.0",()=>console.log("listening"));process.on("SIGTERM",()=>{console.log("got SIGTERM");process.exit(0)})`;

const def = (over: Partial<ContainerDefinition> & Pick<ContainerDefinition, "name">): ContainerDefinition => ({
  image: "example.test/fake:1",
  essential: true,
  environment: [],
  secrets: [],
  portMappings: [],
  readonlyRootFilesystem: false,
  mountPoints: [],
  ...over,
});

const subsFor = (taskIp: string, dir: string): Substitutions => ({
  namespace: "owui-test.internal",
  taskIp,
  discovery: {},
  endpoints: [],
  references: {},
  secrets: { "<aws_secretsmanager_secret.s.arn>": "s3cr3t" },
  taskDir: dir,
  extraEnv: [],
  hostPath: "/usr/bin:/bin",
});

/** Process groups with a live (non-zombie) process. */
const liveGroups = () =>
  execFileSync("ps", ["-eo", "pgid=,stat="])
    .toString()
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([, stat]) => stat && !stat.startsWith("Z"))
    .map(([pgid]) => Number(pgid));

let current: Task | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function start(defs: ContainerDefinition[], opts: { readyTimeoutMs?: number; stopTimeoutSeconds?: number } = {}): Promise<Task> {
  const ip = allocateTaskIp();
  const dir = mkdtempSync(join(root, "t-"));
  const facts = Object.fromEntries(defs.map((d) => [d.name, FAKE_IMAGE]));
  current = await startTask({ envName: "test", service: "svc", containerDefs: defs, facts, manifest: FAKE_MANIFEST, substitutions: subsFor(ip, dir), logDir: join(dir, "logs"), ...opts });
  return current;
}

const HEALTH = (port: number) => ({ command: ["CMD-SHELL", `curl --silent --fail http://127.0.0.1:${port}/health || exit 1`], interval: 0.2, timeout: 1, retries: 3, startPeriod: 5 });

describe("startTask", () => {
  it("runs containers on the task's own address with the definition's environment, logs to files", async () => {
    const task = await start([def({ name: "app", command: ["node", "-e", server(8080)], environment: [{ name: "TASK_VAR", value: "from-def" }], portMappings: [{ containerPort: 8080, protocol: "tcp" }] })]);
    const app = task.containers.app!;
    expect(task.ip).toMatch(/^127\.0\.1\.\d+$/);
    await app.waitListening(10_000);
    const body = await (await fetch(`${app.url}/`)).text();
    expect(body).toBe("from-image from-def");
    expect(app.pid).toBeGreaterThan(0);
    expect(app.logs()).toContain("listening");
    // Bound to the task's address only: a second task can use the same container port.
    const other = await startTask({ envName: "test", service: "svc2", containerDefs: [def({ name: "app", command: ["node", "-e", server(8080)], portMappings: [{ containerPort: 8080, protocol: "tcp" }] })], facts: { app: FAKE_IMAGE }, manifest: FAKE_MANIFEST, substitutions: subsFor(allocateTaskIp(), mkdtempSync(join(root, "t-"))), logDir: join(root, "logs2") });
    try {
      await other.containers.app!.waitListening(10_000);
      expect(other.ip).not.toBe(task.ip);
    } finally {
      await other.stop();
    }
  });

  it("honours dependsOn HEALTHY: the sidecar starts only after the app's health check passed", async () => {
    const task = await start([
      def({ name: "proxy", command: ["sh", "-c", "date +%s%N; exec sleep 1000"], dependsOn: [{ containerName: "app", condition: "HEALTHY" }] }),
      def({ name: "app", command: ["node", "-e", server(8080, 800)], portMappings: [{ containerPort: 8080, protocol: "tcp" }], healthCheck: HEALTH(8080) }),
    ]);
    const app = task.containers.app!;
    const proxy = task.containers.proxy!;
    expect(app.health).toBe("HEALTHY");
    expect(proxy.status).toBe("RUNNING");
    // The proxy started after the first passing probe, which came after the app answered 200 (≥ 800 ms).
    const firstHealthy = app.healthEvents.find((e) => e.status === "HEALTHY")!;
    expect(proxy.startedAt!).toBeGreaterThanOrEqual(firstHealthy.at);
    expect(firstHealthy.at - app.startedAt!).toBeGreaterThanOrEqual(800);
    expect(app.healthEvents.filter((e) => !e.result.ok).length).toBeGreaterThan(0);
    expect(await app.healthCheckNow()).toBe(true);
    await task.waitHealthy(5_000);
  });

  it("healthCheckNow reports pass/fail on demand", async () => {
    const task = await start([def({ name: "app", command: ["node", "-e", server(8080)], portMappings: [{ containerPort: 8080, protocol: "tcp" }], healthCheck: { ...HEALTH(8080), interval: 60 } })]);
    const app = task.containers.app!;
    await app.waitListening(10_000);
    expect(await app.healthCheckNow()).toBe(true);
    expect(app.health).toBe("UNKNOWN");
    await app.kill();
    expect(await app.healthCheckNow()).toBe(false);
  });

  it("a CMD-SHELL check using a tool the image lacks fails (jq), as in the image", async () => {
    const task = await start([def({ name: "app", command: ["sh", "-c", "exec sleep 1000"], healthCheck: { command: ["CMD-SHELL", "echo '{}' | jq -e . || exit 1"], interval: 60, timeout: 1, retries: 1, startPeriod: 0 } })]);
    const r = await task.containers.app!.probe();
    expect(r.exitCode).toBe(127);
    expect(r.output).toMatch(/jq: not found/);
  });

  it("an essential container's exit stops the task; a dependency that can never be met stops its dependent", async () => {
    const task = await start([
      def({ name: "app", command: ["sh", "-c", "echo boom >&2; exit 3"], healthCheck: { command: ["CMD-SHELL", "true"], interval: 0.2, timeout: 1, retries: 1, startPeriod: 0 } }),
      def({ name: "proxy", command: ["sh", "-c", "exec sleep 1000"], dependsOn: [{ containerName: "app", condition: "HEALTHY" }] }),
    ]);
    const app = task.containers.app!;
    expect(await app.waitExit(5_000)).toEqual({ code: 3, signal: null });
    expect(app.logs()).toContain("boom");
    expect(task.stoppedReason).toMatch(/Essential container in task exited \(app/);
    expect(task.containers.proxy!.status).toBe("STOPPED");
    expect(task.containers.proxy!.pid).toBeUndefined();
  });

  it("a program the image lacks fails the container at start (CannotStartContainerError)", async () => {
    const task = await start([def({ name: "app", command: ["python3", "-V"] })]);
    const app = task.containers.app!;
    expect(app.status).toBe("STOPPED");
    expect(app.exitCode).toBe(127);
    expect(app.stoppedReason).toMatch(/CannotStartContainerError: .*"python3": executable file not found/);
  });

  it("times out a dependsOn wait with the dependency's last log lines, and tears down", async () => {
    const err = await start(
      [
        def({ name: "app", command: ["sh", "-c", "echo still-migrating; exec sleep 1000"], healthCheck: { command: ["CMD-SHELL", "exit 1"], interval: 0.2, timeout: 1, retries: 3, startPeriod: 300 } }),
        def({ name: "proxy", command: ["sh", "-c", "exec sleep 1000"], dependsOn: [{ containerName: "app", condition: "HEALTHY" }] }),
      ],
      { readyTimeoutMs: 1500 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskStartError);
    expect((err as Error).message).toMatch(/proxy dependsOn app HEALTHY not met after 2 s/);
    expect((err as Error).message).toContain("still-migrating");
    current = undefined;
  });

  it("stop() SIGTERMs each container's group and leaves no process behind (children included)", async () => {
    const task = await start([
      def({ name: "app", command: ["sh", "-c", "sleep 1000 & sleep 1001 & node -e 'process.on(\"SIGTERM\",()=>{console.log(\"term\");process.exit(0)});setInterval(()=>{},1000)'"] }),
      def({ name: "stubborn", command: ["sh", "-c", "trap '' TERM; sleep 1002 & while true; do sleep 0.1; done"], essential: false }),
    ], { stopTimeoutSeconds: 1 });
    const pids = Object.values(task.containers).map((c) => c.pid!);
    await new Promise((r) => setTimeout(r, 300));
    const before = liveGroups();
    for (const p of pids) expect(before).toContain(p);
    await task.stop();
    current = undefined;
    const after = liveGroups();
    for (const p of pids) expect(after).not.toContain(p);
    expect(task.containers.stubborn!.signal).toBe("SIGKILL");
  });

  it("restart() runs the same command again", async () => {
    const task = await start([def({ name: "app", command: ["node", "-e", server(8080)], portMappings: [{ containerPort: 8080, protocol: "tcp" }] })]);
    const app = task.containers.app!;
    await app.waitListening(10_000);
    const first = app.pid;
    await app.restart();
    await app.waitListening(10_000);
    expect(app.pid).not.toBe(first);
    expect(app.logs().match(/listening/g)).toHaveLength(2);
  });

  it("writes the launch (argv, cwd, env) next to the log, with secrets resolved and paths mapped", async () => {
    const task = await start([def({ name: "app", command: ["sh", "-c", "echo $HOME; exec sleep 1000"], secrets: [{ name: "S", valueFrom: "<aws_secretsmanager_secret.s.arn>" }] })]);
    const launch = JSON.parse(readFileSync(task.containers.app!.logFile.replace(/\.log$/, ".launch.json"), "utf8"));
    expect(launch.env.S).toBe("s3cr3t");
    expect(launch.env.HOME).toBe(`${task.dir}/app/root`);
    expect(launch.cwd).toBe(`${task.dir}/app/srv`);
    expect(existsSync(`${task.dir}/app/tmp`)).toBe(true);
  });

  it("refuses to start with an unresolved reference", async () => {
    await expect(start([def({ name: "app", environment: [{ name: "B", value: "<aws_s3_bucket.b.bucket>" }] })])).rejects.toThrow(/references without a value: B ← aws_s3_bucket\.b\.bucket/);
  });
});
