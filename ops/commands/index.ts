/**
 * Every `pnpm ops` command, one module each. A command module exports
 * `register(program: Command): void`, which adds its (sub)commands to the program.
 * Add a line here when adding a command.
 */
import type { Command } from "commander";
import { register as bedrock } from "./bedrock.js";
import { register as cost } from "./cost.js";
import { register as diagram } from "./diagram.js";
import { register as doctor } from "./doctor.js";
import { register as keys } from "./keys.js";
import { register as secrets } from "./secrets.js";

export type Register = (program: Command) => void;

export const commands: readonly Register[] = [
  bedrock,
  cost,
  diagram,
  doctor,
  keys,
  secrets,
];
