import { ACCOUNTS } from "./accounts.js";
import { checkEnvironments } from "./cross-env.js";
import { nonprod } from "./nonprod.js";
import { prod } from "./prod.js";
import { sandbox } from "./sandbox.js";
import type { AccountConfig, EnvConfig } from "./schema.js";

/** Every environment `pnpm synth` writes stacks for; checked together for collisions (envs/cross-env.ts). */
export const ENVIRONMENTS: readonly EnvConfig[] = [nonprod, prod, sandbox];
/** The account stacks (one per account and region, envs/accounts.ts); checked with the envs. */
export const ACCOUNT_STACKS: readonly AccountConfig[] = ACCOUNTS;
checkEnvironments(ENVIRONMENTS, ACCOUNT_STACKS);
