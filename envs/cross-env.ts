/**
 * Checks across environments: things two envs must not share. Each env parses alone; these are
 * the collisions only the whole list shows (envs/index.ts runs them over ENVIRONMENTS).
 */
import { overlaps, parseCidr, type Cidr } from "../lib/cidr.js";
import { ConfigError, ConfigErrors } from "../lib/errors.js";
import type { EnvConfig } from "./schema.js";

/** The stacks `pnpm synth` writes for an env (stacks/app.ts), with the state key each keeps its state at. */
function stacksOf(env: EnvConfig): { id: string; state: string }[] {
  const where = (key: string) => `${env.state.endpoint}/${env.state.bucket}/${key}`;
  return [
    { id: env.name, state: where(env.stateKey) },
    { id: `${env.name}-certificate`, state: where(`${env.state.keyPrefix}/${env.name}-certificate.tfstate`) },
  ];
}

/** Whether two envs share an account as far as config says: both declare it, and it is the same (envs without accountId are not compared). */
const sameAccount = (a: EnvConfig, b: EnvConfig) => a.accountId !== undefined && a.accountId === b.accountId;

/**
 * Every collision between two envs of `envs`, as ConfigErrors naming the later env's field, the
 * clashing value, the env it clashes with, and the fix. Empty when the list is consistent.
 */
export function crossEnvProblems(envs: readonly EnvConfig[]): ConfigError[] {
  const errors: ConfigError[] = [];
  envs.forEach((env, i) => {
    const fail = (path: string, problem: string, fix: string) => errors.push(new ConfigError(`${env.name}: ${path}`, problem, fix));
    for (const other of envs.slice(0, i)) {
      if (other.name === env.name) fail("name", `"${env.name}" is also the name of another env (stack ids and state keys would collide)`, "give each env its own name");
      if (other.hostname === env.hostname) fail("hostname", `"${env.hostname}" is also the hostname of env "${other.name}"; both ALBs would claim one DNS name and certificate`, "give each env its own hostname, e.g. owui-<env>.example.com");
      const a = parseCidr(env.network.vpcCidr) as Cidr;
      const b = parseCidr(other.network.vpcCidr) as Cidr;
      if (overlaps(a, b)) fail("network.vpcCidr", `"${env.network.vpcCidr}" overlaps env "${other.name}"'s ${other.network.vpcCidr}; the two VPCs could never be peered or reached over one VPN`, "give each env a VPC range of its own, e.g. 10.<n>.0.0/16 with a different <n>");
      for (const mine of stacksOf(env)) {
        for (const theirs of stacksOf(other)) {
          if (mine.id === theirs.id && other.name !== env.name) fail("name", `"${env.name}" gives a stack the id "${mine.id}", which env "${other.name}" already uses`, "rename one of the envs");
          if (mine.state === theirs.state && other.name !== env.name) fail("state", `stack "${mine.id}" keeps its state at ${mine.state}, where env "${other.name}"'s stack "${theirs.id}" keeps its own; one apply would overwrite the other's state`, "give each env its own state.keyPrefix or bucket");
        }
      }
      const logs = (e: EnvConfig) => e.services.litellm.invocationLogging;
      if (logs(env) && logs(other) && env.region === other.region && sameAccount(env, other)) {
        fail(
          "services.litellm.invocationLogging",
          `is on, and so is env "${other.name}"'s in the same account (${env.accountId}) and region (${env.region}); Bedrock invocation logging is one setting per account and region, so each apply overwrites the other's and destroying either turns it off for both`,
          `leave it on in one env of ${env.accountId}/${env.region} and set it to false in the others`,
        );
      }
    }
  });
  return errors;
}

/** Throws {@link ConfigErrors} with every collision between `envs`. */
export function checkEnvironments(envs: readonly EnvConfig[]): void {
  const errors = crossEnvProblems(envs);
  if (errors.length > 0) throw new ConfigErrors(errors);
}
