/**
 * The bundled producer (PostConfirmation trigger) against the SQS fake: the message it enqueues,
 * which trigger sources it enqueues, and that the sign-up never fails — SQS erroring, hanging or
 * unreachable all return the event unchanged within the time budget and emit the EnqueueFailed
 * EMF metric.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { AwsError } from "../../../test/fakes/aws-json.js";
import { importFresh, bundle, postConfirmationEvent, setEnv, type Capture, type ProducerModule } from "./support/harness.js";
import { QUEUE, worldPerTest, type World } from "./support/world.js";

const newWorld = worldPerTest();

async function setup(env: Record<string, string | undefined> = {}) {
  const { w, logs } = await newWorld(env);
  return { w, producer: await w.producer(), logs };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const bodies = (w: World) => w.sqs.sent(QUEUE).map((m) => JSON.parse(m.body) as Record<string, unknown>);

function expectEnqueueFailedMetric(logs: Capture) {
  const emf = logs.emf("EnqueueFailed");
  expect(emf).toHaveLength(1);
  const doc = emf[0]!;
  expect(doc.EnqueueFailed).toBe(1);
  expect(doc.Function).toBe("producer");
  const meta = (doc._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!;
  expect(meta).toEqual({ Namespace: "OpenWebUI/Provisioning", Dimensions: [["Function"]], Metrics: [{ Name: "EnqueueFailed", Unit: "Count" }] });
  return doc;
}

describe("producer (bundled) → SQS", () => {
  it("enqueues {email, name, sub, source, confirmedAt} and returns the event unchanged", async () => {
    const { w, producer, logs } = await setup();
    const ev = postConfirmationEvent({ email: "  Grace.Hopper@Navy.MIL ", name: "Grace Hopper", sub: "sub-123" });
    const snapshot = structuredClone(ev);
    const out = await producer.handler(ev);
    expect(out).toBe(ev);
    expect(out).toEqual(snapshot);
    const [msg] = bodies(w);
    expect(msg).toMatchObject({ v: 1, email: "grace.hopper@navy.mil", name: "Grace Hopper", sub: "sub-123", source: "PostConfirmation_ConfirmSignUp" });
    expect(new Date(String(msg!.confirmedAt)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(logs.emf("EnqueueFailed")).toHaveLength(0);
    expect(logs.emf("Enqueued")).toMatchObject([{ Enqueued: 1, Function: "producer", email: "grace.hopper@navy.mil" }]);
  });

  it("names the user from name, else given + family, else the email's local part — never the sub", async () => {
    const { w, producer } = await setup();
    await producer.handler(postConfirmationEvent({ email: "a@example.com", given_name: "Ada", family_name: "Lovelace", sub: "s-1" }));
    await producer.handler(postConfirmationEvent({ email: "b@example.com", given_name: "Bo", sub: "s-2" }));
    await producer.handler(postConfirmationEvent({ email: "carol.x@example.com", sub: "s-3" }));
    await producer.handler(postConfirmationEvent({ email: "d@example.com", name: "   ", sub: "s-4" }));
    expect(bodies(w).map((b) => b.name)).toEqual(["Ada Lovelace", "Bo", "carol.x", "d"]);
  });

  it("enqueues a federated (Google) first sign-in, which Cognito reports as PostConfirmation_ConfirmSignUp", async () => {
    const { w, producer } = await setup();
    const identities = JSON.stringify([{ userId: "1234", providerName: "Google", providerType: "Google", issuer: null, primary: true, dateCreated: 1 }]);
    await producer.handler(postConfirmationEvent({ email: "g@gmail.com", name: "G User", identities, username: "google_1234" }));
    expect(bodies(w)).toMatchObject([{ email: "g@gmail.com", provider: "Google", source: "PostConfirmation_ConfirmSignUp" }]);
  });

  it("ignores a password reset (PostConfirmation_ConfirmForgotPassword) and other trigger sources", async () => {
    const { w, producer } = await setup();
    for (const source of ["PostConfirmation_ConfirmForgotPassword", "PostAuthentication_Authentication", "PreSignUp_ExternalProvider"]) {
      const ev = postConfirmationEvent({ email: "reset@example.com" }, source);
      expect(await producer.handler(ev)).toBe(ev);
    }
    expect(w.sqs.sent(QUEUE)).toHaveLength(0);
    expect(w.sqs.calls).toHaveLength(0);
  });

  it("retries a transient SendMessage failure within the budget", async () => {
    const { w, producer, logs } = await setup();
    w.sqs.failNext("SendMessage", new AwsError("InternalError", "We encountered an internal error.", 500), 1);
    const ev = postConfirmationEvent({ email: "retry@example.com" });
    expect(await producer.handler(ev)).toBe(ev);
    expect(bodies(w)).toMatchObject([{ email: "retry@example.com" }]);
    expect(w.sqs.calls.filter((c) => c.operation === "SendMessage")).toHaveLength(2);
    expect(logs.emf("EnqueueFailed")).toHaveLength(0);
  });

  it("SQS failing: returns the event unchanged, after a few attempts, and emits EnqueueFailed", async () => {
    const { w, producer, logs } = await setup();
    w.sqs.failNext("SendMessage", new AwsError("InternalError", "We encountered an internal error.", 500), Infinity);
    const ev = postConfirmationEvent({ email: "sqs-down@example.com", name: "Down" });
    const snapshot = structuredClone(ev);
    const t0 = performance.now();
    const out = await producer.handler(ev);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(out).toBe(ev);
    expect(out).toEqual(snapshot);
    expect(w.sqs.calls.filter((c) => c.operation === "SendMessage")).toHaveLength(3);
    const doc = expectEnqueueFailedMetric(logs);
    // The lost message is in the log line, so an operator could re-enqueue it; the reconciler heals it anyway.
    expect(doc.message).toMatchObject({ email: "sqs-down@example.com", name: "Down" });
  });

  it("SQS hanging: gives up within ENQUEUE_BUDGET_MS, well inside Cognito's 5 s", async () => {
    const { w, producer, logs } = await setup({ ENQUEUE_BUDGET_MS: "800" });
    w.sqs.stallNext("SendMessage", 10_000, Infinity);
    const ev = postConfirmationEvent({ email: "sqs-hang@example.com" });
    const t0 = performance.now();
    expect(await producer.handler(ev)).toBe(ev);
    const took = performance.now() - t0;
    expect(took).toBeLessThan(1300);
    expectEnqueueFailedMetric(logs);
  });

  it("SQS unreachable (connection refused): returns the event and emits EnqueueFailed", async () => {
    const { w, logs } = await setup();
    const port = await closedPort();
    const restore = setEnv({ AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}`, QUEUE_URL: `http://127.0.0.1:${port}/123456789012/provisioning` });
    try {
      const producer = await importFresh<ProducerModule>(bundle("producer").file);
      const ev = postConfirmationEvent({ email: "refused@example.com" });
      expect(await producer.handler(ev)).toBe(ev);
      expectEnqueueFailedMetric(logs);
      expect(logs.find((l) => l.errorCode === "ECONNREFUSED" || /ECONNREFUSED/.test(String(l.errorMessage)))).toBeDefined();
      expect(w.sqs.calls).toHaveLength(0);
    } finally {
      restore();
    }
  });

  it("a user without an email (missing attribute mapping) is reported, not enqueued, and sign-up continues", async () => {
    const { w, producer, logs } = await setup();
    const ev = postConfirmationEvent({ phone_number: "+15555550100" });
    expect(await producer.handler(ev)).toBe(ev);
    expect(w.sqs.sent(QUEUE)).toHaveLength(0);
    expect(expectEnqueueFailedMetric(logs).reason).toMatch(/no email attribute/);
  });

  it("misconfigured (QUEUE_URL unset): returns the event and emits EnqueueFailed", async () => {
    const { w, logs } = await setup({ QUEUE_URL: undefined });
    const producer = await w.producer();
    const ev = postConfirmationEvent({ email: "noconfig@example.com" });
    expect(await producer.handler(ev)).toBe(ev);
    const doc = expectEnqueueFailedMetric(logs);
    expect(doc.reason).toBe("config");
    expect(logs.find((l) => /QUEUE_URL is required/.test(String(l.errorMessage)))).toBeDefined();
  });
});
