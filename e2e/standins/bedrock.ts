/**
 * Amazon Bedrock stand-in: one local HTTP server that plays BOTH the `bedrock-runtime` data plane
 * (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream) and the `bedrock` control
 * plane (ListFoundationModels, GetFoundationModel, ListInferenceProfiles, GetInferenceProfile).
 * The two real services live on different hosts (`bedrock-runtime.<region>.amazonaws.com` and
 * `bedrock.<region>.amazonaws.com`); their REST paths do not overlap, so pointing both endpoints
 * (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, `AWS_ENDPOINT_URL_BEDROCK`, or `endpoint` in SDK clients) at
 * this one server works.
 *
 * Shapes follow the Amazon Bedrock API Reference:
 * - Converse: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 *   (`POST /model/{modelId}/converse`; `output.message`, `stopReason`, `usage`, `metrics`).
 * - ConverseStream: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 *   (`POST /model/{modelId}/converse-stream`; events messageStart, contentBlockStart,
 *   contentBlockDelta, contentBlockStop, messageStop, metadata), framed as the AWS event stream
 *   encoding (`application/vnd.amazon.eventstream`, headers `:event-type`, `:content-type`,
 *   `:message-type`), see "Event stream encoding" in the Transcribe/S3 Select developer guides
 *   (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html); encoded with
 *   `@smithy/eventstream-codec`, the codec the SDK itself decodes with.
 * - InvokeModel: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
 *   (raw model body in and out; `X-Amzn-Bedrock-Input-Token-Count`/`-Output-Token-Count` headers).
 * - InvokeModelWithResponseStream:
 *   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html
 *   (`chunk` events whose payload is `{"bytes":"<base64 of a model stream JSON event>"}`).
 * - Model bodies (Bedrock User Guide, "Inference request parameters and response fields for
 *   foundation models", https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters.html):
 *   Anthropic Claude Messages API (model-parameters-anthropic-claude-messages.html: request
 *   `anthropic_version`, `max_tokens`, `messages`, `system`; response `{id, type:"message", role,
 *   content:[{type:"text",text}], stop_reason, usage}`; streaming events message_start …
 *   message_stop), Amazon Titan Text Embeddings (model-parameters-titan-embed-text.html: `{inputText,
 *   dimensions, normalize}` → `{embedding, inputTextTokenCount}`), Cohere Embed
 *   (model-parameters-embed.html: `{texts, input_type}` → `{embeddings, id, response_type, texts}`),
 *   Amazon Nova (messages-v1 schema, "Complete request schema" in the Nova user guide) and Meta Llama
 *   (`{prompt}` → `{generation, prompt_token_count, generation_token_count, stop_reason}`).
 * - Errors: "Common Errors" https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html
 *   and each operation's Errors section: ResourceNotFoundException (404), ValidationException (400),
 *   AccessDeniedException (403). restJson1 errors carry the code in the `x-amzn-ErrorType` header and
 *   `{"message": …}` in the body (Smithy "AWS restJson1 protocol", Operation error serialization).
 *   Unsigned requests: Common Errors lists MissingAuthenticationToken (403, "The request must contain
 *   either a valid (registered) AWS access key ID or X.509 certificate"); a non-SigV4 Authorization
 *   answers 403 UnrecognizedClientException ("The security token included in the request is
 *   invalid"), as AWS JSON services do for credentials they cannot recognize.
 * - Signature Version 4: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *   — the `Authorization: AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/<service>/aws4_request, …`
 *   header. The signature itself is NOT verified; the credential scope is parsed and recorded.
 * - ListFoundationModels: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html
 *   GetFoundationModel: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html
 *   ListInferenceProfiles: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListInferenceProfiles.html
 *   GetInferenceProfile: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetInferenceProfile.html
 *   GetFoundationModelAvailability:
 *   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModelAvailability.html
 *   (`GET /foundation-model-availability/{modelId}`; `{modelId, authorizationStatus
 *   AUTHORIZED|NOT_AUTHORIZED, entitlementAvailability AVAILABLE|NOT_AVAILABLE, regionAvailability
 *   AVAILABLE|NOT_AVAILABLE, agreementAvailability {status AVAILABLE|PENDING|NOT_AVAILABLE|ERROR,
 *   errorMessage?}}`; ResourceNotFoundException for a model it does not know). Every configured
 *   model is AUTHORIZED and AVAILABLE unless `setAvailability` says otherwise.
 * - Inference profiles ("Supported Regions and models for inference profiles",
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html): ids are
 *   the model id with a geography prefix (`us.`, `eu.`, `apac.`, `global.`, …). A model offered only
 *   through a profile answers ValidationException to on-demand invocation by its bare id
 *   ("Invocation of model ID … with on-demand throughput isn't supported. Retry your request with the
 *   ID or ARN of an inference profile that contains this model.").
 *
 * Transport: the real bedrock-runtime endpoint speaks HTTP/2 (the JS SDK's BedrockRuntimeClient uses
 * `NodeHttp2Handler`; with an `http://` endpoint that is h2c with prior knowledge) and HTTP/1.1
 * (botocore, which LiteLLM uses). This server sniffs the HTTP/2 connection preface and serves both on
 * one port.
 *
 * Not modelled: the signature check, IAM, throttling, guardrails, images/documents (accepted, not
 * read), prompt caching, provisioned throughput, Bedrock API keys (`Authorization: Bearer`).
 * Replies are deterministic (`Echo from <modelId>: <last user text>`), or whatever `respond` says.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createH2cServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { Duplex } from "node:stream";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { EventStreamCodec, type MessageHeaders } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

/** One request the fake received (after routing). */
export interface BedrockRequest {
  readonly method: string;
  readonly path: string;
  /** "2.0" (h2c, the JS SDK's default for bedrock-runtime) or "1.1" (botocore, curl). */
  readonly httpVersion: string;
  /** operation name as in the API reference, or "Unknown". */
  readonly operation: string;
  /** model id as sent in the path, URL-decoded (may be an ARN or an inference-profile id). */
  readonly modelId?: string;
  /** parsed JSON body (undefined when the body was empty or not JSON). */
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** parsed from the SigV4 credential scope, when present. */
  readonly auth?: { readonly accessKeyId: string; readonly date: string; readonly region: string; readonly service: string };
  /** HTTP status the fake answered. */
  status?: number;
}

/** What a responder sees for a chat request (Converse, ConverseStream, Anthropic/Nova/Llama invoke). */
export interface ChatContext {
  readonly operation: string;
  /** model id as sent (decoded). */
  readonly modelId: string;
  /** bare foundation-model id it resolves to. */
  readonly foundationModelId: string;
  readonly system: string;
  readonly messages: readonly { role: string; text: string }[];
  readonly lastUserText: string;
  /** tool names offered (Converse toolConfig.tools[].toolSpec.name / Anthropic tools[].name). */
  readonly tools: readonly string[];
  readonly body: unknown;
}

/** A reply: plain text, or a tool call (Converse toolUse / Anthropic tool_use). */
export type ChatReply = string | { readonly toolUse: { readonly name: string; readonly input: unknown; readonly toolUseId?: string } };

export interface BedrockOptions {
  /** model ids (bare ids like `anthropic.claude-3-5-haiku-20241022-v1:0`, or profile ids like `us.anthropic…`). */
  readonly models: readonly string[];
  readonly port?: number;
  readonly host?: string;
  readonly region?: string;
  readonly accountId?: string;
  /** delay between streamed events in ms (default 5), so streaming through proxies is observable. */
  readonly streamDelayMs?: number;
  /** words per streamed text delta (default 2). */
  readonly wordsPerDelta?: number;
  /** custom replies; return undefined to fall back to the echo. */
  readonly respond?: (ctx: ChatContext) => ChatReply | undefined;
}

export interface BedrockFake {
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly requests: BedrockRequest[];
  /** environment for processes (LiteLLM/boto3, AWS CLI, SDKs) to use this fake with dummy credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** the deterministic echo text for a model id and user text. */
  echo(modelId: string, userText: string): string;
  /** the deterministic embedding (what Titan/Cohere calls return). */
  embed(text: string, dimensions?: number, normalize?: boolean): number[];
  setResponder(fn: BedrockOptions["respond"]): void;
  addModel(modelId: string): void;
  /** Overrides what GetFoundationModelAvailability answers for a foundation model id (default: all available). */
  setAvailability(foundationModelId: string, availability: Partial<FoundationModelAvailability>): void;
  stop(): Promise<void>;
}

/** What GetFoundationModelAvailability answers (besides `modelId`). */
export interface FoundationModelAvailability {
  readonly authorizationStatus: "AUTHORIZED" | "NOT_AUTHORIZED";
  readonly entitlementAvailability: "AVAILABLE" | "NOT_AVAILABLE";
  readonly regionAvailability: "AVAILABLE" | "NOT_AVAILABLE";
  readonly agreementAvailability: { readonly status: "AVAILABLE" | "PENDING" | "NOT_AVAILABLE" | "ERROR"; readonly errorMessage?: string };
}

const GEO_PREFIXES = ["us-gov", "us", "eu", "apac", "au", "ca", "jp", "global"];
const EMBED_DEFAULT_DIMS: Record<string, number> = {
  "amazon.titan-embed-text-v2:0": 1024,
  "amazon.titan-embed-text-v1": 1536,
  "amazon.titan-embed-g1-text-02": 1536,
};
const TITAN_V2_DIMS = [256, 512, 1024];
const COHERE_DIMS = 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Splits a profile id (`us.anthropic.x`) into its geography and foundation-model id. */
function splitProfile(id: string): { geo?: string; base: string } {
  const dot = id.indexOf(".");
  if (dot > 0) {
    const geo = id.slice(0, dot);
    const rest = id.slice(dot + 1);
    if (GEO_PREFIXES.includes(geo) && rest.includes(".")) return { geo, base: rest };
  }
  return { base: id };
}

/** Resource id from a model identifier that may be an ARN (`arn:aws:bedrock:r::foundation-model/<id>`, `…:inference-profile/<id>`). */
function resourceId(identifier: string): string {
  if (!identifier.startsWith("arn:")) return identifier;
  const resource = identifier.split(":").slice(5).join(":");
  const slash = resource.indexOf("/");
  return slash >= 0 ? resource.slice(slash + 1) : resource;
}

function provider(base: string): string {
  return base.split(".")[0] ?? "";
}

function isEmbedding(base: string): boolean {
  return base.startsWith("amazon.titan-embed") || base.startsWith("cohere.embed");
}

function providerName(base: string): string {
  const p = provider(base);
  return ({ anthropic: "Anthropic", amazon: "Amazon", cohere: "Cohere", meta: "Meta", mistral: "Mistral AI", ai21: "AI21 Labs", deepseek: "DeepSeek", openai: "OpenAI" } as Record<string, string>)[p] ?? p;
}

function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function tokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.split(/\s+/).filter(Boolean).length * 1.3));
}

/**
 * Deterministic embedding: a hashed bag of words (plus word bigrams at half weight) folded into
 * `dimensions` buckets with a hash-derived sign, then L2-normalized. Texts sharing words have a
 * positive cosine similarity; identical texts embed identically.
 */
export function hashedEmbedding(text: string, dimensions = 1024, normalize = true): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const words = tokens(text);
  const add = (feature: string, weight: number): void => {
    const h = createHash("sha256").update(feature).digest();
    const idx = h.readUInt32BE(0) % dimensions;
    const sign = (h[4]! & 1) === 0 ? 1 : -1;
    v[idx]! += sign * weight;
  };
  words.forEach((w, i) => {
    add(`w:${w}`, 1);
    if (i > 0) add(`b:${words[i - 1]} ${w}`, 0.5);
  });
  if (!normalize) return v;
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b: unknown) => {
      if (!b || typeof b !== "object") return "";
      const o = b as Record<string, unknown>;
      if (typeof o.text === "string") return o.text;
      if (o.toolResult && typeof o.toolResult === "object") return textOf((o.toolResult as Record<string, unknown>).content);
      if (o.type === "tool_result") return textOf(o.content);
      if (o.json !== undefined) return JSON.stringify(o.json);
      return "";
    })
    .filter(Boolean)
    .join("\n");
}

function splitDeltas(text: string, wordsPer: number): string[] {
  const parts = text.match(/\S+\s*/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += wordsPer) out.push(parts.slice(i, i + wordsPer).join(""));
  if (out.length === 1 && text.length > 1) {
    const mid = Math.ceil(text.length / 2);
    return [text.slice(0, mid), text.slice(mid)];
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function writeHead(res: Res, status: number, headers: Record<string, string>): void {
  (res as ServerResponse).writeHead(status, headers);
}

async function readBody(req: Req): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseAuth(header: string | undefined): BedrockRequest["auth"] {
  const m = header?.match(/Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/);
  return m ? { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! } : undefined;
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new HttpError(400, "ValidationException", `Malformed input request: ${what} must be a JSON object, please reformat your input and try again.`);
  return body as Record<string, unknown>;
}

export async function start(opts: BedrockOptions): Promise<BedrockFake> {
  const region = opts.region ?? "us-east-1";
  const accountId = opts.accountId ?? "123456789012";
  const streamDelayMs = opts.streamDelayMs ?? 5;
  const wordsPerDelta = Math.max(1, opts.wordsPerDelta ?? 2);
  const models = new Set(opts.models);
  const availability = new Map<string, Partial<FoundationModelAvailability>>();
  let respond = opts.respond;
  const requests: BedrockRequest[] = [];
  const current = new WeakMap<Res, BedrockRequest>();
  const codec = new EventStreamCodec(toUtf8, fromUtf8);

  const echo = (modelId: string, userText: string) => `Echo from ${modelId}: ${userText}`;

  /** Resolves a path model identifier to the configured entry, or throws the error Bedrock gives. */
  const resolve = (identifier: string): { id: string; base: string; profile: boolean } => {
    const id = resourceId(identifier);
    const { geo, base } = splitProfile(id);
    if (models.has(id)) return { id, base, profile: geo !== undefined };
    if (geo === undefined && [...models].some((m) => splitProfile(m).base === id && splitProfile(m).geo !== undefined)) {
      throw new HttpError(
        400,
        "ValidationException",
        `Invocation of model ID ${id} with on-demand throughput isn\u2019t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
      );
    }
    throw new HttpError(404, "ResourceNotFoundException", `Could not resolve the foundation model from the provided model identifier: ${identifier}`);
  };

  const foundationModels = () => {
    const bases = new Map<string, Set<string>>();
    for (const m of models) {
      const { geo, base } = splitProfile(m);
      const types = bases.get(base) ?? new Set<string>();
      types.add(geo === undefined ? "ON_DEMAND" : "INFERENCE_PROFILE");
      bases.set(base, types);
    }
    return [...bases.entries()].map(([base, types]) => ({
      modelArn: `arn:aws:bedrock:${region}::foundation-model/${base}`,
      modelId: base,
      modelName: base.split(".").slice(1).join(".").split(":")[0]!,
      providerName: providerName(base),
      inputModalities: ["TEXT"],
      outputModalities: [isEmbedding(base) ? "EMBEDDING" : "TEXT"],
      responseStreamingSupported: !isEmbedding(base),
      customizationsSupported: [],
      inferenceTypesSupported: [...types].sort().reverse(),
      modelLifecycle: { status: "ACTIVE" },
    }));
  };

  const inferenceProfiles = () =>
    [...models]
      .filter((m) => splitProfile(m).geo !== undefined)
      .map((m) => {
        const { geo, base } = splitProfile(m);
        const regions = geo === "eu" ? ["eu-central-1", "eu-west-1", "eu-west-3"] : geo === "apac" ? ["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"] : geo === "global" ? [region] : ["us-east-1", "us-east-2", "us-west-2"];
        return {
          inferenceProfileName: `${geo!.toUpperCase()} ${base}`,
          description: `Routes requests to ${base} in ${regions.join(", ")}.`,
          createdAt: "2024-08-01T00:00:00Z",
          updatedAt: "2024-08-01T00:00:00Z",
          inferenceProfileArn: `arn:aws:bedrock:${region}:${accountId}:inference-profile/${m}`,
          models: [...new Set([region, ...regions])].map((r) => ({ modelArn: `arn:aws:bedrock:${r}::foundation-model/${base}` })),
          inferenceProfileId: m,
          status: "ACTIVE",
          type: "SYSTEM_DEFINED",
        };
      });

  const reply = (ctx: ChatContext): ChatReply => respond?.(ctx) ?? echo(ctx.modelId, ctx.lastUserText);

  const sendJson = (res: Res, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const data = Buffer.from(JSON.stringify(body));
    const rec = current.get(res);
    if (rec) rec.status = status;
    writeHead(res, status, { "content-type": "application/json", "content-length": String(data.length), "x-amzn-requestid": randomUUID(), ...headers });
    res.end(data);
  };

  const sendError = (res: Res, e: HttpError) => {
    // restJson1: the code goes in x-amzn-ErrorType (the SDK strips anything after ':'), the message in the body.
    sendJson(res, e.status, { message: e.message }, { "x-amzn-errortype": `${e.type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
  };

  const eventFrame = (eventType: string, payload: unknown): Uint8Array => {
    const headers: MessageHeaders = {
      ":event-type": { type: "string", value: eventType },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: "event" },
    };
    return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
  };

  const startStream = (res: Res) => {
    const rec = current.get(res);
    if (rec) rec.status = 200;
    // no content-length: HTTP/1.1 chunks it, HTTP/2 sends DATA frames as written
    writeHead(res, 200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": randomUUID() });
    (res as { flushHeaders?: () => void }).flushHeaders?.();
  };

  const writeEvents = async (res: Res, events: [string, unknown][]) => {
    for (const [type, payload] of events) {
      if (res.destroyed) return;
      (res as ServerResponse).write(eventFrame(type, payload));
      if (streamDelayMs > 0) await sleep(streamDelayMs);
    }
    res.end();
  };

  /** Converse-shaped messages → chat context. */
  const converseContext = (operation: string, modelId: string, base: string, b: Record<string, unknown>): ChatContext => {
    const messages = b.messages;
    if (!Array.isArray(messages) || messages.length === 0) throw new HttpError(400, "ValidationException", "The model returned the following errors: messages: at least one message is required");
    const msgs = messages.map((m: unknown, i: number) => {
      const o = asObject(m, `messages.${i}`);
      if (o.role !== "user" && o.role !== "assistant") throw new HttpError(400, "ValidationException", `1 validation error detected: Value '${String(o.role)}' at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`);
      if (!Array.isArray(o.content)) throw new HttpError(400, "ValidationException", `messages.${i}.content must be a list of content blocks`);
      return { role: o.role, text: textOf(o.content) };
    });
    if (msgs[0]!.role !== "user") throw new HttpError(400, "ValidationException", "A conversation must start with a user message. Try again with a conversation that starts with a user message.");
    for (let i = 1; i < msgs.length; i++) {
      if (msgs[i]!.role === msgs[i - 1]!.role) throw new HttpError(400, "ValidationException", "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant turns and try again.");
    }
    const system = Array.isArray(b.system) ? textOf(b.system) : "";
    const toolConfig = b.toolConfig as { tools?: { toolSpec?: { name?: string } }[] } | undefined;
    const tools = (toolConfig?.tools ?? []).map((t) => t.toolSpec?.name).filter((n): n is string => typeof n === "string");
    const lastUser = [...msgs].reverse().find((m) => m.role === "user")!;
    return { operation, modelId, foundationModelId: base, system, messages: msgs, lastUserText: lastUser.text, tools, body: b };
  };

  const anthropicContext = (operation: string, modelId: string, base: string, b: Record<string, unknown>): ChatContext => {
    for (const k of ["anthropic_version", "max_tokens", "messages"]) {
      if (b[k] === undefined) throw new HttpError(400, "ValidationException", `Malformed input request: #: required key [${k}] not found, please reformat your input and try again.`);
    }
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw new HttpError(400, "ValidationException", "Malformed input request: #/messages: expected minimum item count: 1, please reformat your input and try again.");
    const msgs = b.messages.map((m: unknown, i: number) => {
      const o = asObject(m, `messages.${i}`);
      if (o.role !== "user" && o.role !== "assistant") throw new HttpError(400, "ValidationException", `Malformed input request: #/messages/${i}/role: ${String(o.role)} is not a valid enum value, please reformat your input and try again.`);
      return { role: o.role, text: textOf(o.content) };
    });
    const system = typeof b.system === "string" ? b.system : textOf(b.system);
    const tools = Array.isArray(b.tools) ? b.tools.map((t: { name?: unknown }) => t?.name).filter((n): n is string => typeof n === "string") : [];
    const lastUser = [...msgs].reverse().find((m) => m.role === "user") ?? msgs[msgs.length - 1]!;
    return { operation, modelId, foundationModelId: base, system, messages: msgs, lastUserText: lastUser.text, tools, body: b };
  };

  const usageOf = (ctx: ChatContext, out: string) => {
    const inputTokens = tokenCount([ctx.system, ...ctx.messages.map((m) => m.text)].join(" "));
    const outputTokens = tokenCount(out);
    return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  };

  // ---- operations ----------------------------------------------------------------------------

  const converse = (res: Res, modelId: string, base: string, body: unknown) => {
    if (isEmbedding(base)) throw new HttpError(400, "ValidationException", "This action doesn't support the model that you provided. Try again with a supported text or chat model.");
    const ctx = converseContext("Converse", modelId, base, asObject(body, "body"));
    const r = reply(ctx);
    const content = typeof r === "string" ? [{ text: r }] : [{ toolUse: { toolUseId: r.toolUse.toolUseId ?? `tooluse_${randomUUID().replace(/-/g, "").slice(0, 22)}`, name: r.toolUse.name, input: r.toolUse.input } }];
    const outText = typeof r === "string" ? r : JSON.stringify(r.toolUse.input);
    sendJson(res, 200, {
      output: { message: { role: "assistant", content } },
      stopReason: typeof r === "string" ? "end_turn" : "tool_use",
      usage: usageOf(ctx, outText),
      metrics: { latencyMs: 1 },
    });
  };

  const converseStream = async (res: Res, modelId: string, base: string, body: unknown) => {
    if (isEmbedding(base)) throw new HttpError(400, "ValidationException", "This action doesn't support the model that you provided. Try again with a supported text or chat model.");
    const ctx = converseContext("ConverseStream", modelId, base, asObject(body, "body"));
    const r = reply(ctx);
    const events: [string, unknown][] = [["messageStart", { role: "assistant" }]];
    let outText: string;
    if (typeof r === "string") {
      outText = r;
      for (const d of splitDeltas(r, wordsPerDelta)) events.push(["contentBlockDelta", { contentBlockIndex: 0, delta: { text: d } }]);
    } else {
      outText = JSON.stringify(r.toolUse.input);
      const toolUseId = r.toolUse.toolUseId ?? `tooluse_${randomUUID().replace(/-/g, "").slice(0, 22)}`;
      events.push(["contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId, name: r.toolUse.name } } }]);
      for (const d of splitDeltas(outText, 1)) events.push(["contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: d } } }]);
    }
    events.push(["contentBlockStop", { contentBlockIndex: 0 }]);
    events.push(["messageStop", { stopReason: typeof r === "string" ? "end_turn" : "tool_use" }]);
    events.push(["metadata", { usage: usageOf(ctx, outText), metrics: { latencyMs: 1 } }]);
    startStream(res);
    await writeEvents(res, events);
  };

  /** InvokeModel body → [response JSON, stream chunks (model-native events), token counts]. */
  const invokeBody = (modelId: string, base: string, raw: unknown, streaming: boolean): { response: unknown; chunks: unknown[]; inTokens: number; outTokens: number } => {
    const b = asObject(raw, "body");
    const p = provider(base);
    if (base.startsWith("amazon.titan-embed")) {
      if (streaming) throw new HttpError(400, "ValidationException", "The model is unsupported for streaming");
      if (typeof b.inputText !== "string" || b.inputText.length === 0) throw new HttpError(400, "ValidationException", "Malformed input request: #/inputText: expected minLength: 1, actual: 0, please reformat your input and try again.");
      const isV2 = base.startsWith("amazon.titan-embed-text-v2");
      const dims = b.dimensions === undefined ? (EMBED_DEFAULT_DIMS[base] ?? 1024) : Number(b.dimensions);
      if (isV2 && !TITAN_V2_DIMS.includes(dims)) throw new HttpError(400, "ValidationException", `Malformed input request: #/dimensions: ${String(b.dimensions)} is not a valid enum value, please reformat your input and try again.`);
      if (!isV2 && b.dimensions !== undefined) throw new HttpError(400, "ValidationException", "Malformed input request: extraneous key [dimensions] is not permitted, please reformat your input and try again.");
      const normalize = isV2 ? b.normalize !== false : true;
      const embedding = hashedEmbedding(b.inputText, dims, normalize);
      const n = tokenCount(b.inputText);
      return { response: isV2 ? { embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: n } : { embedding, inputTextTokenCount: n }, chunks: [], inTokens: n, outTokens: 0 };
    }
    if (base.startsWith("cohere.embed")) {
      if (streaming) throw new HttpError(400, "ValidationException", "The model is unsupported for streaming");
      if (!Array.isArray(b.texts) || b.texts.length === 0 || b.texts.some((t) => typeof t !== "string")) throw new HttpError(400, "ValidationException", "Malformed input request: #/texts: expected type: JSONArray of strings, please reformat your input and try again.");
      if (typeof b.input_type !== "string") throw new HttpError(400, "ValidationException", "Malformed input request: #: required key [input_type] not found, please reformat your input and try again.");
      const texts = b.texts as string[];
      const embeddings = texts.map((t) => hashedEmbedding(t, COHERE_DIMS));
      const n = texts.reduce((s, t) => s + tokenCount(t), 0);
      return { response: { embeddings, id: randomUUID(), response_type: "embeddings_floats", texts }, chunks: [], inTokens: n, outTokens: 0 };
    }
    if (p === "anthropic") {
      const ctx = anthropicContext(streaming ? "InvokeModelWithResponseStream" : "InvokeModel", modelId, base, b);
      const r = reply(ctx);
      const u = usageOf(ctx, typeof r === "string" ? r : JSON.stringify(r.toolUse.input));
      const id = `msg_bdrk_${randomUUID().replace(/-/g, "").slice(0, 24)}`;
      const block = typeof r === "string" ? { type: "text", text: r } : { type: "tool_use", id: r.toolUse.toolUseId ?? `toolu_bdrk_${randomUUID().replace(/-/g, "").slice(0, 24)}`, name: r.toolUse.name, input: r.toolUse.input };
      const stopReason = typeof r === "string" ? "end_turn" : "tool_use";
      const response = { id, type: "message", role: "assistant", model: base, content: [block], stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: u.inputTokens, output_tokens: u.outputTokens } };
      const chunks: unknown[] = [
        { type: "message_start", message: { id, type: "message", role: "assistant", model: base, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: u.inputTokens, output_tokens: 1 } } },
        typeof r === "string" ? { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } : { type: "content_block_start", index: 0, content_block: { ...block, input: {} } },
        ...(typeof r === "string"
          ? splitDeltas(r, wordsPerDelta).map((text) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }))
          : [{ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: JSON.stringify(r.toolUse.input) } }]),
        { type: "content_block_stop", index: 0 },
        { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: u.outputTokens } },
        { type: "message_stop", "amazon-bedrock-invocationMetrics": { inputTokenCount: u.inputTokens, outputTokenCount: u.outputTokens, invocationLatency: 1, firstByteLatency: 1 } },
      ];
      return { response, chunks, inTokens: u.inputTokens, outTokens: u.outputTokens };
    }
    if (base.startsWith("amazon.nova")) {
      const ctx = converseContext(streaming ? "InvokeModelWithResponseStream" : "InvokeModel", modelId, base, b);
      const r = reply(ctx);
      const text = typeof r === "string" ? r : JSON.stringify(r.toolUse.input);
      const u = usageOf(ctx, text);
      const response = { output: { message: { role: "assistant", content: [{ text }] } }, stopReason: "end_turn", usage: u };
      const chunks: unknown[] = [
        { messageStart: { role: "assistant" } },
        ...splitDeltas(text, wordsPerDelta).map((t) => ({ contentBlockDelta: { delta: { text: t }, contentBlockIndex: 0 } })),
        { contentBlockStop: { contentBlockIndex: 0 } },
        { messageStop: { stopReason: "end_turn" } },
        { metadata: { usage: { inputTokens: u.inputTokens, outputTokens: u.outputTokens } }, "amazon-bedrock-invocationMetrics": { inputTokenCount: u.inputTokens, outputTokenCount: u.outputTokens, invocationLatency: 1, firstByteLatency: 1 } },
      ];
      return { response, chunks, inTokens: u.inputTokens, outTokens: u.outputTokens };
    }
    if (p === "meta") {
      if (typeof b.prompt !== "string") throw new HttpError(400, "ValidationException", "Malformed input request: #: required key [prompt] not found, please reformat your input and try again.");
      const ctx: ChatContext = { operation: streaming ? "InvokeModelWithResponseStream" : "InvokeModel", modelId, foundationModelId: base, system: "", messages: [{ role: "user", text: b.prompt }], lastUserText: b.prompt, tools: [], body: b };
      const r = reply(ctx);
      const text = typeof r === "string" ? r : JSON.stringify(r.toolUse.input);
      const u = usageOf(ctx, text);
      const response = { generation: text, prompt_token_count: u.inputTokens, generation_token_count: u.outputTokens, stop_reason: "stop" };
      const parts = splitDeltas(text, wordsPerDelta);
      const chunks = parts.map((g, i) => ({ generation: g, prompt_token_count: i === 0 ? u.inputTokens : null, generation_token_count: i + 1, stop_reason: i === parts.length - 1 ? "stop" : null }));
      return { response, chunks, inTokens: u.inputTokens, outTokens: u.outputTokens };
    }
    throw new HttpError(400, "ValidationException", `The stand-in has no InvokeModel body format for ${base}; use Converse.`);
  };

  const invoke = (res: Res, modelId: string, base: string, body: unknown) => {
    const { response, inTokens, outTokens } = invokeBody(modelId, base, body, false);
    sendJson(res, 200, response, { "x-amzn-bedrock-input-token-count": String(inTokens), "x-amzn-bedrock-output-token-count": String(outTokens), "x-amzn-bedrock-invocation-latency": "1" });
  };

  const invokeStream = async (res: Res, modelId: string, base: string, body: unknown) => {
    const { chunks } = invokeBody(modelId, base, body, true);
    startStream(res);
    await writeEvents(res, chunks.map((c) => ["chunk", { bytes: Buffer.from(JSON.stringify(c)).toString("base64") }]));
  };

  // ---- routing --------------------------------------------------------------------------------

  const handle = async (req: Req, res: Res): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    let body: unknown;
    let jsonError = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        jsonError = true;
      }
    }
    const runtime = path.match(/^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/);
    const operation = runtime
      ? ({ converse: "Converse", "converse-stream": "ConverseStream", invoke: "InvokeModel", "invoke-with-response-stream": "InvokeModelWithResponseStream" } as Record<string, string>)[runtime[2]!]!
      : path === "/foundation-models"
        ? "ListFoundationModels"
        : path.startsWith("/foundation-models/")
          ? "GetFoundationModel"
          : path === "/inference-profiles"
            ? "ListInferenceProfiles"
            : path.startsWith("/inference-profiles/")
              ? "GetInferenceProfile"
              : path.startsWith("/foundation-model-availability/")
                ? "GetFoundationModelAvailability"
                : "Unknown";
    let modelId: string | undefined;
    try {
      modelId = runtime ? decodeURIComponent(runtime[1]!) : undefined;
    } catch {
      modelId = runtime?.[1];
    }
    const record: BedrockRequest = { method, path, httpVersion: req.httpVersion, operation, modelId, body, headers: req.headers, auth: parseAuth(req.headers.authorization) };
    requests.push(record);
    current.set(res, record);

    try {
      const authz = req.headers.authorization;
      if (!authz) throw new HttpError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
      if (!authz.startsWith("AWS4-HMAC-SHA256 ")) throw new HttpError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");

      if (runtime) {
        if (method !== "POST") throw new HttpError(405, "UnknownOperationException", `${method} is not allowed on ${path}`);
        if (jsonError) throw new HttpError(400, "ValidationException", "Malformed input request: body is not valid JSON, please reformat your input and try again.");
        const { id, base } = resolve(modelId!);
        const shownId = id;
        switch (operation) {
          case "Converse":
            return converse(res, shownId, base, body);
          case "ConverseStream":
            return await converseStream(res, shownId, base, body);
          case "InvokeModel":
            return invoke(res, shownId, base, body);
          default:
            return await invokeStream(res, shownId, base, body);
        }
      }
      if (method !== "GET") throw new HttpError(404, "UnknownOperationException", `No operation for ${method} ${path}`);
      if (operation === "ListFoundationModels") {
        let list = foundationModels();
        const byProvider = url.searchParams.get("byProvider");
        const byOutput = url.searchParams.get("byOutputModality");
        const byInference = url.searchParams.get("byInferenceType");
        if (byProvider) list = list.filter((m) => m.providerName.toLowerCase() === byProvider.toLowerCase() || provider(m.modelId) === byProvider.toLowerCase());
        if (byOutput) list = list.filter((m) => m.outputModalities.includes(byOutput));
        if (byInference) list = list.filter((m) => m.inferenceTypesSupported.includes(byInference));
        return sendJson(res, 200, { modelSummaries: list });
      }
      if (operation === "GetFoundationModel") {
        const id = resourceId(decodeURIComponent(path.slice("/foundation-models/".length)));
        const m = foundationModels().find((f) => f.modelId === id);
        if (!m) throw new HttpError(404, "ResourceNotFoundException", `The model ${id} does not exist.`);
        return sendJson(res, 200, { modelDetails: m });
      }
      if (operation === "ListInferenceProfiles") {
        const type = url.searchParams.get("type");
        const list = inferenceProfiles().filter((p) => !type || p.type === type);
        return sendJson(res, 200, { inferenceProfileSummaries: list });
      }
      if (operation === "GetInferenceProfile") {
        const id = resourceId(decodeURIComponent(path.slice("/inference-profiles/".length)));
        const p = inferenceProfiles().find((f) => f.inferenceProfileId === id);
        if (!p) throw new HttpError(404, "ResourceNotFoundException", `Inference profile ${id} not found.`);
        return sendJson(res, 200, p);
      }
      if (operation === "GetFoundationModelAvailability") {
        const id = resourceId(decodeURIComponent(path.slice("/foundation-model-availability/".length)));
        if (!foundationModels().some((f) => f.modelId === id)) throw new HttpError(404, "ResourceNotFoundException", `The model ${id} does not exist.`);
        const a = availability.get(id) ?? {};
        return sendJson(res, 200, {
          modelId: id,
          authorizationStatus: a.authorizationStatus ?? "AUTHORIZED",
          entitlementAvailability: a.entitlementAvailability ?? "AVAILABLE",
          regionAvailability: a.regionAvailability ?? "AVAILABLE",
          agreementAvailability: a.agreementAvailability ?? { status: "AVAILABLE" },
        });
      }
      throw new HttpError(404, "UnknownOperationException", `No operation for ${method} ${path}`);
    } catch (e) {
      if (res.headersSent) {
        res.destroy(e as Error);
        return;
      }
      if (e instanceof HttpError) return sendError(res, e);
      return sendError(res, new HttpError(500, "InternalServerException", (e as Error).message));
    }
  };

  const onRequest = (req: Req, res: Res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, new HttpError(500, "InternalServerException", String(e)));
      else res.destroy();
    });
  };
  const h1 = createServer(onRequest);
  const h2 = createH2cServer(onRequest);
  const sockets = new Set<Socket>();
  // One port, both protocols: a connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0") goes to the h2c server.
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (first: Buffer) => {
      socket.pause();
      if (first.subarray(0, 3).toString("latin1") !== "PRI") {
        socket.unshift(first);
        h1.emit("connection", socket);
        socket.resume();
        return;
      }
      // nghttp2 reads from the socket's native handle and would miss the bytes already read, so
      // hand it a JS duplex over the socket (served through Node's JSStreamSocket path instead).
      const wrapped = new Duplex({
        read: () => {
          socket.resume();
        },
        write: (chunk: Buffer, _enc, cb) => {
          socket.write(chunk, cb);
        },
        final: (cb) => {
          socket.end(cb);
        },
        destroy: (err, cb) => {
          socket.destroy(err ?? undefined);
          cb(err);
        },
      });
      Object.assign(wrapped, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, remoteFamily: socket.remoteFamily, localAddress: socket.localAddress, localPort: socket.localPort });
      socket.on("data", (d: Buffer) => {
        if (!wrapped.push(d)) socket.pause();
      });
      socket.on("end", () => wrapped.push(null));
      socket.on("close", () => wrapped.destroy());
      socket.on("error", (e) => wrapped.destroy(e));
      wrapped.push(first);
      h2.emit("connection", wrapped);
    });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;

  return {
    url,
    port,
    region,
    requests,
    env: {
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url,
      AWS_ENDPOINT_URL_BEDROCK: url,
      AWS_ACCESS_KEY_ID: "AKIAE2ESTANDIN000000",
      AWS_SECRET_ACCESS_KEY: "e2e-standin-secret",
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
    },
    echo,
    embed: (text, dimensions = 1024, normalize = true) => hashedEmbedding(text, dimensions, normalize),
    setResponder: (fn) => {
      respond = fn;
    },
    addModel: (id) => {
      models.add(id);
    },
    setAvailability: (id, a) => {
      availability.set(id, { ...availability.get(id), ...a });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
