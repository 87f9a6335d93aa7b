/**
 * `pnpm ops bedrock models|check` against the e2e suite's Bedrock stand-in (with
 * GetFoundationModelAvailability) and moto (ECS, ELBv2), for the committed nonprod env, whose
 * catalog the stand-in serves incompletely: one model is missing from the region, and one bare
 * model id is offered only through an inference profile (not invocable on demand).
 */
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bedrockCheck, bedrockModels, catalogOf, stackNames } from "../../ops/commands/bedrock.js";
import { envNamed, loadEnv } from "../../ops/lib/stack.js";
import { readManifest } from "../harness/manifest.js";
import { start as startBedrock, type BedrockFake } from "../standins/bedrock.js";
import { startMoto, type Moto } from "../world/infra.js";

const env = envNamed("nonprod");
const catalog = catalogOf(env);
const MISSING = catalog.find((m) => !m.profile && m.modelId.startsWith("amazon.titan-text"))!;
const PROFILE_ONLY = catalog.find((m) => !m.profile && m.modelId.startsWith("mistral."))!;
const CREDS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: env.region };

let moto: Moto;
let bedrock: BedrockFake;
const saved: Record<string, string | undefined> = {};
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

beforeAll(async () => {
  expect(MISSING, "nonprod's catalog has a Titan text model").toBeDefined();
  expect(PROFILE_ONLY, "nonprod's catalog has a bare Mistral id").toBeDefined();
  moto = await startMoto(readManifest());
  bedrock = await startBedrock({
    region: env.region,
    models: [...catalog.filter((m) => m !== MISSING && m !== PROFILE_ONLY).map((m) => m.modelId), `us.${PROFILE_ONLY.modelId}`],
  });
  for (const [k, v] of Object.entries({ ...CREDS, AWS_ENDPOINT_URL_BEDROCK: bedrock.url, AWS_ENDPOINT_URL_ECS: moto.url, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: moto.url })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  // Open WebUI as the synthesized stack names it (the in-process synth is cached for the command), behind a target group.
  const names = stackNames((await loadEnv(env.name)).stack);
  const vpcRes = await fetch(moto.url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${env.region}/ec2/aws4_request, SignedHeaders=host, Signature=0` },
    body: new URLSearchParams({ Action: "CreateVpc", CidrBlock: "10.9.0.0/16", Version: "2016-11-15" }).toString(),
  });
  const vpcId = /<vpcId>(vpc-[0-9a-f]+)<\/vpcId>/.exec(await vpcRes.text())![1]!;
  const elb = new ElasticLoadBalancingV2Client({});
  const tg = (await elb.send(new CreateTargetGroupCommand({ Name: "openw-x", Protocol: "HTTP", Port: 8080, VpcId: vpcId, TargetType: "ip" }))).TargetGroups![0]!.TargetGroupArn!;
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: "10.9.1.10", Port: 8080 }] }));
  elb.destroy();
  const ecs = new ECSClient({});
  await ecs.send(new CreateClusterCommand({ clusterName: names.cluster }));
  // moto 5.2.5 cannot run awsvpc tasks (see e2e/aws/canary.test.ts): a bridge-mode definition stands in.
  const td = await ecs.send(new RegisterTaskDefinitionCommand({ family: names.openwebuiService, containerDefinitions: [{ name: "openwebui", image: "x", essential: true, cpu: 256, memory: 512 }] }));
  const tdArn = td.taskDefinition!.taskDefinitionArn!;
  await ecs.send(new CreateServiceCommand({ cluster: names.cluster, serviceName: names.openwebuiService, taskDefinition: tdArn, desiredCount: 1, loadBalancers: [{ targetGroupArn: tg, containerName: "openwebui", containerPort: 8080 }] }));
  await ecs.send(new RunTaskCommand({ cluster: names.cluster, taskDefinition: tdArn, launchType: "FARGATE" }));
  ecs.destroy();
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  await bedrock?.stop();
  await moto?.stop();
});

/** Runs an ops function, capturing output and progress, and the exit code it set. */
async function capture(run: (out: (l: string) => void, progress: (l: string) => void) => Promise<boolean>) {
  const out: string[] = [];
  const progress: string[] = [];
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    const ok = await run((l) => out.push(strip(l)), (l) => progress.push(strip(l)));
    return { ok, out: out.join("\n"), progress, exitCode: process.exitCode };
  } finally {
    process.exitCode = before;
  }
}

describe("ops bedrock models", () => {
  it("lists the region's models and profiles, marks the catalog's, and fails the missing and the not-on-demand entries", async () => {
    const r = await capture((out, progress) => bedrockModels(env.name, { out, progress }));
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(1);
    const present = catalog.filter((m) => m !== MISSING && m !== PROFILE_ONLY);
    for (const m of present) expect(r.out).toMatch(new RegExp(`^  ★ ${m.modelId.replace(/[.:]/g, "\\$&")}  `, "m"));
    expect(r.out).toMatch(new RegExp(`^    us\\.${PROFILE_ONLY.modelId.replace(/[.:]/g, "\\$&")}  `, "m"));
    expect(r.out).toContain(`✗ ${MISSING.name}`);
    expect(r.out).toContain(`${MISSING.modelId} is missing in ${env.region}`);
    expect(r.out).toContain(`${PROFILE_ONLY.modelId} is not invocable on demand in ${env.region}; use the inference profile us.${PROFILE_ONLY.modelId}`);
    for (const m of present) expect(r.out).toMatch(new RegExp(`✓ ${m.name.replace(/[.:]/g, "\\$&")}\\s`));
    expect(r.out).toContain(`2 of ${catalog.length} checks failed`);
  });
});

describe("ops bedrock check (local)", () => {
  it("prints a progress line per model, a ✓/✗ table, and exits non-zero on the missing and the not-on-demand model", async () => {
    const r = await capture((out, progress) => bedrockCheck(env.name, { out, progress }));
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(1);
    for (const m of catalog) expect(r.progress.some((l) => l.includes(` ${m.name}: `)), m.name).toBe(true);
    expect(r.out).toMatch(new RegExp(`✗ bedrock-models ${MISSING.name}\\s+ResourceNotFoundException`));
    expect(r.out).toMatch(new RegExp(`✗ bedrock-models ${PROFILE_ONLY.name}\\s+${PROFILE_ONLY.modelId.replace(/[.:]/g, "\\$&")} has no on-demand throughput`));
    expect(r.out).toContain(`2 of ${catalog.length + 2} checks failed`);
    expect(r.out).toMatch(/✓ openwebui-targets\s+1 healthy/);
    expect(r.out).toMatch(/✓ openwebui-containers\s+openwebui: 1 of 1 running tasks HEALTHY/);
    expect(r.progress.some((l) => l.startsWith("litellm-readiness skipped"))).toBe(true);
    expect(bedrock.requests.filter((q) => q.operation === "GetFoundationModelAvailability").length).toBeGreaterThan(0);
  }, 300_000);
});
