/**
 * A local "ECS task": the containers of one task definition as child processes on the task's own
 * loopback address, each in its own process group (its "container"), started in dependsOn order,
 * health-checked per its definition, logs to files. Stopping a container kills its whole group, as
 * stopping a container ends every process in it; an essential container's exit stops the task.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ExecNotFound, factsFor, type ImageFacts } from "./images.js";
import { composeArgv, conditionMet, healthCheckArgv, HealthMonitor, localCommand, runProbe, startOrder, type HealthEvent, type HealthStatus, type LocalCommand, type ProbeResult } from "./ecs.js";
import type { Manifest } from "./manifest.js";
import { containerPaths, launchEnvOf, localPath, substituteArgv, unresolvedIn, type Substitutions } from "./substitute.js";
import type { ContainerDefinition } from "./taskdefs.js";

export interface StartTaskOptions {
  /** The env the definitions come from (names logs and errors). */
  readonly envName: string;
  readonly service: string;
  readonly containerDefs: readonly ContainerDefinition[];
  /** Image facts per container name. @default factsFor(def.image) */
  readonly facts?: Readonly<Record<string, ImageFacts>>;
  readonly manifest: Manifest;
  /** The task's substitutions: its IP (`taskIp`), its directory (`taskDir`), discovery, secrets, … */
  readonly substitutions: Substitutions;
  readonly logDir: string;
  /** How long a dependsOn condition may take before the start fails. @default 600_000 */
  readonly readyTimeoutMs?: number;
  /** ECS stopTimeout: SIGTERM, then SIGKILL after this long. @default the definition's, else 30 s (ECS's default) */
  readonly stopTimeoutSeconds?: number;
  /** Leaving `<reference>` placeholders in the environment: refused unless "keep". @default "error" */
  readonly unresolved?: "error" | "keep";
}

export type ContainerStatus = "PENDING" | "RUNNING" | "STOPPED";

export interface TaskContainer {
  readonly name: string;
  readonly def: ContainerDefinition;
  readonly facts: ImageFacts;
  /** The task's address; the container listens on `ip:port`. */
  readonly ip: string;
  /** The first port mapping's container port. */
  readonly port: number | undefined;
  /** `http://<ip>:<port>`. */
  readonly url: string | undefined;
  readonly status: ContainerStatus;
  readonly pid: number | undefined;
  /** When the process was spawned (ms since epoch). */
  readonly startedAt: number | undefined;
  /** Health check results so far (empty without a health check). */
  readonly healthEvents: readonly HealthEvent[];
  readonly exitCode: number | null | undefined;
  readonly signal: NodeJS.Signals | null | undefined;
  /** Why it stopped or never started. */
  readonly stoppedReason: string | undefined;
  /** UNKNOWN without a health check. */
  readonly health: HealthStatus;
  readonly env: Readonly<Record<string, string>>;
  readonly command: LocalCommand | undefined;
  readonly logFile: string;
  /** Runs the definition's health check once, now; true when it passes. Does not change `health`. */
  healthCheckNow(): Promise<boolean>;
  /** Like healthCheckNow, with exit code and output. */
  probe(): Promise<ProbeResult>;
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Resolves once `ip:port` accepts TCP connections. */
  waitListening(timeoutMs?: number): Promise<void>;
  /** Resolves when the process has exited. */
  waitExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logs(): string;
  logTail(lines?: number): string;
  /** SIGTERM the group, SIGKILL after the stop timeout. */
  stop(): Promise<void>;
  /** SIGKILL the group now. */
  kill(): Promise<void>;
  /** Stop, then start the same command again (health reset to UNKNOWN). */
  restart(): Promise<void>;
}

export interface Task {
  readonly envName: string;
  readonly service: string;
  readonly ip: string;
  readonly dir: string;
  readonly containers: Readonly<Record<string, TaskContainer>>;
  /** Set when the task stopped (an essential container exited, or stop()). */
  readonly stoppedReason: string | undefined;
  /** Waits until every started container with a health check is HEALTHY; rejects with log tails. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every container (reverse dependency order), then kills any process group left. */
  stop(): Promise<void>;
}

export class TaskStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskStartError";
  }
}

// Every live process group, killed if the test process exits without tearing down.
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function track(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const g of liveGroups) killGroup(g, "SIGKILL");
    });
  }
}
function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
/** Any live (non-zombie) process left in the group? Reads /proc (Linux); zombies await their reaper and hold nothing. */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return killGroup(pgid, 0 as unknown as NodeJS.Signals);
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses: split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}

let nextIp = 2;
/** A fresh task address 127.0.1.N (N from 2), per test process. */
export function allocateTaskIp(): string {
  if (nextIp > 254) throw new Error("out of task addresses 127.0.1.2–254");
  return `127.0.1.${nextIp++}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return "(no log)";
  const text = readFileSync(file, "utf8");
  return text.split("\n").slice(-lines - 1).join("\n");
}

class Container implements TaskContainer {
  status: ContainerStatus = "PENDING";
  pid: number | undefined;
  startedAt: number | undefined;
  exitCode: number | null | undefined;
  signal: NodeJS.Signals | null | undefined;
  stoppedReason: string | undefined;
  command: LocalCommand | undefined;
  readonly env: Record<string, string>;
  readonly port: number | undefined;
  readonly url: string | undefined;
  readonly logFile: string;
  private monitor?: HealthMonitor;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly healthArgv: string[] | null;
  private readonly cwd: string;
  private readonly startListeners = new Set<() => void>();

  constructor(
    readonly task: TaskImpl,
    readonly def: ContainerDefinition,
    readonly facts: ImageFacts,
    readonly ip: string,
    private readonly opts: StartTaskOptions,
  ) {
    const subs = opts.substitutions;
    this.name = def.name;
    this.port = def.portMappings[0]?.containerPort;
    this.url = this.port ? `http://${ip}:${this.port}` : undefined;
    this.logFile = join(opts.logDir, `${opts.envName}-${opts.service}-${def.name}.log`);
    this.cwd = localPath(subs, def.name, def.workingDirectory ?? facts.workdir.value);
    for (const p of containerPaths(def, facts)) mkdirSync(localPath(subs, def.name, p), { recursive: true });
    mkdirSync(this.cwd, { recursive: true });
    this.env = launchEnvOf(def, subs, facts);
    const unresolved = unresolvedIn(this.env);
    if (Object.keys(unresolved).length > 0 && (opts.unresolved ?? "error") === "error") {
      throw new TaskStartError(`${opts.envName}/${opts.service}/${def.name}: references without a value: ${Object.entries(unresolved).map(([k, v]) => `${k} ← ${v.join(", ")}`).join("; ")}. Give them in substitutions.references.`);
    }
    this.healthArgv = def.healthCheck ? this.healthArgvOrFailing(def) : null;
  }

  readonly name: string;

  get healthEvents(): readonly HealthEvent[] {
    return this.monitor?.events ?? [];
  }

  get health(): HealthStatus {
    return this.monitor?.status ?? "UNKNOWN";
  }

  private healthArgvOrFailing(def: ContainerDefinition): string[] | null {
    try {
      const argv = healthCheckArgv(def.healthCheck!, this.facts);
      return argv && substituteArgv(argv, def, this.opts.substitutions, this.facts);
    } catch (e) {
      if (e instanceof ExecNotFound) return ["/bin/sh", "-c", `echo ${JSON.stringify(e.message)} >&2; exit 127`];
      throw e;
    }
  }

  /** Composes and spawns the process; an image without the program fails the container (never RUNNING). */
  start(): void {
    const subs = this.opts.substitutions;
    mkdirSync(this.opts.logDir, { recursive: true });
    const imageArgv = substituteArgv(composeArgv(this.facts, this.def), this.def, subs, this.facts);
    let command: LocalCommand;
    try {
      command = localCommand(this.facts, imageArgv, { manifest: this.opts.manifest, env: this.env, cwd: this.cwd, taskIp: this.ip });
    } catch (e) {
      writeFileSync(this.logFile, `${(e as Error).message}\n`, { flag: "a" });
      this.status = "STOPPED";
      this.exitCode = 127;
      this.stoppedReason = `CannotStartContainerError: ${(e as Error).message}`;
      this.exited = Promise.resolve({ code: 127, signal: null });
      this.task.containerStopped(this);
      return;
    }
    this.command = command;
    const env = { ...this.env, ...command.env };
    writeFileSync(join(this.opts.logDir, `${this.opts.envName}-${this.opts.service}-${this.def.name}.launch.json`), JSON.stringify({ imageArgv, file: command.file, args: command.args, cwd: this.cwd, reason: command.program.reason, env }, null, 2));
    const out = openSync(this.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(command.file, [...command.args], { cwd: this.cwd, env, detached: true, stdio: ["ignore", out, out] });
    } finally {
      closeSync(out);
    }

    this.exitCode = undefined;
    this.signal = undefined;
    this.stoppedReason = undefined;
    this.exited = new Promise((resolve) => {
      child.on("error", (e) => {
        writeFileSync(this.logFile, `spawn ${command.file}: ${e.message}\n`, { flag: "a" });
      });
      child.on("close", (code, signal) => {
        // The container ends with its main process: nothing else in its group survives.
        if (child.pid) {
          killGroup(child.pid, "SIGKILL");
          liveGroups.delete(child.pid);
        }
        this.exitCode = code;
        this.signal = signal;
        this.status = "STOPPED";
        this.stoppedReason ??= `exited with ${code ?? signal}`;
        this.monitor?.stop();
        resolve({ code, signal });
        this.task.containerStopped(this);
      });
    });
    if (child.pid === undefined) {
      this.status = "STOPPED";
      return;
    }
    this.pid = child.pid;
    track(child.pid);
    this.status = "RUNNING";
    const startedAt = Date.now();
    this.startedAt = startedAt;
    if (this.def.healthCheck && this.healthArgv) {
      this.monitor = new HealthMonitor(this.def.healthCheck, () => this.probe());
      this.monitor.onChange(() => this.task.changed());
      this.monitor.start(startedAt);
    }
    for (const l of this.startListeners) l();
    this.task.changed();
  }

  probe(): Promise<ProbeResult> {
    if (!this.healthArgv) return Promise.reject(new Error(`${this.name} has no health check`));
    const missing = (["curl", "jq"] as const).filter((tool) => !this.facts[tool].value && new RegExp(`\\b${tool}\\b`).test(this.healthArgv!.join(" ")));
    if (missing.length > 0) {
      return Promise.resolve({ ok: false, exitCode: 127, timedOut: false, output: `${missing.join(", ")}: not found (the image ${this.facts.repository} has none)`, durationMs: 0 });
    }
    const env = { ...this.env, ...(this.command?.env ?? {}) };
    return runProbe({ argv: this.healthArgv, env, cwd: existsSync(this.cwd) ? this.cwd : undefined, timeoutSeconds: this.def.healthCheck!.timeout });
  }

  async healthCheckNow(): Promise<boolean> {
    return (await this.probe()).ok;
  }

  private failure(what: string): Error {
    return new TaskStartError(`${this.opts.envName}/${this.opts.service}/${this.name}: ${what}\n--- last lines of ${this.logFile} ---\n${this.logTail()}`);
  }

  async waitHealthy(timeoutMs = this.opts.readyTimeoutMs ?? 600_000): Promise<void> {
    if (!this.def.healthCheck) throw new Error(`${this.name} has no health check`);
    if (this.status === "PENDING") await this.waitStarted(timeoutMs);
    if (!this.monitor) throw this.failure(`never started (${this.stoppedReason ?? "no process"})`);
    let unsubscribe = () => {};
    try {
      await Promise.race([
        this.monitor.waitFor("HEALTHY", timeoutMs),
        new Promise<never>((_, reject) => {
          const check = () => this.monitor!.status === "UNHEALTHY" && reject(new Error("UNHEALTHY"));
          unsubscribe = this.monitor!.onChange(check);
          check();
        }),
      ]);
      unsubscribe();
    } catch (e) {
      unsubscribe();
      const last = this.monitor.events.at(-1);
      throw this.failure(`not HEALTHY (${(e as Error).message}; status ${this.health}, ${this.status}${this.exitCode !== undefined ? `, exit ${this.exitCode}` : ""}); last probe: ${last ? `exit ${last.result.exitCode}${last.result.timedOut ? " (timed out)" : ""} ${last.result.output.trim()}` : "none yet"}`);
    }
  }

  waitStarted(timeoutMs: number): Promise<void> {
    if (this.status !== "PENDING") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure(`not started after ${timeoutMs} ms`)), timeoutMs);
      const l = () => {
        clearTimeout(timer);
        this.startListeners.delete(l);
        resolve();
      };
      this.startListeners.add(l);
    });
  }

  async waitListening(timeoutMs = this.opts.readyTimeoutMs ?? 600_000): Promise<void> {
    if (!this.port) throw new Error(`${this.name} has no port mapping`);
    const deadline = Date.now() + timeoutMs;
    if (this.status === "PENDING") await this.waitStarted(timeoutMs);
    for (;;) {
      if (this.status === "STOPPED") throw this.failure(`exited (${this.exitCode ?? this.signal}) before listening on ${this.ip}:${this.port}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect({ host: this.ip, port: this.port! });
        s.once("connect", () => {
          s.destroy();
          resolve(true);
        });
        s.once("error", () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw this.failure(`not listening on ${this.ip}:${this.port} after ${Math.round(timeoutMs / 1000)} s`);
      await sleep(250);
    }
  }

  async waitExit(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.status === "PENDING") await this.waitStarted(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([this.exited!, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(this.failure(`still running after ${timeoutMs} ms`)), timeoutMs)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  logs(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
  }

  logTail(lines = 40): string {
    return tail(this.logFile, lines);
  }

  async stop(): Promise<void> {
    this.monitor?.stop();
    if (this.status !== "RUNNING" || !this.pid) {
      if (this.status === "PENDING") this.status = "STOPPED";
      return;
    }
    this.stoppedReason ??= "stopped";
    killGroup(this.pid, "SIGTERM");
    const grace = (this.opts.stopTimeoutSeconds ?? this.def.stopTimeout ?? 30) * 1000;
    const done = await Promise.race([this.exited!.then(() => true), sleep(grace).then(() => false)]);
    if (!done) {
      killGroup(this.pid, "SIGKILL");
      await this.exited;
    }
    await this.reapGroup();
  }

  async kill(): Promise<void> {
    this.monitor?.stop();
    if (this.status !== "RUNNING" || !this.pid) return;
    this.stoppedReason ??= "killed";
    killGroup(this.pid, "SIGKILL");
    await this.exited;
    await this.reapGroup();
  }

  /** Waits until no process of the group is left (SIGKILLing stragglers). */
  private async reapGroup(): Promise<void> {
    if (!this.pid) return;
    for (let i = 0; i < 40 && groupAlive(this.pid); i++) {
      killGroup(this.pid, "SIGKILL");
      await sleep(50);
    }
    liveGroups.delete(this.pid);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.monitor = undefined;
    this.status = "PENDING";
    this.start();
  }
}

class TaskImpl implements Task {
  readonly containers: Record<string, Container> = {};
  stoppedReason: string | undefined;
  private stopping = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly envName: string,
    readonly service: string,
    readonly ip: string,
    readonly dir: string,
    private readonly opts: StartTaskOptions,
  ) {}

  changed(): void {
    for (const l of [...this.listeners]) l();
  }

  containerStopped(c: Container): void {
    this.changed();
    if (c.def.essential && !this.stopping && !this.stoppedReason) {
      this.stoppedReason = `Essential container in task exited (${c.name}: ${c.stoppedReason ?? c.exitCode})`;
      void this.stopAll();
    }
  }

  /** Resolves when `ready()` is true; "never" rejects; times out with log tails. */
  waitUntil(what: string, ready: () => boolean | "never", timeoutMs: number, logsOf: Container): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const r = ready();
        if (r === true || r === "never" || this.stoppedReason) {
          clearTimeout(timer);
          this.listeners.delete(check);
          if (r === true) resolve();
          else reject(new Error(r === "never" ? `${what} can never be met` : `task stopped (${this.stoppedReason}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new TaskStartError(`${this.envName}/${this.service}: ${what} not met after ${Math.round(timeoutMs / 1000)} s\n--- last lines of ${logsOf.logFile} ---\n${logsOf.logTail()}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  async waitHealthy(timeoutMs = this.opts.readyTimeoutMs ?? 600_000): Promise<void> {
    // A container that stopped can never become healthy: that is a failed start, not a pass.
    const stopped = Object.values(this.containers).filter((c) => c.def.healthCheck && c.status === "STOPPED");
    if (stopped.length > 0) {
      throw new TaskStartError(stopped.map((c) => `${this.envName}/${this.service}/${c.name} stopped before it was healthy (${c.stoppedReason ?? `exit ${c.exitCode}`})\n--- last lines of ${c.logFile} ---\n${c.logTail()}`).join("\n"));
    }
    await Promise.all(Object.values(this.containers).filter((c) => c.def.healthCheck).map((c) => c.waitHealthy(timeoutMs)));
  }

  private async stopAll(): Promise<void> {
    this.stopping = true;
    // Reverse dependency order: dependents first (ECS stops containers in reverse of their dependencies).
    const order = startOrder(Object.values(this.containers).map((c) => c.def)).reverse();
    for (const name of order) await this.containers[name]!.stop();
  }

  async stop(): Promise<void> {
    this.stoppedReason ??= "stopped by the test";
    await this.stopAll();
  }
}

/**
 * Starts a task: every container after its dependsOn conditions, in its own process group, with the
 * environment of its definition after the documented substitutions. Resolves once every container
 * started or can never start (an essential one's failure stops the task, as in ECS; inspect
 * `stoppedReason` and the containers). Throws (after stopping what started) when a dependency
 * condition is not met within `readyTimeoutMs`.
 */
export async function startTask(opts: StartTaskOptions): Promise<Task> {
  const subs = opts.substitutions;
  mkdirSync(subs.taskDir, { recursive: true });
  mkdirSync(opts.logDir, { recursive: true });
  const task = new TaskImpl(opts.envName, opts.service, subs.taskIp, subs.taskDir, opts);
  const order = startOrder(opts.containerDefs);
  for (const def of opts.containerDefs) {
    const facts = opts.facts?.[def.name] ?? factsFor(def.image).facts;
    task.containers[def.name] = new Container(task, def, facts, subs.taskIp, opts);
  }
  const timeout = opts.readyTimeoutMs ?? 600_000;
  // Containers without dependencies start at once; each other one once its conditions hold.
  const started = new Map<string, Promise<void>>();
  const startOne = async (name: string): Promise<void> => {
    const c = task.containers[name]!;
    for (const dep of c.def.dependsOn ?? []) {
      await started.get(dep.containerName);
      const d = task.containers[dep.containerName]!;
      try {
        await task.waitUntil(`${name} dependsOn ${dep.containerName} ${dep.condition}`, () => conditionMet(dep.condition, { started: d.status !== "PENDING", exited: d.status === "STOPPED", exitCode: d.exitCode, health: d.health }), timeout, d);
      } catch (e) {
        if (e instanceof TaskStartError) throw e;
        c.stoppedReason = `DependencyError: ${(e as Error).message}`;
        c.status = "STOPPED";
        task.containerStopped(c);
        return;
      }
    }
    if (task.stoppedReason) {
      c.status = "STOPPED";
      c.stoppedReason ??= `never started: ${task.stoppedReason}`;
      return;
    }
    c.start();
  };
  for (const name of order) started.set(name, startOne(name));
  try {
    await Promise.all(started.values());
  } catch (e) {
    await task.stop();
    throw e;
  }
  return task;
}

/** Substitutions for one task: the shared ones plus its own address and directory. */
export function forTask(shared: Omit<Substitutions, "taskIp" | "taskDir">, taskIp: string, taskDir: string): Substitutions {
  return { ...shared, taskIp, taskDir };
}
