/**
 * Hourly reconciler: every enabled Cognito user whose status is CONFIRMED or EXTERNAL_PROVIDER must
 * exist in Open WebUI. Heals whatever the event path lost (an EnqueueFailed sign-up, a message an
 * operator purged from the DLQ, admin-created users, users from before this pipeline existed).
 *
 * Strategy: one create per user, through the same client as the worker (`OPENWEBUI_PROVISIONING`).
 *  - SCIM: POST /Users and treat 409 as "exists". That costs exactly one call per user whatever the
 *    state, where "GET ?filter first, then POST if absent" costs one call for an existing user and
 *    two for a missing one — so POST-first is never worse, and it is a single idempotent operation
 *    (the 409 check happens before any write upstream). It never modifies an existing user (a
 *    suspended one stays suspended).
 *  - trusted-header: one sign-in per user (200 = exists now). It cannot tell a healed user from an
 *    existing one, so it counts them `ensured` (`ReconcileHealed` stays 0) and fires no webhook.
 *    Each is a sign-in event in Open WebUI (an `auth.login` event for its event sinks). A user who
 *    cannot sign in (created through SCIM) is reported as failed on every run, which is the point.
 *
 * Idempotent; a re-run finds everyone existing. Returns `{seen, created, existed, ensured, failed, skipped, complete}`.
 */
import type { CognitoIdentityProviderClient, UserType } from "@aws-sdk/client-cognito-identity-provider";
import type { Context } from "aws-lambda";
import { loadReconcilerConfig, METRICS, type ReconcilerConfig } from "./config.js";
import { emitMetrics, errorFields, log } from "./log.js";
import { displayName, mapLimit, normalizeEmail } from "./message.js";
import { describeOutcome } from "./http.js";
import { userClient } from "./runtime.js";
import { notifyWebhook } from "./webhook.js";

export interface ReconcileResult {
  /** Users listed from Cognito. */
  seen: number;
  /** SCIM 201. */
  created: number;
  /** SCIM 409. */
  existed: number;
  /** Trusted-header sign-in 200: exists now (created by this run or earlier, unknown). */
  ensured: number;
  failed: number;
  /** Disabled, not yet confirmed, without an email, or a second user with an email already handled. */
  skipped: number;
  /** False when the run stopped early (Cognito listing failed, or the function was running out of time). */
  complete: boolean;
  /** Which client: `OPENWEBUI_PROVISIONING`. */
  path: "scim" | "trusted-header";
  openWebUiRequests: number;
}

const ELIGIBLE_STATUSES = new Set(["CONFIRMED", "EXTERNAL_PROVIDER"]);
/** ListUsers allows at most 60 per page. */
const PAGE_SIZE = 60;

let config: ReconcilerConfig | undefined;
let cognito: CognitoIdentityProviderClient | undefined;
/**
 * The Cognito client module loads on the first invocation, not at module init (the init phase stays
 * within its 150 ms goal, bench/README.md); warm invocations reuse it.
 */
let cognitoSdk: Promise<typeof import("@aws-sdk/client-cognito-identity-provider")> | undefined;

function attributes(user: UserType): Record<string, string | undefined> {
  return Object.fromEntries((user.Attributes ?? []).map((a) => [a.Name ?? "", a.Value]));
}

export const handler = async (_event?: unknown, context?: Pick<Context, "getRemainingTimeInMillis">): Promise<ReconcileResult> => {
  const cfg = (config ??= loadReconcilerConfig());
  const { CognitoIdentityProviderClient, ListUsersCommand } = await (cognitoSdk ??= import("@aws-sdk/client-cognito-identity-provider"));
  cognito ??= new CognitoIdentityProviderClient({});
  const client = userClient(cfg);
  const requestsBefore = client.requests;
  const result: ReconcileResult = { seen: 0, created: 0, existed: 0, ensured: 0, failed: 0, skipped: 0, complete: true, path: client.path, openWebUiRequests: 0 };
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
      const outcome = await client.create(user);
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
      } else if (outcome.kind === "exists") {
        result.existed += 1;
      } else if (outcome.kind === "ensured") {
        result.ensured += 1;
      } else {
        result.failed += 1;
        log("error", `reconciler could not ensure user: ${describeOutcome(outcome)}`, {
          email: user.email,
          outcome: outcome.kind,
          path: client.path,
          reason: outcome.reason,
          ...(outcome.status !== undefined ? { status: outcome.status } : {}),
          ...(outcome.detail ? { detail: outcome.detail } : {}),
        });
      }
    });
  } while (token);

  await Promise.allSettled(webhooks);
  result.openWebUiRequests = client.requests - requestsBefore;
  emitMetrics(
    cfg.metricNamespace,
    "reconciler",
    {
      [METRICS.reconcileFailed]: result.failed + (listError ? 1 : 0),
      [METRICS.reconcileHealed]: result.created,
      [METRICS.existed]: result.existed,
      [METRICS.ensured]: result.ensured,
    },
    { level: result.failed > 0 || listError ? "error" : "info", ...result },
    "reconcile done",
  );
  if (listError) throw listError;
  return result;
};
