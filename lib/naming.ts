/** Resource naming and tagging shared by every layer. */

/** Project prefix of every resource name. */
export const PROJECT = "owui";

/** `owui-<env>-<part>-<part>`; keeps names short enough for ALB/target-group limits (32). */
export function resourceName(env: string, ...parts: string[]): string {
  return [PROJECT, env, ...parts].filter(Boolean).join("-");
}

/** Tags every resource gets through the provider's default_tags. */
export function defaultTags(env: string, extra: Readonly<Record<string, string>>): Record<string, string> {
  return { Project: "open-webui", Environment: env, ManagedBy: "cdktf", ...extra };
}

/** Keys {@link defaultTags} sets itself; an env's extra tags may not replace them. */
export const DEFAULT_TAG_KEYS: readonly string[] = Object.keys(defaultTags("x", {}));

/** A 12-digit stand-in for the account id some names end with (only its length matters). */
const ACCOUNT_ID = "123456789012";

/**
 * The tightest names the stacks derive from the env name, each with AWS's limit. The longest env
 * name is the one every entry still fits; test/envs-refusals.test.ts synthesizes the stacks with an
 * env name of exactly that length and checks every named resource against AWS's limits, so a layer
 * that adds a longer name fails there first.
 */
export const DERIVED_NAMES: readonly { readonly what: string; readonly name: (env: string) => string; readonly max: number }[] = [
  { what: "ALB name", name: (e) => resourceName(e, "alb"), max: 32 },
  { what: "ElastiCache replication group id", name: (e) => resourceName(e, "redis"), max: 40 },
  { what: "S3 bucket (with the account id)", name: (e) => `${resourceName(e, "litellm-config")}-${ACCOUNT_ID}`, max: 63 },
  { what: "IAM role and Lambda function", name: (e) => resourceName(e, "provisioning", "reconciler"), max: 64 },
  { what: "EventBridge rule", name: (e) => resourceName(e, "provisioning", "reconcile"), max: 64 },
  { what: "Cognito domain prefix (with the account id)", name: (e) => `${resourceName(e)}-${ACCOUNT_ID}`, max: 63 },
  { what: "RDS instance identifier", name: (e) => resourceName(e, "aurora", "15"), max: 63 },
];

/** The longest env name whose derived names all fit. */
export const MAX_ENV_NAME_LENGTH = Math.min(...DERIVED_NAMES.map((d) => d.max - (d.name("x").length - 1)));

/** Env names that would collide with another stack of the app (`stacks/app.ts`). */
export const RESERVED_ENV_NAMES: readonly string[] = ["bootstrap"];

/**
 * Why `name` cannot be an env name, or undefined. It goes into S3 bucket, ALB, RDS and ElastiCache
 * names, which allow only lower-case letters, digits and single dashes, start with a letter and
 * do not end with a dash.
 */
export function envNameProblem(name: string): string | undefined {
  const upper = name.match(/[A-Z]/g);
  if (upper) return `it has upper-case letters (${[...new Set(upper)].join(", ")}), which S3 bucket and RDS names refuse`;
  const bad = name.match(/[^a-z0-9-]/g);
  if (bad) return `it contains ${[...new Set(bad)].map((c) => JSON.stringify(c)).join(", ")}; AWS names built from it allow only lower-case letters, digits and dashes`;
  if (name.length < 2) return "it is shorter than 2 characters";
  if (!/^[a-z]/.test(name)) return `it starts with "${name[0]}"; RDS and ElastiCache identifiers must start with a letter`;
  if (name.includes("--")) return `it contains "--", which RDS and ElastiCache identifiers refuse`;
  if (name.endsWith("-")) return "it ends with \"-\", which RDS and ElastiCache identifiers refuse";
  const over = DERIVED_NAMES.find((d) => d.name(name).length > d.max);
  if (over) return `it makes the ${over.what} "${over.name(name)}" ${over.name(name).length} characters, over AWS's limit of ${over.max}`;
  if (RESERVED_ENV_NAMES.includes(name)) return `"${name}" is the id of another stack of the app (stacks/app.ts), and its state key`;
  return undefined;
}
