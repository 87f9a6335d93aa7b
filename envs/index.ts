import { checkEnvironments } from "./cross-env.js";
import { nonprod } from "./nonprod.js";
import { prod } from "./prod.js";
import { sandbox } from "./sandbox.js";
import type { EnvConfig } from "./schema.js";

/** Every environment `pnpm synth` writes stacks for; checked together for collisions (envs/cross-env.ts). */
export const ENVIRONMENTS: readonly EnvConfig[] = [nonprod, prod, sandbox];
checkEnvironments(ENVIRONMENTS);
