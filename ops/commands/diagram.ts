/**
 * `pnpm ops diagram [--check]`: renders the architecture from the synthesized stacks to
 * docs/architecture.md as Mermaid (ops/lib/diagram.ts). `--check` writes nothing and exits non-zero
 * when the committed file differs from a fresh render (test/ops-diagram.test.ts runs the same check).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import pc from "picocolors";
import { ARCHITECTURE_PATH, renderArchitecture } from "../lib/diagram.js";
import { progress } from "../lib/output.js";
import { loadApp } from "../lib/stack.js";
import { synthDirOption } from "./options.js";

/** docs/architecture.md in this checkout. */
export const ARCHITECTURE_FILE = fileURLToPath(new URL(`../../${ARCHITECTURE_PATH}`, import.meta.url));

/** The committed file (empty when missing) and a fresh render. */
export async function architectureFiles(synthDir?: string): Promise<{ current: string; fresh: string }> {
  const app = await loadApp(synthDir);
  return { current: existsSync(ARCHITECTURE_FILE) ? readFileSync(ARCHITECTURE_FILE, "utf8") : "", fresh: renderArchitecture(app) };
}

export function register(program: Command): void {
  program
    .command("diagram")
    .description(`Render the architecture (stacks, layers, services, data stores, request/sign-in/provisioning paths, security-group edges) from the synthesized stacks to ${ARCHITECTURE_PATH} as Mermaid`)
    .option("--check", `write nothing; exit non-zero when ${ARCHITECTURE_PATH} differs from a fresh render`)
    .option("--stdout", "print the render instead of writing the file")
    .addOption(synthDirOption())
    .action(async (opts: { check?: boolean; stdout?: boolean; synthDir?: string }) => {
      progress("synthesizing every stack");
      const { current, fresh } = await architectureFiles(opts.synthDir);
      if (opts.stdout) {
        process.stdout.write(fresh);
        return;
      }
      if (opts.check) {
        if (current === fresh) console.log(`${pc.green("✓")} ${ARCHITECTURE_PATH} is current`);
        else {
          process.stderr.write(`${pc.red("✗")} ${ARCHITECTURE_PATH} differs from a fresh render of the synthesized stacks. Fix: pnpm ops diagram, then commit ${ARCHITECTURE_PATH}\n`);
          process.exitCode = 1;
        }
        return;
      }
      mkdirSync(dirname(ARCHITECTURE_FILE), { recursive: true });
      writeFileSync(ARCHITECTURE_FILE, fresh);
      console.log(current === fresh ? `${ARCHITECTURE_PATH} was already current` : `wrote ${ARCHITECTURE_PATH}`);
    });
}
