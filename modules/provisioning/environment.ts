/**
 * The provisioning functions' environment, checked against the functions' own contract
 * (`ENV_CONTRACT` in functions/provisioning/src/config.ts) at synth: a required variable left out,
 * or a name no handler reads (a typo the function would silently ignore), fails the synth instead
 * of the first invocation. Variables of one provisioning path (`when`, e.g. the SCIM ones) are
 * required only on that path and refused on the other.
 */
import { Token } from "cdktf";
import { ENV_CONTRACT, type EnvVarSpec, type HandlerName } from "../../functions/provisioning/src/config.js";

/** Problems of one handler's environment against its contract ([] when it conforms). */
export function contractProblems(handler: HandlerName, environment: Readonly<Record<string, string>>): string[] {
  const specs = ENV_CONTRACT[handler];
  const known = new Set(specs.map((s) => s.name));
  const problems: string[] = [];
  // A variable of one provisioning path applies only while that path is chosen (its default counts).
  const applies = (spec: EnvVarSpec) => {
    if (!spec.when) return true;
    const chosen = environment[spec.when.name] ?? specs.find((s) => s.name === spec.when!.name)?.default;
    return chosen === undefined || Token.isUnresolved(chosen) || chosen === spec.when.value;
  };
  for (const spec of specs) {
    if (!spec.required || !applies(spec)) continue;
    const value = environment[spec.name];
    // The handler treats an empty (or blank) value as unset.
    if (value === undefined || (!Token.isUnresolved(value) && value.trim() === "")) {
      const condition = spec.when ? ` with ${spec.when.name}=${spec.when.value}` : "";
      problems.push(`${handler}: ${spec.name} is required${condition} (${spec.description}) but is ${value === undefined ? "not set" : "empty"}. Fix: set it`);
    }
  }
  for (const name of Object.keys(environment)) {
    const spec = specs.find((s) => s.name === name);
    if (!known.has(name) || !spec) {
      problems.push(`${handler}: ${name} is not a variable the ${handler} reads, so it would be ignored. Fix: remove it, or use one of ${[...known].join(", ")}`);
    } else if (!applies(spec)) {
      problems.push(`${handler}: ${name} is read only with ${spec.when!.name}=${spec.when!.value}, so it would be ignored. Fix: remove it`);
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
