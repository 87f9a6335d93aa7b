/**
 * The invocation's input (what `aws_lambda_invocation` sends) and its validation. Every refusal
 * names the field and shows the value: `invalid event: subnets[0] must be a subnet id (got "x")`.
 */

export interface UpgradeEvent {
  /** The ECS cluster's name (or ARN; the name is taken from it). */
  readonly cluster: string;
  /** The Open WebUI service's name. */
  readonly service: string;
  /** The Open WebUI container's name, in both task definitions. */
  readonly containerName: string;
  /** The image the new task definition runs (the trigger). */
  readonly image: string;
  /** The service's new task definition (`arn:…:task-definition/<family>:<revision>`). */
  readonly taskDefinitionArn: string;
  /** The migration task definition of the same image. */
  readonly migrationTaskDefinitionArn: string;
  /** Private subnets of the migration task (awsvpc, no public IP). */
  readonly subnets: readonly string[];
  /** Security groups of the migration task (the service's: it reaches Aurora and EFS). */
  readonly securityGroups: readonly string[];
  /** The service's configured minimum task count; the switch restores at least this many. @default 1 */
  readonly minCount: number;
  /** Where the migration task logs (named in failure messages). @default - not named */
  readonly logGroupName?: string;
  /** The migration container's awslogs stream prefix. @default - not named */
  readonly logStreamPrefix?: string;
}

const TASK_DEFINITION_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/;
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/([A-Za-z0-9_-]{1,255})$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
const IMAGE = /^\S{1,512}$/;

export class EventError extends Error {}

function fail(field: string, rule: string, value: unknown): never {
  throw new EventError(`invalid event: ${field} ${rule} (got ${JSON.stringify(value) ?? String(value)})`);
}

function text(raw: Record<string, unknown>, field: string, re: RegExp, rule: string): string {
  const v = raw[field];
  if (typeof v !== "string" || !re.test(v)) fail(field, rule, v);
  return v;
}

function list(raw: Record<string, unknown>, field: string, re: RegExp, rule: string): string[] {
  const v = raw[field];
  if (!Array.isArray(v) || v.length === 0 || v.length > 16) fail(field, "must be a list of 1 to 16 ids", v);
  return v.map((item, i) => {
    if (typeof item !== "string" || !re.test(item)) fail(`${field}[${i}]`, rule, item);
    return item;
  });
}

/** `family` of `arn:…:task-definition/<family>:<revision>`. */
export function familyOf(taskDefinitionArn: string): string {
  return taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf("/") + 1, taskDefinitionArn.lastIndexOf(":"));
}

/** Validates the event (an object, or the same as a JSON string). */
export function parseEvent(event: unknown): UpgradeEvent {
  const raw = typeof event === "string" ? (JSON.parse(event) as unknown) : event;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("(root)", "must be an object", raw);
  const r = raw as Record<string, unknown>;
  const clusterRaw = r.cluster;
  const clusterArn = typeof clusterRaw === "string" ? CLUSTER_ARN.exec(clusterRaw) : null;
  const cluster = clusterArn ? clusterArn[1]! : text(r, "cluster", NAME, "must be a cluster name or ARN");
  const taskDefinitionArn = text(r, "taskDefinitionArn", TASK_DEFINITION_ARN, "must be a task definition ARN with its revision");
  const migrationTaskDefinitionArn = text(r, "migrationTaskDefinitionArn", TASK_DEFINITION_ARN, "must be a task definition ARN with its revision");
  if (familyOf(migrationTaskDefinitionArn) === familyOf(taskDefinitionArn)) {
    fail("migrationTaskDefinitionArn", "must be of another family than taskDefinitionArn (a migration family of its own)", migrationTaskDefinitionArn);
  }
  const minCount = r.minCount ?? 1;
  if (typeof minCount !== "number" || !Number.isInteger(minCount) || minCount < 1 || minCount > 1000) fail("minCount", "must be an integer from 1 to 1000", minCount);
  const optional = (field: string, re: RegExp, rule: string) => (r[field] === undefined || r[field] === null ? undefined : text(r, field, re, rule));
  return {
    cluster,
    service: text(r, "service", NAME, "must be a service name (letters, digits, - and _)"),
    containerName: text(r, "containerName", NAME, "must be a container name (letters, digits, - and _)"),
    image: text(r, "image", IMAGE, "must be an image reference (no spaces, at most 512 characters)"),
    taskDefinitionArn,
    migrationTaskDefinitionArn,
    subnets: list(r, "subnets", SUBNET, "must be a subnet id"),
    securityGroups: list(r, "securityGroups", SECURITY_GROUP, "must be a security group id"),
    minCount,
    logGroupName: optional("logGroupName", /^[\w#./-]{1,512}$/, "must be a log group name"),
    logStreamPrefix: optional("logStreamPrefix", /^[^:*]{1,512}$/, "must be an awslogs stream prefix"),
  };
}
