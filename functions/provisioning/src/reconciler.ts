/**
 * Hourly reconciler: every enabled Cognito user whose status is CONFIRMED or EXTERNAL_PROVIDER must
 * exist in Open WebUI. Heals whatever the event path lost (an EnqueueFailed sign-up, a message an
 * operator purged from the DLQ, admin-created users, users from before this pipeline existed).
 *
 * Strategy: POST /Users for each user and treat 409 as "exists". That costs exactly one SCIM call
 * per user whatever the state, where "GET ?filter first, then POST if absent" costs one call for an
 * existing user and two for a missing one — so POST-first is never worse, and it is a single
 * idempotent operation (the 409 check happens before any write upstream). It never modifies an
 * existing Open WebUI user (a suspended one stays suspended).
 *
 * Idempotent; a re-run finds everyone existing. Returns `{seen, created, existed, failed, skipped}`.
 */
import { CognitoIdentityProviderClient, ListUsersCommand, type UserType } from "@aws-sdk/client-cognito-identity-provider";
import type { Context } from "aws-lambda";
import { loadReconcilerConfig, METRICS, type ReconcilerConfig } from "./config.js";
import { emitMetrics, errorFields, log } from "./log.js";
import { displayName, mapLimit, normalizeEmail } from "./message.js";
import { scimRuntime } from "./runtime.js";
import { describeOutcome, isDone } from "./scim.js";
import { notifyWebhook } from "./webhook.js";

export interface ReconcileResult {
  /** Users listed from Cognito. */
  seen: number;
  created: number;
  existed: number;
  failed: number;
  /** Disabled, not yet confirmed, without an email, or a second user with an email already handled. */
  skipped: number;
  /** False when the run stopped early (Cognito listing failed, or the function was running out of time). */
  complete: boolean;
  scimRequests: number;
}

const ELIGIBLE_STATUSES = new Set(["CONFIRMED", "EXTERNAL_PROVIDER"]);
/** ListUsers allows at most 60 per page. */
const PAGE_SIZE = 60;

let config: ReconcilerConfig | undefined;
let cognito: CognitoIdentityProviderClient | undefined;

function attributes(user: UserType): Record<string, string | undefined> {
  return Object.fromEntries((user.Attributes ?? []).map((a) => [a.Name ?? "", a.Value]));
}

export const handler = async (_event?: unknown, context?: Pick<Context, "getRemainingTimeInMillis">): Promise<ReconcileResult> => {
  const cfg = (config ??= loadReconcilerConfig());
  cognito ??= new CognitoIdentityProviderClient({});
  const { scim } = scimRuntime(cfg);
  const requestsBefore = scim.requests;
  const result: ReconcileResult = { seen: 0, created: 0, existed: 0, failed: 0, skipped: 0, complete: true, scimRequests: 0 };
  const handled = new Set<string>();
  const webhooks: Promise<unknown>[] = [];
  const reserveMs = 2 * cfg.requestTimeoutMs + 2000;
  let listError: unknown;
  let token: string | undefined;

  do {
    if (context && context.getRemainingTimeInMillis() < reserveMs) {
      result.complete = false;
      log("warn", "reconciler running out of time; stopping early (the next run starts over)", { ...result });
      break;
    }
    let page;
    try {
      page = await cognito.send(new ListUsersCommand({ UserPoolId: cfg.userPoolId, Limit: PAGE_SIZE, ...(token ? { PaginationToken: token } : {}) }));
    } catch (err) {
      listError = err;
      result.complete = false;
      log("error", "ListUsers failed; reconciliation incomplete", errorFields(err));
      break;
    }
    token = page.PaginationToken || undefined;
    const users = page.Users ?? [];
    result.seen += users.length;
    const todo: { email: string; name: string; username?: string }[] = [];
    for (const u of users) {
      if (u.Enabled === false || !ELIGIBLE_STATUSES.has(String(u.UserStatus))) {
        result.skipped += 1;
        continue;
      }
      const attrs = attributes(u);
      const email = normalizeEmail(attrs.email);
      if (!email) {
        result.skipped += 1;
        log("warn", "confirmed Cognito user without a usable email; cannot provision", { username: u.Username });
        continue;
      }
      if (handled.has(email)) {
        result.skipped += 1;
        continue;
      }
      handled.add(email);
      todo.push({ email, name: displayName(attrs, email), ...(u.Username ? { username: u.Username } : {}) });
    }
    await mapLimit(todo, cfg.concurrency, async (user) => {
      const outcome = await scim.createUser(user);
      if (outcome.kind === "created") {
        result.created += 1;
        log("info", "reconciler created a missing Open WebUI user", { email: user.email });
        if (cfg.webhookUrl) {
          webhooks.push(
            notifyWebhook(cfg.webhookUrl, cfg.webhookTimeoutMs, {
              event: "user.provisioned",
              email: user.email,
              name: user.name,
              ...(outcome.id ? { openWebUiUserId: outcome.id } : {}),
              source: "reconciler",
            }),
          );
        }
      } else if (isDone(outcome)) {
        result.existed += 1;
      } else {
        result.failed += 1;
        log("error", `reconciler could not ensure user: ${describeOutcome(outcome)}`, {
          email: user.email,
          outcome: outcome.kind,
          ...("status" in outcome ? { status: outcome.status } : {}),
          ...(outcome.detail ? { detail: outcome.detail } : {}),
        });
      }
    });
  } while (token);

  await Promise.allSettled(webhooks);
  result.scimRequests = scim.requests - requestsBefore;
  emitMetrics(
    cfg.metricNamespace,
    "reconciler",
    {
      [METRICS.reconcileFailed]: result.failed + (listError ? 1 : 0),
      [METRICS.reconcileHealed]: result.created,
      [METRICS.existed]: result.existed,
    },
    { level: result.failed > 0 || listError ? "error" : "info", ...result },
    "reconcile done",
  );
  if (listError) throw listError;
  return result;
};
