/**
 * Helpers for tests that build substitutions from a synthesized env: fake values for every reference
 * and every secret of the definitions, so a launch environment can be computed without stand-ins.
 */
import type { Manifest } from "./manifest.js";
import { parseValueFrom, type Substitutions } from "./substitute.js";
import { placeholdersOf, type ContainerDefinition } from "./taskdefs.js";

/** A manifest whose paths exist nowhere (composition and environment only). */
export const FAKE_MANIFEST: Manifest = {
  components: {
    openwebui: { version: "0.10.2", venv: "/opt/fake/owui", python: "/opt/fake/owui/bin/python", bin: { "open-webui": "/opt/fake/owui/bin/open-webui" } },
    litellm: { python: "/opt/fake/litellm/bin/python", bin: { litellm: "/opt/fake/litellm/bin/litellm" } },
    mcpo: { bin: { mcpo: "/opt/fake/mcpo/bin/mcpo", uvx: "/opt/fake/uv/bin/uvx" } },
    "oauth2-proxy": { version: "7.15.3", bin: { "oauth2-proxy": "/opt/fake/oauth2-proxy/oauth2-proxy" } },
    postgres: { bindir: "/usr/lib/postgresql/16/bin", pgvector: false },
    redis: { bin: { "redis-server": "/usr/bin/redis-server", "redis-cli": "/usr/bin/redis-cli" } },
    chromium: { bin: "/usr/bin/chromium" },
  },
};

/** `<address>` → a recognisable fake value, for every reference the definitions hold. */
export function fakeReferences(defs: readonly ContainerDefinition[]): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const d of defs) for (const p of placeholdersOf(d)) refs[p] = `ref-${p.replace(/[^A-Za-z0-9]+/g, "-")}`;
  return refs;
}

/** A fixture value for every secret (JSON with the asked key when `:<key>::`). */
export function fakeSecrets(defs: readonly ContainerDefinition[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of defs) {
    for (const s of d.secrets) {
      const { arn, jsonKey } = parseValueFrom(s.valueFrom);
      if (jsonKey) out[arn] = JSON.stringify({ ...(out[arn] ? JSON.parse(out[arn]!) : {}), [jsonKey]: `secret-${s.name}` });
      else out[s.valueFrom] = `secret-${s.name}`;
    }
  }
  return out;
}

/** Substitutions for one env's task, with fakes for references and secrets. */
export function fakeSubstitutions(envName: string, defs: readonly ContainerDefinition[], over: Partial<Substitutions> = {}): Substitutions {
  return {
    namespace: `owui-${envName}.internal`,
    taskIp: "127.0.1.10",
    discovery: { openwebui: "127.0.1.10", litellm: "127.0.1.11", mcpo: "127.0.1.12" },
    endpoints: [
      { from: "https://cognito-idp.us-east-1.amazonaws.com", to: "https://127.0.0.1:9443/cognito", reason: "Cognito stand-in" },
      { from: "https://login.microsoftonline.com", to: "https://127.0.0.1:9443/entra", reason: "Entra stand-in" },
    ],
    references: fakeReferences(defs),
    secrets: fakeSecrets(defs),
    taskDir: `/tmp/owui-e2e-test/${envName}`,
    extraEnv: [{ name: "SSL_CERT_FILE", value: "/tmp/owui-e2e-test/ca.pem", reason: "trust the test CA of the stand-ins" }],
    manifest: FAKE_MANIFEST,
    hostPath: "/usr/bin:/bin",
    ...over,
  };
}
