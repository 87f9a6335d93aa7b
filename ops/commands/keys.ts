/**
 * `pnpm ops keys …`: disaster recovery of per-user chat encryption keys (functions/user-keys).
 *
 * - `keys recover <env> --ciphertext <base64>` (or `--file <path>`, one base64 blob per line):
 *   Decrypt each stored `kms_encrypted_dek` with the user-DEK encryption context under the env's
 *   application CMK. By default it proves recoverability without showing key material (the key
 *   ARN, the DEK's length and a SHA-256 fingerprint); `--out <file>` writes the DEKs (base64, one
 *   per line, mode 0600) for the re-wrap step; nothing prints a DEK to the terminal.
 * - `keys user-id <env> <email>`: the user id the image derives for an email (GenerateMac under
 *   the HMAC key), to find a user's rows when recovering one user.
 *
 * The keys are found through their aliases in the env's synthesized stack.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { KMSClient } from "@aws-sdk/client-kms";
import type { Command } from "commander";
import { UserKeys, UserKeysError } from "../../functions/user-keys/src/index.js";
import { type Check, reportChecks } from "../lib/output.js";
import { loadEnv, type SynthesizedStack } from "../lib/stack.js";
import { envArgument, synthDirOption } from "./options.js";

type Out = (line: string) => void;

/** The per-user key aliases of an env, from its stack (`alias/owui-<env>-user-id-hmac`, `…-user-data`). */
export function userKeyAliases(stack: SynthesizedStack): { hmac: string; application: string } {
  const aliases = stack.resources("aws_kms_alias").map(([, a]) => String(a.name));
  const hmac = aliases.find((a) => a.endsWith("-user-id-hmac"));
  const application = aliases.find((a) => a.endsWith("-user-data"));
  if (!hmac || !application) throw new Error(`stack ${stack.name} has no per-user key aliases (found: ${aliases.join(", ")})`);
  return { hmac, application };
}

async function keysOf(envName: string, synthDir?: string): Promise<{ keys: UserKeys; aliases: { hmac: string; application: string }; region: string }> {
  const { env, stack } = await loadEnv(envName, synthDir);
  const aliases = userKeyAliases(stack);
  // The env's region unless AWS_REGION says otherwise (a restored copy of the keys in another region).
  const region = process.env.AWS_REGION ?? env.region;
  // One retry policy: the library's (throttling backoff), so the SDK's own retries are off.
  const client = new KMSClient({ region, maxAttempts: 1 });
  return { keys: new UserKeys({ hmacKeyId: aliases.hmac, applicationKeyId: aliases.application, client }), aliases, region };
}

export interface RecoverOptions {
  readonly ciphertext?: string[];
  readonly file?: string;
  /** Write the recovered DEKs here (base64, one per line, in input order; mode 0600). */
  readonly outFile?: string;
  readonly synthDir?: string;
  readonly out?: Out;
}

/** `ops keys recover`: returns whether every blob was recovered. */
export async function keysRecover(envName: string, options: RecoverOptions): Promise<boolean> {
  const out = options.out ?? console.log;
  const blobs = [...(options.ciphertext ?? []), ...(options.file ? readFileSync(options.file, "utf8").split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : [])];
  if (blobs.length === 0) throw new Error("nothing to recover. Fix: pass --ciphertext <base64> (the user's kms_encrypted_dek) or --file <path> with one per line");
  const { keys, aliases } = await keysOf(envName, options.synthDir);
  const checks: Check[] = [];
  const recovered: string[] = [];
  for (const [i, blob] of blobs.entries()) {
    try {
      const dek = await keys.recoverDek(blob);
      recovered.push(Buffer.from(dek).toString("base64"));
      const fingerprint = createHash("sha256").update(dek).digest("hex").slice(0, 16);
      checks.push({ name: `#${i + 1}`, ok: dek.length === 32, detail: `${dek.length}-byte DEK under ${aliases.application}, sha256 ${fingerprint}…` });
    } catch (err) {
      recovered.push("");
      checks.push({ name: `#${i + 1}`, ok: false, detail: err instanceof UserKeysError ? `${err.code}: ${err.message}` : String(err) });
    }
  }
  if (options.outFile) {
    writeFileSync(options.outFile, `${recovered.join("\n")}\n`, { mode: 0o600 });
    out(`wrote ${recovered.filter(Boolean).length} DEKs (base64, one per line, input order; empty line = not recovered) to ${options.outFile}`);
  }
  return reportChecks(checks, out);
}

/** `ops keys user-id`: prints the user id of an email. */
export async function keysUserId(envName: string, email: string, options: { synthDir?: string; out?: Out } = {}): Promise<string> {
  const { keys } = await keysOf(envName, options.synthDir);
  const id = await keys.userIdFor(email);
  (options.out ?? console.log)(id);
  return id;
}

export function register(program: Command): void {
  const keys = program.command("keys").description("Per-user chat encryption keys: disaster recovery (functions/user-keys)");
  keys
    .command("recover")
    .description("decrypt stored kms_encrypted_dek values with the user-DEK context; proves recovery, --out writes the DEKs")
    .addArgument(envArgument())
    .option("--ciphertext <base64...>", "one or more kms_encrypted_dek values (base64)")
    .option("--file <path>", "a file with one kms_encrypted_dek (base64) per line")
    .option("--out <file>", "write the recovered DEKs (base64, one per line, mode 0600); never printed")
    .addOption(synthDirOption())
    .action(async (envName: string, opts: { ciphertext?: string[]; file?: string; out?: string; synthDir?: string }) => {
      await keysRecover(envName, { ciphertext: opts.ciphertext, file: opts.file, outFile: opts.out, synthDir: opts.synthDir });
    });
  keys
    .command("user-id")
    .description("the user id (hex GenerateMac of the normalised email) Open WebUI derives for an email")
    .addArgument(envArgument())
    .argument("<email>", "the user's email")
    .addOption(synthDirOption())
    .action(async (envName: string, email: string, opts: { synthDir?: string }) => {
      await keysUserId(envName, email, opts);
    });
}
