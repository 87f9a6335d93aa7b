/**
 * `pnpm ops cost <env> [--users N]`: the env's monthly estimate from its synthesized stack and the
 * dated price table (ops/lib/cost.ts, ops/lib/prices.ts), the idle floor and the cost at N users,
 * itemised, then the config switches that cut it, each re-priced by synthesizing the env with the
 * switch flipped. `pnpm ops cost --readme` rewrites README.md's generated cost block.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import pc from "picocolors";
import { ENVIRONMENTS } from "../../envs/index.js";
import { estimateCost, readmeBlock, renderEstimate, renderSwitches, replaceReadmeBlock, switchSavings, USER_MODEL } from "../lib/cost.js";
import { progress } from "../lib/output.js";
import { PRICES_READ_ON, PRICES_REGION } from "../lib/prices.js";
import { loadApp, loadEnv } from "../lib/stack.js";
import { synthDirOption } from "./options.js";

export const README_PATH = fileURLToPath(new URL("../../README.md", import.meta.url));

function parseUsers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--users ${value} is not a whole number of users. Fix: e.g. --users 100`);
  return n;
}

/** README.md with the cost block regenerated from the synthesized app. */
export async function renderedReadme(synthDir?: string): Promise<{ current: string; fresh: string }> {
  const app = await loadApp(synthDir);
  const block = readmeBlock(ENVIRONMENTS.map((e) => ({ name: e.name, json: app.stack(e.name).json })));
  const current = readFileSync(README_PATH, "utf8");
  return { current, fresh: replaceReadmeBlock(current, block) };
}

export function register(program: Command): void {
  program
    .command("cost")
    .description(`Monthly cost estimate of an env from its synthesized stack (${PRICES_REGION} list prices read ${PRICES_READ_ON}): the idle floor, the cost at N users, and the config switches that cut it`)
    .argument("[env]", `the env (${ENVIRONMENTS.map((e) => e.name).join(", ")})`)
    .option("--users <n>", `active users to price besides the idle floor (per-user model: ${USER_MODEL.albRequests} requests, ${USER_MODEL.albGb} GB through the ALB, +${USER_MODEL.auroraAcu} ACU each; ops/lib/cost.ts USER_MODEL)`, parseUsers, 100)
    .option("--no-switches", "skip re-pricing the config switches (each needs a synth)")
    .option("--json", "print the estimates as JSON")
    .option("--readme", "rewrite README.md's generated cost block for every env (no env argument)")
    .option("--check", "with --readme: exit non-zero when README.md's block is stale, writing nothing")
    .addOption(synthDirOption())
    .action(async (envName: string | undefined, opts: { users: number; switches: boolean; json?: boolean; readme?: boolean; check?: boolean; synthDir?: string }) => {
      if (opts.readme) {
        if (envName) throw new Error(`--readme covers every env; leave out "${envName}"`);
        const { current, fresh } = await renderedReadme(opts.synthDir);
        if (opts.check) {
          if (current !== fresh) {
            process.stderr.write(`${pc.red("✗")} README.md's cost block is stale. Fix: pnpm ops cost --readme\n`);
            process.exitCode = 1;
          } else console.log(`${pc.green("✓")} README.md's cost block is current`);
          return;
        }
        if (current !== fresh) writeFileSync(README_PATH, fresh);
        console.log(current === fresh ? "README.md's cost block was already current" : "README.md's cost block rewritten");
        return;
      }
      if (!envName) throw new Error(`name an env. Fix: pnpm ops cost <${ENVIRONMENTS.map((e) => e.name).join("|")}> [--users N]`);
      progress(`synthesizing ${envName}`);
      const { env, stack } = await loadEnv(envName, opts.synthDir);
      const idle = estimateCost(env.name, stack.json, 0);
      const loaded = estimateCost(env.name, stack.json, opts.users);
      if (opts.switches) progress("re-pricing the config switches (one synth each)");
      const savings = opts.switches ? await switchSavings(env, idle) : [];
      if (opts.json) {
        console.log(JSON.stringify({ pricesReadOn: PRICES_READ_ON, region: PRICES_REGION, idle, atUsers: loaded, switches: savings }, null, 2));
        return;
      }
      console.log(renderEstimate(idle));
      console.log("");
      console.log(renderEstimate(loaded));
      if (opts.switches) {
        console.log("");
        console.log(renderSwitches(savings));
      }
      console.log("");
      console.log(pc.dim(`Prices: ${PRICES_REGION} list prices read ${PRICES_READ_ON}, each cited in ops/lib/prices.ts. Bedrock tokens, Container Insights and free tiers are not counted.`));
    });
}
