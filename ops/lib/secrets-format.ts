/**
 * The values `ops secrets init` can generate, each in the format its consumer requires. A secret's
 * generator is chosen by the variable its consumer reads it as (the `secrets[].name` of the task
 * definition that references it), so which secrets exist still comes from the synthesized stack;
 * this file only knows formats. Formats as the secrets' own descriptions state them
 * (modules/services, modules/identity) and as the consumers accept them:
 * - `WEBUI_SECRET_KEY`: any string; 32 random bytes as hex (`openssl rand -hex 32`).
 * - LiteLLM's master key (`LITELLM_MASTER_KEY`, and Open WebUI's `OPENAI_API_KEYS`/`RAG_OPENAI_API_KEY`
 *   for it): LiteLLM requires it to start with `sk-`; `sk-` + 64 hex characters. Open WebUI splits
 *   `OPENAI_API_KEYS` on `;`, which hex never contains.
 * - `OAUTH2_PROXY_COOKIE_SECRET`: oauth2-proxy v7 (v7.15.6 here) wants an AES key: a secret of 16,
 *   24 or 32 bytes, as is or after URL-safe base64 decoding (the identity layer's description notes
 *   that standard base64 with `+` or `/` is refused); the platform uses 32 random bytes as URL-safe
 *   base64 without padding (43 characters), the value modules/identity COOKIE_SECRET_COMMAND makes.
 * - mcpo's `--api-key` and Open WebUI's `SCIM_TOKEN`: bearer tokens; 32 random bytes as hex.
 * - `WEBUI_ADMIN_PASSWORD`: 24 random bytes as URL-safe base64 (32 characters, under bcrypt's 72-byte limit).
 * - `TOOL_SERVER_CONNECTIONS`: JSON built by modules/services `toolServerConnection()` (the same
 *   code the services layer uses for the secret's description), one entry per mcpo server, each
 *   with the mcpo key and the access grants that let every user see the tools.
 */
import { randomBytes } from "node:crypto";
import { toolServerConnection } from "../../modules/services/index.js";

export type GeneratorId = "openwebui-secret-key" | "litellm-master-key" | "oauth2-proxy-cookie-secret" | "mcpo-api-key" | "admin-password" | "scim-token" | "tool-server-connections";

/** What a generated value is derived from (only the tool-server connections need anything). */
export interface GeneratorContext {
  /** mcpo's API key, for the tool-server connections. */
  readonly mcpoKey?: string;
  /** `http://mcpo.<namespace>:<port>`. */
  readonly mcpoUrl?: string;
  /** mcpo's server names (the keys of its `mcpServers`). */
  readonly mcpoServers?: readonly string[];
}

export interface Generator {
  readonly id: GeneratorId;
  /** The format, for humans. */
  readonly format: string;
  generate(ctx: GeneratorContext): string;
}

const hex32 = () => randomBytes(32).toString("hex");

/** 32 random bytes, URL-safe base64 without padding: what oauth2-proxy's cookie secret must be here. */
export function cookieSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Open WebUI's `TOOL_SERVER_CONNECTIONS` for mcpo: one entry per server, sorted, each with the key. */
export function toolServerConnectionsJson(mcpoUrl: string, servers: readonly string[], key: string): string {
  return JSON.stringify([...servers].sort().map((name) => toolServerConnection(`${mcpoUrl}/${name}`, name, key)));
}

export const GENERATORS: Readonly<Record<GeneratorId, Generator>> = {
  "openwebui-secret-key": { id: "openwebui-secret-key", format: "32 random bytes as hex (64 characters)", generate: hex32 },
  "litellm-master-key": { id: "litellm-master-key", format: "sk- + 32 random bytes as hex", generate: () => `sk-${hex32()}` },
  "oauth2-proxy-cookie-secret": { id: "oauth2-proxy-cookie-secret", format: "32 random bytes as URL-safe base64 without padding (43 characters)", generate: cookieSecret },
  "mcpo-api-key": { id: "mcpo-api-key", format: "32 random bytes as hex", generate: hex32 },
  "admin-password": { id: "admin-password", format: "24 random bytes as URL-safe base64 (32 characters)", generate: () => randomBytes(24).toString("base64url") },
  "scim-token": { id: "scim-token", format: "32 random bytes as hex", generate: hex32 },
  "tool-server-connections": {
    id: "tool-server-connections",
    format: "TOOL_SERVER_CONNECTIONS JSON: one openapi entry per mcpo server with the mcpo key and access grants for every user",
    generate(ctx) {
      if (ctx.mcpoKey === undefined || ctx.mcpoUrl === undefined || ctx.mcpoServers === undefined) throw new Error("the tool-server connections need the mcpo key, mcpo's URL and its servers");
      return toolServerConnectionsJson(ctx.mcpoUrl, ctx.mcpoServers, ctx.mcpoKey);
    },
  },
};

/** The generator for a secret by the variable its consumer reads it as. */
export const GENERATOR_BY_VARIABLE: Readonly<Record<string, GeneratorId>> = {
  WEBUI_SECRET_KEY: "openwebui-secret-key",
  LITELLM_MASTER_KEY: "litellm-master-key",
  OPENAI_API_KEYS: "litellm-master-key",
  RAG_OPENAI_API_KEY: "litellm-master-key",
  OAUTH2_PROXY_COOKIE_SECRET: "oauth2-proxy-cookie-secret",
  MCPO_API_KEY: "mcpo-api-key",
  WEBUI_ADMIN_PASSWORD: "admin-password",
  SCIM_TOKEN: "scim-token",
  TOOL_SERVER_CONNECTIONS: "tool-server-connections",
};

/** Generation order: the mcpo key before the connections that carry it. */
export const GENERATION_ORDER: readonly GeneratorId[] = ["openwebui-secret-key", "litellm-master-key", "oauth2-proxy-cookie-secret", "mcpo-api-key", "admin-password", "scim-token", "tool-server-connections"];
