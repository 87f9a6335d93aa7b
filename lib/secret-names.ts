/**
 * Which environment-variable names look like they carry a secret. Such values must travel as
 * `secrets[].valueFrom` (ECS) or be read from Secrets Manager at run time (Lambda), never as plain
 * environment values (AWS-0036, ECS.8, CKV_AWS_45). Shared by the service factory, the Lambda
 * construct and the policy rules, so they all draw the line in the same place.
 */

const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS", "CREDENTIAL", "CREDENTIALS", "PRIVATE"]);

/** Name endings that say the value points at or describes a secret rather than being one. */
const REFERENCE_SUFFIXES = ["_ID", "_ARN", "_NAME", "_URL_PATH", "_HEADER", "_FILE", "_PATH", "_TTL_SECONDS", "_ENDPOINTS", "_CLAIM"];

/** True when `name` contains a secret-ish word (PASSWORD, SECRET, TOKEN, KEY, …) as one of its `_` segments. */
export function looksSecret(name: string): boolean {
  const upper = name.toUpperCase();
  // Switches: ENABLE_API_KEYS, Open WebUI's USER_PERMISSIONS_FEATURES_API_KEYS (a role permission).
  if (upper.startsWith("ENABLE_") || upper.startsWith("DISABLE_") || upper.startsWith("USER_PERMISSIONS_")) return false;
  if (REFERENCE_SUFFIXES.some((s) => upper.endsWith(s))) return false;
  return upper.split(/[_\W]+/).some((segment) => SECRET_WORDS.has(segment));
}
