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
