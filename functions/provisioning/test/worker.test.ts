/**
 * The bundled worker's other contracts: the optional post-provision webhook (after a 201 only,
 * never failing the item), bounded concurrency, the deadline guard, the token cache across warm
 * invocations, and a misconfigured worker handing everything back to SQS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context, SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { captureStdout, type Capture } from "./support/harness.js";
import { startWorld, type World } from "./support/world.js";

let world: World | undefined;
let logs: Capture | undefined;
let hook: Server | undefined;
afterEach(async () => {
  logs?.restore();
  logs = undefined;
  await world?.close();
  world = undefined;
  if (hook) {
    hook.closeAllConnections();
    await new Promise((r) => hook!.close(r));
    hook = undefined;
  }
});

async function webhook(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const received: { path: string; body: unknown }[] = [];
  hook = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    received.push({ path: req.url ?? "", body: JSON.parse(body) });
    handler(req, body, res);
  });
  await new Promise<void>((r) => hook!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhook/secret-path-123`, received };
}

const event = (bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((b, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `rh-${i}`,
    body: typeof b === "string" ? b : JSON.stringify(b),
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:provisioning",
    awsRegion: "us-east-1",
  })),
});
const ctx = (ms: number) => ({ getRemainingTimeInMillis: () => ms }) as Context;

describe("worker (bundled)", () => {
  it("calls the webhook after a 201 only, and its failures never fail the item", async () => {
    logs = captureStdout();
    let n = 0;
    const h = await webhook((_req, _body, res) => {
      n += 1;
      if (n === 1) res.writeHead(204).end();
      else if (n === 2) res.writeHead(500).end("boom");
      // n === 3: never answers (timeout)
    });
    world = await startWorld({ WEBHOOK_URL: h.url, WEBHOOK_TIMEOUT_MS: "150" });
    world.owui.seed("old@example.com");
    const worker = await world.worker();
    const out = await worker.handler(event([{ email: "new1@example.com", name: "New One", sub: "s1", source: "PostConfirmation_ConfirmSignUp" }, { email: "old@example.com" }]), ctx(30_000));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(h.received).toHaveLength(1);
    expect(h.received[0]!.body).toMatchObject({ event: "user.provisioned", email: "new1@example.com", name: "New One", sub: "s1", openWebUiUserId: expect.any(String) });
    const t0 = performance.now();
    expect(await worker.handler(event([{ email: "new2@example.com" }]), ctx(30_000))).toEqual({ batchItemFailures: [] });
    expect(await worker.handler(event([{ email: "new3@example.com" }]), ctx(30_000))).toEqual({ batchItemFailures: [] });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(logs.lines.filter((l) => /webhook (answered an error|failed)/.test(String(l.msg)))).toHaveLength(2);
    expect(JSON.stringify(logs.lines)).not.toContain("secret-path-123");
  });

  it("processes a batch with bounded concurrency (WORKER_CONCURRENCY)", async () => {
    logs = captureStdout();
    world = await startWorld({ WORKER_CONCURRENCY: "3" });
    let inFlight = 0;
    let peak = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 20));
        return await realFetch(...args);
      } finally {
        inFlight -= 1;
      }
    }) as typeof fetch;
    try {
      const out = await (await world.worker()).handler(event(Array.from({ length: 10 }, (_, i) => ({ email: `c${i}@example.com` }))), ctx(30_000));
      expect(out).toEqual({ batchItemFailures: [] });
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(peak).toBe(3);
    expect(world.owui.users.size).toBe(10);
  });

  it("hands records back instead of starting them when the invocation is about to time out", async () => {
    logs = captureStdout();
    world = await startWorld({ REQUEST_TIMEOUT_MS: "5000" });
    const out = await (await world.worker()).handler(event([{ email: "late1@example.com" }, { email: "late2@example.com" }, "garbage"]), ctx(4000));
    expect(out!.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["m-0", "m-1", "m-2"]);
    expect(world.owui.count()).toBe(0);
  });

  it("reads the token once per TTL across warm invocations", async () => {
    logs = captureStdout();
    world = await startWorld({ SCIM_TOKEN_TTL_SECONDS: "300" });
    const worker = await world.worker();
    for (let i = 0; i < 5; i++) await worker.handler(event([{ email: `warm${i}@example.com` }]), ctx(30_000));
    expect(world.sm.calls.filter((c) => c.operation === "GetSecretValue")).toHaveLength(1);
  });

  it("misconfigured: logs why and fails every record (nothing dropped)", async () => {
    logs = captureStdout();
    world = await startWorld({ SCIM_BASE_URL: undefined });
    const out = await (await world.worker()).handler(event([{ email: "x@example.com" }, { email: "y@example.com" }]), ctx(30_000));
    expect(out!.batchItemFailures).toHaveLength(2);
    expect(logs.find((l) => /SCIM_BASE_URL is required/.test(String(l.errorMessage)))).toBeDefined();
  });
});
