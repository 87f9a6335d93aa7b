/**
 * Cognito PreSignUp trigger: the email-domain allow-list. Attach it as the user pool's
 * **PreSignUp** trigger; the identity layer does so only when `auth.cognito.emailDomains` is not
 * `["*"]`, and passes the list as `ALLOWED_EMAIL_DOMAINS`.
 *
 * It runs before a user is created, for every way one is (Amazon Cognito Developer Guide,
 * "Pre sign-up Lambda trigger"): `PreSignUp_SignUp` (self sign-up), `PreSignUp_ExternalProvider`
 * (a federated user's first sign-in, e.g. Google) and `PreSignUp_AdminCreateUser`. The rule is the
 * same for all three, and for any other source: the `email` attribute's domain must be exactly one
 * of the list, compared case-insensitively; a subdomain of a listed domain is NOT allowed (list it
 * too). Throwing is how a PreSignUp trigger refuses; Cognito shows the message as
 * "PreSignUp failed with error <message>".
 *
 * It fails closed: a missing or malformed email, or a misconfigured function, refuses the sign-up.
 * The refusal names the allowed domains and never echoes the address it was given. No AWS SDK.
 */
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { loadPreSignUpConfig, type PreSignUpConfig } from "./config.js";
import { errorFields, log } from "./log.js";
import { normalizeEmail } from "./message.js";

/** The trigger sources Cognito sends a PreSignUp trigger (all of them are checked). */
export const PRE_SIGN_UP_SOURCES = ["PreSignUp_SignUp", "PreSignUp_ExternalProvider", "PreSignUp_AdminCreateUser"] as const;

/** What a misconfigured function answers (details go to the log, not to the user). */
export const MISCONFIGURED_MESSAGE = "Sign-up is unavailable: the email-domain filter of this user pool is misconfigured. Please tell the administrator.";

/** The minimum a PreSignUp event has; typed loosely so a malformed event reaches the checks. */
type PreSignUpEvent = Pick<PreSignUpTriggerEvent, "triggerSource" | "userPoolId" | "userName"> & {
  request?: { userAttributes?: Record<string, string | undefined> };
};

export type Decision = { readonly allowed: true; readonly domain: string } | { readonly allowed: false; readonly domain?: string; readonly message: string };

/** "a.com", "a.com or b.com", "a.com, b.com or c.com". */
function listOf(domains: readonly string[]): string {
  return domains.length <= 1 ? (domains[0] ?? "") : `${domains.slice(0, -1).join(", ")} or ${domains.at(-1)}`;
}

/** The refusal a user sees; it names every allowed domain. */
export function refusalMessage(allowedDomains: readonly string[]): string {
  return `Sign-up is limited to email addresses at ${listOf(allowedDomains)}. Use an address at ${allowedDomains.length > 1 ? "one of these domains" : "this domain"}.`;
}

/** The domain of an address, lower-cased, or undefined when the value is not an email address. */
export function emailDomain(raw: unknown): string | undefined {
  const email = normalizeEmail(raw);
  return email === undefined ? undefined : email.slice(email.lastIndexOf("@") + 1);
}

/** Pure decision: allowed exactly when the email's domain is one of the list. */
export function decide(event: PreSignUpEvent, config: PreSignUpConfig): Decision {
  const domain = emailDomain(event.request?.userAttributes?.email);
  if (domain === undefined) return { allowed: false, message: `A valid email address is required. ${refusalMessage(config.allowedDomains)}` };
  if (config.allowedDomains.includes(domain)) return { allowed: true, domain };
  return { allowed: false, domain, message: refusalMessage(config.allowedDomains) };
}

let config: PreSignUpConfig | undefined;

export const handler = async <E extends PreSignUpEvent>(event: E): Promise<E> => {
  const where = { triggerSource: event?.triggerSource, userPoolId: event?.userPoolId };
  try {
    config ??= loadPreSignUpConfig();
  } catch (err) {
    log("error", "pre-sign-up misconfigured; sign-up refused", { ...where, ...errorFields(err) });
    throw new Error(MISCONFIGURED_MESSAGE);
  }
  const decision = decide(event, config);
  if (!decision.allowed) {
    log("warn", "sign-up refused: email domain not allowed", { ...where, domain: decision.domain ?? null });
    throw new Error(decision.message);
  }
  log("info", "sign-up allowed", { ...where, domain: decision.domain });
  return event;
};
