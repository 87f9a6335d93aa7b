/**
 * One Fargate service built from a {@link ServiceSpec}: log group, execution and task roles, task
 * definition, ECS service, Cloud Map discovery, and (when routed) target group, listener rule and
 * autoscaling.
 */
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { Fn, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { InlinePolicy, policyDocument, type PolicyStatement } from "../../lib/policy.js";
import type { ContainerSpec, SecretSource, ServiceSpec } from "./spec.js";

/** What the compute layer hands each service it creates. */
export interface ServiceContext {
  readonly envName: string;
  readonly aws: AwsContext;
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly privateSubnetIds: readonly string[];
  readonly servicesSecurityGroupId: string;
  readonly vpcId: string;
  /** CMK of log groups and secrets. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly namespaceId: string;
  /** `owui-<env>.internal`: services are `<name>.<namespace>`. */
  readonly namespaceName: string;
  /** Present when the service is ALB-routed. */
  readonly alb?: { readonly httpsListenerArn: string; readonly albArnSuffix: string };
  /** The cluster's FARGATE/FARGATE_SPOT association; present when the service runs on Spot. */
  readonly capacityProviders?: ITerraformDependable;
}

function valueFrom(source: SecretSource): string {
  if ("parameter" in source) return source.parameter.parameterArn;
  // ECS syntax for one JSON key of a secret: <arn>:<json-key>:<version-stage>:<version-id>
  return source.jsonKey ? `${source.secret.secretArn}:${source.jsonKey}::` : source.secret.secretArn;
}

const sorted = <T>(record: Readonly<Record<string, T>> | undefined): [string, T][] =>
  Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export class FargateService extends Construct {
  readonly spec: ServiceSpec;
  readonly serviceName: string;
  readonly logGroupName: string;
  readonly taskRole: IamRole;
  readonly executionRole: IamRole;
  readonly taskDefinition: EcsTaskDefinition;
  /** The decoded container definitions the task definition JSON-encodes (main container first). */
  readonly containerDefinitions: readonly Readonly<Record<string, unknown>>[];
  readonly service: EcsService;
  /** The service's security groups (its own group, from the security layer). */
  readonly securityGroupIds: readonly string[];
  /** The private subnets its tasks run in. */
  readonly subnetIds: readonly string[];
  readonly targetGroup?: LbTargetGroup;
  /** `http://<name>.<namespace>:<port>`: how other services and in-VPC functions reach it. */
  readonly internalUrl: string;
  readonly discoveryName: string;
  private readonly taskPolicy: InlinePolicy;

  constructor(scope: Construct, id: string, spec: ServiceSpec, ctx: ServiceContext) {
    super(scope, id);
    this.spec = spec;
    const name = resourceName(ctx.envName, spec.name);
    this.serviceName = name;
    this.discoveryName = `${spec.name}.${ctx.namespaceName}`;
    this.internalUrl = `http://${this.discoveryName}:${spec.port}`;
    const { aws } = ctx;

    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/owui/${ctx.envName}/${spec.name}`,
      retentionInDays: ctx.logRetentionDays,
      kmsKeyId: ctx.kmsKeyArn,
    });
    this.logGroupName = logGroup.name;

    const trust = policyDocument(this, "ecs-tasks-trust", [
      {
        sid: "EcsTasksAssume",
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
        conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [aws.accountId] }],
      },
    ]).json;
    this.executionRole = new IamRole(this, "execution-role", { name: `${name}-exec`, description: `ECS agent for ${name}: pull, log, read its own secrets`, assumeRolePolicy: trust });
    this.taskRole = new IamRole(this, "task-role", { name: `${name}-task`, description: `The ${name} application itself; empty unless granted`, assumeRolePolicy: trust });
    this.taskPolicy = new InlinePolicy(this, "task-policy", this.taskRole.name);

    const containers: ContainerSpec[] = [spec, ...(spec.sidecars ?? [])];
    const execution = new InlinePolicy(this, "execution-policy", this.executionRole.name);
    execution.add({ sid: "WriteOwnLogGroup", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroup.arn}:*`] });
    const secretArns = [...new Set(containers.flatMap((c) => Object.values(c.secrets ?? {}).flatMap((s) => ("secret" in s ? [s.secret.secretArn] : []))))];
    const parameterArns = [...new Set(containers.flatMap((c) => Object.values(c.secrets ?? {}).flatMap((s) => ("parameter" in s ? [s.parameter.parameterArn] : []))))];
    if (secretArns.length > 0) execution.add({ sid: "ReadReferencedSecrets", actions: ["secretsmanager:GetSecretValue"], resources: secretArns });
    if (parameterArns.length > 0) execution.add({ sid: "ReadReferencedParameters", actions: ["ssm:GetParameters"], resources: parameterArns });
    if (secretArns.length + parameterArns.length > 0) {
      execution.add({
        sid: "DecryptReferencedValues",
        actions: ["kms:Decrypt"],
        resources: [ctx.kmsKeyArn],
        conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [`secretsmanager.${aws.region}.amazonaws.com`, `ssm.${aws.region}.amazonaws.com`] }],
      });
    }

    const efsMounts = spec.efsMounts ?? [];
    for (const [i, m] of efsMounts.entries()) {
      this.grant({
        sid: `MountEfsAccessPoint${i}`,
        actions: m.readOnly ? ["elasticfilesystem:ClientMount"] : ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        resources: [m.fileSystemArn],
        conditions: [{ test: "StringEquals", variable: "elasticfilesystem:AccessPointArn", values: [m.accessPointArn] }],
      });
    }
    if (spec.enableExecuteCommand) {
      // ECS Exec's SSM channel actions take no resource ARN.
      this.grant({ sid: "EcsExecChannels", actions: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], resources: ["*"] });
    }

    const scratch = (c: ContainerSpec) => (c.writableRootFilesystemReason ? [] : (c.scratchPaths ?? ["/tmp"]));
    const volumeName = (c: ContainerSpec, path: string) => `${c.name}-scratch${path.replace(/[^a-zA-Z0-9]+/g, "-")}`.replace(/-$/, "");
    const definition = (c: ContainerSpec, main: boolean) => ({
      name: c.name,
      image: c.image,
      essential: c.essential ?? true,
      ...(c.entryPoint ? { entryPoint: [...c.entryPoint] } : {}),
      ...(c.command ? { command: [...c.command] } : {}),
      ...(c.user ? { user: c.user } : {}),
      portMappings: c.port ? [{ containerPort: c.port, protocol: "tcp", name: `${c.name}-${c.port}` }] : [],
      environment: sorted(c.environment).map(([n, value]) => ({ name: n, value })),
      secrets: sorted(c.secrets).map(([n, s]) => ({ name: n, valueFrom: valueFrom(s) })),
      readonlyRootFilesystem: !c.writableRootFilesystemReason,
      privileged: false,
      linuxParameters: { initProcessEnabled: true },
      mountPoints: [
        ...(main ? efsMounts.map((m, i) => ({ sourceVolume: `efs-${i}`, containerPath: m.containerPath, readOnly: m.readOnly ?? false })) : []),
        ...scratch(c).map((p) => ({ sourceVolume: volumeName(c, p), containerPath: p, readOnly: false })),
      ],
      ...(c.healthCheckCommand ? { healthCheck: { command: ["CMD-SHELL", c.healthCheckCommand], interval: 15, timeout: 5, retries: 3, startPeriod: c.healthCheckStartPeriodSeconds ?? 30 } } : {}),
      ...(c.dependsOn ? { dependsOn: c.dependsOn.map((d) => ({ containerName: d.containerName, condition: d.condition })) } : {}),
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": logGroup.name, "awslogs-region": aws.region, "awslogs-stream-prefix": c.name } },
    });

    this.containerDefinitions = containers.map((c, i) => definition(c, i === 0));

    // Left unset when empty: an empty block list has no HCL spelling, so cdk.tf would drop it.
    const volumes = [
      ...efsMounts.map((m, i) => ({
        name: `efs-${i}`,
        efsVolumeConfiguration: {
          fileSystemId: m.fileSystemId,
          transitEncryption: "ENABLED",
          authorizationConfig: { accessPointId: m.accessPointId, iam: "ENABLED" },
        },
      })),
      ...containers.flatMap((c) => scratch(c).map((p) => ({ name: volumeName(c, p) }))),
    ];
    this.taskDefinition = new EcsTaskDefinition(this, "task", {
      family: name,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(spec.cpu),
      memory: String(spec.memoryMiB),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: spec.cpuArchitecture ?? "X86_64" },
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      // Fn.jsonencode: Terraform renders the JSON, so ARNs resolve and no string is hand-escaped.
      containerDefinitions: Fn.jsonencode(this.containerDefinitions),
      volume: volumes.length > 0 ? volumes : undefined,
    });

    const discovery = new ServiceDiscoveryService(this, "discovery", {
      name: spec.name,
      dnsConfig: { namespaceId: ctx.namespaceId, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A", ttl: 10 }] },
    });

    const routed = spec.routing.type !== "internal";
    if (routed && !ctx.alb) throw new Error(`services.${spec.name}.routing: "${spec.routing.type}" needs an ALB, and the compute layer has none`);
    const targetPort = spec.targetPort ?? spec.port;
    const targetContainer = containers.find((c) => c.port === targetPort)!;
    if (routed) {
      this.targetGroup = new LbTargetGroup(this, "target-group", {
        // name_prefix (≤ 6 characters) + a random suffix from Terraform: unique per account even for
        // long service names, and replaceable create-before-destroy without a name clash.
        namePrefix: `${spec.name.slice(0, 5)}-`,
        tags: { Name: resourceName(ctx.envName, spec.name) },
        port: targetPort,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: ctx.vpcId,
        deregistrationDelay: "30",
        healthCheck: {
          enabled: true,
          path: spec.healthCheck.path,
          matcher: spec.healthCheck.matcher ?? "200",
          interval: spec.healthCheck.intervalSeconds ?? 30,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        stickiness: { type: "lb_cookie", enabled: spec.stickySessions ?? false, cookieDuration: 86400 },
        lifecycle: { createBeforeDestroy: true },
      });
      if (spec.routing.type === "path" || spec.routing.type === "host") {
        new LbListenerRule(this, "listener-rule", {
          listenerArn: ctx.alb!.httpsListenerArn,
          priority: spec.routing.priority,
          action: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
          condition: [spec.routing.type === "path" ? { pathPattern: { values: [...spec.routing.paths] } } : { hostHeader: { values: [...spec.routing.hosts] } }],
        });
      }
    }

    this.securityGroupIds = [ctx.servicesSecurityGroupId];
    this.subnetIds = [...ctx.privateSubnetIds];
    this.service = new EcsService(this, "Resource", {
      name,
      cluster: ctx.clusterArn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: spec.scaling.minCount,
      // Spot: the FARGATE_SPOT capacity provider (launch type and strategy exclude each other). ECS
      // moves an existing service from a launch type to a strategy only with a new deployment
      // ("you must force a new deployment"); with force_new_deployment the provider updates it in
      // place instead of replacing it (hashicorp/terraform-provider-aws#43533).
      ...(ctx.capacityProviders
        ? { capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1, base: 0 }], forceNewDeployment: true, dependsOn: [ctx.capacityProviders] }
        : { launchType: "FARGATE" }),
      platformVersion: "LATEST",
      networkConfiguration: { subnets: [...this.subnetIds], securityGroups: [...this.securityGroupIds], assignPublicIp: false },
      // Always stops a failing deployment; rolls back unless the spec says the old version must not return.
      deploymentCircuitBreaker: { enable: true, rollback: spec.deploymentRollback ?? true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      ...(routed ? { healthCheckGracePeriodSeconds: spec.healthCheck.gracePeriodSeconds } : {}),
      loadBalancer: routed ? [{ targetGroupArn: this.targetGroup!.arn, containerName: targetContainer.name, containerPort: targetPort }] : undefined,
      serviceRegistries: { registryArn: discovery.arn, containerName: spec.name },
      enableExecuteCommand: spec.enableExecuteCommand ?? false,
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      // The autoscaler owns the running count after the first deploy.
      lifecycle: { ignoreChanges: ["desired_count"] },
    });

    const scalable = new AppautoscalingTarget(this, "scaling-target", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${ctx.clusterName}/${this.service.name}`,
      minCapacity: spec.scaling.minCount,
      maxCapacity: spec.scaling.maxCount,
    });
    new AppautoscalingPolicy(this, "scale-on-cpu", {
      name: `${name}-cpu`,
      policyType: "TargetTrackingScaling",
      serviceNamespace: scalable.serviceNamespace,
      scalableDimension: scalable.scalableDimension,
      resourceId: scalable.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: spec.scaling.targetCpuPercent ?? 60,
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        scaleInCooldown: 300,
        scaleOutCooldown: 60,
      },
    });
    if (spec.scaling.requestsPerTarget !== undefined && this.targetGroup) {
      new AppautoscalingPolicy(this, "scale-on-requests", {
        name: `${name}-requests`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: scalable.serviceNamespace,
        scalableDimension: scalable.scalableDimension,
        resourceId: scalable.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: spec.scaling.requestsPerTarget,
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: `${ctx.alb!.albArnSuffix}/${this.targetGroup.arnSuffix}`,
          },
          scaleInCooldown: 300,
          scaleOutCooldown: 60,
        },
      });
    }
  }

  /** Adds permissions to the task role (the application's own identity). */
  grant(...statements: readonly PolicyStatement[]): void {
    this.taskPolicy.add(...statements);
  }

  /** Everything granted to the task role so far. */
  get taskRoleStatements(): readonly PolicyStatement[] {
    return this.taskPolicy.granted;
  }
}
