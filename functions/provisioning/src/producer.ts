/**
 * Cognito PostConfirmation trigger → SQS. Attach it as the user pool's **PostConfirmation** trigger.
 *
 * Which sources it enqueues (Amazon Cognito Developer Guide, "Customizing user pool workflows with
 * Lambda triggers" → "Lambda triggers for federated users"; and "Post confirmation Lambda trigger"):
 *  - `PostConfirmation_ConfirmSignUp`: a native user confirmed their sign-up (ConfirmSignUp,
 *    AdminConfirmSignUp, managed login), **and also a federated (Google, OIDC, SAML) user's first
 *    sign-in** — the guide lists Pre sign-up `PreSignUp_ExternalProvider`, Post confirmation
 *    `PostConfirmation_ConfirmSignUp` and Pre token generation `TokenGeneration_HostedAuth` for a
 *    federated first sign-in, and Pre/Post authentication for later sign-ins. So no second trigger
 *    is needed for federated users.
 *  - `PostConfirmation_ConfirmForgotPassword` (a password reset) is ignored.
 *  - Users an administrator creates (AdminCreateUser) never fire PostConfirmation; the hourly
 *    reconciler provisions them once they are CONFIRMED.
 * Any other trigger source is returned untouched, so attaching this function elsewhere is harmless.
 *
 * Sign-up must never fail because provisioning is down: this handler never throws. SendMessage is
 * retried within ENQUEUE_BUDGET_MS (Cognito allows a trigger 5 s in total); if it still fails, an
 * EMF line counts `EnqueueFailed` (alarm on it) and the event is returned anyway; the reconciler
 * heals the user within the hour.
 */
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { loadProducerConfig, METRICS, type ProducerConfig } from "./config.js";
import { emitMetrics, errorFields, log } from "./log.js";
import { displayName, normalizeEmail, type ProvisioningMessage } from "./message.js";

/** Trigger sources that mean "a new user now exists in the pool". */
export const ENQUEUE_TRIGGER_SOURCES: ReadonlySet<string> = new Set(["PostConfirmation_ConfirmSignUp"]);

/** The minimum a Cognito trigger event has; typed loosely so any trigger can be passed through. */
type TriggerEvent = Pick<PostConfirmationTriggerEvent, "triggerSource" | "userPoolId" | "userName"> & {
  request: { userAttributes?: Record<string, string | undefined> };
};

let config: ProducerConfig | undefined;
let sqs: SQSClient | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function providerOf(identities: string | undefined): string | undefined {
  if (!identities) return undefined;
  try {
    const list = JSON.parse(identities) as { providerName?: string }[];
    return list[0]?.providerName;
  } catch {
    return undefined;
  }
}

export function buildMessage(event: TriggerEvent, now = new Date()): ProvisioningMessage | { error: string } {
  const attrs = event.request?.userAttributes ?? {};
  const email = normalizeEmail(attrs.email);
  if (!email) return { error: attrs.email ? "the email attribute is not a valid address" : "the user has no email attribute (check the identity provider's attribute mapping)" };
  const provider = providerOf(attrs.identities);
  return {
    v: 1,
    email,
    name: displayName(attrs, email),
    ...(attrs.sub ? { sub: attrs.sub } : {}),
    source: event.triggerSource,
    ...(provider ? { provider } : {}),
    confirmedAt: now.toISOString(),
  };
}

async function enqueue(cfg: ProducerConfig, client: SQSClient, message: ProvisioningMessage): Promise<{ ok: true; attempts: number; messageId?: string } | { ok: false; attempts: number; error: unknown }> {
  const started = Date.now();
  const fifo = cfg.queueUrl.endsWith(".fifo");
  const body = JSON.stringify(message);
  let lastError: unknown;
  let attempt = 0;
  while (attempt < cfg.enqueueMaxAttempts) {
    attempt += 1;
    const remaining = cfg.enqueueBudgetMs - (Date.now() - started);
    if (remaining < 50) break;
    try {
      const out = await client.send(
        new SendMessageCommand({
          QueueUrl: cfg.queueUrl,
          MessageBody: body,
          ...(fifo
            ? { MessageGroupId: message.email, MessageDeduplicationId: `${(message.sub ?? message.email).replace(/[^\w!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]/g, "_")}`.slice(0, 128) }
            : {}),
        }),
        { abortSignal: AbortSignal.timeout(Math.min(remaining, Math.max(500, Math.floor(cfg.enqueueBudgetMs / cfg.enqueueMaxAttempts) + 500))) },
      );
      return { ok: true, attempts: attempt, ...(out.MessageId ? { messageId: out.MessageId } : {}) };
    } catch (err) {
      lastError = err;
      log("warn", "SendMessage failed", { attempt, email: message.email, ...errorFields(err) });
      const backoff = Math.round(100 * 3 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      const left = cfg.enqueueBudgetMs - (Date.now() - started);
      if (attempt >= cfg.enqueueMaxAttempts || left < backoff + 200) break;
      await sleep(backoff);
    }
  }
  return { ok: false, attempts: attempt, error: lastError ?? new Error("enqueue budget exhausted") };
}

export const handler = async <E extends TriggerEvent>(event: E): Promise<E> => {
  try {
    if (!ENQUEUE_TRIGGER_SOURCES.has(event?.triggerSource)) {
      log("debug", "trigger source not enqueued", { triggerSource: event?.triggerSource });
      return event;
    }
    let namespace = process.env.METRIC_NAMESPACE || METRICS.namespace;
    const message = buildMessage(event);
    if ("error" in message) {
      log("error", `cannot provision this user: ${message.error}`, { userName: event.userName, triggerSource: event.triggerSource });
      emitMetrics(namespace, "producer", { [METRICS.enqueueFailed]: 1 }, { level: "error", reason: message.error, userName: event.userName }, "enqueue failed");
      return event;
    }
    try {
      config ??= loadProducerConfig();
    } catch (err) {
      log("error", "producer misconfigured; user not enqueued (the reconciler will pick them up)", { email: message.email, ...errorFields(err) });
      emitMetrics(namespace, "producer", { [METRICS.enqueueFailed]: 1 }, { level: "error", reason: "config", email: message.email }, "enqueue failed");
      return event;
    }
    namespace = config.metricNamespace;
    // One attempt per SDK call: the retry loop above owns the time budget.
    sqs ??= new SQSClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 } });
    const result = await enqueue(config, sqs, message);
    if (result.ok) {
      emitMetrics(
        namespace,
        "producer",
        { [METRICS.enqueued]: 1 },
        { email: message.email, source: message.source, attempts: result.attempts, messageId: result.messageId },
        "sign-up enqueued",
      );
    } else {
      emitMetrics(
        namespace,
        "producer",
        { [METRICS.enqueueFailed]: 1 },
        { level: "error", reason: "SendMessage failed", attempts: result.attempts, ...errorFields(result.error), message },
        "enqueue failed; sign-up continues, the reconciler will provision this user",
      );
    }
  } catch (err) {
    // Belt and braces: nothing may fail the sign-up.
    emitMetrics(process.env.METRIC_NAMESPACE || METRICS.namespace, "producer", { [METRICS.enqueueFailed]: 1 }, { level: "error", reason: "unexpected", ...errorFields(err) }, "producer failed unexpectedly; sign-up continues");
  }
  return event;
};
