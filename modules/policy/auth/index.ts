/**
 * The auth guardrails: one pure rule per file, applied to the final container environment of the
 * env's auth mode (after `auth.overrides`, so an override cannot switch a guardrail off). See
 * modules/policy/README.md for the table of rules.
 */
import { ConfigError, ConfigErrors } from "../../../lib/errors.js";
import { cookieNotSecure } from "./cookie-not-secure.js";
import { passAuthorizationHeader } from "./pass-authorization-header.js";
import { passUserHeadersOff } from "./pass-user-headers-off.js";
import { passwordAuthOff } from "./password-auth-off.js";
import { preferEmailToUser } from "./prefer-email-to-user.js";
import { proxyUpstream } from "./proxy-upstream.js";
import { scimRoute } from "./scim-route.js";
import { skipAuthBehindReverseProxy } from "./skip-auth-behind-reverse-proxy.js";
import { skipAuthRoutes } from "./skip-auth-routes.js";
import { trustedHeadersWithoutProxy } from "./trusted-headers-without-proxy.js";
import type { AuthRule, AuthVariable, AuthView } from "./view.js";
import { webuiAuthOff } from "./webui-auth-off.js";
import { xAuthRequestHeaders } from "./x-auth-request-headers.js";

export * from "./view.js";
export { AUTH_ROUTE_SAMPLES } from "./skip-auth-routes.js";
export { SCIM_ROUTE_PREFIX, escapesPrefix } from "./scim-route.js";

/** Every auth guardrail, in ID order. */
export const AUTH_RULES: readonly AuthRule[] = [
  webuiAuthOff,
  preferEmailToUser,
  passAuthorizationHeader,
  xAuthRequestHeaders,
  passwordAuthOff,
  skipAuthRoutes,
  trustedHeadersWithoutProxy,
  proxyUpstream,
  passUserHeadersOff,
  cookieNotSecure,
  scimRoute,
  skipAuthBehindReverseProxy,
];

/** One guardrail violation, placed at the config path that caused it. */
export interface AuthFinding {
  readonly ruleId: string;
  /** `auth.overrides[i]` when an override set one of the responsible variables, else `auth` (prefixed with `<env>: ` when given). */
  readonly path: string;
  /** `<ID>: <what is wrong and the failure it prevents>`. */
  readonly problem: string;
  readonly fix: string;
}

export interface AuthAuditOptions {
  /** Env name to prefix paths with (`<env>: auth…`), as env parsing does. @default - no prefix */
  readonly envName?: string;
}

/** Every violation of every rule; `overrides` are the env's `auth.overrides` (already applied to the view). */
export function auditAuth(view: AuthView, overrides: readonly AuthVariable[], options: AuthAuditOptions = {}): AuthFinding[] {
  const prefix = options.envName ? `${options.envName}: ` : "";
  return AUTH_RULES.flatMap((rule) =>
    rule.check(view).map((v) => {
      const i = overrides.findIndex((o) => v.variables.some((x) => x.container === o.container && x.name === o.name));
      return { ruleId: rule.id, path: `${prefix}${i >= 0 ? `auth.overrides[${i}]` : "auth"}`, problem: `${rule.id}: ${v.problem}`, fix: v.fix };
    }),
  );
}

/** Throws {@link ConfigErrors} listing every guardrail violation; returns quietly when there is none. */
export function checkAuthGuardrails(view: AuthView, overrides: readonly AuthVariable[], options: AuthAuditOptions = {}): void {
  const findings = auditAuth(view, overrides, options);
  if (findings.length > 0) throw new ConfigErrors(findings.map((f) => new ConfigError(f.path, f.problem, f.fix)));
}
