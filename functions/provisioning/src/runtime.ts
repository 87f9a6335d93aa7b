/**
 * Module-scope singletons shared by the worker and the reconciler: one Open WebUI user client per
 * execution environment (and, on the SCIM path, one token cache, so the token survives warm
 * invocations), rebuilt only if the configuration changes.
 */
import type { ClientConfig } from "./config.js";
import type { OpenWebUiUserClient } from "./http.js";
import { ScimClient, SecretTokenSource } from "./scim.js";
import { TrustedHeaderClient } from "./trusted-header.js";

let current: { key: string; client: OpenWebUiUserClient } | undefined;

/** The client of the configured path (`OPENWEBUI_PROVISIONING`). */
export function userClient(config: ClientConfig): OpenWebUiUserClient {
  const key = JSON.stringify([config.openwebui, config.requestTimeoutMs]);
  if (!current || current.key !== key) {
    const o = config.openwebui;
    const client =
      o.path === "scim"
        ? new ScimClient({
            baseUrl: o.scimBaseUrl,
            timeoutMs: config.requestTimeoutMs,
            tokens: new SecretTokenSource(o.scimTokenSecretArn, o.scimTokenTtlSeconds * 1000),
          })
        : new TrustedHeaderClient({
            baseUrl: o.openWebUiUrl,
            emailHeader: o.emailHeader,
            ...(o.nameHeader ? { nameHeader: o.nameHeader } : {}),
            timeoutMs: config.requestTimeoutMs,
          });
    current = { key, client };
  }
  return current.client;
}
