/** The policy layer: synth-time guardrails, one pure rule per file (see README.md). */
export * from "./auth/index.js";
