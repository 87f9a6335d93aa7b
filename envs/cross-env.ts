/**
 * Checks across environments: things two envs must not share. Each env parses alone; these are
 * the collisions only the whole list shows (envs/index.ts runs them over ENVIRONMENTS).
 */
import { overlaps, parseCidr, type Cidr } from "../lib/cidr.js";
import { ConfigError, ConfigErrors } from "../lib/errors.js";
import { certificateStateKey, siblingStateKey, type AccountConfig, type EnvConfig } from "./schema.js";

type StateConfig = EnvConfig["state"];
const where = (state: StateConfig, key: string) => `${state.endpoint}/${state.bucket}/${key}`;

/** The stacks `pnpm synth` writes for an env (stacks/app.ts), with the state key each keeps its state at. */
function stacksOf(env: EnvConfig): { id: string; state: string }[] {
  return [
    { id: env.name, state: where(env.state, env.stateKey) },
    { id: `${env.name}-certificate`, state: where(env.state, certificateStateKey(env)) },
    // The Cloudflare stacks (stacks/cloudflare-stack.ts), only when the env configures them.
    ...(env.dns?.cloudflare
      ? ["dns-validation", "dns"].map((suffix) => ({ id: `${env.name}-${suffix}`, state: where(env.state, siblingStateKey(env, suffix)) }))
      : []),
  ];
}

/**
 * Every collision between two envs of `envs` (and, given `accounts`, with the account stacks; see
 * {@link accountProblems}), as ConfigErrors naming the later env's field, the
 * clashing value, the env it clashes with, and the fix. Empty when the list is consistent.
 */
export function crossEnvProblems(envs: readonly EnvConfig[], accounts: readonly AccountConfig[] = []): ConfigError[] {
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
          if (mine.state === theirs.state && other.name !== env.name) fail("state", `stack "${mine.id}" keeps its state at ${mine.state}, where env "${other.name}"'s stack "${theirs.id}" keeps its own; one apply would overwrite the other's state`, "give each env its own state.key or bucket");
        }
      }
    }
  });
  errors.push(...accountProblems(accounts, envs));
  return errors;
}

/**
 * Account stacks (envs/accounts.ts) that would share an account-and-region setting, or a stack id
 * or state key with another stack. Two entries of one region own the same Bedrock invocation
 * logging unless both name their accounts and the accounts differ; an entry without an account id
 * is ambiguous when the region's envs declare more than one account.
 */
export function accountProblems(accounts: readonly AccountConfig[], envs: readonly EnvConfig[] = []): ConfigError[] {
  const errors: ConfigError[] = [];
  accounts.forEach((account, i) => {
    const fail = (path: string, problem: string, fix: string) => errors.push(new ConfigError(`${account.stackId}: ${path}`, problem, fix));
    const label = (a: AccountConfig) => `${a.accountId ?? "the deploying account"}/${a.region}`;
    for (const other of accounts.slice(0, i)) {
      const distinctAccounts = account.accountId !== undefined && other.accountId !== undefined && account.accountId !== other.accountId;
      if (account.region === other.region && !distinctAccounts) {
        fail(
          "bedrockInvocationLogging",
          `account stack "${account.stackId}" and "${other.stackId}" both own Bedrock invocation logging of ${label(account)}${other.accountId !== account.accountId ? ` (or ${label(other)}: without both account ids they may be one account)` : ""}; it is one setting per account and region, so each apply would overwrite the other's and destroying either would turn it off for both`,
          `keep one entry per account and region in envs/accounts.ts, or give each entry the accountId it is for`,
        );
      }
      if (where(account.state, account.state.key) === where(other.state, other.state.key)) fail("state.key", `"${account.state.key}" is also the state key of account stack "${other.stackId}"`, "give each account stack its own state.key");
    }
    const declared = [...new Set(envs.filter((e) => e.region === account.region && e.accountId !== undefined).map((e) => e.accountId!))].sort();
    if (account.accountId === undefined && declared.length > 1) {
      fail("accountId", `is missing, but the envs of ${account.region} deploy to ${declared.length} accounts (${declared.join(", ")}); this stack would land in whichever account deploys it first, and its state would then point there`, `give the entry the accountId it is for, and add one entry per account`);
    }
    for (const env of envs) {
      for (const stack of stacksOf(env)) {
        if (stack.id === account.stackId) fail("region", `gives the stack id "${account.stackId}", which env "${env.name}" already uses`, "rename the env");
        if (stack.state === where(account.state, account.state.key)) fail("state.key", `"${account.state.key}" is also where env "${env.name}"'s stack "${stack.id}" keeps its state; one apply would overwrite the other's state`, "give the account stack its own state.key, e.g. \"open-webui/aws/account-<region>.tfstate\"");
      }
    }
  });
  return errors;
}

/** Throws {@link ConfigErrors} with every collision between `envs` and the account stacks. */
export function checkEnvironments(envs: readonly EnvConfig[], accounts: readonly AccountConfig[] = []): void {
  const errors = crossEnvProblems(envs, accounts);
  if (errors.length > 0) throw new ConfigErrors(errors);
}
