/**
 * The canary's checks, as plain functions over injected clients: the Lambda handler (handler.ts)
 * runs them every 5 minutes, and `pnpm ops bedrock check` runs the same code once from an
 * operator's machine. Each returns a {@link CheckResult}; none throws.
 */
import { UserKeys, UserKeysError } from "../../user-keys/src/index.js";

/** The check names: one EMF metric (dimension `Check`) and one alarm each. */
export const CHECK_NAMES = ["kms-mac", "kms-dek", "bedrock-models", "bedrock-invoke", "litellm-readiness", "openwebui-targets", "openwebui-containers"] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckResult {
  readonly check: CheckName;
  readonly ok: boolean;
  /** What was found; on failure, what is wrong and where to look. */
  readonly detail: string;
  readonly ms: number;
  /** Per-item results (one per catalog model for `bedrock-models`). */
  readonly items?: readonly { readonly name: string; readonly ok: boolean; readonly detail: string }[];
}

/** One catalog entry (modules/services ResolvedModel, as the canary's environment carries it). */
export interface CatalogModel {
  readonly name: string;
  readonly modelId: string;
  readonly region: string;
  /** `us`/`eu`/`apac`/`global` for an inference profile. */
  readonly profile?: string;
  readonly foundationModelId: string;
}

/** `send` of an SDK client (or a test double). */
export interface Sender {
  send(command: any): Promise<any>;
}

async function timed(check: CheckName, run: () => Promise<Omit<CheckResult, "check" | "ms">>): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    const r = await run();
    return { check, ...r, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const detail = err instanceof UserKeysError ? `${err.code}: ${err.message}` : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { check, ok: false, detail, ms: Math.round(performance.now() - t0) };
  }
}

const CANARY_EMAIL = "canary@owui.invalid";

/** GenerateMac + VerifyMac round trip on the HMAC key (the id is deterministic and case-insensitive). */
export function checkKmsMac(keys: UserKeys): Promise<CheckResult> {
  return timed("kms-mac", async () => {
    const id = await keys.userIdFor(CANARY_EMAIL);
    const again = await keys.userIdFor(CANARY_EMAIL.toUpperCase());
    if (id !== again) return { ok: false, detail: "GenerateMac gave two ids for the same email in different case" };
    await keys.verifyUserId(CANARY_EMAIL, id);
    const { algorithm, keySpec } = await keys.macAlgorithmOfKey();
    return { ok: true, detail: `GenerateMac + VerifyMac with ${algorithm} (${keySpec})` };
  });
}

/** GenerateDataKey + Decrypt round trip with the user-DEK context: disaster recovery works. */
export function checkKmsDek(keys: UserKeys): Promise<CheckResult> {
  return timed("kms-dek", async () => {
    const dek = await keys.newUserDek();
    const back = await keys.recoverDek(dek.ciphertext);
    const same = back.length === dek.plaintext.length && back.every((b, i) => b === dek.plaintext[i]);
    return same ? { ok: true, detail: "GenerateDataKey(AES_256) + Decrypt with the user-DEK context" } : { ok: false, detail: "Decrypt returned other bytes than GenerateDataKey" };
  });
}

/** Bedrock control-plane commands the check needs (the module namespace of @aws-sdk/client-bedrock). */
export interface BedrockCommands {
  GetFoundationModelCommand: new (input: { modelIdentifier: string }) => unknown;
  GetInferenceProfileCommand: new (input: { inferenceProfileIdentifier: string }) => unknown;
  GetFoundationModelAvailabilityCommand?: new (input: { modelId: string }) => unknown;
}

/**
 * Every catalog entry exists in its region and this account may use it:
 * - a bare model id: GetFoundationModel (exists, ACTIVE, on-demand);
 * - an inference profile: GetInferenceProfile (exists here, ACTIVE);
 * - then GetFoundationModelAvailability of the foundation model: listing proves nothing about
 *   access; this API answers whether the account is authorized (IAM/SCP), entitled (model access,
 *   e.g. a Marketplace subscription), has the agreement, and whether the model is offered in the
 *   region (Bedrock API Reference, GetFoundationModelAvailability).
 */
export function checkBedrockModels(models: readonly CatalogModel[], clientFor: (region: string) => Sender, commands: BedrockCommands, onModel?: (name: string, ok: boolean, detail: string) => void): Promise<CheckResult> {
  return timed("bedrock-models", async () => {
    const items: { name: string; ok: boolean; detail: string }[] = [];
    for (const m of models) {
      const item = await checkModel(m, clientFor(m.region), commands).catch((err: unknown) => ({ ok: false, detail: describeAwsError(err) }));
      items.push({ name: m.name, ...item });
      onModel?.(m.name, item.ok, item.detail);
    }
    const bad = items.filter((i) => !i.ok);
    return { ok: bad.length === 0, detail: bad.length === 0 ? `${items.length} catalog models reachable and authorized` : `${bad.length} of ${items.length} not usable: ${bad.map((b) => `${b.name} (${b.detail})`).join("; ")}`, items };
  });
}

async function checkModel(m: CatalogModel, client: Sender, commands: BedrockCommands): Promise<{ ok: boolean; detail: string }> {
  if (m.profile) {
    const p = await client.send(new commands.GetInferenceProfileCommand({ inferenceProfileIdentifier: m.modelId }));
    if (p.status !== "ACTIVE") return { ok: false, detail: `inference profile ${m.modelId} is ${p.status ?? "not active"} in ${m.region}` };
  } else {
    const f = await client.send(new commands.GetFoundationModelCommand({ modelIdentifier: m.modelId }));
    const d = f.modelDetails ?? {};
    const status = d.modelLifecycle?.status;
    if (status && status !== "ACTIVE") return { ok: false, detail: `${m.modelId} is ${status} in ${m.region}` };
    if (Array.isArray(d.inferenceTypesSupported) && !d.inferenceTypesSupported.includes("ON_DEMAND")) return { ok: false, detail: `${m.modelId} has no on-demand throughput in ${m.region}; use an inference profile id` };
  }
  if (!commands.GetFoundationModelAvailabilityCommand) return { ok: false, detail: "this AWS SDK has no GetFoundationModelAvailability; access cannot be proven" };
  const a = await client.send(new commands.GetFoundationModelAvailabilityCommand({ modelId: m.foundationModelId }));
  const problems = [
    a.authorizationStatus !== "AUTHORIZED" && `authorization ${a.authorizationStatus ?? "unknown"} (IAM or an SCP denies it)`,
    a.entitlementAvailability !== "AVAILABLE" && `entitlement ${a.entitlementAvailability ?? "unknown"} (enable model access)`,
    a.agreementAvailability?.status !== undefined && a.agreementAvailability.status !== "AVAILABLE" && `agreement ${a.agreementAvailability.status}${a.agreementAvailability.errorMessage ? ` (${a.agreementAvailability.errorMessage})` : ""}`,
    // A profile routes to other regions; the bare model must be offered in its own region.
    !m.profile && a.regionAvailability !== "AVAILABLE" && `region availability ${a.regionAvailability ?? "unknown"} in ${m.region}`,
  ].filter((p): p is string => typeof p === "string");
  return problems.length === 0 ? { ok: true, detail: `${m.profile ? "inference profile" : "foundation model"} in ${m.region}, authorized` } : { ok: false, detail: problems.join(", ") };
}

/** LiteLLM's `/health/readiness` over its internal name (no model call). */
export function checkLiteLlmReadiness(baseUrl: string, fetchImpl: typeof fetch = fetch, timeoutMs = 5000): Promise<CheckResult> {
  return timed("litellm-readiness", async () => {
    const url = `${baseUrl.replace(/\/+$/, "")}/health/readiness`;
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as { status?: string; db?: string };
    if (res.status !== 200 || body.status !== "healthy") return { ok: false, detail: `${url} answered ${res.status} status=${body.status ?? "?"} db=${body.db ?? "?"}` };
    return { ok: true, detail: `${url}: healthy, db ${body.db ?? "?"}` };
  });
}

/** One tiny chat request through LiteLLM (max 1 token): off by default, it costs money. */
export function checkBedrockInvoke(baseUrl: string, model: string, apiKey: string, fetchImpl: typeof fetch = fetch, timeoutMs = 20_000): Promise<CheckResult> {
  return timed("bedrock-invoke", async () => {
    const res = await fetchImpl(`${baseUrl.replace(/\/+$/, "")}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "ping" }], max_tokens: 1 }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json().catch(() => ({}))) as { choices?: unknown[]; error?: { message?: string } };
    if (res.status !== 200 || !Array.isArray(body.choices)) return { ok: false, detail: `${model}: LiteLLM answered ${res.status}${body.error?.message ? `: ${body.error.message.slice(0, 200)}` : ""}` };
    return { ok: true, detail: `${model} answered through LiteLLM` };
  });
}

/** Open WebUI's ALB target health (control plane only: the canary has no path to its port). */
export function checkOpenWebUiTargets(elb: Sender, command: new (input: { TargetGroupArn: string }) => unknown, targetGroupArn: string): Promise<CheckResult> {
  return timed("openwebui-targets", async () => {
    const out = await elb.send(new command({ TargetGroupArn: targetGroupArn }));
    const states: string[] = (out.TargetHealthDescriptions ?? []).map((d: any) => d.TargetHealth?.State ?? "unknown");
    const healthy = states.filter((s) => s === "healthy").length;
    const counts = Object.entries(states.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})).map(([s, n]) => `${n} ${s}`).join(", ");
    return healthy > 0 ? { ok: true, detail: `${counts}` } : { ok: false, detail: states.length === 0 ? "no targets registered" : `no healthy target (${counts})` };
  });
}

/**
 * ECS container health of Open WebUI's own container in its running tasks (the image's
 * HEALTHCHECK, as ECS reports it per container; sidecars such as oauth2-proxy are not judged here).
 */
export function checkOpenWebUiContainers(ecs: Sender, commands: { ListTasksCommand: new (input: any) => unknown; DescribeTasksCommand: new (input: any) => unknown }, cluster: string, service: string, container = "openwebui"): Promise<CheckResult> {
  return timed("openwebui-containers", async () => {
    const list = await ecs.send(new commands.ListTasksCommand({ cluster, serviceName: service, desiredStatus: "RUNNING" }));
    const arns: string[] = list.taskArns ?? [];
    if (arns.length === 0) return { ok: false, detail: `no running task of ${service} in ${cluster}` };
    const out = await ecs.send(new commands.DescribeTasksCommand({ cluster, tasks: arns.slice(0, 100) }));
    const states: string[] = (out.tasks ?? []).map((t: any) => (t.containers ?? []).find((c: any) => c.name === container)?.healthStatus ?? "MISSING");
    const healthy = states.filter((s) => s === "HEALTHY").length;
    const unhealthy = states.filter((s) => s === "UNHEALTHY").length;
    const detail = `${container}: ${healthy} of ${states.length} running tasks HEALTHY${unhealthy ? `, ${unhealthy} UNHEALTHY` : ""}${states.includes("MISSING") ? `, ${states.filter((s) => s === "MISSING").length} without the container` : ""}`;
    return { ok: healthy > 0 && unhealthy === 0, detail };
  });
}

/** An AWS SDK error as one line. */
export function describeAwsError(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { name?: string; message?: string };
    return `${e.name ?? "Error"}: ${e.message ?? ""}`.trim();
  }
  return String(err);
}
