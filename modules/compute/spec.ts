/**
 * The typed service spec the compute layer's factory takes, and its synth-time validation. Every
 * refusal names the field (`services.<name>.<field>`), the bad value and the fix.
 */
import { ConfigError, ConfigErrors } from "../../lib/errors.js";
import { fargateSizeProblem } from "../../lib/aws-limits.js";
import { imageProblem, PIN_FIX } from "../../lib/image.js";
import type { ParameterRef, SecretRef } from "../../lib/refs.js";
import { looksSecret } from "../../lib/secret-names.js";

/** Where a secret env var's value comes from: a Secrets Manager secret (optionally one JSON key) or an SSM parameter. */
export type SecretSource = { readonly secret: SecretRef; readonly jsonKey?: string } | { readonly parameter: ParameterRef };

/** An EFS access point mounted into the main container (transit encryption and IAM auth always on). */
export interface EfsMount {
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPointId: string;
  readonly accessPointArn: string;
  readonly containerPath: string;
  /** @default false */
  readonly readOnly?: boolean;
}

/** A container of the task. */
export interface ContainerSpec {
  /** Container name, unique in the task. */
  readonly name: string;
  /** Image pinned by tag or digest. */
  readonly image: string;
  /** Port the container listens on. @default - none */
  readonly port?: number;
  /** Plain, non-secret settings. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secret settings, injected by ECS from Secrets Manager or SSM. @default {} */
  readonly secrets?: Readonly<Record<string, SecretSource>>;
  /**
   * Overrides the image's ENTRYPOINT. ECS, like Docker, runs `entryPoint ++ command`: a `command`
   * alone is appended to the image's ENTRYPOINT, so a shell script as `command` needs
   * `entryPoint: ["sh", "-c"]` unless the image's ENTRYPOINT is empty. @default - the image's
   */
  readonly entryPoint?: readonly string[];
  /** Overrides the image's CMD (appended to the ENTRYPOINT). @default - the image's */
  readonly command?: readonly string[];
  /**
   * Why this image needs a writable root filesystem. Without a reason the root filesystem is read
   * only (ECS.5); writable scratch paths come from `scratchPaths`.
   * @default - read-only root filesystem
   */
  readonly writableRootFilesystemReason?: string;
  /** Paths that get an ephemeral writable volume (e.g. `/tmp`) when the root is read only. @default ["/tmp"] */
  readonly scratchPaths?: readonly string[];
  /** Container health check command (CMD-SHELL form). @default - none */
  readonly healthCheckCommand?: string;
  /**
   * Seconds after start during which failed container health checks do not count (ECS allows 0–300);
   * give a slow first start (migrations) the most. @default 30
   */
  readonly healthCheckStartPeriodSeconds?: number;
  /** Stop the task when this container stops. @default true */
  readonly essential?: boolean;
  /** Start only after these containers are healthy/started. @default - none */
  readonly dependsOn?: readonly { readonly containerName: string; readonly condition: "START" | "HEALTHY" | "COMPLETE" | "SUCCESS" }[];
  /** Run as this user (`uid:gid`). @default - the image's */
  readonly user?: string;
}

/** How the ALB routes to the service. */
export type Routing =
  | { readonly type: "default" }
  | { readonly type: "path"; readonly paths: readonly string[]; readonly priority: number }
  | { readonly type: "host"; readonly hosts: readonly string[]; readonly priority: number }
  | { readonly type: "internal" };

export interface ServiceSpec extends ContainerSpec {
  /** Service name: `[a-z][a-z0-9-]*`, also its discovery name inside the VPC. */
  readonly name: string;
  /** The service's port (main container); discovery and other services use it. */
  readonly port: number;
  /** Task CPU units (256 = 0.25 vCPU). */
  readonly cpu: number;
  /** Task memory in MiB; must be a Fargate combination with `cpu`. */
  readonly memoryMiB: number;
  /** CPU architecture of the images. @default "X86_64" */
  readonly cpuArchitecture?: "X86_64" | "ARM64";
  /** Sidecar containers sharing the task's network namespace. @default - none */
  readonly sidecars?: readonly ContainerSpec[];
  /** EFS mounts of the main container. @default - none */
  readonly efsMounts?: readonly EfsMount[];
  /** ALB routing. */
  readonly routing: Routing;
  /** Container port the ALB targets (e.g. a sidecar proxy's). @default - `port` */
  readonly targetPort?: number;
  /** Health check the ALB uses, and the grace period after start. */
  readonly healthCheck: {
    /** HTTP path, starting with `/`. */
    readonly path: string;
    /** Seconds before failed health checks count; above the measured cold start. */
    readonly gracePeriodSeconds: number;
    /** @default "200" */
    readonly matcher?: string;
    /** @default 30 */
    readonly intervalSeconds?: number;
  };
  /** Task counts and target tracking. */
  readonly scaling: {
    readonly minCount: number;
    readonly maxCount: number;
    /** @default 60 */
    readonly targetCpuPercent?: number;
    /** ALB requests per task to aim for (ALB-routed only). @default - none */
    readonly requestsPerTarget?: number;
  };
  /** Sticky sessions on the target group (socket.io polling across replicas). @default false */
  readonly stickySessions?: boolean;
  /** ECS Exec. @default false */
  readonly enableExecuteCommand?: boolean;
  /**
   * Whether the deployment circuit breaker rolls a failed deployment back to the last completed
   * one (it always stops it). Turn off for a service whose new version migrates a shared schema:
   * the rollback would start the old version against the migrated database.
   * @default true
   */
  readonly deploymentRollback?: boolean;
  /**
   * Fargate capacity: `spot` places the tasks on the FARGATE_SPOT capacity provider (X86_64 only;
   * interrupted with two minutes' warning), for stateless services. @default "on-demand"
   */
  readonly capacity?: "on-demand" | "spot";
}

const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

/** Validates a spec; throws {@link ConfigErrors} listing every problem. */
export function validateServiceSpec(spec: ServiceSpec, otherServices: readonly ServiceSpec[] = []): void {
  const errors: ConfigError[] = [];
  const at = (field: string) => `services.${spec.name}.${field}`;
  const fail = (field: string, problem: string, fix: string) => errors.push(new ConfigError(at(field), problem, fix));

  if (!NAME_RE.test(spec.name)) fail("name", `"${spec.name}" is not a valid service name`, "use 1–31 lower-case letters, digits or dashes, starting with a letter");
  if (otherServices.some((o) => o.name === spec.name)) fail("name", `"${spec.name}" is already a service`, "give each service its own name");

  const size = fargateSizeProblem(spec.cpu, spec.memoryMiB);
  if (size) fail(...size);

  const containers: [string, ContainerSpec][] = [["", spec], ...(spec.sidecars ?? []).map((c, i): [string, ContainerSpec] => [`sidecars[${i}].`, c])];
  const ports = new Map<number, string>();
  const names = new Set<string>();
  for (const [prefix, c] of containers) {
    const problem = imageProblem(c.image);
    if (problem) fail(`${prefix}image`, problem, PIN_FIX);
    if (names.has(c.name)) fail(`${prefix}name`, `container name "${c.name}" is used twice in the task`, "give each container its own name");
    names.add(c.name);
    if (c.port !== undefined) {
      if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) fail(`${prefix}port`, `${c.port} is not a TCP port`, "use 1–65535");
      const clash = ports.get(c.port);
      if (clash !== undefined) fail(`${prefix}port`, `${c.port} is already used by container "${clash}"; containers of a task share one network namespace`, "give each container its own port");
      ports.set(c.port, c.name);
    }
    for (const key of Object.keys(c.environment ?? {})) {
      if (looksSecret(key)) fail(`${prefix}environment.${key}`, `"${key}" looks like a secret but is a plain environment value, visible in the task definition and state`, `move it to ${prefix}secrets with a Secrets Manager or SSM reference`);
      if (c.secrets && key in c.secrets) fail(`${prefix}environment.${key}`, `"${key}" is set both as a plain value and as a secret`, "keep only the secret");
    }
    const start = c.healthCheckStartPeriodSeconds;
    if (start !== undefined && (!Number.isInteger(start) || start < 0 || start > 300)) {
      fail(`${prefix}healthCheckStartPeriodSeconds`, `${start} is outside ECS's 0–300 s`, "use 0–300, e.g. 300 for a start that runs migrations");
    }
    if (start !== undefined && !c.healthCheckCommand) fail(`${prefix}healthCheckStartPeriodSeconds`, "is set without healthCheckCommand, so there is no health check to delay", "add healthCheckCommand, or remove it");
    if (c.writableRootFilesystemReason !== undefined && c.writableRootFilesystemReason.trim().length < 10) {
      fail(`${prefix}writableRootFilesystemReason`, `"${c.writableRootFilesystemReason}" does not explain why the root filesystem must be writable`, "give a reason of at least 10 characters, or drop it to keep the root read only");
    }
  }

  for (const [prefix, c] of containers) {
    (c.dependsOn ?? []).forEach((d, i) => {
      const other = containers.find(([, o]) => o.name === d.containerName)?.[1];
      if (!other || other === c) fail(`${prefix}dependsOn[${i}].containerName`, `"${d.containerName}" is not another container of the task`, `name one of ${containers.filter(([, o]) => o !== c).map(([, o]) => `"${o.name}"`).join(", ") || "(none)"}`);
      else if (d.condition === "HEALTHY" && !other.healthCheckCommand) fail(`${prefix}dependsOn[${i}].condition`, `HEALTHY waits for container "${d.containerName}", which has no healthCheckCommand, so ECS refuses the task definition`, `give "${d.containerName}" a healthCheckCommand, or wait for START`);
    });
  }

  const target = spec.targetPort ?? spec.port;
  if (spec.routing.type !== "internal" && !ports.has(target)) fail("targetPort", `${target} is not a port of any container in the task`, `target one of ${[...ports.keys()].join(", ")}`);
  if (!spec.healthCheck.path.startsWith("/")) fail("healthCheck.path", `"${spec.healthCheck.path}" is not an absolute path`, 'start it with "/", e.g. "/health"');
  const interval = spec.healthCheck.intervalSeconds;
  if (interval !== undefined && (!Number.isInteger(interval) || interval <= 5 || interval > 300)) {
    fail("healthCheck.intervalSeconds", `${interval} is not above the target group's 5 s timeout (ELB needs timeout < interval ≤ 300)`, "use 6–300, e.g. 30");
  }
  if (spec.routing.type !== "internal" && !(spec.healthCheck.gracePeriodSeconds > 0)) {
    fail("healthCheck.gracePeriodSeconds", `${spec.healthCheck.gracePeriodSeconds} leaves no time to start before the ALB health checks count`, "set it above the measured cold start, e.g. 120");
  }

  const { minCount, maxCount } = spec.scaling;
  if (!Number.isInteger(minCount) || minCount < 1) fail("scaling.minCount", `${minCount} must be a whole number of at least 1`, "set 1 or more");
  if (minCount > maxCount) fail("scaling.minCount", `${minCount} is above scaling.maxCount ${maxCount}`, "make minCount ≤ maxCount");
  if (spec.scaling.requestsPerTarget !== undefined && spec.routing.type === "internal") {
    fail("scaling.requestsPerTarget", "is set on an internal service, which has no ALB target group to count requests on", "remove it, or route the service through the ALB");
  }

  if (spec.routing.type === "default" && otherServices.some((o) => o.routing.type === "default")) {
    fail("routing", "asks to be the ALB's default route, which another service already is", "route this one by path or host");
  }
  if (spec.routing.type === "path" || spec.routing.type === "host") {
    const prio = spec.routing.priority;
    const clash = otherServices.find((o) => (o.routing.type === "path" || o.routing.type === "host") && o.routing.priority === prio);
    if (clash) fail("routing.priority", `${prio} is already used by service "${clash.name}"`, "give each listener rule its own priority");
    const values = spec.routing.type === "path" ? spec.routing.paths : spec.routing.hosts;
    if (values.length === 0 || values.length > 5) fail(`routing.${spec.routing.type === "path" ? "paths" : "hosts"}`, `has ${values.length} entries`, "give 1 to 5 (an ALB rule condition's limit)");
  }

  if (errors.length > 0) throw new ConfigErrors(errors);
}
