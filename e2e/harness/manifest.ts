/**
 * The installer's manifest (`pnpm e2e:install` writes it): where each locally installed product
 * lives. Read and type-checked here; every harness module takes the parsed {@link Manifest}.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

const abs = z.string().regex(/^\//, "must be an absolute path");

const schema = z.object({
  components: z.object({
    openwebui: z.object({ version: z.string(), venv: abs, python: abs, bin: z.object({ "open-webui": abs }).loose() }).loose(),
    litellm: z.object({ python: abs, bin: z.object({ litellm: abs }).loose() }).loose(),
    mcpo: z.object({ bin: z.object({ mcpo: abs, uvx: abs }).loose() }).loose(),
    "oauth2-proxy": z.object({ version: z.string(), bin: z.object({ "oauth2-proxy": abs }).loose() }).loose(),
    postgres: z.object({ bindir: abs, pgvector: z.boolean(), pgvectorBindir: abs.optional() }).loose(),
    redis: z.object({ bin: z.object({ "redis-server": abs, "redis-cli": abs }).loose() }).loose(),
    chromium: z.object({ bin: abs }).loose(),
  }).loose(),
}).loose();

export type Manifest = z.infer<typeof schema>;

/** The cache directory: `$OWUI_E2E_CACHE`, else `~/.cache/owui-e2e`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OWUI_E2E_CACHE || join(homedir(), ".cache", "owui-e2e");
}

export function manifestPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), "manifest.json");
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/** Validates a manifest's JSON; `source` names it in errors. */
export function parseManifest(json: unknown, source = "manifest.json"): Manifest {
  const result = schema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n");
    throw new ManifestError(`${source} is not a valid e2e install manifest:\n${problems}\nRe-run \`pnpm e2e:install\` to rewrite it.`);
  }
  return result.data;
}

/** Reads and checks the manifest; a clear error when the components are not installed. */
export function readManifest(path: string = manifestPath()): Manifest {
  if (!existsSync(path)) {
    throw new ManifestError(`No e2e install manifest at ${path}: the real products (Open WebUI, LiteLLM, mcpo, oauth2-proxy, PostgreSQL, Redis, Chromium) are not installed. Run \`pnpm e2e:install\` first (set OWUI_E2E_CACHE to use another cache directory).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ManifestError(`${path} is not JSON (${(e as Error).message}). Re-run \`pnpm e2e:install\`.`);
  }
  return parseManifest(json, path);
}
