/**
 * What the auth guardrails look at: the FINAL environment of Open WebUI and of the oauth2-proxy
 * sidecar (after `auth.overrides`), the mode, and two facts of the deployment. Rules are pure
 * functions of this view; they never see constructs or raw config.
 */

/** `oauth2-proxy`: Open WebUI trusts headers from a sidecar proxy. `oidc`: Open WebUI's native OIDC. */
export type AuthMode = "oauth2-proxy" | "oidc";

export interface AuthView {
  readonly mode: AuthMode;
  /** Open WebUI's final plain environment (auth and non-auth variables, overrides applied). */
  readonly openwebui: Readonly<Record<string, string>>;
  /** The oauth2-proxy sidecar's final plain environment, when the task has one. */
  readonly proxy?: Readonly<Record<string, string>>;
  /** Open WebUI's SCIM API is switched on. */
  readonly scimEnabled: boolean;
  /** The port Open WebUI listens on inside the task (8080). */
  readonly openwebuiPort: number;
}

/** The containers whose variables the guardrails read (the `container` of an override). */
export type AuthContainer = "openwebui" | "oauth2-proxy";

/** One variable of one container. */
export interface AuthVariable {
  readonly container: AuthContainer;
  readonly name: string;
}

/** What a rule found wrong: the problem (with the failure it prevents), the fix, and the variables responsible. */
export interface AuthViolation {
  readonly problem: string;
  readonly fix: string;
  /** The variables whose values make the violation; an override of any of them is named as the culprit. */
  readonly variables: readonly AuthVariable[];
}

/** One guardrail: an ID (`OWUI-AUTH-<n>`), a title, and a pure check. */
export interface AuthRule {
  readonly id: string;
  readonly title: string;
  check(view: AuthView): readonly AuthViolation[];
}

export const openwebuiVar = (name: string): AuthVariable => ({ container: "openwebui", name });
export const proxyVar = (name: string): AuthVariable => ({ container: "oauth2-proxy", name });

/** Open WebUI's trusted-header variables. */
export const TRUSTED_HEADER_VARS = ["WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "WEBUI_AUTH_TRUSTED_NAME_HEADER", "WEBUI_AUTH_TRUSTED_GROUPS_HEADER"] as const;

/** The trusted headers Open WebUI reads (a variable set to a non-empty header name), lower-cased. */
export function trustedHeaders(view: AuthView): { readonly variable: string; readonly header: string }[] {
  return TRUSTED_HEADER_VARS.flatMap((variable) => {
    const header = view.openwebui[variable];
    return header ? [{ variable, header: header.toLowerCase() }] : [];
  });
}

/** Open WebUI reads a boolean as `os.environ.get(name, default).lower() == "true"`: anything else is false. */
export function openwebuiFlag(view: AuthView, name: string, unset: boolean): boolean {
  const value = view.openwebui[name];
  return value === undefined ? unset : value.toLowerCase() === "true";
}

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);

/** oauth2-proxy reads a boolean with Go's `strconv.ParseBool`; anything but its true spellings is not true. */
export function proxyFlag(view: AuthView, name: string, unset: boolean): boolean {
  const value = view.proxy?.[name];
  return value === undefined ? unset : GO_TRUE.has(value);
}

/** One `SKIP_AUTH_ROUTES` (or deprecated `SKIP_AUTH_REGEX`) entry, parsed as oauth2-proxy v7.15 does. */
export interface SkipRoute {
  /** The whole entry. */
  readonly entry: string;
  /** The variable it came from. */
  readonly variable: string;
  /** Upper-case method, or "" for any. */
  readonly method: string;
  /** `!=`: auth is skipped for every path that does NOT match. */
  readonly negate: boolean;
  /** The path regex (Go RE2), matched against the request path. */
  readonly path: string;
}

/**
 * The skip-auth entries of the sidecar. Lists are comma-separated in oauth2-proxy's environment, so an
 * entry is what lies between commas; `METHOD=regex`, `METHOD!=regex`, `regex` or `!=regex` split at
 * the first `=`/`!=` (oauth2-proxy.go `buildRoutesAllowlist`).
 */
export function skipRoutes(view: AuthView): SkipRoute[] {
  const routes = (view.proxy?.OAUTH2_PROXY_SKIP_AUTH_ROUTES ?? "").split(",").filter((e) => e !== "");
  const regexes = (view.proxy?.OAUTH2_PROXY_SKIP_AUTH_REGEX ?? "").split(",").filter((e) => e !== "");
  return [
    ...routes.map((entry) => {
      const m = /!?=/.exec(entry);
      return {
        entry,
        variable: "OAUTH2_PROXY_SKIP_AUTH_ROUTES",
        negate: entry.includes("!="),
        method: m ? entry.slice(0, m.index).toUpperCase() : "",
        path: m ? entry.slice(m.index + m[0].length) : entry,
      };
    }),
    ...regexes.map((entry) => ({ entry, variable: "OAUTH2_PROXY_SKIP_AUTH_REGEX", negate: false, method: "", path: entry })),
  ];
}
