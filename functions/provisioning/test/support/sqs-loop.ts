/**
 * The SQS → Lambda loop, driven against the SQS fake through the real SDK client: what an event
 * source mapping with `ReportBatchItemFailures` does, compressed in time. Shared by the tests and
 * the benchmark.
 *
 * Each lane: ReceiveMessage (≤ batchSize) → invoke the handler with an SQSEvent → DeleteMessageBatch
 * the successes → ChangeMessageVisibility(0) the failures (standing in for "the visibility timeout
 * elapses") so they are redelivered. The fake's redrive policy moves a message to the DLQ once it
 * has been received maxReceiveCount times. Lambda's rules for the response are applied: a throw or
 * a timeout fails the whole batch; an empty or missing `batchItemFailures` means all succeeded; an
 * itemIdentifier that is empty or not in the batch fails the whole batch.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void | null | undefined>;

export interface SqsLoopOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn?: string;
  readonly handler: SqsHandler;
  /** @default 10 (the SQS maximum) */
  readonly batchSize?: number;
  /** Concurrent invocations ("Lambda concurrency"). @default 1 */
  readonly parallel?: number;
  /** The function timeout; a handler still running then fails its whole batch. @default 30000 */
  readonly functionTimeoutMs?: number;
  /** Safety net against a loop that never drains. @default 10000 */
  readonly maxInvocations?: number;
}

export interface SqsLoopStats {
  invocations: number;
  received: number;
  deleted: number;
  failedItems: number;
  /** Invocations that threw or timed out (whole batch failed). */
  batchErrors: number;
  /** Responses Lambda would reject (bad itemIdentifier): whole batch failed. */
  invalidResponses: number;
  wallMs: number;
}

function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? "",
    receiptHandle: m.ReceiptHandle ?? "",
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "AIDAFAKE",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: process.env.AWS_REGION ?? "us-east-1",
  };
}

let invocationSeq = 0;
function makeContext(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  invocationSeq += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "provisioning-worker",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:provisioning-worker",
    memoryLimitInMB: "256",
    awsRequestId: `req-${invocationSeq}`,
    logGroupName: "/aws/lambda/provisioning-worker",
    logStreamName: "fake",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export async function runSqsLoop(o: SqsLoopOptions): Promise<SqsLoopStats> {
  const batchSize = Math.min(10, Math.max(1, o.batchSize ?? 10));
  const timeoutMs = o.functionTimeoutMs ?? 30_000;
  const maxInvocations = o.maxInvocations ?? 10_000;
  const queueArn = o.queueArn ?? `arn:aws:sqs:us-east-1:123456789012:${o.queueUrl.split("/").at(-1)}`;
  const stats: SqsLoopStats = { invocations: 0, received: 0, deleted: 0, failedItems: 0, batchErrors: 0, invalidResponses: 0, wallMs: 0 };
  const started = performance.now();

  const lane = async () => {
    for (;;) {
      if (stats.invocations >= maxInvocations) throw new Error(`SQS loop did not drain after ${maxInvocations} invocations`);
      const got = await o.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: o.queueUrl, MaxNumberOfMessages: batchSize, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"] }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) return;
      stats.invocations += 1;
      stats.received += messages.length;
      const records = messages.map((m) => toRecord(m, queueArn));
      const ids = new Set(records.map((r) => r.messageId));
      let failed: Set<string>;
      try {
        let timer: NodeJS.Timeout | undefined;
        const response = await Promise.race([
          o.handler({ Records: records }, makeContext(timeoutMs)),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`Task timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
        const items = response?.batchItemFailures ?? [];
        if (items.some((f) => !f || typeof f.itemIdentifier !== "string" || !ids.has(f.itemIdentifier))) {
          stats.invalidResponses += 1;
          failed = ids;
        } else {
          failed = new Set(items.map((f) => f.itemIdentifier));
        }
      } catch {
        stats.batchErrors += 1;
        failed = ids;
      }
      const ok = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (ok.length) {
        await o.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
        );
        stats.deleted += ok.length;
      }
      for (const m of messages.filter((x) => failed.has(x.MessageId ?? ""))) {
        stats.failedItems += 1;
        await o.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: o.queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
      }
    }
  };

  // Lanes that find the queue empty stop; a lane still working re-queues its failures and keeps going,
  // so when the last lane stops the queue is drained (everything deleted or in the DLQ).
  await Promise.all(Array.from({ length: Math.max(1, o.parallel ?? 1) }, lane));
  // A lane may have stopped while another re-queued failures after the others' last receive.
  if ((o.parallel ?? 1) > 1) {
    const again = await runSqsLoop({ ...o, parallel: 1, maxInvocations: maxInvocations - stats.invocations });
    for (const k of Object.keys(again) as (keyof SqsLoopStats)[]) if (k !== "wallMs") stats[k] += again[k];
  }
  stats.wallMs = performance.now() - started;
  return stats;
}
