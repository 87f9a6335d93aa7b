import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The unit suite; the end-to-end suite has its own config (e2e/vitest.config.ts, `pnpm test:e2e`).
    include: ["test/**/*.test.ts", "functions/*/test/**/*.test.ts"],
    // Synth-heavy suites share one process per file; both cores of the 2-core CI machine.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
