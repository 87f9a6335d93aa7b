/**
 * In-memory SQS behind the AWS JSON fake. Current SDK v3 clients speak AWS JSON 1.0 to SQS
 * (`X-Amz-Target: AmazonSQS.<Op>`). Implements SendMessage, ReceiveMessage, DeleteMessage,
 * DeleteMessageBatch, ChangeMessageVisibility, GetQueueUrl, GetQueueAttributes and
 * StartMessageMoveTask (DLQ redrive), with:
 *  - visibility timeouts on a real clock (or an injected `now`);
 *  - receive counts (`ApproximateReceiveCount`);
 *  - a redrive policy: a message already received `maxReceiveCount` times is moved to the DLQ on
 *    its next receive instead of being delivered, as SQS does.
 * MD5 digests are computed, since the SDK's SQS middleware verifies them.
 */
import { createHash, randomUUID } from "node:crypto";
import { AwsError, startAwsJsonFake, type AwsJsonFake } from "./aws-json.js";

export const SQS_ACCOUNT = "123456789012";

export interface FakeSqsMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  readonly attributes: Record<string, string>;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
  invisibleUntil: number;
  /** Set when moved to a DLQ: from which queue, after how many receives. */
  movedFrom?: string;
}

interface FakeQueue {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly redrive?: { readonly dlq: string; readonly maxReceiveCount: number };
  readonly messages: FakeSqsMessage[];
}

export interface QueueOptions {
  /** @default 60 */
  readonly visibilityTimeoutSeconds?: number;
  /** Redrive to this (created if missing) queue after `maxReceiveCount` receives. */
  readonly redrive?: { readonly dlq: string; readonly maxReceiveCount: number };
}

export interface SqsFake extends AwsJsonFake {
  /** Creates a queue and returns its URL. */
  createQueue(name: string, options?: QueueOptions): string;
  queueUrl(name: string): string;
  queueArn(name: string): string;
  /** Messages still in the queue (visible or in flight), oldest first. */
  messages(name: string): readonly FakeSqsMessage[];
  /** Every message ever sent to (or moved into) the queue, in order (for assertions). */
  sent(name: string): readonly FakeSqsMessage[];
}

const md5 = (s: string) => createHash("md5").update(s, "utf8").digest("hex");

/**
 * Starts the fake. By default it creates `provisioning` (60 s visibility) redriving to
 * `provisioning-dlq` after 5 receives.
 */
export async function startSqsFake(
  options: { region?: string; now?: () => number; defaultQueues?: boolean } = {},
): Promise<SqsFake> {
  const region = options.region ?? "us-east-1";
  const now = options.now ?? Date.now;
  const queues = new Map<string, FakeQueue>();
  const sent = new Map<string, FakeSqsMessage[]>();
  let base = "";

  const queueOf = (url: unknown): FakeQueue => {
    const name = String(url ?? "").replace(/\/+$/, "").split("/").at(-1) ?? "";
    const q = queues.get(name);
    if (!q) throw new AwsError("AWS.SimpleQueueService.NonExistentQueue", `The specified queue does not exist: ${String(url)}`);
    return q;
  };
  const queueOfArn = (arn: unknown): FakeQueue => {
    const name = String(arn ?? "").split(":").at(-1) ?? "";
    const q = queues.get(name);
    if (!q) throw new AwsError("ResourceNotFoundException", `no queue with ARN ${String(arn)}`);
    return q;
  };
  const create = (name: string, o: QueueOptions = {}): FakeQueue => {
    const existing = queues.get(name);
    if (existing) return existing;
    if (o.redrive && !queues.has(o.redrive.dlq)) create(o.redrive.dlq, { visibilityTimeoutSeconds: o.visibilityTimeoutSeconds });
    const q: FakeQueue = {
      name,
      visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 60,
      ...(o.redrive ? { redrive: o.redrive } : {}),
      messages: [],
    };
    queues.set(name, q);
    sent.set(name, []);
    return q;
  };
  const enqueue = (q: FakeQueue, body: string, attributes: Record<string, string> = {}): FakeSqsMessage => {
    const m: FakeSqsMessage = { messageId: randomUUID(), body, sentAt: now(), attributes, receiveCount: 0, invisibleUntil: 0 };
    q.messages.push(m);
    sent.get(q.name)?.push(m);
    return m;
  };
  const findByReceipt = (q: FakeQueue, handle: unknown): FakeSqsMessage | undefined => q.messages.find((m) => m.receiptHandle === String(handle));
  const remove = (q: FakeQueue, m: FakeSqsMessage) => q.messages.splice(q.messages.indexOf(m), 1);
  const validReceipt = (handle: unknown) => {
    if (typeof handle !== "string" || !handle.startsWith("rh-")) throw new AwsError("ReceiptHandleIsInvalid", `The input receipt handle "${String(handle)}" is not a valid receipt handle.`);
  };

  const fake = await startAwsJsonFake({
    GetQueueUrl: (i) => ({ QueueUrl: `${base}/${SQS_ACCOUNT}/${queueOf(`/${String(i.QueueName)}`).name}` }),
    GetQueueAttributes: (i) => {
      const q = queueOf(i.QueueUrl);
      const t = now();
      return {
        Attributes: {
          QueueArn: `arn:aws:sqs:${region}:${SQS_ACCOUNT}:${q.name}`,
          ApproximateNumberOfMessages: String(q.messages.filter((m) => m.invisibleUntil <= t).length),
          ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.invisibleUntil > t).length),
          VisibilityTimeout: String(q.visibilityTimeoutSeconds),
        },
      };
    },
    SendMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const body = i.MessageBody;
      if (typeof body !== "string" || body.length === 0) throw new AwsError("InvalidParameterValue", "The request must contain the parameter MessageBody.");
      if (Buffer.byteLength(body) > 262_144) throw new AwsError("InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.");
      const m = enqueue(q, body);
      return { MessageId: m.messageId, MD5OfMessageBody: md5(body) };
    },
    ReceiveMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const max = Number(i.MaxNumberOfMessages ?? 1);
      if (!Number.isInteger(max) || max < 1 || max > 10) throw new AwsError("InvalidParameterValue", "Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.");
      const vt = Number(i.VisibilityTimeout ?? q.visibilityTimeoutSeconds);
      const t = now();
      const out: Record<string, unknown>[] = [];
      for (const m of [...q.messages]) {
        if (out.length >= max) break;
        if (m.invisibleUntil > t) continue;
        if (q.redrive && m.receiveCount >= q.redrive.maxReceiveCount) {
          remove(q, m);
          const dlq = queues.get(q.redrive.dlq)!;
          m.movedFrom = q.name;
          m.receiptHandle = undefined;
          m.invisibleUntil = 0;
          dlq.messages.push(m);
          sent.get(dlq.name)?.push(m);
          continue;
        }
        m.receiveCount += 1;
        m.firstReceivedAt ??= t;
        m.receiptHandle = `rh-${randomUUID()}`;
        m.invisibleUntil = t + vt * 1000;
        out.push({
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: md5(m.body),
          Body: m.body,
          Attributes: {
            ApproximateReceiveCount: String(m.receiveCount),
            SentTimestamp: String(m.sentAt),
            ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
            SenderId: "AIDAFAKE",
          },
        });
      }
      return out.length ? { Messages: out } : {};
    },
    DeleteMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      validReceipt(i.ReceiptHandle);
      const m = findByReceipt(q, i.ReceiptHandle);
      if (m) remove(q, m);
      return {};
    },
    DeleteMessageBatch: (i) => {
      const q = queueOf(i.QueueUrl);
      const entries = (i.Entries ?? []) as { Id: string; ReceiptHandle: string }[];
      if (entries.length === 0 || entries.length > 10) throw new AwsError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.");
      const Successful: { Id: string }[] = [];
      const Failed: { Id: string; Code: string; SenderFault: boolean; Message: string }[] = [];
      for (const e of entries) {
        if (typeof e.ReceiptHandle !== "string" || !e.ReceiptHandle.startsWith("rh-")) {
          Failed.push({ Id: e.Id, Code: "ReceiptHandleIsInvalid", SenderFault: true, Message: "invalid receipt handle" });
          continue;
        }
        const m = findByReceipt(q, e.ReceiptHandle);
        if (m) remove(q, m);
        Successful.push({ Id: e.Id });
      }
      return { Successful, Failed };
    },
    ChangeMessageVisibility: (i) => {
      const q = queueOf(i.QueueUrl);
      validReceipt(i.ReceiptHandle);
      const m = findByReceipt(q, i.ReceiptHandle);
      if (!m || m.invisibleUntil <= now()) throw new AwsError("AWS.SimpleQueueService.MessageNotInflight", "Message is not in flight.");
      const vt = Number(i.VisibilityTimeout);
      if (!Number.isInteger(vt) || vt < 0 || vt > 43_200) throw new AwsError("InvalidParameterValue", "VisibilityTimeout must be between 0 and 43200.");
      m.invisibleUntil = now() + vt * 1000;
      return {};
    },
    /** Moves every message of a DLQ (SourceArn) back to its source queue, or to DestinationArn. */
    StartMessageMoveTask: (i) => {
      const dlq = queueOfArn(i.SourceArn);
      const dest = i.DestinationArn
        ? queueOfArn(i.DestinationArn)
        : [...queues.values()].find((q) => q.redrive?.dlq === dlq.name);
      if (!dest) throw new AwsError("InvalidParameterValue", "Source queue is not a DLQ of any queue; give DestinationArn.");
      for (const m of dlq.messages.splice(0)) enqueue(dest, m.body, m.attributes);
      return { TaskHandle: `task-${randomUUID()}` };
    },
  });
  base = fake.url;
  if (options.defaultQueues !== false) create("provisioning", { visibilityTimeoutSeconds: 60, redrive: { dlq: "provisioning-dlq", maxReceiveCount: 5 } });

  return {
    ...fake,
    createQueue: (name, o) => `${base}/${SQS_ACCOUNT}/${create(name, o).name}`,
    queueUrl: (name) => `${base}/${SQS_ACCOUNT}/${queueOf(`/${name}`).name}`,
    queueArn: (name) => `arn:aws:sqs:${region}:${SQS_ACCOUNT}:${queueOf(`/${name}`).name}`,
    messages: (name) => [...queueOf(`/${name}`).messages],
    sent: (name) => [...(sent.get(name) ?? [])],
  };
}
