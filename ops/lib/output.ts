/** Output helpers shared by the `ops` commands: ✓/✗ tables, progress lines and the failure exit. */
import pc from "picocolors";

/** One checked item of a ✓/✗ table. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** What was found (and, on ✗, what to do). */
  readonly detail: string;
}

/** Renders checks as an aligned ✓/✗ table (plain text when stdout is not a terminal). */
export function checkTable(checks: readonly Check[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.ok ? pc.green("✓") : pc.red("✗")} ${c.name.padEnd(width)}  ${c.detail}`).join("\n");
}

/** Prints the table and sets a non-zero exit code when any check failed. Returns whether all passed. */
export function reportChecks(checks: readonly Check[], out: (line: string) => void = console.log): boolean {
  out(checkTable(checks));
  const failed = checks.filter((c) => !c.ok).length;
  out(failed === 0 ? pc.green(`all ${checks.length} checks passed`) : pc.red(`${failed} of ${checks.length} checks failed`));
  if (failed > 0) process.exitCode = 1;
  return failed === 0;
}

/** A progress line on stderr (stdout stays machine-readable). */
export function progress(message: string): void {
  process.stderr.write(`${pc.dim("…")} ${message}\n`);
}

/** Prints an error (without a stack for expected failures) and exits non-zero. */
export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${pc.red("error:")} ${message}\n`);
  if (process.env.OPS_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
