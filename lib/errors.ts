/**
 * Errors raised at synth time. Every message names where the bad value lives, the value itself and
 * the fix, so an operator can act on it without reading the code.
 */
export class ConfigError extends Error {
  constructor(
    /** Dotted config path, e.g. `nonprod: network.azs[1]`. */
    readonly path: string,
    /** What is wrong, including the offending value. */
    readonly problem: string,
    /** What to do instead. */
    readonly fix: string,
  ) {
    super(`${path}: ${problem}. Fix: ${fix}`);
    this.name = "ConfigError";
  }
}

/** Several config problems reported together (so one run shows all of them). */
export class ConfigErrors extends Error {
  constructor(readonly errors: readonly ConfigError[]) {
    super(`invalid configuration (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n${errors.map((e) => `  - ${e.message}`).join("\n")}`);
    this.name = "ConfigErrors";
  }
}

/** Records one problem: the config path (without the env name), what is wrong with which value, and the fix. */
export type Fail = (path: string, problem: string, fix: string) => void;
