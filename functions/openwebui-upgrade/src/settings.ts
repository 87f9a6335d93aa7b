/** The gate's timing, from the environment and the Lambda context. */
import type { GateSettings } from "./gate.js";

/** Lambda's maximum timeout: the budget when no context says otherwise. */
export const MAX_LAMBDA_MS = 900_000;

function positiveSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of seconds (got ${JSON.stringify(raw)})`);
  return v;
}

/**
 * `POLL_SECONDS` (default 10) between polls; the gate stops waiting `DEADLINE_MARGIN_SECONDS`
 * (default 20) before the function's own timeout, so it fails with its own message, not Lambda's.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv, remainingMs: number | undefined, now: () => number = Date.now): GateSettings {
  const pollMs = positiveSeconds(env, "POLL_SECONDS", 10) * 1000;
  const marginMs = positiveSeconds(env, "DEADLINE_MARGIN_SECONDS", 20) * 1000;
  return {
    pollMs,
    deadline: now() + (remainingMs ?? MAX_LAMBDA_MS) - marginMs,
    now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: (line) => console.log(JSON.stringify(line)),
  };
}
