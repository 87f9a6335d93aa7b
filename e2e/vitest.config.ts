import { defineConfig } from "vitest/config";

/**
 * The end-to-end suite: the real products (Open WebUI, oauth2-proxy, LiteLLM, mcpo, PostgreSQL,
 * Redis, Chromium) as local processes, configured from the synthesized task definitions.
 * `pnpm test:e2e` installs the components first (`pnpm e2e:install`).
 */
export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["e2e/**/*.test.ts"],
    pool: "forks",
    // The scenarios start real servers on fixed loopback addresses: one file at a time.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
    reporters: ["default"],
  },
});
