/**
 * SQS → Open WebUI worker. Event source mapping with `ReportBatchItemFailures`; returns the ids of
 * the records to redeliver. A record is a success only when the user exists in Open WebUI
 * afterwards: SCIM 201 (created) or 409 (already exists), or a 200 trusted-header sign-in
 * (`ensured`), per `OPENWEBUI_PROVISIONING`. Everything else — Open WebUI down, slow, refusing
 * connections, 5xx, the token unreadable or rejected, the path switched off, a redirect or a
 * non-API answer, a malformed message — is an item failure, so SQS redelivers it and, after
 * maxReceiveCount, moves it to the DLQ, where the alarm fires. Nothing is dropped silently.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { loadWorkerConfig, METRICS, type WorkerConfig } from "./config.js";
import { emitMetrics, errorFields, log } from "./log.js";
import { mapLimit, parseMessage, type ProvisioningMessage } from "./message.js";
import { describeOutcome, isDone, type CreateOutcome } from "./http.js";
import { userClient } from "./runtime.js";
import { notifyWebhook } from "./webhook.js";

let config: WorkerConfig | undefined;

const DONE_MESSAGE = {
  created: "user created in Open WebUI",
  exists: "user already exists in Open WebUI",
  ensured: "user exists in Open WebUI (trusted-header sign-in)",
} as const;

type RecordResult = "created" | "exists" | "ensured" | "failed";

export const handler = async (event: SQSEvent, context?: Pick<Context, "getRemainingTimeInMillis">): Promise<SQSBatchResponse> => {
  const records: SQSRecord[] = event?.Records ?? [];
  try {
    config ??= loadWorkerConfig();
  } catch (err) {
    log("error", "worker misconfigured; every record is handed back to SQS", errorFields(err));
    emitMetrics(process.env.METRIC_NAMESPACE || METRICS.namespace, "worker", { [METRICS.provisionFailed]: records.length }, { level: "error", reason: "config" });
    return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
  const cfg = config;
  const client = userClient(cfg);
  const requestsBefore = client.requests;
  // The same user twice in one batch (duplicate deliveries) is created once: Open WebUI's
  // check-then-insert is not atomic (SCIM create and signup_handler alike), so concurrent requests
  // for one email could both insert.
  const inBatch = new Map<string, Promise<CreateOutcome>>();
  const webhooks: Promise<unknown>[] = [];
  // Leave room for a token read + POST + 401 re-read + POST before the function times out.
  const reserveMs = 2 * cfg.requestTimeoutMs + 1000;

  const results = await mapLimit(records, cfg.concurrency, async (record): Promise<RecordResult> => {
    const base = { messageId: record.messageId, receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0) || undefined };
    const parsed = parseMessage(record.body ?? "");
    if (!parsed.ok) {
      log("error", `malformed message rejected: ${parsed.reason}; it will reach the DLQ after maxReceiveCount`, {
        ...base,
        reason: parsed.reason,
        bodyPreview: String(record.body ?? "").slice(0, 200),
      });
      return "failed";
    }
    const msg: ProvisioningMessage = parsed.message;
    if (context && context.getRemainingTimeInMillis() < reserveMs) {
      log("warn", "not enough time left in this invocation; record handed back to SQS", { ...base, email: msg.email });
      return "failed";
    }
    let pending = inBatch.get(msg.email);
    const first = !pending;
    if (!pending) {
      pending = client.create({ email: msg.email, name: msg.name });
      inBatch.set(msg.email, pending);
    }
    const outcome = await pending;
    const fields = { ...base, email: msg.email, source: msg.source, outcome: outcome.kind, status: "status" in outcome ? outcome.status : undefined };
    if (isDone(outcome)) {
      log("info", DONE_MESSAGE[outcome.kind], { ...fields, duplicateInBatch: !first || undefined });
      // ensured: a queued sign-up is a new user, so the worker treats it as provisioned (the
      // reconciler, which cannot tell new from old on that path, never fires the webhook for it).
      if ((outcome.kind === "created" || outcome.kind === "ensured") && first && cfg.webhookUrl) {
        webhooks.push(
          notifyWebhook(cfg.webhookUrl, cfg.webhookTimeoutMs, {
            event: "user.provisioned",
            email: msg.email,
            name: msg.name,
            ...(outcome.id ? { openWebUiUserId: outcome.id } : {}),
            ...(msg.sub ? { sub: msg.sub } : {}),
            source: msg.source,
          }),
        );
      }
      return outcome.kind;
    }
    log("error", `provisioning failed: ${describeOutcome(outcome)}; record handed back to SQS`, {
      ...fields,
      path: client.path,
      reason: outcome.reason,
      ...(outcome.detail ? { detail: outcome.detail } : {}),
    });
    return "failed";
  });

  // Non-blocking for the outcome, but awaited (each has its own short timeout) so a frozen
  // execution environment does not cut it off.
  await Promise.allSettled(webhooks);

  const failures = records.filter((_, i) => results[i] === "failed").map((r) => ({ itemIdentifier: r.messageId }));
  const count = (k: RecordResult) => results.filter((r) => r === k).length;
  emitMetrics(
    cfg.metricNamespace,
    "worker",
    { [METRICS.created]: count("created"), [METRICS.existed]: count("exists"), [METRICS.ensured]: count("ensured"), [METRICS.provisionFailed]: failures.length },
    { records: records.length, path: client.path, openWebUiRequests: client.requests - requestsBefore },
    "batch done",
  );
  return { batchItemFailures: failures };
};
