/**
 * `pnpm ops doctor <env>` against moto (ECS, Secrets Manager, SSM, STS) in server mode through
 * `AWS_ENDPOINT_URL_*`, and against the ECS fake (test/fakes/ecs.ts) for the rollout cases moto does
 * not model (one server-wide running count, no circuit breaker).
 *
 * "Deploying" here registers each synthesized task definition, evaluated as Terraform would with
 * the live secret and parameter ARNs (and stand-in values for the other references), and creates
 * its service; each drift case registers a revision with one setting changed and points the
 * service at it. Where both can answer, the fake's DescribeServices/DescribeTaskDefinition are
 * compared with moto's for the fields doctor reads.
 */
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand, type ContainerDefinition } from "@aws-sdk/client-ecs";
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TemplateEvaluator } from "../../ops/lib/ecs-template.js";
import { describeServices, describeTaskDefinition } from "../../ops/lib/ecs.js";
import type { Json, SynthesizedApp } from "../../ops/lib/stack.js";
import { startEcsFake, type EcsFake } from "../../test/fakes/ecs.js";
import type { Moto } from "../world/infra.js";
import { credentials, REGION, row, runCli, runOps, startOpsWorld, type OpsWorld } from "./support.js";

const ACCOUNT = "123456789012";

let world: OpsWorld;
let moto: Moto;
let synthDir: string;
let app: SynthesizedApp;
let sm: SecretsManagerClient;
let ssm: SSMClient;
let ecs: ECSClient;

/** Runs `ops doctor <env>` in-process; returns stdout (colours stripped), the ✗ rows' names and the exit code. */
async function doctor(env: string): Promise<{ out: string; failed: string[]; code: number }> {
  const { out, code } = await runOps(synthDir, "doctor", env);
  const names = out.split("\n").filter((l) => l.startsWith("✗ ")).map((l) => l.slice(2).split(/ {2,}/)[0]!.trim());
  return { out, failed: names, code };
}

interface Deployed {
  readonly cluster: string;
  /** Service name → family, evaluated containers, task size. */
  readonly services: Map<string, { family: string; containers: Json[]; td: Json }>;
}

/** The stack's ECS services as Terraform would leave them (containers evaluated with live ARNs). */
async function evaluateServices(env: string): Promise<Deployed> {
  const stack = app.stack(env);
  const arns = new Map<string, string>();
  for (const [id, s] of stack.resources("aws_secretsmanager_secret")) arns.set(`aws_secretsmanager_secret.${id}.arn`, String((await sm.send(new DescribeSecretCommand({ SecretId: String(s.name) }))).ARN));
  for (const [id, p] of stack.resources("aws_ssm_parameter")) arns.set(`aws_ssm_parameter.${id}.arn`, `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${String(p.name)}`);
  for (const [id] of stack.data("aws_partition")) arns.set(`data.aws_partition.${id}.partition`, "aws");
  for (const [id] of stack.data("aws_caller_identity")) arns.set(`data.aws_caller_identity.${id}.account_id`, ACCOUNT);
  // Everything else (KMS key ids, log groups, the Cognito pool, client and domain): a stand-in value.
  const ev = new TemplateEvaluator(stack, (a) => arns.get(a) ?? `live-${a.split(".")[1]!.replace(/[^a-z0-9-]/gi, "").slice(0, 24).toLowerCase()}`);
  const tds = new Map(stack.resources("aws_ecs_task_definition").map(([id, td]) => [`\${aws_ecs_task_definition.${id}.arn}`, td]));
  const cluster = String(stack.resources("aws_ecs_cluster")[0]![1].name);
  const services = new Map<string, { family: string; containers: Json[]; td: Json }>();
  for (const [, s] of stack.resources("aws_ecs_service")) {
    const td = tds.get(String(s.task_definition))!;
    services.set(String(s.name), { family: String(td.family), containers: ev.containers(td), td });
  }
  return { cluster, services };
}

async function register(client: ECSClient, family: string, td: Json, containers: Json[]): Promise<string> {
  const res = await client.send(
    new RegisterTaskDefinitionCommand({
      family,
      cpu: String(td.cpu),
      memory: String(td.memory),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      containerDefinitions: containers as ContainerDefinition[],
    }),
  );
  return String(res.taskDefinition!.taskDefinitionArn);
}

/** Registers every synthesized task definition in moto and creates its service (desired 0: moto starts no Fargate task). */
async function deployToMoto(env: string): Promise<Deployed> {
  const deployed = await evaluateServices(env);
  await ecs.send(new CreateClusterCommand({ clusterName: deployed.cluster }));
  for (const [name, s] of deployed.services) {
    const arn = await register(ecs, s.family, s.td, s.containers);
    await ecs.send(new CreateServiceCommand({ cluster: deployed.cluster, serviceName: name, taskDefinition: arn, desiredCount: 0, launchType: "FARGATE" }));
  }
  return deployed;
}

/** Points a service at a new revision whose `container` is changed by `mutate`; returns the revert. */
async function drift(deployed: Deployed, service: string, container: string, mutate: (c: Json) => void): Promise<() => Promise<void>> {
  const s = deployed.services.get(service)!;
  const containers = structuredClone(s.containers);
  mutate(containers.find((c) => c.name === container)!);
  const arn = await register(ecs, s.family, s.td, containers);
  await ecs.send(new UpdateServiceCommand({ cluster: deployed.cluster, service, taskDefinition: arn }));
  return async () => {
    const back = await register(ecs, s.family, s.td, s.containers);
    await ecs.send(new UpdateServiceCommand({ cluster: deployed.cluster, service, taskDefinition: back }));
  };
}

const setEnv = (c: Json, name: string, value: string) => {
  const e = (c.environment as { name: string; value: string }[]).find((x) => x.name === name);
  if (!e) throw new Error(`no ${name} in ${String(c.name)}`);
  e.value = value;
};

let sandbox: Deployed;
let nonprod: Deployed;

beforeAll(async () => {
  world = await startOpsWorld("ops-doctor");
  ({ moto, synthDir, app } = world);
  const cfg = { region: REGION, endpoint: moto.url, credentials };
  sm = new SecretsManagerClient(cfg);
  ssm = new SSMClient(cfg);
  ecs = new ECSClient(cfg);
  // Every secret with a value (JSON with `url` where a task reads that key), except nonprod's
  // Entra client secret, left empty for the empty-secret case; the parameters the stacks create
  // and the ones an operator publishes.
  for (const env of ["sandbox", "nonprod"]) {
    const stack = app.stack(env);
    for (const [, s] of stack.resources("aws_secretsmanager_secret")) {
      const name = String(s.name);
      await sm.send(new CreateSecretCommand({ Name: name }));
      if (name === "owui/nonprod/openwebui/oauth-client-secret") continue;
      await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: name.endsWith("/database") ? JSON.stringify({ url: "postgresql://u:p@h/db" }) : "a-value" }));
    }
    for (const [, p] of stack.resources("aws_ssm_parameter")) await ssm.send(new PutParameterCommand({ Name: String(p.name), Type: "String", Value: String(p.value) }));
  }
  for (const n of ["tenant-id", "client-id"]) await ssm.send(new PutParameterCommand({ Name: `/owui/nonprod/entra/${n}`, Type: "String", Value: "11111111-2222-4333-8444-555555555555" }));
  sandbox = await deployToMoto("sandbox");
  nonprod = await deployToMoto("nonprod");
});

afterAll(async () => {
  await world?.stop();
});

describe("ops doctor against moto", () => {
  it("no drift: every check passes, exit 0, and the table says what was compared how", async () => {
    const { out, failed, code } = await doctor("sandbox");
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(out).toMatch(/all \d+ checks passed/);
    expect(row(out, "owui-sandbox-openwebui/openwebui WEBUI_AUTH")).toBe('✓ = "true"');
    expect(row(out, "owui-sandbox-openwebui/openwebui WEBUI_AUTH_TRUSTED_EMAIL_HEADER")).toBe('✓ = "X-Forwarded-Email"');
    // The sign-out URL holds the Cognito domain and client id: matched as a pattern, and said so.
    expect(row(out, "owui-sandbox-openwebui/openwebui WEBUI_AUTH_SIGNOUT_REDIRECT_URL")).toMatch(/^✓ = "\/oauth2\/sign_out\?rd=https%3A%2F%2Flive-.*\(matches the synthesized template; not resolved: aws_cognito_user_pool_(domain|client)\./);
    expect(row(out, "owui-sandbox-openwebui/oauth2-proxy OAUTH2_PROXY_COOKIE_SECURE")).toBe('✓ = "true"');
    expect(row(out, "owui-sandbox-openwebui/oauth2-proxy image")).toBe('✓ = "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6"');
    // Secret ARNs are resolved from live Secrets Manager, so the references compare exactly.
    expect(row(out, "owui-sandbox-openwebui/openwebui secrets")).toMatch(/^✓ 7 references match/);
    expect(row(out, "owui-sandbox-mcpo/mcpo entryPoint")).toBe('✓ = "["sh","-c"]"');
    expect(row(out, "owui-sandbox-openwebui tasks")).toBe("✓ 0 running of 0 desired");
    expect(row(out, "secret owui/sandbox/openwebui/database")).toBe("✓ has a value with key url");
    expect(row(out, "secret owui/sandbox/mcpo/api-key")).toBe("✓ has a value");
  });

  const sandboxDrift: [string, string, (c: Json) => void, string][] = [
    ["WEBUI_AUTH", "openwebui", (c) => setEnv(c, "WEBUI_AUTH", "false"), "owui-sandbox-openwebui/openwebui WEBUI_AUTH"],
    ["the trusted email header", "openwebui", (c) => setEnv(c, "WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "X-Auth-Request-Email"), "owui-sandbox-openwebui/openwebui WEBUI_AUTH_TRUSTED_EMAIL_HEADER"],
    ["the trusted name header", "openwebui", (c) => setEnv(c, "WEBUI_AUTH_TRUSTED_NAME_HEADER", "X-Forwarded-User"), "owui-sandbox-openwebui/openwebui WEBUI_AUTH_TRUSTED_NAME_HEADER"],
    ["the sign-out URL", "openwebui", (c) => setEnv(c, "WEBUI_AUTH_SIGNOUT_REDIRECT_URL", "/oauth2/sign_out"), "owui-sandbox-openwebui/openwebui WEBUI_AUTH_SIGNOUT_REDIRECT_URL"],
    ["ENABLE_SIGNUP", "openwebui", (c) => setEnv(c, "ENABLE_SIGNUP", "true"), "owui-sandbox-openwebui/openwebui ENABLE_SIGNUP"],
    ["the default role", "openwebui", (c) => setEnv(c, "DEFAULT_USER_ROLE", "admin"), "owui-sandbox-openwebui/openwebui DEFAULT_USER_ROLE"],
    ["Open WebUI's image tag", "openwebui", (c) => (c.image = "ghcr.io/open-webui/open-webui:v0.10.1"), "owui-sandbox-openwebui/openwebui image"],
    ["an oauth2-proxy flag", "oauth2-proxy", (c) => setEnv(c, "OAUTH2_PROXY_REVERSE_PROXY", "false"), "owui-sandbox-openwebui/oauth2-proxy OAUTH2_PROXY_REVERSE_PROXY"],
    ["oauth2-proxy flags added on the command line", "oauth2-proxy", (c) => (c.command = ["--skip-jwt-bearer-tokens=true"]), "owui-sandbox-openwebui/oauth2-proxy command"],
    ["an oauth2-proxy variable added by hand", "oauth2-proxy", (c) => (c.environment as Json[]).push({ name: "OAUTH2_PROXY_SKIP_AUTH_ROUTES", value: "^/api/" }), "owui-sandbox-openwebui/oauth2-proxy OAUTH2_PROXY_SKIP_AUTH_ROUTES"],
    ["oauth2-proxy's image tag", "oauth2-proxy", (c) => (c.image = "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0"), "owui-sandbox-openwebui/oauth2-proxy image"],
    ["another variable", "openwebui", (c) => setEnv(c, "DATA_DIR", "/tmp/data"), "owui-sandbox-openwebui/openwebui other environment"],
    ["a secret reference", "openwebui", (c) => (c.secrets as Json[]).splice(0, 1), "owui-sandbox-openwebui/openwebui secrets"],
  ];

  it.each(sandboxDrift)("drift in %s: exactly its row fails, exit 1", async (_what, container, mutate, expectedRow) => {
    const revert = await drift(sandbox, "owui-sandbox-openwebui", container, mutate);
    try {
      const { out, failed, code } = await doctor("sandbox");
      expect(failed).toEqual([expectedRow]);
      expect(code).toBe(1);
      expect(out).toMatch(/1 of \d+ checks failed/);
    } finally {
      await revert();
    }
  });

  it("drift reports both values", async () => {
    const revert = await drift(sandbox, "owui-sandbox-openwebui", "openwebui", (c) => setEnv(c, "WEBUI_AUTH", "false"));
    try {
      expect(row((await doctor("sandbox")).out, "owui-sandbox-openwebui/openwebui WEBUI_AUTH")).toBe('✗ live "false", synthesized "true"');
    } finally {
      await revert();
    }
  });

  it("nonprod: an empty secret fails with the command that fills it; filled, all pass", async () => {
    let { out, failed, code } = await doctor("nonprod");
    expect(failed).toEqual(["secret owui/nonprod/openwebui/oauth-client-secret"]);
    expect(code).toBe(1);
    expect(row(out, "secret owui/nonprod/openwebui/oauth-client-secret")).toBe("✗ EMPTY: tasks that read it fail to start. Fix: aws secretsmanager put-secret-value --region us-east-1 --secret-id owui/nonprod/openwebui/oauth-client-secret --secret-string '<value>'");
    // The SSM parameter ARN (partition and account from STS) compares exactly.
    expect(row(out, "owui-nonprod-openwebui/openwebui secrets")).toMatch(/^✓ \d+ references match \(.*OAUTH_CLIENT_ID/);
    expect(row(out, "ssm:/owui/nonprod/entra/client-id")).toBe("✓ exists");
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/nonprod/openwebui/oauth-client-secret", SecretString: "from-entra" }));
    ({ failed, code } = await doctor("nonprod"));
    expect(failed).toEqual([]);
    expect(code).toBe(0);
  });

  it("nonprod: a database secret without its JSON key fails", async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/nonprod/litellm/database", SecretString: JSON.stringify({ host: "h" }) }));
    const { out, failed } = await doctor("nonprod");
    expect(failed).toEqual(["secret owui/nonprod/litellm/database"]);
    expect(row(out, "secret owui/nonprod/litellm/database")).toBe("✗ has a value without JSON key url. Fix: pnpm exec cdktf deploy nonprod");
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/nonprod/litellm/database", SecretString: JSON.stringify({ url: "postgresql://u:p@h/db" }) }));
  });

  it.each([
    ["the admin roles", (c: Json) => setEnv(c, "OAUTH_ADMIN_ROLES", "owui-nonprod-users"), "owui-nonprod-openwebui/openwebui OAUTH_ADMIN_ROLES"],
    ["the role claim", (c: Json) => setEnv(c, "OAUTH_ROLES_CLAIM", "groups"), "owui-nonprod-openwebui/openwebui OAUTH_ROLES_CLAIM"],
    ["role management", (c: Json) => setEnv(c, "ENABLE_OAUTH_ROLE_MANAGEMENT", "false"), "owui-nonprod-openwebui/openwebui ENABLE_OAUTH_ROLE_MANAGEMENT"],
    ["the default role (pending)", (c: Json) => setEnv(c, "DEFAULT_USER_ROLE", "user"), "owui-nonprod-openwebui/openwebui DEFAULT_USER_ROLE"],
  ] as [string, (c: Json) => void, string][])("nonprod: drift in %s", async (_what, mutate, expectedRow) => {
    const revert = await drift(nonprod, "owui-nonprod-openwebui", "openwebui", mutate);
    try {
      const { failed, code } = await doctor("nonprod");
      expect(failed).toEqual([expectedRow]);
      expect(code).toBe(1);
    } finally {
      await revert();
    }
  });

  it("an env that was never deployed: the cluster and every secret fail, each with its fix", async () => {
    const { out, failed, code } = await doctor("prod");
    expect(code).toBe(1);
    expect(failed[0]).toBe("cluster owui-prod-cluster");
    expect(row(out, "cluster owui-prod-cluster")).toBe("✗ not found, so none of owui-prod-litellm, owui-prod-mcpo, owui-prod-openwebui runs. Fix: pnpm exec cdktf deploy prod");
    expect(failed).toContain("secret owui/prod/openwebui/secret-key");
    expect(row(out, "secret owui/prod/openwebui/secret-key")).toBe("✗ missing. Fix: pnpm exec cdktf deploy prod");
    expect(failed).toContain("ssm:/owui/prod/entra/client-id");
  });

  it("a service that does not exist fails", async () => {
    const { DeleteServiceCommand } = await import("@aws-sdk/client-ecs");
    await ecs.send(new DeleteServiceCommand({ cluster: nonprod.cluster, service: "owui-nonprod-mcpo", force: true }));
    const { out, failed } = await doctor("nonprod");
    expect(failed).toEqual(["owui-nonprod-mcpo"]);
    expect(row(out, "owui-nonprod-mcpo")).toMatch(/^✗ (not found|status (DRAINING|INACTIVE)) in cluster owui-nonprod-cluster\. Fix: pnpm exec cdktf deploy nonprod/);
  });
});

describe("ops doctor: rollouts, on the ECS fake", () => {
  let fake: EcsFake;
  const fakeEcs = () => new ECSClient({ region: REGION, endpoint: fake.url, credentials });

  beforeAll(async () => {
    fake = await startEcsFake({ clusterName: sandbox.cluster });
    for (const [name, s] of sandbox.services) {
      const arn = fake.registerTaskDefinition(s.family, s.containers as { name: string; image: string }[]);
      fake.createService(name, arn, 1, { circuitBreaker: name.endsWith("-openwebui") });
    }
    process.env.AWS_ENDPOINT_URL_ECS = fake.url;
  });

  afterAll(async () => {
    process.env.AWS_ENDPOINT_URL_ECS = moto.url;
    await fake?.close();
  });

  it("reads the same shapes from the fake as from moto (the fields doctor reads)", async () => {
    const fromMoto = await describeServices(ecs, sandbox.cluster, ["owui-sandbox-mcpo"]);
    const fromFake = await describeServices(fakeEcs(), sandbox.cluster, ["owui-sandbox-mcpo"]);
    const shape = (s: any) => ({ ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Array.isArray(v) ? "array" : typeof v])), deployments: s.deployments.map((d: any) => Object.keys(d).filter((k) => ["id", "status", "taskDefinition", "desiredCount", "runningCount", "rolloutState"].includes(k)).sort()) });
    expect(shape(fromFake.get("owui-sandbox-mcpo"))).toEqual(shape(fromMoto.get("owui-sandbox-mcpo")));
    const motoTd = await describeTaskDefinition(ecs, fromMoto.get("owui-sandbox-mcpo")!.taskDefinition);
    const fakeTd = await describeTaskDefinition(fakeEcs(), fromFake.get("owui-sandbox-mcpo")!.taskDefinition);
    expect(fakeTd.containers).toEqual(motoTd.containers);
    expect(fakeTd.family).toBe(motoTd.family);
  });

  it("steady services pass: running equals desired, one COMPLETED deployment each", async () => {
    const { out, failed, code } = await doctor("sandbox");
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(row(out, "owui-sandbox-openwebui tasks")).toBe("✓ 1 running of 1 desired");
    expect(row(out, "owui-sandbox-openwebui deployment")).toBe("✓ 1 deployment(s); PRIMARY COMPLETED");
  });

  it("a stuck deployment (two IN_PROGRESS: new tasks fail to start, old ones keep running) fails with the one fix", async () => {
    const s = sandbox.services.get("owui-sandbox-litellm")!;
    const next = fake.registerTaskDefinition(s.family, s.containers as { name: string; image: string }[]);
    fake.failTasksOf(next, "ResourceInitializationError: unable to pull secrets or registry auth");
    await fakeEcs().send(new UpdateServiceCommand({ cluster: sandbox.cluster, service: "owui-sandbox-litellm", taskDefinition: next }));
    for (let i = 0; i < 10; i++) fake.tick();
    const { out, failed, code } = await doctor("sandbox");
    expect(failed).toEqual(["owui-sandbox-litellm deployment"]);
    expect(code).toBe(1);
    expect(row(out, "owui-sandbox-litellm deployment")).toMatch(/^✗ stuck: 2 deployments IN_PROGRESS .*Fix: aws ecs update-service --region us-east-1 --cluster owui-sandbox-cluster --service owui-sandbox-litellm --task-definition arn:aws:ecs:us-east-1:123456789012:task-definition\/owui-sandbox-litellm:2 --force-new-deployment$/);
    fake.failTasksOf(next, undefined);
    await fakeEcs().send(new UpdateServiceCommand({ cluster: sandbox.cluster, service: "owui-sandbox-litellm", taskDefinition: next, forceNewDeployment: true }));
    for (let i = 0; i < 10; i++) fake.tick();
    expect((await doctor("sandbox")).failed).toEqual([]);
  });

  it("a tripped circuit breaker (rolloutState FAILED) fails, with running below desired; the printed fix recovers it", async () => {
    const s = sandbox.services.get("owui-sandbox-openwebui")!;
    const next = fake.registerTaskDefinition(s.family, s.containers as { name: string; image: string }[]);
    fake.failTasksOf(next, "CannotPullContainerError: pull image manifest has been retried 5 time(s)");
    const client = fakeEcs();
    await client.send(new UpdateServiceCommand({ cluster: sandbox.cluster, service: "owui-sandbox-openwebui", taskDefinition: next }));
    // Drain the old task, as a deployment whose new tasks never run does not (here: desired 0 → 1).
    await client.send(new UpdateServiceCommand({ cluster: sandbox.cluster, service: "owui-sandbox-openwebui", desiredCount: 0 }));
    for (let i = 0; i < 8; i++) fake.tick();
    await client.send(new UpdateServiceCommand({ cluster: sandbox.cluster, service: "owui-sandbox-openwebui", desiredCount: 1 }));
    for (let i = 0; i < 30; i++) fake.tick();
    const { out, failed, code } = await doctor("sandbox");
    expect(failed).toEqual(["owui-sandbox-openwebui tasks", "owui-sandbox-openwebui deployment"]);
    expect(code).toBe(1);
    expect(row(out, "owui-sandbox-openwebui tasks")).toMatch(/^✗ 0 running of 1 desired\. Look at why tasks stop: aws ecs list-tasks --region us-east-1 --cluster owui-sandbox-cluster --service-name owui-sandbox-openwebui --desired-status STOPPED$/);
    const fix = `aws ecs update-service --region us-east-1 --cluster owui-sandbox-cluster --service owui-sandbox-openwebui --task-definition ${next} --force-new-deployment`;
    expect(row(out, "owui-sandbox-openwebui deployment")).toBe(`✗ circuit breaker tripped: ecs-svc/0 FAILED (ECS deployment circuit breaker: tasks failed to start.). Fix (once the cause is fixed): ${fix}`);
    // The cause fixed, the printed command (its UpdateService call) starts a deployment that completes.
    fake.failTasksOf(next, undefined);
    await client.send(new UpdateServiceCommand({ cluster: sandbox.cluster, service: "owui-sandbox-openwebui", taskDefinition: next, forceNewDeployment: true }));
    for (let i = 0; i < 10; i++) fake.tick();
    const after = await doctor("sandbox");
    expect(after.failed).toEqual([]);
    expect(row(after.out, "owui-sandbox-openwebui deployment")).toBe("✓ 1 deployment(s); PRIMARY COMPLETED");
  });
});

describe("the real CLI (`pnpm ops doctor`)", () => {
  it("has --help, exits 0 with no drift and 1 with a ✗", () => {
    const help = runCli("doctor", "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: ops doctor \[options\] <env>/);
    const clean = runCli("doctor", "sandbox", "--synth-dir", synthDir);
    expect(clean.stdout).toMatch(/all \d+ checks passed/);
    expect(clean.status).toBe(0);
    // nonprod's mcpo service was deleted above.
    const broken = runCli("doctor", "nonprod", "--synth-dir", synthDir);
    expect(broken.stdout).toMatch(/✗ owui-nonprod-mcpo +not found|✗ owui-nonprod-mcpo +status/);
    expect(broken.status).toBe(1);
  });
});
