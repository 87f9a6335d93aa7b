/**
 * What the gateway's chat catalog may list: Bedrock models that answer a chat request as
 * configured. Two kinds of catalog entry pass the id check but fail at the first request:
 *
 * - a model Bedrock serves only through a cross-region inference profile, listed by its bare
 *   foundation-model id: InvokeModel answers "Invocation of model ID … with on-demand throughput
 *   isn't supported" (Bedrock User Guide, "Supported Regions and models for inference profiles",
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html, and each
 *   model card's "on-demand" row);
 * - a model that does not chat (embeddings, images, video, rerank): Open WebUI lists it in the
 *   model picker and the first message fails.
 */

/** Bedrock model providers the model-id check accepts (the part before the first `.` of a model id). */
export const BEDROCK_PROVIDERS = ["ai21", "amazon", "anthropic", "cohere", "deepseek", "meta", "mistral", "openai", "qwen", "stability", "writer"] as const;
/** Cross-region inference profile prefixes, and the region family each may be called from. */
export const INFERENCE_PROFILE_PREFIXES: Readonly<Record<string, RegExp>> = { us: /^us-/, eu: /^eu-/, apac: /^ap-/, global: /./ };
/** `[<profile>.]<provider>.<model>[:N[:Nk]]`, e.g. `us.anthropic.claude-3-7-sonnet-20250219-v1:0` or `amazon.titan-text-express-v1`. */
export const BEDROCK_MODEL_ID_RE = /^(?:(us|eu|apac|global)\.)?([a-z0-9]+)\.([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::\d+)?(?::\d+k)?$/;

/** Foundation models with no in-region on-demand throughput, and the regions that are exceptions. */
const PROFILE_ONLY: readonly { readonly family: string; readonly re: RegExp; readonly onDemandIn: readonly string[] }[] = [
  { family: "Claude 3.7 Sonnet", re: /^anthropic\.claude-3-7-/, onDemandIn: [] },
  { family: "Claude 4 (Sonnet, Opus, Haiku 4.x)", re: /^anthropic\.claude-(sonnet|opus|haiku)-4/, onDemandIn: [] },
  { family: "Claude 3.5 Haiku", re: /^anthropic\.claude-3-5-haiku-/, onDemandIn: ["us-west-2"] },
  { family: "Llama 4", re: /^meta\.llama4-/, onDemandIn: [] },
  { family: "DeepSeek-R1", re: /^deepseek\.r1-/, onDemandIn: [] },
  { family: "Amazon Nova Premier", re: /^amazon\.nova-premier-/, onDemandIn: [] },
  { family: "Mistral Pixtral Large", re: /^mistral\.pixtral-large-/, onDemandIn: [] },
  { family: "Writer Palmyra", re: /^writer\.palmyra-/, onDemandIn: [] },
];

/** Models that do not answer chat requests: [kind, pattern]. */
const NOT_CHAT: readonly [string, RegExp][] = [
  ["an embedding model", /^(amazon\.titan-embed|cohere\.embed|amazon\.nova-[a-z0-9-]*embed)/],
  ["a rerank model", /^(cohere|amazon)\.rerank/],
  ["an image model", /^(stability\.|amazon\.titan-image|amazon\.nova-canvas)/],
  ["a video model", /^amazon\.nova-reel/],
];

/** The inference-profile prefix of `region`'s geography. */
export function profilePrefixFor(region: string): "us" | "eu" | "apac" | undefined {
  if (/^us-/.test(region)) return "us";
  if (/^eu-/.test(region)) return "eu";
  if (/^ap-/.test(region)) return "apac";
  return undefined;
}

/** Why a bare foundation-model id cannot be invoked on demand in `region`, or undefined. */
export function needsInferenceProfile(foundationModelId: string, region: string): string | undefined {
  const hit = PROFILE_ONLY.find((p) => p.re.test(foundationModelId) && !p.onDemandIn.includes(region));
  if (!hit) return undefined;
  const where = hit.onDemandIn.length > 0 ? ` outside ${hit.onDemandIn.join(", ")}` : "";
  return `${hit.family} has no on-demand throughput${where}, so Bedrock answers "on-demand throughput isn't supported" unless it is called through an inference profile`;
}

/** What kind of non-chat model `foundationModelId` is, or undefined for a chat model. */
export function notChatModel(foundationModelId: string): string | undefined {
  return NOT_CHAT.find(([, re]) => re.test(foundationModelId))?.[0];
}
