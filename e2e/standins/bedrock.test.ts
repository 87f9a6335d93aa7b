import { BedrockClient, GetFoundationModelCommand, ListFoundationModelsCommand, ListInferenceProfilesCommand } from "@aws-sdk/client-bedrock";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashedEmbedding, start, type BedrockFake } from "./bedrock.js";

const HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET_PROFILE = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const TITAN = "amazon.titan-embed-text-v2:0";
const COHERE = "cohere.embed-english-v3";
const credentials = { accessKeyId: "AKIAE2ETEST000000000", secretAccessKey: "dummy" };

const hasBoto3 = spawnSync("python3", ["-c", "import boto3"], { stdio: "ignore" }).status === 0;

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));

describe("bedrock stand-in", () => {
  let fake: BedrockFake;
  let runtime: BedrockRuntimeClient;
  let control: BedrockClient;

  beforeAll(async () => {
    fake = await start({ models: [HAIKU, SONNET_PROFILE, TITAN, COHERE, "amazon.nova-lite-v1:0"], streamDelayMs: 1 });
    runtime = new BedrockRuntimeClient({ region: "us-east-1", endpoint: fake.url, credentials, maxAttempts: 1 });
    control = new BedrockClient({ region: "us-east-1", endpoint: fake.url, credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    runtime?.destroy();
    control?.destroy();
    await fake?.stop();
  });

  it("binds 127.0.0.1 on an ephemeral port", () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.port).toBeGreaterThan(0);
  });

  it("Converse round-trips the last user message through the real SDK", async () => {
    const out = await runtime.send(
      new ConverseCommand({
        modelId: HAIKU,
        system: [{ text: "be brief" }],
        messages: [
          { role: "user", content: [{ text: "first" }] },
          { role: "assistant", content: [{ text: "ok" }] },
          { role: "user", content: [{ text: "hello bedrock" }] },
        ],
        inferenceConfig: { maxTokens: 100 },
      }),
    );
    expect(out.output?.message?.role).toBe("assistant");
    expect(out.output?.message?.content?.[0]?.text).toBe(`Echo from ${HAIKU}: hello bedrock`);
    expect(out.stopReason).toBe("end_turn");
    expect(out.usage?.totalTokens).toBe((out.usage?.inputTokens ?? 0) + (out.usage?.outputTokens ?? 0));
    const rec = fake.requests.at(-1)!;
    expect(rec.operation).toBe("Converse");
    expect(rec.modelId).toBe(HAIKU);
    expect(rec.path).toBe(`/model/${encodeURIComponent(HAIKU)}/converse`);
    expect(rec.auth).toMatchObject({ accessKeyId: credentials.accessKeyId, region: "us-east-1", service: "bedrock" });
    expect(rec.httpVersion).toBe("2.0"); // the SDK's NodeHttp2Handler, h2c on an http:// endpoint
    expect((rec.body as { system: unknown }).system).toEqual([{ text: "be brief" }]);
  });

  it("ConverseStream sends messageStart, several deltas, stop and metadata as an event stream", async () => {
    const out = await runtime.send(new ConverseStreamCommand({ modelId: SONNET_PROFILE, messages: [{ role: "user", content: [{ text: "stream me a reply please" }] }] }));
    const events: ConverseStreamOutput[] = [];
    for await (const ev of out.stream!) events.push(ev);
    const kinds = events.map((e) => Object.keys(e).find((k) => (e as unknown as Record<string, unknown>)[k] !== undefined));
    expect(kinds[0]).toBe("messageStart");
    expect(kinds.slice(-3)).toEqual(["contentBlockStop", "messageStop", "metadata"]);
    const deltas = events.flatMap((e) => (e.contentBlockDelta?.delta?.text !== undefined ? [e.contentBlockDelta.delta.text] : []));
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join("")).toBe(`Echo from ${SONNET_PROFILE}: stream me a reply please`);
    expect(events.at(-2)?.messageStop?.stopReason).toBe("end_turn");
    expect(events.at(-1)?.metadata?.usage?.outputTokens).toBeGreaterThan(0);
  });

  it("ConverseStream can stream a tool call from a custom responder", async () => {
    fake.setResponder((ctx) => (ctx.tools.includes("get_time") ? { toolUse: { name: "get_time", input: { tz: "UTC" } } } : undefined));
    try {
      const out = await runtime.send(
        new ConverseStreamCommand({
          modelId: HAIKU,
          messages: [{ role: "user", content: [{ text: "what time is it" }] }],
          toolConfig: { tools: [{ toolSpec: { name: "get_time", inputSchema: { json: { type: "object" } } } }] },
        }),
      );
      let name: string | undefined;
      let input = "";
      let stop: string | undefined;
      for await (const ev of out.stream!) {
        name ??= ev.contentBlockStart?.start?.toolUse?.name;
        input += ev.contentBlockDelta?.delta?.toolUse?.input ?? "";
        stop ??= ev.messageStop?.stopReason;
      }
      expect(name).toBe("get_time");
      expect(JSON.parse(input)).toEqual({ tz: "UTC" });
      expect(stop).toBe("tool_use");
    } finally {
      fake.setResponder(undefined);
    }
  });

  it("accepts inference-profile ARNs and foundation-model ARNs (URL-encoded in the path)", async () => {
    const arn = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${SONNET_PROFILE}`;
    const out = await runtime.send(new ConverseCommand({ modelId: arn, messages: [{ role: "user", content: [{ text: "via arn" }] }] }));
    expect(out.output?.message?.content?.[0]?.text).toBe(`Echo from ${SONNET_PROFILE}: via arn`);
    expect(fake.requests.at(-1)!.modelId).toBe(arn);
    expect(fake.requests.at(-1)!.path).toContain("arn%3Aaws%3Abedrock");
    const fm = await runtime.send(new ConverseCommand({ modelId: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}`, messages: [{ role: "user", content: [{ text: "x" }] }] }));
    expect(fm.output?.message?.content?.[0]?.text).toBe(`Echo from ${HAIKU}: x`);
  });

  it("answers ResourceNotFoundException for unknown models and ValidationException for bad bodies and profile-only models", async () => {
    await expect(runtime.send(new ConverseCommand({ modelId: "anthropic.claude-v2", messages: [{ role: "user", content: [{ text: "x" }] }] }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      $metadata: { httpStatusCode: 404 },
    });
    await expect(runtime.send(new ConverseCommand({ modelId: HAIKU, messages: [{ role: "assistant", content: [{ text: "x" }] }] }))).rejects.toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
    // the Sonnet 4 entry is a profile only: its bare id has no on-demand throughput
    await expect(runtime.send(new ConverseCommand({ modelId: "anthropic.claude-sonnet-4-20250514-v1:0", messages: [{ role: "user", content: [{ text: "x" }] }] }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("inference profile"),
    });
    await expect(runtime.send(new InvokeModelCommand({ modelId: HAIKU, body: JSON.stringify({ messages: [] }), contentType: "application/json" }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("anthropic_version"),
    });
    await expect(runtime.send(new InvokeModelCommand({ modelId: TITAN, body: "{not json", contentType: "application/json" }))).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("requires a SigV4 Authorization header (not verified)", async () => {
    const path = `/model/${encodeURIComponent(HAIKU)}/converse`;
    const body = JSON.stringify({ messages: [{ role: "user", content: [{ text: "x" }] }] });
    const none = await fetch(fake.url + path, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(none.status).toBe(403);
    expect(none.headers.get("x-amzn-errortype")).toMatch(/^MissingAuthenticationTokenException:/);
    const bearer = await fetch(fake.url + path, { method: "POST", body, headers: { "content-type": "application/json", authorization: "Bearer abc" } });
    expect(bearer.status).toBe(403);
    expect(bearer.headers.get("x-amzn-errortype")).toMatch(/^UnrecognizedClientException:/);
    expect(await bearer.json()).toEqual({ message: expect.any(String) });
    const forged = await fetch(fake.url + path, { method: "POST", body, headers: { "content-type": "application/json", authorization: "AWS4-HMAC-SHA256 Credential=AKIDX/20250101/eu-west-1/bedrock/aws4_request, SignedHeaders=host, Signature=00" } });
    expect(forged.status).toBe(200);
    expect(fake.requests.at(-1)!.auth).toEqual({ accessKeyId: "AKIDX", date: "20250101", region: "eu-west-1", service: "bedrock" });
  });

  it("InvokeModel: Titan v2 embeddings are deterministic, sized and similar for similar texts", async () => {
    const embed = async (inputText: string, extra: Record<string, unknown> = {}) => {
      const out = await runtime.send(new InvokeModelCommand({ modelId: TITAN, contentType: "application/json", accept: "application/json", body: JSON.stringify({ inputText, ...extra }) }));
      return JSON.parse(new TextDecoder().decode(out.body)) as { embedding: number[]; inputTextTokenCount: number };
    };
    const a = await embed("The quick brown fox jumps over the lazy dog");
    const a2 = await embed("The quick brown fox jumps over the lazy dog");
    const b = await embed("A quick brown fox jumped over a lazy dog");
    const c = await embed("Quarterly revenue grew in the European market");
    expect(a.embedding).toHaveLength(1024);
    expect(a.embedding).toEqual(a2.embedding);
    expect(a.inputTextTokenCount).toBeGreaterThan(0);
    expect(Math.hypot(...a.embedding)).toBeCloseTo(1, 6);
    expect(cosine(a.embedding, b.embedding)).toBeGreaterThan(0.4);
    expect(cosine(a.embedding, b.embedding)).toBeGreaterThan(cosine(a.embedding, c.embedding) + 0.3);
    expect((await embed("short", { dimensions: 256 })).embedding).toHaveLength(256);
    await expect(embed("short", { dimensions: 300 })).rejects.toMatchObject({ name: "ValidationException" });
    expect(a.embedding).toEqual(fake.embed("The quick brown fox jumps over the lazy dog"));
  });

  it("InvokeModel: Cohere embed and Anthropic messages bodies", async () => {
    const co = await runtime.send(new InvokeModelCommand({ modelId: COHERE, contentType: "application/json", body: JSON.stringify({ texts: ["alpha beta", "gamma"], input_type: "search_document" }) }));
    const cj = JSON.parse(new TextDecoder().decode(co.body)) as { embeddings: number[][]; id: string; response_type: string; texts: string[] };
    expect(cj.response_type).toBe("embeddings_floats");
    expect(cj.texts).toEqual(["alpha beta", "gamma"]);
    expect(cj.embeddings).toHaveLength(2);
    expect(cj.embeddings[0]).toEqual(hashedEmbedding("alpha beta", 1024));

    const an = await runtime.send(
      new InvokeModelCommand({ modelId: HAIKU, contentType: "application/json", body: JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 50, messages: [{ role: "user", content: [{ type: "text", text: "hi claude" }] }] }) }),
    );
    const aj = JSON.parse(new TextDecoder().decode(an.body)) as { type: string; role: string; content: { type: string; text: string }[]; stop_reason: string; usage: { input_tokens: number } };
    expect(aj).toMatchObject({ type: "message", role: "assistant", stop_reason: "end_turn", content: [{ type: "text", text: `Echo from ${HAIKU}: hi claude` }] });
    expect(aj.usage.input_tokens).toBeGreaterThan(0);
  });

  it("InvokeModelWithResponseStream streams Anthropic events as base64 chunks", async () => {
    const out = await runtime.send(
      new InvokeModelWithResponseStreamCommand({ modelId: HAIKU, contentType: "application/json", body: JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 50, messages: [{ role: "user", content: "stream the invoke path" }] }) }),
    );
    const chunks: { type: string; delta?: { text?: string } }[] = [];
    for await (const ev of out.body!) if (ev.chunk?.bytes) chunks.push(JSON.parse(new TextDecoder().decode(ev.chunk.bytes)));
    expect(chunks[0]!.type).toBe("message_start");
    expect(chunks.at(-1)!.type).toBe("message_stop");
    const text = chunks.filter((c) => c.type === "content_block_delta").map((c) => c.delta!.text).join("");
    expect(text).toBe(`Echo from ${HAIKU}: stream the invoke path`);
  });

  it("control plane: ListFoundationModels, GetFoundationModel and ListInferenceProfiles parse in the real SDK", async () => {
    const list = await control.send(new ListFoundationModelsCommand({}));
    const ids = list.modelSummaries!.map((m) => m.modelId).sort();
    expect(ids).toEqual(["amazon.nova-lite-v1:0", TITAN, "anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0", COHERE].sort());
    const sonnet = list.modelSummaries!.find((m) => m.modelId === "anthropic.claude-sonnet-4-20250514-v1:0")!;
    expect(sonnet).toMatchObject({ providerName: "Anthropic", inferenceTypesSupported: ["INFERENCE_PROFILE"], modelLifecycle: { status: "ACTIVE" }, responseStreamingSupported: true });
    expect(sonnet.modelArn).toBe("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0");
    expect(list.modelSummaries!.find((m) => m.modelId === TITAN)).toMatchObject({ outputModalities: ["EMBEDDING"], inferenceTypesSupported: ["ON_DEMAND"] });
    const byProvider = await control.send(new ListFoundationModelsCommand({ byProvider: "cohere" }));
    expect(byProvider.modelSummaries!.map((m) => m.modelId)).toEqual([COHERE]);
    const got = await control.send(new GetFoundationModelCommand({ modelIdentifier: HAIKU }));
    expect(got.modelDetails?.modelId).toBe(HAIKU);

    const profiles = await control.send(new ListInferenceProfilesCommand({}));
    expect(profiles.inferenceProfileSummaries).toHaveLength(1);
    const p = profiles.inferenceProfileSummaries![0]!;
    expect(p.inferenceProfileId).toBe(SONNET_PROFILE);
    expect(p.type).toBe("SYSTEM_DEFINED");
    expect(p.createdAt).toBeInstanceOf(Date);
    expect(p.models!.map((m) => m.modelArn)).toContain("arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0");
    expect(fake.requests.filter((r) => r.operation === "ListFoundationModels").length).toBe(2);
  });

  it("is reachable through AWS_ENDPOINT_URL_BEDROCK_RUNTIME / AWS_ENDPOINT_URL_BEDROCK with fresh clients", async () => {
    const saved = { rt: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, cp: process.env.AWS_ENDPOINT_URL_BEDROCK };
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = fake.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
    process.env.AWS_ENDPOINT_URL_BEDROCK = fake.env.AWS_ENDPOINT_URL_BEDROCK;
    const rt = new BedrockRuntimeClient({ region: "us-west-2", credentials, maxAttempts: 1 });
    const cp = new BedrockClient({ region: "us-west-2", credentials, maxAttempts: 1 });
    try {
      const before = fake.requests.length;
      const out = await rt.send(new ConverseCommand({ modelId: HAIKU, messages: [{ role: "user", content: [{ text: "via env" }] }] }));
      expect(out.output?.message?.content?.[0]?.text).toBe(`Echo from ${HAIKU}: via env`);
      expect(fake.requests.length).toBe(before + 1);
      expect(fake.requests.at(-1)!.auth?.region).toBe("us-west-2");
      const list = await cp.send(new ListFoundationModelsCommand({}));
      expect(list.modelSummaries!.length).toBeGreaterThan(0);
    } finally {
      rt.destroy();
      cp.destroy();
      for (const [k, v] of [["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", saved.rt], ["AWS_ENDPOINT_URL_BEDROCK", saved.cp]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  // botocore is what LiteLLM signs and sends with (HTTP/1.1); present on the dev machines, not a project dependency.
  it.runIf(hasBoto3)("serves botocore over HTTP/1.1 via AWS_ENDPOINT_URL_BEDROCK_RUNTIME (converse, converse_stream, invoke_model)", async () => {
    const script = `
import boto3, json
c = boto3.client("bedrock-runtime", region_name="eu-west-1")
r = c.converse(modelId="${HAIKU}", messages=[{"role": "user", "content": [{"text": "from boto"}]}])
s = c.converse_stream(modelId="${HAIKU}", messages=[{"role": "user", "content": [{"text": "boto stream"}]}])
deltas = [e["contentBlockDelta"]["delta"]["text"] for e in s["stream"] if "contentBlockDelta" in e]
e = json.loads(c.invoke_model(modelId="${TITAN}", body=json.dumps({"inputText": "hello", "dimensions": 256}))["body"].read())
print(json.dumps({"text": r["output"]["message"]["content"][0]["text"], "deltas": deltas, "dims": len(e["embedding"])}))
`;
    const env: NodeJS.ProcessEnv = { ...process.env, ...fake.env, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" };
    delete env.AWS_PROFILE;
    const { stdout: out } = await promisify(execFile)("python3", ["-c", script], { env, encoding: "utf8", timeout: 60_000 });
    const got = JSON.parse(out) as { text: string; deltas: string[]; dims: number };
    expect(got.text).toBe(`Echo from ${HAIKU}: from boto`);
    expect(got.deltas.length).toBeGreaterThan(1);
    expect(got.deltas.join("")).toBe(`Echo from ${HAIKU}: boto stream`);
    expect(got.dims).toBe(256);
    const rec = fake.requests.filter((r) => r.auth?.region === "eu-west-1" && r.auth.accessKeyId === fake.env.AWS_ACCESS_KEY_ID);
    expect(rec.map((r) => r.operation)).toEqual(["Converse", "ConverseStream", "InvokeModel"]);
    expect(rec.every((r) => r.httpVersion === "1.1")).toBe(true);
  });
});
