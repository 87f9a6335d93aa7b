/**
 * `pnpm ops doctor <env>`: live ECS task definitions and services against the env's synthesized
 * stack, the secrets they read, desired vs running counts and stuck deployments (ops/lib/doctor.ts
 * says exactly what is compared and how). Prints a ✓/✗ table; exits 1 on any ✗.
 */
import { ECSClient } from "@aws-sdk/client-ecs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import type { Command } from "commander";
import { doctorChecks } from "../lib/doctor.js";
import { progress, reportChecks } from "../lib/output.js";
import { loadEnv } from "../lib/stack.js";
import { envArgument, synthDirOption } from "./options.js";

export async function doctor(envName: string, opts: { synthDir?: string; out?: (line: string) => void } = {}): Promise<boolean> {
  progress(`synthesizing ${envName}`);
  const { env, stack } = await loadEnv(envName, opts.synthDir);
  progress(`reading ECS, Secrets Manager and SSM in ${env.region}`);
  const region = env.region;
  const checks = await doctorChecks(env, stack, {
    ecs: new ECSClient({ region }),
    sm: new SecretsManagerClient({ region }),
    ssm: new SSMClient({ region }),
    sts: new STSClient({ region }),
  });
  return reportChecks(checks, opts.out);
}

export function register(program: Command): void {
  program
    .command("doctor")
    .description("Compare the env's live ECS services and task definitions with its synthesized stack (auth settings, oauth2-proxy flags, sign-out URL, roles, images, secrets), check every referenced secret has a value, desired vs running counts and stuck deployments; exits 1 on any ✗")
    .addArgument(envArgument())
    .addOption(synthDirOption())
    .action(async (envName: string, o: { synthDir?: string }) => {
      await doctor(envName, { synthDir: o.synthDir });
    });
}
