/** The canary's check functions and EMF line with stub clients (the shipped bundle against moto: e2e/aws/canary.test.ts). */
import { describe, expect, it } from "vitest";
import { checkBedrockModels, checkLiteLlmReadiness, checkOpenWebUiContainers, type CatalogModel } from "../src/checks.js";
import { CanaryConfigError, readConfig } from "../src/config.js";
import { emfLine } from "../src/handler.js";

class Cmd {
  constructor(readonly input: any) {}
}
class GetFoundationModelCommand extends Cmd {}
class GetInferenceProfileCommand extends Cmd {}
class GetFoundationModelAvailabilityCommand extends Cmd {}
const commands = { GetFoundationModelCommand, GetInferenceProfileCommand, GetFoundationModelAvailabilityCommand };

const profile: CatalogModel = { name: "sonnet", modelId: "us.anthropic.claude-sonnet-4-20250514-v1:0", region: "us-east-1", profile: "us", foundationModelId: "anthropic.claude-sonnet-4-20250514-v1:0" };
const bare: CatalogModel = { name: "titan", modelId: "amazon.titan-embed-text-v2:0", region: "eu-west-1", foundationModelId: "amazon.titan-embed-text-v2:0" };

const available = { authorizationStatus: "AUTHORIZED", entitlementAvailability: "AVAILABLE", regionAvailability: "AVAILABLE", agreementAvailability: { status: "AVAILABLE" } };

describe("bedrock-models", () => {
  it("asks each entry's own region, and fails on entitlement, agreement and (bare ids) region availability", async () => {
    const regions: string[] = [];
    const client = (region: string) => ({
      send: async (c: Cmd) => {
        regions.push(`${region}:${c.constructor.name}`);
        if (c instanceof GetInferenceProfileCommand) return { status: "ACTIVE" };
        if (c instanceof GetFoundationModelCommand) return { modelDetails: { modelLifecycle: { status: "ACTIVE" }, inferenceTypesSupported: ["ON_DEMAND"] } };
        return c.input.modelId === bare.foundationModelId
          ? { ...available, regionAvailability: "NOT_AVAILABLE" }
          : { ...available, entitlementAvailability: "NOT_AVAILABLE", agreementAvailability: { status: "PENDING", errorMessage: "accept the EULA" } };
      },
    });
    const seen: string[] = [];
    const r = await checkBedrockModels([profile, bare], client, commands, (name, ok) => seen.push(`${name}:${ok}`));
    expect(r.ok).toBe(false);
    expect(r.items).toEqual([
      { name: "sonnet", ok: false, detail: "entitlement NOT_AVAILABLE (enable model access), agreement PENDING (accept the EULA)" },
      { name: "titan", ok: false, detail: "region availability NOT_AVAILABLE in eu-west-1" },
    ]);
    expect(seen).toEqual(["sonnet:false", "titan:false"]);
    expect(regions).toEqual(["us-east-1:GetInferenceProfileCommand", "us-east-1:GetFoundationModelAvailabilityCommand", "eu-west-1:GetFoundationModelCommand", "eu-west-1:GetFoundationModelAvailabilityCommand"]);
  });

  it("says so when the SDK has no GetFoundationModelAvailability (an old Lambda runtime), instead of crashing", async () => {
    const client = () => ({ send: async () => ({ status: "ACTIVE" }) });
    const r = await checkBedrockModels([profile], client, { GetFoundationModelCommand, GetInferenceProfileCommand });
    expect(r.items?.[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/no GetFoundationModelAvailability/) });
  });
});

describe("litellm-readiness", () => {
  it("needs 200 and status healthy; a network error is a failure, not a throw", async () => {
    const ok = await checkLiteLlmReadiness("http://litellm:4000/", (async () => new Response(JSON.stringify({ status: "healthy", db: "connected" }))) as typeof fetch);
    expect(ok).toMatchObject({ check: "litellm-readiness", ok: true, detail: "http://litellm:4000/health/readiness: healthy, db connected" });
    const down = await checkLiteLlmReadiness("http://litellm:4000", (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch);
    expect(down).toMatchObject({ ok: false, detail: "TypeError: fetch failed" });
  });
});

describe("openwebui-containers", () => {
  it("judges Open WebUI's own container, not the sidecars", async () => {
    const ecs = {
      send: async (c: Cmd) =>
        c.constructor.name === "L"
          ? { taskArns: ["t1", "t2"] }
          : { tasks: [{ containers: [{ name: "openwebui", healthStatus: "HEALTHY" }, { name: "oauth2-proxy", healthStatus: "UNHEALTHY" }] }, { containers: [{ name: "openwebui", healthStatus: "UNHEALTHY" }] }] },
    };
    class L extends Cmd {}
    class D extends Cmd {}
    const r = await checkOpenWebUiContainers(ecs, { ListTasksCommand: L, DescribeTasksCommand: D }, "c", "s");
    expect(r).toMatchObject({ ok: false, detail: "openwebui: 1 of 2 running tasks HEALTHY, 1 UNHEALTHY" });
  });
});

describe("EMF and settings", () => {
  it("writes one datapoint per check with the Env and Check dimensions", () => {
    const line = JSON.parse(emfLine("OpenWebUI/Canary", "prod", { check: "kms-dek", ok: false, detail: "KeyNotFound: …", ms: 12 }, 1_700_000_000_000));
    expect(line).toEqual({
      _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: "OpenWebUI/Canary", Dimensions: [["Env", "Check"]], Metrics: [{ Name: "CheckPassed", Unit: "None" }] }] },
      Env: "prod",
      Check: "kms-dek",
      CheckPassed: 0,
      level: "error",
      msg: "kms-dek: KeyNotFound: …",
      durationMs: 12,
    });
  });

  it("refuses missing settings, naming them", () => {
    expect(() => readConfig({ ENV_NAME: "x" })).toThrow(CanaryConfigError);
    expect(() => readConfig({ ENV_NAME: "x" })).toThrow(/KMS_HMAC_KEY_ID, KMS_APPLICATION_CMK_ID, CATALOG_MODELS, LITELLM_URL, ECS_CLUSTER, OPENWEBUI_SERVICE, OPENWEBUI_TARGET_GROUP_ARN/);
  });
});
