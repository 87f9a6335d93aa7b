/**
 * Every `pnpm ops` command, one module each. A command module exports
 * `register(program: Command): void`, which adds its (sub)commands to the program.
 * Add a line here when adding a command.
 */
import type { Command } from "commander";

export type Register = (program: Command) => void;

export const commands: readonly Register[] = [];
