/**
 * Open WebUI's upgrade gate (docs/upgrade.md): the service runs with `ENABLE_DB_MIGRATIONS=false`,
 * and whenever its image changes Terraform invokes the `openwebui-upgrade` function
 * (functions/openwebui-upgrade) before it touches the ECS service. The function suspends the
 * service's auto scaling, scales it to 0 and waits until no old task is left, runs one migration
 * task (this construct's task definition: Open WebUI's own container with `ENABLE_DB_MIGRATIONS=true`
 * and a command that migrates, verifies the Alembic head and exits), and only then points the
 * service at the new task definition with its task count back.
 *
 * Terraform ordering: the ECS service depends on the invocation, so its own update (to the same
 * task definition the gate already switched to) comes after the gate and starts no deployment of
 * its own; the provider sends UpdateService with only the attributes that changed.
 */
import { EcsTaskDefinition, type EcsTaskDefinitionVolume } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { LambdaInvocation } from "@cdktf/provider-aws/lib/lambda-invocation";
import { dependable, Fn, Token, type ITerraformDependable, type TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { MIGRATION_COMMAND, MIGRATION_ENTRY_POINT } from "../../functions/openwebui-upgrade/src/migration-command.js";
import { bundleFunction } from "../../lib/bundle.js";
import type { AwsContext } from "../../lib/context.js";
import { defaultTags } from "../../lib/naming.js";
import { NodeFunction } from "../../lib/node-function.js";
import type { PolicyStatement } from "../../lib/policy.js";
import type { KeyRef } from "../security/index.js";

export { MIGRATION_COMMAND, MIGRATION_ENTRY_POINT, MIGRATION_SCRIPT, NOT_AT_HEAD_EXIT_CODE } from "../../functions/openwebui-upgrade/src/migration-command.js";

/** One container definition as the service's task definition JSON-encodes it (FargateService builds it). */
export type ContainerDefinition = Readonly<Record<string, unknown>>;

/** The awslogs stream prefix of the migration container: streams are `migration/<container>/<task id>`. */
export const MIGRATION_LOG_STREAM_PREFIX = "migration";

/** The service side of the gate: what a FargateService exposes (structurally). */
export interface UpgradeTarget {
  /** The ECS service's name (`owui-<env>-openwebui`), a plain string. */
  readonly serviceName: string;
  /** The service's task definition: the gate switches the service to its ARN; size, platform and volumes are copied. */
  readonly taskDefinition: EcsTaskDefinition;
  readonly executionRole: { readonly arn: string };
  readonly taskRole: { readonly arn: string };
  /** The task's container definitions, Open WebUI's first, exactly as `container_definitions` encodes them. */
  readonly containerDefinitions: readonly ContainerDefinition[];
  /**
   * The ECS service resource: gets `depends_on` the invocation, so Terraform updates it only after
   * the gate (`depends_on` itself: cdktf drops a construct-level `node.addDependency`).
   */
  readonly service: TerraformResource;
}

export interface OpenWebUiUpgradeProps {
  /** Names the function (`owui-<env>-openwebui-upgrade`). */
  readonly envName: string;
  readonly aws: AwsContext;
  readonly cluster: { readonly clusterName: string; readonly clusterArn: string };
  readonly target: UpgradeTarget;
  /** The service's minimum task count; the switch restores at least this many tasks. */
  readonly minCount: number;
  /** Subnets of the migration task: the service's private subnets. */
  readonly subnetIds: readonly string[];
  /** Security groups of the migration task: the service's, so it reaches Aurora and EFS as the service does. */
  readonly securityGroupIds: readonly string[];
  /** CMK of the function's log group and environment. */
  readonly kmsKey: KeyRef;
  readonly logRetentionDays: number;
  /**
   * Secrets (by environment name) the migration container keeps from Open WebUI's. Migrations
   * read only the database (v0.10.2: no migration reads any other variable), and the other
   * secrets are placeholders still empty on the first deploy, when ECS would refuse to start a
   * task that references them. Add `WEBUI_SECRET_KEY` if a future version's migrations encrypt
   * with it (the command otherwise sets an ephemeral key for its own process).
   * @default ["DATABASE_URL"]
   */
  readonly migrationSecrets?: readonly string[];
  /** What must exist before the first migration: the db-bootstrap invocation (database, role, DATABASE_URL). @default - nothing extra */
  readonly waitFor?: readonly ITerraformDependable[];
}

const DEFAULT_MIGRATION_SECRETS = ["DATABASE_URL"] as const;
/** The `Project` tag of every resource of the platform stack (its provider's default tags). */
const PROJECT_TAG = defaultTags("x", {}).Project!;
/** Lambda's maximum: scale to 0 (ALB draining, stop timeout), a cold Fargate start of a multi-GB image, the migrations. */
const TIMEOUT_SECONDS = 900;

type NameValue = { readonly name: string; readonly value?: string; readonly valueFrom?: string };

function named(container: ContainerDefinition, field: string): NameValue[] {
  const v = container[field] ?? [];
  if (!Array.isArray(v)) throw new Error(`OpenWebUiUpgrade: container ${String(container.name)} has a ${field} that is not a list`);
  return v as NameValue[];
}

/**
 * Open WebUI's container turned into the migration container: same image, user, environment, EFS
 * and scratch mounts and log group; `ENABLE_DB_MIGRATIONS=true`; the migration command; only the
 * `keepSecrets`; no port, health check or container dependency (nothing serves, no sidecar runs).
 */
export function migrationContainer(main: ContainerDefinition, keepSecrets: readonly string[] = DEFAULT_MIGRATION_SECRETS): ContainerDefinition {
  const name = String(main.name);
  const secrets = named(main, "secrets");
  const missing = keepSecrets.filter((s) => !secrets.some((x) => x.name === s));
  if (missing.length > 0) {
    throw new Error(`OpenWebUiUpgrade: migrationSecrets names ${missing.map((m) => `"${m}"`).join(", ")}, which container ${name} does not have. Fix: name only secrets of ${secrets.map((s) => s.name).join(", ") || "(none)"}`);
  }
  const log = main.logConfiguration as { logDriver: string; options: Record<string, string> } | undefined;
  if (!log?.options) throw new Error(`OpenWebUiUpgrade: container ${name} has no awslogs logConfiguration; the migration's output would be lost`);
  const environment = [...named(main, "environment").filter((e) => e.name !== "ENABLE_DB_MIGRATIONS"), { name: "ENABLE_DB_MIGRATIONS", value: "true" }].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { portMappings: _ports, healthCheck: _health, dependsOn: _deps, entryPoint: _entry, command: _command, ...rest } = main;
  return {
    ...rest,
    essential: true,
    entryPoint: [...MIGRATION_ENTRY_POINT],
    command: [...MIGRATION_COMMAND],
    portMappings: [],
    environment,
    secrets: secrets.filter((s) => keepSecrets.includes(s.name)),
    logConfiguration: { ...log, options: { ...log.options, "awslogs-stream-prefix": MIGRATION_LOG_STREAM_PREFIX } },
  };
}

export class OpenWebUiUpgrade extends Construct {
  /** The migration task definition (family `<service>-migrate`). */
  readonly migrationTaskDefinition: EcsTaskDefinition;
  readonly function: NodeFunction;
  readonly invocation: LambdaInvocation;

  constructor(scope: Construct, id: string, props: OpenWebUiUpgradeProps) {
    super(scope, id);
    const { aws, cluster, target } = props;
    if (!Number.isInteger(props.minCount) || props.minCount < 1) {
      throw new Error(`OpenWebUiUpgrade: minCount is ${props.minCount}. Fix: pass the service's scaling.minCount (a whole number ≥ 1)`);
    }
    const main = target.containerDefinitions[0];
    if (!main) throw new Error("OpenWebUiUpgrade: the target has no container definitions. Fix: pass the FargateService of Open WebUI");
    const container = migrationContainer(main, props.migrationSecrets);
    const containerName = String(container.name);
    const image = String(container.image);
    const td = target.taskDefinition;
    const family = `${target.serviceName}-migrate`;

    // The volumes the migration container mounts (EFS data directory, its scratch paths), not the sidecars'.
    const mounted = new Set((container.mountPoints as { sourceVolume: string }[] | undefined)?.map((m) => m.sourceVolume) ?? []);
    const volumes = td.volumeInput;
    const migrationVolumes = Array.isArray(volumes) ? (volumes as EcsTaskDefinitionVolume[]).filter((v) => mounted.has(v.name)) : undefined;

    this.migrationTaskDefinition = new EcsTaskDefinition(this, "migration-task", {
      family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: td.cpuInput,
      memory: td.memoryInput,
      runtimePlatform: td.runtimePlatformInput,
      executionRoleArn: target.executionRole.arn,
      taskRoleArn: target.taskRole.arn,
      containerDefinitions: Fn.jsonencode([container]),
      volume: migrationVolumes && migrationVolumes.length > 0 ? migrationVolumes : undefined,
    });

    const functionName = `${target.serviceName}-upgrade`;
    this.function = new NodeFunction(this, "function", {
      name: functionName,
      description: "Open WebUI upgrade gate: scale to 0, run the schema migration task, switch the service",
      aws,
      bundle: bundleFunction({ pkg: "openwebui-upgrade", entry: "src/index.ts" }),
      environment: { POLL_SECONDS: "10" },
      kmsKey: props.kmsKey,
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: TIMEOUT_SECONDS,
      // One gate at a time: a second invocation is throttled, never a second concurrent migration.
      reservedConcurrency: 1,
      // No VPC: it calls only the ECS and Application Auto Scaling APIs, never the database.
      statements: upgradeStatements(aws, cluster, target, family, { Project: PROJECT_TAG, Environment: props.envName }),
    });

    const logGroup = (container.logConfiguration as { options: Record<string, string> }).options["awslogs-group"];
    this.invocation = new LambdaInvocation(this, "invocation", {
      functionName: this.function.functionName,
      // Per functions/openwebui-upgrade/README.md.
      input: Fn.jsonencode({
        cluster: cluster.clusterName,
        service: target.serviceName,
        containerName,
        image,
        taskDefinitionArn: td.arn,
        migrationTaskDefinitionArn: this.migrationTaskDefinition.arn,
        subnets: [...props.subnetIds],
        securityGroups: [...props.securityGroupIds],
        minCount: props.minCount,
        logGroupName: logGroup,
        logStreamPrefix: MIGRATION_LOG_STREAM_PREFIX,
      }),
      // A new image migrates; a new revision with the same image (an env change) re-runs the gate,
      // which then does nothing and leaves the rolling update to Terraform's service update.
      triggers: { image, task_definition_revision: Token.asString(td.revision) },
      dependsOn: [...(props.waitFor ?? [])],
    });
    // The service is updated only after the gate: by then it already runs the new task definition.
    target.service.dependsOn = [...(target.service.dependsOn ?? []), dependable(this.invocation)];
  }
}

/** Exactly what the gate calls, on exactly this service, this cluster and this migration family. */
function upgradeStatements(aws: AwsContext, cluster: OpenWebUiUpgradeProps["cluster"], target: UpgradeTarget, family: string, envTags: Readonly<Record<string, string>>): PolicyStatement[] {
  const ecs = `arn:${aws.partition}:ecs:${aws.region}:${aws.accountId}`;
  const inCluster = { test: "ArnEquals", variable: "ecs:cluster", values: [cluster.clusterArn] };
  return [
    { sid: "ScaleAndSwitchOpenWebUiService", actions: ["ecs:DescribeServices", "ecs:UpdateService"], resources: [`${ecs}:service/${cluster.clusterName}/${target.serviceName}`] },
    { sid: "RunMigrationTask", actions: ["ecs:RunTask"], resources: [`${ecs}:task-definition/${family}:*`], conditions: [inCluster] },
    { sid: "WatchTasksInCluster", actions: ["ecs:DescribeTasks"], resources: [`${ecs}:task/${cluster.clusterName}/*`], conditions: [inCluster] },
    // ListTasks is authorized per cluster (condition key), not per task: the documented pattern is "*" with ecs:cluster.
    { sid: "ListTasksInCluster", actions: ["ecs:ListTasks"], resources: ["*"], conditions: [inCluster] },
    // DescribeTaskDefinition supports no resource-level permissions (Service Authorization Reference): "*" is the only valid resource.
    { sid: "ReadTaskDefinitionImages", actions: ["ecs:DescribeTaskDefinition"], resources: ["*"] },
    {
      sid: "PassMigrationTaskRoles",
      actions: ["iam:PassRole"],
      resources: [target.executionRole.arn, target.taskRole.arn],
      conditions: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    },
    {
      // Not the target's own ARN: the scalable target references the ECS service, which depends on
      // the invocation, which needs this policy first (a cycle). Narrowed instead to ECS service
      // task counts of this env (the provider's default tags), in this account and region.
      sid: "SuspendAndResumeServiceScaling",
      actions: ["application-autoscaling:RegisterScalableTarget"],
      resources: [`arn:${aws.partition}:application-autoscaling:${aws.region}:${aws.accountId}:scalable-target/*`],
      conditions: [
        { test: "StringEquals", variable: "application-autoscaling:service-namespace", values: ["ecs"] },
        { test: "StringEquals", variable: "application-autoscaling:scalable-dimension", values: ["ecs:service:DesiredCount"] },
        ...Object.entries(envTags).map(([key, value]) => ({ test: "StringEquals", variable: `aws:ResourceTag/${key}`, values: [value] })),
      ],
    },
    // DescribeScalableTargets supports no resource-level permissions either.
    { sid: "ReadScalableTargets", actions: ["application-autoscaling:DescribeScalableTargets"], resources: ["*"] },
  ];
}
