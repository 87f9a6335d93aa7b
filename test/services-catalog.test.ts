/** The LiteLLM model catalog and mcpo servers are validated at synth: bad catalogs are refused with a fix. */
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { DEFAULT_MODELS } from "../envs/schema.js";
import { litellmConfigYaml, resolveModels } from "../modules/services/index.js";
import { envWith } from "./support/synth.js";

const withModels = (models: unknown) => () => envWith((raw) => (raw.services = { litellm: { models } }));
const claude = { name: "claude", modelId: "us.anthropic.claude-3-7-sonnet-20250219-v1:0" };

describe("services.litellm.models", () => {
  it.each([
    ["a malformed model id", [{ name: "x", modelId: "claude-3-sonnet" }], /models\[0\]\.modelId: "claude-3-sonnet" is not a Bedrock model id or inference profile id\. Fix: use \[us\.\|eu\.\|apac\.\|global\.\]<provider>\.<model>/],
    ["an id with upper case and spaces", [{ name: "x", modelId: "Anthropic.Claude 3" }], /"Anthropic\.Claude 3" is not a Bedrock model id/],
    ["a non-numeric version", [{ name: "x", modelId: "anthropic.claude-v2:latest" }], /"anthropic\.claude-v2:latest" is not a Bedrock model id/],
    ["a duplicate name", [claude, { name: "claude", modelId: "mistral.mistral-large-2402-v1:0" }], /models\[1\]\.name: "claude" is already the name of models\[0\]\. Fix: give each model its own name/],
    ["an empty catalog", [], /services\.litellm\.models: is empty, so the gateway would serve no model/],
    ["a bad region", [{ ...claude, region: "us-east" }], /models\[0\]\.region: "us-east" is not an AWS region/],
    ["an unknown provider", [{ name: "x", modelId: "openrouter.gpt-4o-v1:0" }], /"openrouter\.gpt-4o-v1:0" names the unknown provider "openrouter"\. Fix: use one of ai21, amazon, anthropic/],
    ["an unknown profile prefix", [{ name: "x", modelId: "xx.anthropic.claude-3-7-sonnet-20250219-v1:0" }], /names the unknown provider "xx"/],
    ["a profile outside its geography", [{ ...claude, modelId: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0" }], /models\[0\]\.region: inference profile "eu\.anthropic\.claude-3-7-sonnet-20250219-v1:0" cannot be called from us-east-1 \(the env's region\)/],
    ["an unknown key", [{ ...claude, profile: "us" }], /models\[0\]: unknown key "profile"/],
    ["a bad model name", [{ name: "my model", modelId: claude.modelId }], /models\[0\]\.name: "my model" is not a model name/],
  ])("refuses %s", (_what, models, message) => {
    expect(withModels(models)).toThrow(message);
  });

  it("reports every problem of a catalog at once", () => {
    expect(withModels([{ name: "a", modelId: "bad" }, { name: "a", modelId: "nobody.model-v1:0" }])).toThrow(/3 problems/);
  });

  it("accepts foundation models, versioned or not, and inference profiles of the region's geography", () => {
    const env = envWith((raw) => {
      raw.region = "eu-central-1";
      raw.network.azs = ["eu-central-1a", "eu-central-1b"];
      raw.services = { litellm: { models: [{ name: "titan", modelId: "amazon.titan-text-express-v1" }, { name: "claude", modelId: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0" }, { name: "g", modelId: "global.anthropic.claude-sonnet-4-20250514-v1:0" }] } };
    });
    expect(env.services.litellm.models).toHaveLength(3);
  });

  it("defaults to Claude, Llama, Mistral and Titan in US regions, and refuses the US profiles elsewhere", () => {
    const ids = envWith(() => undefined).services.litellm.models.map((m) => m.modelId);
    expect(ids).toEqual(DEFAULT_MODELS.map((m) => m.modelId));
    expect(() =>
      envWith((raw) => {
        raw.region = "eu-west-1";
        raw.network.azs = ["eu-west-1a", "eu-west-1b"];
      }),
    ).toThrow(/inference profile "us\.anthropic\.claude-sonnet-4-20250514-v1:0" cannot be called from eu-west-1/);
  });

  it("renders the same YAML for the same catalog, in catalog order", () => {
    const models = resolveModels(DEFAULT_MODELS, "us-east-1");
    const yaml = litellmConfigYaml(models);
    expect(litellmConfigYaml(resolveModels(DEFAULT_MODELS, "us-east-1"))).toBe(yaml);
    expect(yaml).toContain(stringify({ model_name: "claude-sonnet-4" }).trim());
    expect(yaml.indexOf("claude-sonnet-4")).toBeLessThan(yaml.indexOf("titan-text-premier"));
  });
});

describe("services.mcpo.servers", () => {
  const withServers = (servers: unknown) => () => envWith((raw) => (raw.services = { mcpo: { servers } }));
  it.each([
    ["an empty server list", {}, /services\.mcpo\.servers: is empty, so mcpo would serve no tools/],
    ["a name that is no path segment", { "My Tools": { command: "uvx", args: [] } }, /services\.mcpo\.servers\.My Tools: "My Tools" cannot be a URL path segment/],
    ["a remote server with a bad type", { r: { type: "websocket", url: "https://x.example.com/mcp" } }, /services\.mcpo\.servers\.r/],
    ["a remote server without a URL scheme", { r: { type: "sse", url: "x.example.com/sse" } }, /services\.mcpo\.servers\.r/],
  ])("refuses %s", (_what, servers, message) => {
    expect(withServers(servers)).toThrow(message);
  });

  it("accepts stdio and remote servers", () => {
    const env = envWith((raw) => (raw.services = { mcpo: { servers: { time: { command: "uvx", args: ["mcp-server-time"] }, docs: { type: "streamable-http", url: "https://mcp.example.com/mcp" } } } }));
    expect(env.services.mcpo.servers.docs).toEqual({ type: "streamable-http", url: "https://mcp.example.com/mcp" });
  });
});
