/**
 * The provisioning functions' environment, checked against the functions' own contract
 * (`ENV_CONTRACT` in functions/provisioning/src/config.ts) at synth: a required variable left out,
 * or a name no handler reads (a typo the function would silently ignore), fails the synth instead
 * of the first invocation.
 */
import { Token } from "cdktf";
import { ENV_CONTRACT, type HandlerName } from "../../functions/provisioning/src/config.js";

/** Problems of one handler's environment against its contract ([] when it conforms). */
export function contractProblems(handler: HandlerName, environment: Readonly<Record<string, string>>): string[] {
  const specs = ENV_CONTRACT[handler];
  const known = new Set(specs.map((s) => s.name));
  const problems: string[] = [];
  for (const spec of specs) {
    if (!spec.required) continue;
    const value = environment[spec.name];
    // The handler treats an empty (or blank) value as unset.
    if (value === undefined || (!Token.isUnresolved(value) && value.trim() === "")) {
      problems.push(`${handler}: ${spec.name} is required (${spec.description}) but is ${value === undefined ? "not set" : "empty"}. Fix: set it`);
    }
  }
  for (const name of Object.keys(environment)) {
    if (!known.has(name)) {
      problems.push(`${handler}: ${name} is not a variable the ${handler} reads, so it would be ignored. Fix: remove it, or use one of ${[...known].join(", ")}`);
    }
  }
  return problems;
}

/** Returns `environment` when it conforms to the handler's contract; throws naming every problem otherwise. */
export function contractEnvironment(handler: HandlerName, environment: Readonly<Record<string, string>>): Record<string, string> {
  const problems = contractProblems(handler, environment);
  if (problems.length > 0) {
    throw new Error(`provisioning function environment does not match functions/provisioning/src/config.ts ENV_CONTRACT: ${problems.join("; ")}`);
  }
  return { ...environment };
}
