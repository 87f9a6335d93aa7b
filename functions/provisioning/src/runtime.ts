/**
 * Module-scope singletons shared by the worker and the reconciler: one token cache and one SCIM
 * client per execution environment (so the token survives warm invocations), rebuilt only if the
 * configuration changes.
 */
import type { ScimConfig } from "./config.js";
import { ScimClient, SecretTokenSource } from "./scim.js";

let current: { key: string; tokens: SecretTokenSource; scim: ScimClient } | undefined;

export function scimRuntime(config: ScimConfig): { tokens: SecretTokenSource; scim: ScimClient } {
  const key = JSON.stringify([config.scimBaseUrl, config.scimTokenSecretArn, config.scimTokenTtlSeconds, config.requestTimeoutMs]);
  if (!current || current.key !== key) {
    const tokens = new SecretTokenSource(config.scimTokenSecretArn, config.scimTokenTtlSeconds * 1000);
    current = { key, tokens, scim: new ScimClient({ baseUrl: config.scimBaseUrl, timeoutMs: config.requestTimeoutMs, tokens }) };
  }
  return current;
}
