/**
 * Auth refusals that sit beside envs/auth.ts (which owns the auth section's shape) and run from
 * parseEnv with the whole env in view: overrides that hand out admin, or open local sign-up or
 * password sign-in, in a mode where the IdP is supposed to be the only way in. (A default Cognito
 * domain prefix holding a reserved word is refused by modules/identity/cognito.ts.)
 */
import type { Fail } from "../lib/errors.js";
import type { ParsedEnv } from "./schema.js";

const truthy = (v: string) => v.trim().toLowerCase() === "true";

/** [problem, fix] when an Open WebUI override opens a door in `mode`, else undefined. */
function overrideProblem(mode: string, name: string, value: string): [string, string] | undefined {
  if (name === "DEFAULT_USER_ROLE" && value.trim().toLowerCase() === "admin") {
    return ["makes every new user an administrator: whoever the IdP lets in gets the admin panel, every user's chats and the connection secrets", 'remove the override (new users get "user", or "pending" for approval) and grant admin through the IdP\'s admin role or group'];
  }
  if (mode !== "oidc") return undefined; // trusted-header mode needs ENABLE_SIGNUP and ENABLE_PASSWORD_AUTH on; the guardrails check it
  if (name === "ENABLE_SIGNUP" && truthy(value)) return ["opens Open WebUI's local sign-up form in an SSO mode: anyone who reaches the ALB can create an account without the IdP", "remove the override; users arrive through OIDC (ENABLE_OAUTH_SIGNUP) or SCIM"];
  if (name === "ENABLE_LOGIN_FORM" && truthy(value)) return ["shows Open WebUI's email/password form in an SSO mode, a second way in that skips the IdP's MFA and conditional access", "remove the override; sign in through the IdP"];
  if (name === "ENABLE_PASSWORD_AUTH" && truthy(value)) return ["allows password sign-in beside OIDC, a second way in that skips the IdP's MFA and conditional access", "remove the override; sign in through the IdP"];
  return undefined;
}

/** An OAUTH_ADMIN_ROLES override that lists a role every ordinary user has (Entra role mapping), or "*". */
function adminRolesProblem(auth: Exclude<ParsedEnv["auth"], { mode: "alb-cognito" }>, name: string, value: string): [string, string] | undefined {
  if (name !== "OAUTH_ADMIN_ROLES") return undefined;
  const listed = value.split(",").map((v) => v.trim()).filter(Boolean);
  const roles = auth.idp === "entra" ? auth.entra.roles : undefined;
  const userRoles = roles ? roles.allowed.filter((r) => !roles.admin.includes(r)) : [];
  const handedOut = listed.filter((v) => v === "*" || userRoles.includes(v));
  if (handedOut.length === 0) return undefined;
  return [`lists ${handedOut.map((v) => JSON.stringify(v)).join(", ")}, which ordinary users hold (auth.entra.roles.allowed), so every user who signs in becomes an administrator`, "list only admin roles (auth.entra.roles.admin), or drop the override and change auth.entra.roles.admin"];
}

/** Refuses auth overrides that open a door the IdP should guard. */
export function checkAuth(env: ParsedEnv, fail: Fail): void {
  const auth = env.auth;
  if (auth.mode === "alb-cognito") return; // refused by the schema already
  auth.overrides.forEach((o, i) => {
    if (o.container !== "openwebui") return;
    const problem = overrideProblem(auth.mode, o.name, o.value) ?? adminRolesProblem(auth, o.name, o.value);
    if (problem) fail(`auth.overrides[${i}].value`, `${o.name}=${JSON.stringify(o.value)} ${problem[0]}`, problem[1]);
  });
}
