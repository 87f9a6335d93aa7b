/**
 * Synth helpers for fine-grained assertions: synthesize a stack to its Terraform JSON and query
 * resources by type and construct path.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import type { AwsContext } from "../../lib/context.js";
import { Network } from "../../modules/network/index.js";
import { Security } from "../../modules/security/index.js";
import type { App } from "cdktf";
import { parseEnv, type EnvConfig, type EnvInput } from "../../envs/schema.js";
import { nonprod } from "../../envs/nonprod.js";
import { prod } from "../../envs/prod.js";
import { sandbox } from "../../envs/sandbox.js";
import { CertificateStack } from "../../stacks/certificate-stack.js";
import { PlatformStack } from "../../stacks/platform-stack.js";

export type Json = Record<string, any>;

export interface Synthesized {
  readonly json: Json;
  /** All resources of a type, as [logical name, config]. */
  resources(type: string): [string, Json][];
  /** The one resource of `type` whose logical name contains `nameIncludes`; throws if not exactly one. */
  resource(type: string, nameIncludes?: string): Json;
  data(type: string): [string, Json][];
  output(name: string): Json | undefined;
}

export function synthStack(stack: TerraformStack): Synthesized {
  return synthesizedOf(JSON.parse(Testing.synth(stack)) as Json);
}

export const ENVS = { nonprod, prod, sandbox } as const;

const cache = new Map<string, Synthesized>();

/** Synthesizes the platform stack of an env config (cached per env name + config). */
export function synthPlatform(env: EnvConfig): Synthesized {
  const key = JSON.stringify(env);
  const hit = cache.get(key);
  if (hit) return hit;
  const app: App = Testing.app();
  const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
  const result = synthStack(new PlatformStack(app, env.name, { env, certificate }));
  cache.set(key, result);
  return result;
}

/** A valid env input to derive malformed variants from. */
export function baseEnvInput(): EnvInput {
  return {
    name: "test",
    region: "us-east-1",
    hostname: "owui-test.example.com",
    network: { vpcCidr: "10.0.0.0/16", azs: ["us-east-1a", "us-east-1b"], singleNatGateway: true },
    security: { albIngressCidrs: ["198.51.100.0/24"] },
    auth: { mode: "oidc", idp: "entra", entra: { tenantId: "11111111-2222-4333-8444-555555555555", clientId: "66666666-7777-4888-9999-000000000000" } },
  };
}

/** Parses a variant of the base env; `patch` edits a deep copy. */
export function envWith(patch: (raw: any) => void): EnvConfig {
  const raw = structuredClone(baseEnvInput()) as any;
  patch(raw);
  return parseEnv(raw);
}

/** The policy document data source a `${data.aws_iam_policy_document.<name>.json}` reference names. */
export function policyOf(s: Synthesized, reference: string): Json {
  const m = /data\.aws_iam_policy_document\.([\w-]+)\.json/.exec(reference);
  if (!m) throw new Error(`not a policy document reference: ${reference}`);
  const doc = s.json.data?.aws_iam_policy_document?.[m[1]!];
  if (!doc) throw new Error(`no policy document ${m[1]}`);
  return doc;
}

/** The same queries as {@link synthStack}, over an already synthesized stack's JSON. */
export function synthesizedOf(json: Json): Synthesized {
  const resources = (type: string): [string, Json][] => Object.entries(json.resource?.[type] ?? {});
  return {
    json,
    resources,
    resource(type, nameIncludes = "") {
      const hits = resources(type).filter(([n]) => n.includes(nameIncludes));
      if (hits.length !== 1) throw new Error(`expected one ${type} matching "${nameIncludes}", found ${hits.map(([n]) => n).join(", ") || "none"}`);
      return hits[0]![1];
    },
    data: (type) => Object.entries(json.data?.[type] ?? {}),
    output: (name) => json.output?.[name],
  };
}

const appCache = new Map<string, { certificate: Synthesized; platform: Synthesized }>();

/**
 * Synthesizes an env's certificate and platform stacks as one app (`app.synth()`), so cross-stack
 * references resolve to `terraform_remote_state` as in `pnpm synth` (cached per env config).
 */
export function synthEnvApp(env: EnvConfig): { certificate: Synthesized; platform: Synthesized } {
  const key = JSON.stringify(env);
  const hit = appCache.get(key);
  if (hit) return hit;
  const app: App = Testing.app();
  const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
  new PlatformStack(app, env.name, { env, certificate });
  app.synth();
  const read = (stack: string) => synthesizedOf(JSON.parse(readFileSync(join(app.outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as Json);
  const result = { certificate: read(`${env.name}-certificate`), platform: read(env.name) };
  appCache.set(key, result);
  return result;
}

/**
 * A PlatformStack-like fixture with the foundation layers (provider, network, security), for tests
 * that add one more layer on top without the rest of the platform.
 */
export function foundationFixture(env: EnvConfig): { stack: TerraformStack; aws: AwsContext; network: Network; security: Security } {
  const stack = new TerraformStack(Testing.app(), env.name);
  new AwsProvider(stack, "aws", { region: env.region });
  const aws: AwsContext = { region: env.region, accountId: new DataAwsCallerIdentity(stack, "current").accountId, partition: new DataAwsPartition(stack, "partition").partition };
  const network = new Network(stack, "network", {
    envName: env.name,
    region: env.region,
    vpcCidr: env.network.vpcCidr,
    azs: env.network.azs,
    publicSubnetCidrs: env.network.publicSubnetCidrs,
    privateSubnetCidrs: env.network.privateSubnetCidrs,
    singleNatGateway: env.network.singleNatGateway,
  });
  const security = new Security(stack, "security", { envName: env.name, aws, network, albIngressCidrs: env.security.albIngressCidrs });
  return { stack, aws, network, security };
}
