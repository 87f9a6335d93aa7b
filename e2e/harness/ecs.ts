/**
 * ECS/Docker semantics the harness reproduces: how a container's argv is composed from the image and
 * the definition, how its health check runs and is judged, and what `dependsOn` waits for.
 *
 * - argv (Docker's create/merge, which the ECS agent drives): `entryPoint` overrides the image's
 *   ENTRYPOINT, `command` overrides its CMD, argv = ENTRYPOINT ++ CMD. When the definition sets
 *   `entryPoint`, the image's CMD is not used (moby daemon `merge()`: the image Cmd is merged only
 *   when the user config has no Entrypoint), so argv = entryPoint ++ (command ?? []).
 *   Hence today's mcpo definition (`command: ["sh","-c",…]`, image ENTRYPOINT ["mcpo"]) runs
 *   `mcpo sh -c …`.
 * - healthCheck (ECS API reference, "HealthCheck"): `["CMD-SHELL", cmd]` runs `/bin/sh -c cmd` in the
 *   container, `["CMD", …args]` runs args directly, `["NONE"]` disables; exit 0 is healthy.
 *   interval 5–300 s (default 30) between checks, timeout 2–60 s (default 5) after which a check
 *   counts as failed, retries 1–10 (default 3) consecutive failures before UNHEALTHY, startPeriod
 *   0–300 s (default off) during which failures do not count — but a success inside it marks the
 *   container HEALTHY and from then on failures count. Status starts UNKNOWN. As in Docker, the first
 *   check runs one interval after the container starts, and each next one an interval after the
 *   previous finished.
 * - dependsOn: START (the dependency's container started), HEALTHY (its health check passed),
 *   COMPLETE (it exited, any code), SUCCESS (it exited 0).
 */
import { spawn } from "node:child_process";
import { ExecNotFound, resolveProgram, type ImageFacts, type LocalProgram, type ProgramContext } from "./images.js";
import type { ContainerDefinition, HealthCheckDef } from "./taskdefs.js";

/** argv as the container runtime would run it inside the image (before any local mapping). */
export function composeArgv(facts: ImageFacts, def: Pick<ContainerDefinition, "entryPoint" | "command">): string[] {
  if (def.entryPoint !== undefined) return [...def.entryPoint, ...(def.command ?? [])];
  return [...(facts.entrypoint.value ?? []), ...(def.command ?? facts.cmd.value ?? [])];
}

/** Which parts of the argv came from where (for reports). */
export function argvOrigin(facts: ImageFacts, def: Pick<ContainerDefinition, "entryPoint" | "command">): { entrypoint: "definition" | "image" | "none"; cmd: "definition" | "image" | "none" } {
  const entrypoint = def.entryPoint !== undefined ? "definition" : facts.entrypoint.value ? "image" : "none";
  const cmd = def.command !== undefined ? "definition" : def.entryPoint === undefined && facts.cmd.value ? "image" : "none";
  return { entrypoint, cmd };
}

/** The local process for a container: file, args and the environment the image's script derives. */
export interface LocalCommand {
  /** argv as the image would run it, after substitutions (addresses, paths). */
  readonly imageArgv: readonly string[];
  readonly file: string;
  readonly args: readonly string[];
  /** Variables the reproduced image script sets (merged over the container's environment). */
  readonly env: Readonly<Record<string, string>>;
  readonly program: LocalProgram;
}

/**
 * The local process of a container whose (substituted) image argv is `argv`. Throws
 * {@link ExecNotFound} when the image has no such program (the container would fail to start).
 */
export function localCommand(facts: ImageFacts, argv: readonly string[], ctx: ProgramContext): LocalCommand {
  const { mapping, argv: programArgv } = resolveProgram(facts, argv);
  const program = mapping.local(programArgv, ctx);
  const args = program.args ?? [...(program.prependArgs ?? []), ...programArgv.slice(1)];
  return { imageArgv: argv, file: program.file, args, env: program.env ?? {}, program };
}

// ---------------------------------------------------------------------------------------------
// Health checks
// ---------------------------------------------------------------------------------------------

export type HealthStatus = "UNKNOWN" | "HEALTHY" | "UNHEALTHY";

/** ECS's documented defaults (API reference, HealthCheck). */
export const HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 } as const;

/** The argv a health check runs in the container, or null for NONE. Refuses CMD-SHELL in an image without a shell. */
export function healthCheckArgv(check: Pick<HealthCheckDef, "command">, facts?: Pick<ImageFacts, "shell" | "repository">): string[] | null {
  const [kind, ...rest] = check.command;
  if (kind === "NONE") return null;
  if (kind === "CMD-SHELL") {
    if (rest.length !== 1) throw new Error(`CMD-SHELL takes one command string, got ${JSON.stringify(rest)}`);
    if (facts && !facts.shell.value) throw new ExecNotFound(facts as ImageFacts, "/bin/sh");
    return ["/bin/sh", "-c", rest[0]!];
  }
  if (kind === "CMD") return rest;
  // ECS passes an unprefixed command to Docker as CMD-SHELL-less exec form is ambiguous; refuse it.
  throw new Error(`health check command must start with CMD, CMD-SHELL or NONE, got ${JSON.stringify(check.command)}`);
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly output: string;
  readonly durationMs: number;
}

export interface ProbeOptions {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutSeconds: number;
}

/** Runs one probe: exit 0 within the timeout is a pass; a timeout kills the probe's process group and fails. */
export function runProbe(opts: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    let child;
    try {
      child = spawn(opts.argv[0]!, opts.argv.slice(1), { env: { ...opts.env }, cwd: opts.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      resolve({ ok: false, exitCode: null, timedOut: false, output: String(e), durationMs: Date.now() - started });
      return;
    }
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-4096);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, opts.timeoutSeconds * 1000);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, exitCode: null, timedOut: false, output: `${output}${e.message}`, durationMs: Date.now() - started });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ ok: !timedOut && code === 0, exitCode: code, timedOut, output, durationMs: Date.now() - started });
    });
  });
}

export interface HealthEvent {
  readonly at: number;
  readonly result: ProbeResult;
  readonly status: HealthStatus;
  /** The failure fell inside the start period and did not count. */
  readonly ignored: boolean;
}

/**
 * A container's health, judged as ECS (Docker) judges it: see the module comment. `probeNow()` runs
 * one extra probe on demand and reports it without changing the status.
 */
export class HealthMonitor {
  status: HealthStatus = "UNKNOWN";
  readonly events: HealthEvent[] = [];
  private failures = 0;
  private everHealthy = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private startedAt = 0;
  private readonly listeners = new Set<() => void>();
  private readonly check: Required<Pick<HealthCheckDef, "interval" | "timeout" | "retries" | "startPeriod">>;

  constructor(
    check: Pick<HealthCheckDef, "interval" | "timeout" | "retries" | "startPeriod">,
    private readonly probe: () => Promise<ProbeResult>,
  ) {
    this.check = {
      interval: check.interval ?? HEALTH_CHECK_DEFAULTS.interval,
      timeout: check.timeout ?? HEALTH_CHECK_DEFAULTS.timeout,
      retries: check.retries ?? HEALTH_CHECK_DEFAULTS.retries,
      startPeriod: check.startPeriod ?? HEALTH_CHECK_DEFAULTS.startPeriod,
    };
  }

  /** Starts judging; `startedAt` is when the container started. */
  start(startedAt = Date.now()): void {
    this.startedAt = startedAt;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.notify();
  }

  /** Runs one probe now; the result is returned, the status is left alone. */
  probeNow(): Promise<ProbeResult> {
    return this.probe();
  }

  /** Resolves with the status once it is `want` (or rejects on timeout / when stopped). */
  waitFor(want: HealthStatus, timeoutMs: number): Promise<void> {
    if (this.status === want) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`health status is ${this.status}, not ${want}, after ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const check = () => {
        if (this.status === want) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve();
        } else if (this.stopped) {
          clearTimeout(timer);
          this.listeners.delete(check);
          reject(new Error(`health checks stopped while the status was ${this.status}, not ${want}`));
        }
      };
      this.listeners.add(check);
    });
  }

  /** Called on every status evaluation. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.check.interval * 1000);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const result = await this.probe();
    if (this.stopped) return;
    const inStartPeriod = !this.everHealthy && Date.now() - this.startedAt < this.check.startPeriod * 1000;
    let ignored = false;
    if (result.ok) {
      this.failures = 0;
      this.everHealthy = true;
      this.status = "HEALTHY";
    } else if (inStartPeriod) {
      ignored = true;
    } else {
      this.failures += 1;
      if (this.failures >= this.check.retries) this.status = "UNHEALTHY";
    }
    this.events.push({ at: Date.now(), result, status: this.status, ignored });
    this.notify();
    this.schedule();
  }
}

// ---------------------------------------------------------------------------------------------
// dependsOn
// ---------------------------------------------------------------------------------------------

export type DependencyCondition = "START" | "HEALTHY" | "COMPLETE" | "SUCCESS";

/** What a dependency's state must be for a condition (pure; the task evaluates it). */
export function conditionMet(condition: DependencyCondition, dep: { started: boolean; exitCode: number | null | undefined; exited: boolean; health: HealthStatus }): boolean | "never" {
  switch (condition) {
    case "START":
      return dep.started;
    case "HEALTHY":
      if (dep.health === "HEALTHY") return true;
      return dep.exited || dep.health === "UNHEALTHY" ? "never" : false;
    case "COMPLETE":
      return dep.exited;
    case "SUCCESS":
      if (!dep.exited) return false;
      return dep.exitCode === 0 ? true : "never";
  }
}

/** Containers in an order that starts every dependency first; throws on cycles or unknown names. */
export function startOrder(defs: readonly Pick<ContainerDefinition, "name" | "dependsOn">[]): string[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    const d = byName.get(name);
    if (!d) throw new Error(`dependsOn names "${name}", which is not a container of the task (${path.join(" → ")})`);
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`dependsOn cycle: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const dep of d.dependsOn ?? []) visit(dep.containerName, [...path, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const d of defs) visit(d.name, []);
  return order;
}
