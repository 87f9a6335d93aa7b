/**
 * Checks of the services section that span fields or need AWS's and the products' tables: the
 * gateway's model catalog, mcpo's servers, Fargate sizes, and scaling settings the layers ignore.
 */
import { fargateSizeProblem } from "../lib/aws-limits.js";
import type { Fail } from "../lib/errors.js";
import { looksSecret } from "../lib/secret-names.js";
import { metadataAddressProblem, secretValueProblem } from "../lib/secret-values.js";
import { BEDROCK_MODEL_ID_RE, BEDROCK_PROVIDERS, INFERENCE_PROFILE_PREFIXES, needsInferenceProfile, notChatModel, profilePrefixFor } from "./bedrock-models.js";
import type { McpoServerConfig, ParsedEnv } from "./schema.js";

const MCPO_SERVER_NAME_RE = /^[a-z][a-z0-9_-]{0,30}$/;
/** Services only reachable inside the VPC (modules/services routes them `internal`): no ALB target group to count requests on. */
const INTERNAL_SERVICES = ["litellm", "mcpo"] as const;

/** The service catalogs and sizes. */
export function checkServices(env: ParsedEnv, fail: Fail): void {
  checkModels(env, fail);
  checkRetrieval(env, fail);
  checkMcpo(env, fail);
  for (const [name, svc] of Object.entries(env.services)) {
    const size = fargateSizeProblem(svc.cpu, svc.memoryMiB);
    if (size) fail(`services.${name}.${size[0]}`, size[1], size[2]);
    checkCapacity(name, svc, fail);
  }
  for (const name of INTERNAL_SERVICES) {
    const rpt = env.services[name].requestsPerTarget;
    if (rpt !== undefined) fail(`services.${name}.requestsPerTarget`, `${rpt} is set, but ${name} is internal (no ALB target group), so no request count exists to scale on`, "remove it; scale on targetCpuPercent");
  }
}

/**
 * Fargate Spot only runs Linux X86_64 tasks ("Linux tasks with the ARM64 architecture don't support
 * the Fargate Spot capacity provider", Amazon ECS developer guide, fargate-capacity-providers.html).
 * Any service may run on Spot: each keeps its state in Aurora, EFS or Redis (README "Running several
 * replicas"), so an interrupted task is replaced like a failed one.
 */
function checkCapacity(name: string, svc: { readonly capacity: string; readonly cpuArchitecture: string }, fail: Fail): void {
  if (svc.capacity === "spot" && svc.cpuArchitecture === "ARM64") {
    fail(`services.${name}.capacity`, `"spot" with cpuArchitecture "ARM64": Fargate Spot runs only X86_64 Linux tasks`, `set cpuArchitecture to "X86_64" for Spot, or capacity to "on-demand" for ARM64`);
  }
}

function checkModels(env: ParsedEnv, fail: Fail): void {
  const { models } = env.services.litellm;
  if (models.length === 0) fail("services.litellm.models", "is empty, so the gateway would serve no model", "list at least one Bedrock model, e.g. { name: \"claude-3-7-sonnet\", modelId: \"us.anthropic.claude-3-7-sonnet-20250219-v1:0\" }");
  const seen = new Map<string, number>();
  models.forEach((m, i) => {
    const at = `services.litellm.models[${i}]`;
    const first = seen.get(m.name);
    if (first !== undefined) fail(`${at}.name`, `"${m.name}" is already the name of models[${first}]`, "give each model its own name");
    else seen.set(m.name, i);
    const parsed = BEDROCK_MODEL_ID_RE.exec(m.modelId);
    if (!parsed) {
      fail(`${at}.modelId`, `"${m.modelId}" is not a Bedrock model id or inference profile id`, "use [us.|eu.|apac.|global.]<provider>.<model>[:N] as listed on the Bedrock model card, e.g. \"us.anthropic.claude-3-7-sonnet-20250219-v1:0\"");
      return;
    }
    const [, profile, provider] = parsed;
    if (!(BEDROCK_PROVIDERS as readonly string[]).includes(provider!)) {
      fail(`${at}.modelId`, `"${m.modelId}" names the unknown provider "${provider}"`, `use one of ${BEDROCK_PROVIDERS.join(", ")} (optionally after an inference profile prefix us., eu., apac. or global.)`);
    }
    const callRegion = m.region ?? env.region;
    if (profile && !INFERENCE_PROFILE_PREFIXES[profile]!.test(callRegion)) {
      fail(`${at}.region`, `inference profile "${m.modelId}" cannot be called from ${callRegion}${m.region ? "" : " (the env's region)"}`, `use the profile of that region's geography, or set region to a region the "${profile}." profile serves`);
    }
    const foundation = profile ? m.modelId.slice(profile.length + 1) : m.modelId;
    const kind = notChatModel(foundation);
    if (kind) {
      fail(`${at}.modelId`, `"${m.modelId}" is ${kind}, not a chat model: Open WebUI would offer it in the model picker and every chat with it fails`, "remove it from the chat catalog; embeddings are configured in services.openwebui.retrieval.embeddingModelId");
    } else if (!profile) {
      const why = needsInferenceProfile(foundation, callRegion);
      const geo = profilePrefixFor(callRegion);
      if (why) fail(`${at}.modelId`, `"${m.modelId}": ${why} in ${callRegion}`, `use ${geo ? `"${geo}.${m.modelId}" (the ${geo}. profile for ${callRegion}) or ` : ""}"global.${m.modelId}" where the model card lists a global profile`);
    }
  });
}

/** Open WebUI's retrieval settings against the replica count and the chat catalog. */
function checkRetrieval(env: ParsedEnv, fail: Fail): void {
  const owui = env.services.openwebui;
  if (owui.retrieval.vectorDb === "chroma" && owui.maxCount > 1) {
    fail("services.openwebui.retrieval.vectorDb", `"chroma" keeps vectors in files under DATA_DIR, which the ${owui.maxCount} replicas allowed by services.openwebui.maxCount would write concurrently on the shared EFS`, "use \"pgvector\" (the default), or set services.openwebui.maxCount to 1");
  }
  if (env.services.litellm.models.some((m) => m.name === owui.retrieval.embeddingName)) {
    fail("services.openwebui.retrieval.embeddingName", `"${owui.retrieval.embeddingName}" is also the name of a chat model in services.litellm.models`, "give the embedding model a name no chat model uses");
  }
}

const SECRET_FIX = "keep credentials out of the env config: mcpo's server list travels as a plain environment value of its task definition and in Terraform state. Use an MCP server that reads its credential from its own environment or a file, and supply that from Secrets Manager";
const METADATA_FIX = "point the server at the service it is meant to reach; a tool server that can reach a metadata endpoint hands the task role's credentials to anyone who can prompt it";

/** mcpo's servers: names, no secrets in what becomes plain text, no metadata endpoints. */
function checkMcpo(env: ParsedEnv, fail: Fail): void {
  const servers = env.services.mcpo.servers;
  if (Object.keys(servers).length === 0) fail("services.mcpo.servers", "is empty, so mcpo would serve no tools", "list at least one MCP server, e.g. { time: { command: \"uvx\", args: [\"mcp-server-time\"] } }");
  for (const [name, server] of Object.entries(servers)) {
    const at = `services.mcpo.servers.${name}`;
    if (!MCPO_SERVER_NAME_RE.test(name)) fail(at, `"${name}" cannot be a URL path segment and a tool-server id`, "use 1–31 lower-case letters, digits, dashes or underscores, starting with a letter");
    if (!("url" in server)) {
      for (const key of Object.keys(server.env ?? {})) {
        if (looksSecret(key)) fail(`${at}.env.${key}`, `"${key}" names a secret, and its value would sit in plain text`, SECRET_FIX);
      }
    }
    for (const [path, value] of serverValues(server)) {
      const secret = secretValueProblem(value);
      if (secret) fail(`${at}.${path}`, `${JSON.stringify(redact(value))} ${secret}`, SECRET_FIX);
      const metadata = metadataAddressProblem(value);
      if (metadata) fail(`${at}.${path}`, `${JSON.stringify(value)} points at ${metadata}`, METADATA_FIX);
    }
  }
}

/** Every string of a server that ends up in mcpo's config: [path, value]. */
function serverValues(server: McpoServerConfig): [string, string][] {
  if ("url" in server) return [["url", server.url]];
  return [
    ["command", server.command],
    ...server.args.map((a, i): [string, string] => [`args[${i}]`, a]),
    ...Object.entries(server.env ?? {}).map(([k, v]): [string, string] => [`env.${k}`, v]),
  ];
}

/** A secret-looking value with its middle masked, so the refusal does not print the secret again. */
function redact(value: string): string {
  return value.length <= 12 ? value : `${value.slice(0, 8)}…${value.slice(-2)} (${value.length} characters)`;
}
