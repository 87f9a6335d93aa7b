/** The canary's settings: its environment variables (set by modules/canary), parsed once. */
import type { CatalogModel } from "./checks.js";

/** The EMF contract: modules/canary's alarms use exactly these. */
export const CANARY_METRICS = {
  /** Override with `METRIC_NAMESPACE`. */
  namespace: "OpenWebUI/Canary",
  /** 1 when the check passed, 0 when it failed. One per check and run. */
  metricName: "CheckPassed",
  /** Every datapoint carries both. */
  dimensions: ["Env", "Check"] as const,
} as const;

/** Where the bundle comes from (lib/bundle.ts); the SDK is the Lambda runtime's. */
export const CANARY_BUNDLE = { pkg: "canary", entry: "src/handler.ts", name: "canary", external: ["@aws-sdk/*"] } as const;

export interface CanaryConfig {
  readonly envName: string;
  readonly namespace: string;
  readonly hmacKeyId: string;
  readonly applicationKeyId: string;
  readonly models: readonly CatalogModel[];
  readonly litellmUrl: string;
  readonly cluster: string;
  readonly openwebuiService: string;
  /** Open WebUI's own container in the task (its health is judged; sidecars are not). */
  readonly openwebuiContainer: string;
  readonly targetGroupArn: string;
  /** Present when the tiny invocation is on. */
  readonly invoke?: { readonly model: string; readonly masterKeySecretName: string };
}

export class CanaryConfigError extends Error {
  override readonly name = "CanaryConfigError";
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): CanaryConfig {
  const missing: string[] = [];
  const need = (name: string): string => {
    const v = env[name];
    if (!v) missing.push(name);
    return v ?? "";
  };
  const config = {
    envName: need("ENV_NAME"),
    namespace: env.METRIC_NAMESPACE || CANARY_METRICS.namespace,
    hmacKeyId: need("KMS_HMAC_KEY_ID"),
    applicationKeyId: need("KMS_APPLICATION_CMK_ID"),
    models: parseModels(need("CATALOG_MODELS")),
    litellmUrl: need("LITELLM_URL"),
    cluster: need("ECS_CLUSTER"),
    openwebuiService: need("OPENWEBUI_SERVICE"),
    openwebuiContainer: env.OPENWEBUI_CONTAINER || "openwebui",
    targetGroupArn: need("OPENWEBUI_TARGET_GROUP_ARN"),
    invoke: env.INVOKE_MODEL === "true" ? { model: need("INVOKE_MODEL_NAME"), masterKeySecretName: need("LITELLM_MASTER_KEY_SECRET_NAME") } : undefined,
  };
  if (missing.length > 0) throw new CanaryConfigError(`missing environment variables: ${missing.join(", ")} (modules/canary sets them)`);
  return config;
}

function parseModels(json: string): CatalogModel[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as CatalogModel[];
    if (Array.isArray(v) && v.every((m) => typeof m.name === "string" && typeof m.modelId === "string" && typeof m.region === "string" && typeof m.foundationModelId === "string")) return v;
  } catch {
    // fall through
  }
  throw new CanaryConfigError("CATALOG_MODELS is not a JSON array of {name, modelId, region, foundationModelId, profile?}");
}
