/**
 * The canary layer (modules/canary) as synthesized: its function (bundle, runtime, network), its
 * schedule, exactly the IAM its checks need, one alarm per check on the EMF metric the function
 * writes, and nothing when `canary.enabled` is off.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CHECK_NAMES } from "../functions/canary/src/checks.js";
import { CANARY_BUNDLE, CANARY_METRICS } from "../functions/canary/src/config.js";
import { bundleFunction } from "../lib/bundle.js";
import { ENVS, envWith, policyOf, ruleTable, synthPlatform, type Json, type Synthesized } from "./support/synth.js";

const canaryResources = (s: Synthesized, type: string) => s.resources(type).filter(([n]) => n.startsWith("canary_"));
function canaryPolicy(s: Synthesized): Json {
  const hits = s.resources("aws_iam_role_policy").filter(([n]) => n.startsWith("canary_"));
  expect(hits).toHaveLength(1);
  return policyOf(s, hits[0]![1].policy);
}
const sids = (doc: Json) => (doc.statement as Json[]).map((st) => st.sid as string);
const statement = (doc: Json, sid: string) => (doc.statement as Json[]).find((st) => st.sid === sid)!;
const RUNTIME_SIDS = ["WriteOwnLogGroup", "WriteXRayTraces", "DecryptOwnEnvironment", "ManageVpcNetworkInterfaces", "DenyNetworkInterfacesToFunctionCode"];
const DEFAULT_CHECKS = CHECK_NAMES.filter((c) => c !== "bedrock-invoke");

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
] as const)("the canary in %s", (_name, env) => {
  const s = synthPlatform(env);
  const [, fn] = canaryResources(s, "aws_lambda_function")[0]!;

  it("is one arm64 nodejs22.x function in the private subnets, behind its own group", () => {
    expect(canaryResources(s, "aws_lambda_function")).toHaveLength(1);
    expect(fn).toMatchObject({ function_name: `owui-${env.name}-canary`, runtime: "nodejs22.x", architectures: ["arm64"], reserved_concurrent_executions: 1 });
    expect(fn.vpc_config.subnet_ids).toHaveLength(env.network.azs.length);
    for (const id of fn.vpc_config.subnet_ids) expect(id).toMatch(/^\$\{aws_subnet\.network_private-/);
    expect(fn.vpc_config.security_group_ids).toEqual([expect.stringMatching(/^\$\{aws_security_group\.security_client-canary_\w+\.id\}$/)]);
  });

  it("reaches LiteLLM's port and HTTPS only, and has no path to Open WebUI", () => {
    const rules = ruleTable(s).filter((r) => r.includes("canary"));
    expect(rules).toEqual(["client-canary out tcp/4000-4000 sg:service-litellm", "client-canary out tcp/443-443 0.0.0.0/0", "service-litellm in tcp/4000-4000 sg:client-canary"]);
    expect(ruleTable(s).filter((r) => r.startsWith("service-openwebui in") && r.includes("canary"))).toEqual([]);
  });

  it("runs every 5 minutes from an EventBridge rule that alone may invoke it", () => {
    const [, rule] = canaryResources(s, "aws_cloudwatch_event_rule")[0]!;
    expect(rule.schedule_expression).toBe("rate(5 minutes)");
    const [, target] = canaryResources(s, "aws_cloudwatch_event_target")[0]!;
    expect(target.arn).toMatch(/aws_lambda_function\.canary_function_\w+\.arn/);
    const [, permission] = canaryResources(s, "aws_lambda_permission")[0]!;
    expect(permission).toMatchObject({ principal: "events.amazonaws.com", action: "lambda:InvokeFunction" });
    expect(permission.source_arn).toMatch(/aws_cloudwatch_event_rule\.canary_schedule_\w+\.arn/);
  });

  it("is configured for its checks by environment (key ARNs, catalog, LiteLLM's internal name, Open WebUI's control-plane ids)", () => {
    const v = fn.environment.variables;
    expect(v).toMatchObject({ ENV_NAME: env.name, METRIC_NAMESPACE: CANARY_METRICS.namespace, LITELLM_URL: `http://litellm.owui-${env.name}.internal:4000`, OPENWEBUI_SERVICE: `owui-${env.name}-openwebui` });
    expect(v.KMS_HMAC_KEY_ID).toMatch(/aws_kms_key\.security_user-id-hmac-key_\w+\.arn/);
    expect(v.KMS_APPLICATION_CMK_ID).toMatch(/aws_kms_key\.security_user-data-key_\w+\.arn/);
    expect(v.OPENWEBUI_TARGET_GROUP_ARN).toMatch(/aws_lb_target_group\.compute_openwebui_target-group_\w+\.arn/);
    const models = JSON.parse(v.CATALOG_MODELS) as { modelId: string }[];
    expect(models.map((m) => m.modelId)).toEqual([...env.services.litellm.models.map((m) => m.modelId), env.services.openwebui.retrieval.embeddingModelId]);
    expect(v).not.toHaveProperty("INVOKE_MODEL");
  });

  it("is granted exactly what its checks need: no invocation, no secret, no Open WebUI data plane", () => {
    const doc = canaryPolicy(s);
    expect(sids(doc)).toEqual([
      ...RUNTIME_SIDS,
      "UserIdHmac",
      "UserDekEncryption",
      "DescribeUserKeys",
      // The catalogs have bare ids too (and the embedding model is one): GetFoundationModel on those.
      "DescribeCatalogModels",
      "DescribeCatalogProfiles",
      "CatalogModelAvailability",
      "OpenWebUiTargetHealth",
      "ListOpenWebUiTasks",
      "DescribeOpenWebUiTasks",
    ]);
    expect(statement(doc, "UserDekEncryption").condition).toEqual([
      { test: "StringEquals", variable: "kms:EncryptionContext:purpose", values: ["user-dek-encryption"] },
      { test: "StringEquals", variable: "kms:EncryptionContext:application", values: ["open-webui"] },
      { test: "ForAllValues:StringEquals", variable: "kms:EncryptionContextKeys", values: ["purpose", "application"] },
    ]);
    expect(statement(doc, "CatalogModelAvailability")).toMatchObject({ actions: ["bedrock:GetFoundationModelAvailability"], resources: ["*"], condition: [{ test: "StringEquals", variable: "aws:RequestedRegion", values: [env.region] }] });
    expect(statement(doc, "ListOpenWebUiTasks").condition).toEqual([{ test: "ArnEquals", variable: "ecs:cluster", values: [expect.stringMatching(/aws_ecs_cluster\.compute_cluster_\w+\.arn/)] }]);
    expect(statement(doc, "DescribeOpenWebUiTasks").resources).toEqual([expect.stringMatching(/:task\/\$\{aws_ecs_cluster\.compute_cluster_\w+\.name\}\/\*$/)]);
    const actions = (doc.statement as Json[]).flatMap((st) => st.actions as string[]);
    for (const forbidden of ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "secretsmanager:GetSecretValue", "ecs:ExecuteCommand"]) expect(actions).not.toContain(forbidden);
  });

  it("has one alarm per check on its EMF metric: a failure or missing data breaches, and notifies the alarm topic", () => {
    const alarms = canaryResources(s, "aws_cloudwatch_metric_alarm");
    expect(alarms.map(([, a]) => a.dimensions.Check).sort()).toEqual([...DEFAULT_CHECKS].sort());
    for (const [, a] of alarms) {
      expect(a).toMatchObject({
        alarm_name: `owui-${env.name}-canary-${a.dimensions.Check}`,
        namespace: CANARY_METRICS.namespace,
        metric_name: CANARY_METRICS.metricName,
        dimensions: { Env: env.name, Check: a.dimensions.Check },
        statistic: "Minimum",
        comparison_operator: "LessThanThreshold",
        threshold: 1,
        evaluation_periods: 1,
        treat_missing_data: "breaching",
      });
      expect(a.alarm_actions).toEqual([expect.stringMatching(/aws_sns_topic\.observability_alarm-topic_\w+\.arn/)]);
      expect(a.ok_actions).toEqual(a.alarm_actions);
    }
  });
});

describe("canary switches", () => {
  it("canary.enabled false: no canary resources at all", () => {
    const s = synthPlatform(envWith((raw) => (raw.canary = { enabled: false })));
    for (const type of ["aws_lambda_function", "aws_cloudwatch_event_rule", "aws_cloudwatch_metric_alarm", "aws_iam_role", "aws_security_group"]) expect(canaryResources(s, type), type).toEqual([]);
    expect(ruleTable(s).filter((r) => r.includes("canary"))).toEqual([]);
  });

  it("canary.invokeModel: the bedrock-invoke alarm, the first model, and read access to the LiteLLM master key only", () => {
    const env = envWith((raw) => (raw.canary = { invokeModel: true }));
    const s = synthPlatform(env);
    expect(canaryResources(s, "aws_cloudwatch_metric_alarm").map(([, a]) => a.dimensions.Check)).toContain("bedrock-invoke");
    const [, fn] = canaryResources(s, "aws_lambda_function")[0]!;
    expect(fn.environment.variables).toMatchObject({ INVOKE_MODEL: "true", INVOKE_MODEL_NAME: env.services.litellm.models[0]!.name, LITELLM_MASTER_KEY_SECRET_NAME: `owui/${env.name}/litellm/master-key` });
    const doc = canaryPolicy(s);
    expect(statement(doc, "ReadLiteLlmMasterKey").resources).toEqual([expect.stringMatching(new RegExp(`:secret:owui/${env.name}/litellm/master-key-\\?{6}$`))]);
    expect(statement(doc, "DecryptLiteLlmMasterKey").condition).toEqual([{ test: "StringEquals", variable: "kms:ViaService", values: [`secretsmanager.${env.region}.amazonaws.com`] }]);
  });

  it("refuses a schedule that is not an EventBridge expression, naming the path and the fix", () => {
    expect(() => envWith((raw) => (raw.canary = { schedule: "every 5 minutes" }))).toThrow(/canary\.schedule.*"every 5 minutes" is not an EventBridge schedule expression.*Fix: e\.g\. "rate\(5 minutes\)"/s);
  });
});

describe("the canary bundle", () => {
  const outRoot = mkdtempSync(join(tmpdir(), "owui-canary-bundle-"));
  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
  const b = bundleFunction({ ...CANARY_BUNDLE, outRoot });

  it("is ≤ 250 KB minified and leaves the SDK to the runtime", () => {
    expect(b.bytes).toBeLessThanOrEqual(250 * 1024);
    const code = readFileSync(b.file, "utf8");
    expect(code).toContain('"@aws-sdk/client-kms"');
    expect(code).not.toMatch(/@smithy\/|smithy-client/);
  });

  it("initialises in ≤ 150 ms (median of 5 fresh processes; the SDK loads on the first invocation)", () => {
    const script = "const t0 = performance.now(); const m = await import(process.argv[1]); if (typeof m.handler !== 'function') process.exit(2); process.stdout.write(String(performance.now() - t0));";
    const times = Array.from({ length: 5 }, () => {
      const r = spawnSync(process.execPath, ["--input-type=module", "--no-warnings", "-e", script, pathToFileURL(b.file).href], { encoding: "utf8", env: { ...process.env, AWS_REGION: "us-east-1" } });
      expect(r.status, r.stderr).toBe(0);
      return Number(r.stdout);
    }).sort((x, y) => x - y);
    expect(times[2]).toBeLessThanOrEqual(150);
  });
});
