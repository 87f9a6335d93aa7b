/**
 * What the `pnpm ops` tests against moto share: moto in server mode with the SDK pointed at it
 * through `AWS_ENDPOINT_URL_*` (Secrets Manager, SSM, STS, ECS) and test credentials, the app
 * synthesized as JSON for `--synth-dir`, and ways to run `ops` in-process or as the real CLI and
 * read its ✓/✗ table.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
import { buildProgram } from "../../ops/index.js";
import { readSynth, type SynthesizedApp } from "../../ops/lib/stack.js";
import { buildApp } from "../../stacks/app.js";
import { readManifest } from "../harness/manifest.js";
import { startMoto, type Moto } from "../world/infra.js";

export const REGION = "us-east-1";
export const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const ROOT = new URL("../..", import.meta.url).pathname;
const ENV_KEYS = ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ECS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] as const;

/** moto, the environment pointed at it, and the synthesized app. */
export interface OpsWorld {
  readonly moto: Moto;
  /** The JSON synth, for `--synth-dir`. */
  readonly synthDir: string;
  readonly app: SynthesizedApp;
  /** Restores the environment, stops moto and removes the synth. */
  stop(): Promise<void>;
}

/** Starts moto, points the SDK's environment at it and synthesizes the app into a temp dir named `<name>-synth-…`. */
export async function startOpsWorld(name: string): Promise<OpsWorld> {
  const moto = await startMoto(readManifest());
  const saved: Record<string, string | undefined> = {};
  for (const k of ENV_KEYS) saved[k] = process.env[k];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.url,
    AWS_ENDPOINT_URL_SSM: moto.url,
    AWS_ENDPOINT_URL_STS: moto.url,
    AWS_ENDPOINT_URL_ECS: moto.url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: REGION,
  });
  const synthDir = mkdtempSync(join(tmpdir(), `${name}-synth-`));
  const stop = async () => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await moto.stop();
    rmSync(synthDir, { recursive: true, force: true });
  };
  try {
    buildApp({ outdir: synthDir, hclOutput: false }).synth();
    return { moto, synthDir, app: readSynth(synthDir), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** Runs `ops <args> --synth-dir <synthDir>` in-process; returns stdout (colours stripped) and the exit code. */
export async function runOps(synthDir: string, ...args: string[]): Promise<{ out: string; code: number }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  process.exitCode = undefined;
  try {
    await buildProgram().exitOverride().parseAsync(["node", "ops", ...args, "--synth-dir", synthDir]);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out: strip(lines.join("\n")), code };
}

/** Runs the real CLI, `pnpm --silent ops <args>`, without colours. */
export function runCli(...args: string[]) {
  return spawnSync("pnpm", ["--silent", "ops", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
}

/** A row of the ✓/✗ table as `<mark> <detail>` (the name and its padding left out). */
export function row(out: string, name: string): string {
  const line = out.split("\n").find((l) => l.slice(2).startsWith(`${name} `));
  return line ? `${line[0]} ${line.slice(2 + name.length).trimStart()}` : `(no row ${name})`;
}
