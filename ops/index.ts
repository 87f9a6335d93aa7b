#!/usr/bin/env node
/**
 * `pnpm ops <command>`: the operator's CLI. One commander program; every command lives in
 * `ops/commands/<name>.ts` and exports `register(program)`. Commands that read AWS use the SDK's
 * defaults (profiles, `AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`), and every command that names an
 * env reads that env's synthesized stack (`ops/lib/stack.ts`), never a second list of resources.
 */
import { Command } from "commander";
import { commands } from "./commands/index.js";
import { fail } from "./lib/output.js";

export function buildProgram(): Command {
  const program = new Command("ops")
    .description("Operate an Open WebUI on AWS environment: secrets, health, keys, Bedrock, diagrams, cost")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const register of commands) register(program);
  return program;
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => fail(error));
}
