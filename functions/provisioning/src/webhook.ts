/**
 * The optional post-provision webhook (e.g. an n8n workflow that invites the user elsewhere).
 * Fired only after a 201; short timeout; its failure is logged and never fails the item. The URL
 * may carry a secret path, so only its origin is logged.
 */
import { errorFields, log } from "./log.js";

export interface WebhookPayload {
  readonly event: "user.provisioned";
  readonly email: string;
  readonly name: string;
  readonly openWebUiUserId?: string;
  readonly sub?: string;
  readonly source: string;
}

export async function notifyWebhook(url: string, timeoutMs: number, payload: WebhookPayload): Promise<boolean> {
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      return "invalid-url";
    }
  })();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) {
      log("warn", "post-provision webhook answered an error; ignored", { webhook: origin, status: res.status, email: payload.email });
      return false;
    }
    log("info", "post-provision webhook sent", { webhook: origin, status: res.status, email: payload.email });
    return true;
  } catch (err) {
    log("warn", "post-provision webhook failed; ignored", { webhook: origin, email: payload.email, ...errorFields(err) });
    return false;
  }
}
