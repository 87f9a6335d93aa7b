import { nonprod } from "./nonprod.js";
import { prod } from "./prod.js";
import type { EnvConfig } from "./schema.js";

/** Every environment `pnpm synth` writes a stack for, in order. */
export const ENVIRONMENTS: readonly EnvConfig[] = [nonprod, prod];
