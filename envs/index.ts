import { nonprod } from "./nonprod.js";
import { prod } from "./prod.js";
import { sandbox } from "./sandbox.js";
import type { EnvConfig } from "./schema.js";

/** Every environment `pnpm synth` writes stacks for. */
export const ENVIRONMENTS: readonly EnvConfig[] = [nonprod, prod, sandbox];
