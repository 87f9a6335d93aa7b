/**
 * The live ECS state `ops doctor` reads (@aws-sdk/client-ecs, SDK defaults, so
 * `AWS_ENDPOINT_URL_ECS` works): services (DescribeServices) and task definitions
 * (DescribeTaskDefinition), reduced to the fields doctor compares. Field meanings follow the ECS
 * API reference (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html,
 * API_Deployment.html, API_ContainerDefinition.html):
 * - `Service.taskDefinition`: the task definition the service runs (its PRIMARY deployment's);
 * - `Deployment.rolloutState`: IN_PROGRESS when a deployment starts, COMPLETED at steady state,
 *   FAILED when the deployment circuit breaker stopped it ("A deployment in FAILED state doesn't
 *   launch any new tasks");
 * - `ContainerDefinition.environment` `[{name, value}]`, `secrets` `[{name, valueFrom}]`.
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient } from "@aws-sdk/client-ecs";

export interface LiveDeployment {
  readonly id: string;
  /** PRIMARY, ACTIVE or INACTIVE. */
  readonly status: string;
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly rolloutState?: string;
  readonly rolloutStateReason?: string;
  readonly failedTasks?: number;
}

export interface LiveService {
  readonly name: string;
  readonly status: string;
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
  readonly deployments: readonly LiveDeployment[];
}

export interface LiveContainer {
  readonly name: string;
  readonly image: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
}

export interface LiveTaskDefinition {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly containers: readonly LiveContainer[];
}

/** The services by name (DescribeServices takes up to 10 per call); names ECS reports MISSING are left out. */
export async function describeServices(ecs: ECSClient, cluster: string, names: readonly string[]): Promise<Map<string, LiveService>> {
  const found = new Map<string, LiveService>();
  for (let i = 0; i < names.length; i += 10) {
    const res = await ecs.send(new DescribeServicesCommand({ cluster, services: names.slice(i, i + 10) }));
    for (const s of res.services ?? []) {
      found.set(String(s.serviceName), {
        name: String(s.serviceName),
        status: String(s.status),
        taskDefinition: String(s.taskDefinition),
        desiredCount: s.desiredCount ?? 0,
        runningCount: s.runningCount ?? 0,
        pendingCount: s.pendingCount ?? 0,
        deployments: (s.deployments ?? []).map((d) => ({
          id: String(d.id),
          status: String(d.status),
          taskDefinition: String(d.taskDefinition),
          desiredCount: d.desiredCount ?? 0,
          runningCount: d.runningCount ?? 0,
          ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
          ...(d.rolloutStateReason ? { rolloutStateReason: d.rolloutStateReason } : {}),
          ...(d.failedTasks !== undefined ? { failedTasks: d.failedTasks } : {}),
        })),
      });
    }
  }
  return found;
}

export async function describeTaskDefinition(ecs: ECSClient, taskDefinition: string): Promise<LiveTaskDefinition> {
  const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }))).taskDefinition;
  if (!td) throw new Error(`ECS returned no task definition for ${taskDefinition}`);
  return {
    arn: String(td.taskDefinitionArn),
    family: String(td.family),
    revision: td.revision ?? 0,
    containers: (td.containerDefinitions ?? []).map((c) => ({
      name: String(c.name),
      image: String(c.image),
      environment: Object.fromEntries((c.environment ?? []).map((e) => [String(e.name), String(e.value ?? "")])),
      secrets: Object.fromEntries((c.secrets ?? []).map((e) => [String(e.name), String(e.valueFrom)])),
      ...(c.command ? { command: c.command } : {}),
      ...(c.entryPoint ? { entryPoint: c.entryPoint } : {}),
    })),
  };
}
