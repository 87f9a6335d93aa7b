/**
 * The canary as it ships (the esbuild bundle, SDK from node_modules as the runtime provides it)
 * against moto (KMS through the cited rules proxy, ECS, ELBv2), the e2e suite's Bedrock stand-in
 * (with GetFoundationModelAvailability) and a LiteLLM readiness stand-in. One run with everything
 * healthy, then one run per broken dependency: only that check fails, with a detail that names the
 * cause, and every check writes exactly one EMF datapoint with the `Env` and `Check` dimensions.
 */
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK_NAMES, type CheckName } from "../../functions/canary/src/checks.js";
import { CANARY_BUNDLE, CANARY_METRICS } from "../../functions/canary/src/config.js";
import type { CanaryReport } from "../../functions/canary/src/handler.js";
import { startKmsRules, type KmsRules } from "../../functions/user-keys/test/support/kms-rules.js";
import { bundleFunction, REPO_ROOT } from "../../lib/bundle.js";
import { resolveModels } from "../../modules/services/catalog.js";
import { readManifest } from "../harness/manifest.js";
import { start as startBedrock, type BedrockFake } from "../standins/bedrock.js";
import { startMoto, type Moto } from "../world/infra.js";

const REGION = "us-east-1";
const CREDS = { accessKeyId: "testing", secretAccessKey: "testing" };
const CATALOG = resolveModels(
  [
    { name: "claude-sonnet-4", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0" },
    { name: "mistral-large", modelId: "mistral.mistral-large-2402-v1:0" },
    { name: "embeddings", modelId: "amazon.titan-embed-text-v2:0" },
  ],
  REGION,
);
const OUT_ROOT = join(REPO_ROOT, "functions", "canary", ".gen", `e2e-${process.pid}`);

let moto: Moto;
let rules: KmsRules;
let bedrock: BedrockFake;
let litellm: Server;
let litellmStatus = 200;
let litellmUrl: string;
let bundleFile: string;
const ids = { hmac: "", dek: "", symmetric: "", cluster: "owui-test", emptyCluster: "owui-empty", targetGroup: "", emptyTargetGroup: "" };

function clientConfig() {
  return { endpoint: moto.url, region: REGION, credentials: CREDS };
}

beforeAll(async () => {
  moto = await startMoto(readManifest());
  rules = await startKmsRules(moto.url);
  bedrock = await startBedrock({ models: CATALOG.map((m) => m.modelId), region: REGION });
  litellm = createServer((req, res) => {
    const ok = req.url === "/health/readiness" && litellmStatus === 200;
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(ok ? { status: "healthy", db: "connected" } : { status: "unhealthy", db: "Not connected" }));
  });
  await new Promise<void>((r) => litellm.listen(0, "127.0.0.1", r));
  litellmUrl = `http://127.0.0.1:${(litellm.address() as AddressInfo).port}`;

  const kms = new KMSClient(clientConfig());
  ids.hmac = (await kms.send(new CreateKeyCommand({ KeySpec: "HMAC_512", KeyUsage: "GENERATE_VERIFY_MAC" }))).KeyMetadata!.Arn!;
  ids.dek = (await kms.send(new CreateKeyCommand({ KeySpec: "SYMMETRIC_DEFAULT" }))).KeyMetadata!.Arn!;
  ids.symmetric = (await kms.send(new CreateKeyCommand({ KeySpec: "SYMMETRIC_DEFAULT" }))).KeyMetadata!.Arn!;
  kms.destroy();

  // No EC2 client is installed: the VPC the target groups need, by the EC2 Query API (moto routes by the credential scope).
  const vpcId = await ec2Query({ Action: "CreateVpc", CidrBlock: "10.9.0.0/16" }, /<vpcId>(vpc-[0-9a-f]+)<\/vpcId>/);

  const elb = new ElasticLoadBalancingV2Client(clientConfig());
  const tg = async (name: string) => (await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: "HTTP", Port: 8080, VpcId: vpcId, TargetType: "ip" }))).TargetGroups![0]!.TargetGroupArn!;
  ids.targetGroup = await tg("openw-abc");
  ids.emptyTargetGroup = await tg("openw-empty");
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: ids.targetGroup, Targets: [{ Id: "10.9.1.10", Port: 8080 }] }));
  elb.destroy();

  const ecs = new ECSClient(clientConfig());
  await ecs.send(new CreateClusterCommand({ clusterName: ids.cluster }));
  await ecs.send(new CreateClusterCommand({ clusterName: ids.emptyCluster }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "owui-test-openwebui",
      // moto 5.2.5 fails RunTask for awsvpc tasks (its ENI lacks private_dns_name) and sums
      // container-level cpu/memory: a bridge-mode definition stands in; the canary reads only
      // ListTasks/DescribeTasks, which do not depend on the network mode.
      containerDefinitions: [{ name: "openwebui", image: "ghcr.io/open-webui/open-webui:v0.10.2", essential: true, cpu: 1024, memory: 2048, healthCheck: { command: ["CMD-SHELL", "true"] } }],
    }),
  );
  await ecs.send(
    new RunTaskCommand({ cluster: ids.cluster, taskDefinition: td.taskDefinition!.taskDefinitionArn!, launchType: "FARGATE" }),
  );
  ecs.destroy();

  bundleFile = bundleFunction({ ...CANARY_BUNDLE, outRoot: OUT_ROOT }).file;
});

afterAll(async () => {
  await new Promise<void>((r) => (litellm ? litellm.close(() => r()) : r()));
  await bedrock?.stop();
  await rules?.stop();
  await moto?.stop();
  rmSync(OUT_ROOT, { recursive: true, force: true });
});

async function ec2Query(params: Record<string, string>, pick: RegExp): Promise<string> {
  const res = await fetch(moto.url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0` },
    body: new URLSearchParams({ ...params, Version: "2016-11-15" }).toString(),
  });
  const text = await res.text();
  const hit = pick.exec(text);
  if (!res.ok || !hit) throw new Error(`EC2 ${params.Action} against moto: ${res.status} ${text.slice(0, 300)}`);
  return hit[1]!;
}

let instance = 0;
/** One invocation of a fresh module instance of the bundle with `env`; its report and EMF lines. */
async function runCanary(over: Record<string, string> = {}): Promise<{ report: CanaryReport; emf: Record<string, any>[] }> {
  const env: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_ENDPOINT_URL_KMS: rules.url,
    AWS_ENDPOINT_URL_BEDROCK: bedrock.url,
    AWS_ENDPOINT_URL_ECS: moto.url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: moto.url,
    ENV_NAME: "test",
    KMS_HMAC_KEY_ID: ids.hmac,
    KMS_APPLICATION_CMK_ID: ids.dek,
    CATALOG_MODELS: JSON.stringify(CATALOG),
    LITELLM_URL: litellmUrl,
    ECS_CLUSTER: ids.cluster,
    OPENWEBUI_SERVICE: "owui-test-openwebui",
    OPENWEBUI_CONTAINER: "openwebui",
    OPENWEBUI_TARGET_GROUP_ARN: ids.targetGroup,
    ...over,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    instance += 1;
    const mod = (await import(/* @vite-ignore */ `${pathToFileURL(bundleFile).href}?instance=${instance}`)) as { handler: () => Promise<CanaryReport> };
    const report = await mod.handler();
    return { report, emf: lines.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, any>) };
  } finally {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

const DEFAULT_CHECKS = CHECK_NAMES.filter((c) => c !== "bedrock-invoke");
const failing = (r: CanaryReport) => r.results.filter((x) => !x.ok).map((x) => x.check);
const detailOf = (r: CanaryReport, check: CheckName) => r.results.find((x) => x.check === check)!.detail;

describe("the canary against moto and the stand-ins", () => {
  it("all dependencies healthy: every check passes, one EMF datapoint each with Env and Check", async () => {
    const { report, emf } = await runCanary();
    expect(report.results.map((r) => [r.check, r.ok, r.detail])).toEqual(DEFAULT_CHECKS.map((c) => [c, true, expect.any(String)]));
    expect(report.ok).toBe(true);
    expect(emf.map((e) => e.Check)).toEqual([...DEFAULT_CHECKS]);
    for (const e of emf) {
      expect(e._aws.CloudWatchMetrics).toEqual([{ Namespace: CANARY_METRICS.namespace, Dimensions: [["Env", "Check"]], Metrics: [{ Name: CANARY_METRICS.metricName, Unit: "None" }] }]);
      expect(e).toMatchObject({ Env: "test", [CANARY_METRICS.metricName]: 1 });
    }
    // Bedrock: existence per entry, then the availability API for each foundation model.
    const ops = bedrock.requests.map((r) => r.operation);
    expect(ops.filter((o) => o === "GetFoundationModelAvailability")).toHaveLength(CATALOG.length);
    expect(ops).toContain("GetInferenceProfile");
    expect(ops).toContain("GetFoundationModel");
    expect(rules.operations).toEqual(expect.arrayContaining(["DescribeKey", "GenerateMac", "VerifyMac", "GenerateDataKey", "Decrypt"]));
  });

  const broken: [CheckName, string, () => Record<string, string> | Promise<Record<string, string>>, RegExp][] = [
    ["kms-mac", "the HMAC key id points at a symmetric key", () => ({ KMS_HMAC_KEY_ID: ids.symmetric }), /NotAnHmacKey/],
    ["kms-dek", "the application CMK does not exist", () => ({ KMS_APPLICATION_CMK_ID: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000" }), /KeyNotFound/],
    [
      "bedrock-models",
      "one catalog model is not authorized and one is missing in the region",
      () => {
        bedrock.setAvailability("mistral.mistral-large-2402-v1:0", { authorizationStatus: "NOT_AUTHORIZED" });
        return { CATALOG_MODELS: JSON.stringify([...CATALOG, ...resolveModels([{ name: "llama-missing", modelId: "meta.llama3-1-8b-instruct-v1:0" }], REGION)]) };
      },
      /2 of 4 not usable: mistral-large \(authorization NOT_AUTHORIZED.*llama-missing \(ResourceNotFoundException/,
    ],
    ["litellm-readiness", "LiteLLM answers 503", () => ((litellmStatus = 503), {}), /answered 503 status=unhealthy/],
    ["openwebui-targets", "no target registered", () => ({ OPENWEBUI_TARGET_GROUP_ARN: ids.emptyTargetGroup }), /no targets registered/],
    ["openwebui-containers", "no running task", () => ({ ECS_CLUSTER: ids.emptyCluster }), /no running task of owui-test-openwebui in owui-empty/],
  ];

  it.each(broken)("%s fails alone when %s, and its datapoint is 0", async (check, _why, breakIt, detail) => {
    try {
      const { report, emf } = await runCanary(await breakIt());
      expect(failing(report)).toEqual([check]);
      expect(detailOf(report, check)).toMatch(detail);
      expect(report.ok).toBe(false);
      const point = emf.find((e) => e.Check === check)!;
      expect(point).toMatchObject({ Env: "test", Check: check, [CANARY_METRICS.metricName]: 0, level: "error" });
      expect(emf.filter((e) => e.Check !== check).every((e) => e[CANARY_METRICS.metricName] === 1)).toBe(true);
    } finally {
      litellmStatus = 200;
      bedrock.setAvailability("mistral.mistral-large-2402-v1:0", { authorizationStatus: "AUTHORIZED" });
    }
  });
});
