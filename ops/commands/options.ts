/**
 * The argument and option several `pnpm ops` commands share, defined once so their names and help
 * stay the same everywhere.
 */
import { Argument, Option } from "commander";

/** `<env>`: the env a per-env command acts on. */
export const envArgument = (): Argument => new Argument("<env>", "env name (envs/index.ts)");

/** `--synth-dir <dir>`: every command that reads the synthesized stacks. */
export const synthDirOption = (): Option => new Option("--synth-dir <dir>", "read an existing JSON synth instead of synthesizing in-process");
