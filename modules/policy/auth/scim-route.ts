import { proxyVar, skipRoutes, type AuthRule, type SkipRoute } from "./view.js";

/** The one path prefix a skip-auth route may open: Open WebUI's SCIM 2.0 API (it checks its own bearer token). */
export const SCIM_ROUTE_PREFIX = "^/api/v1/scim/v2/";
const METHODS = new Set(["", "GET", "POST", "PUT", "PATCH", "DELETE"]);

/** True when `regex` has a `|` outside any group or class, or closes a group it did not open (so it can escape a prefix). */
export function escapesPrefix(regex: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return true;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

function problemOf(route: SkipRoute, scimEnabled: boolean): string | undefined {
  if (!scimEnabled) return "opens a route while SCIM is off, so it can lead only to routes that were never meant to be public";
  if (route.negate || !METHODS.has(route.method)) return `is not a plain method (${route.method || "none"}) plus path: only GET, POST, PUT, PATCH, DELETE or no method, never !=, may skip auth`;
  if (!route.path.startsWith(SCIM_ROUTE_PREFIX) || escapesPrefix(route.path)) return `is not the SCIM prefix ${SCIM_ROUTE_PREFIX} or a narrowing of it (it must start with that text and have no top-level |)`;
  return undefined;
}

export const scimRoute: AuthRule = {
  id: "OWUI-AUTH-11",
  title: "Skip-auth route other than the anchored SCIM prefix, or with SCIM off",
  check: (view) =>
    skipRoutes(view).flatMap((route) => {
      const what = problemOf(route, view.scimEnabled);
      return what
        ? [
            {
              problem: `skip-auth entry "${route.entry}" in ${route.variable} ${what}; every other path must pass oauth2-proxy, or unauthenticated callers reach Open WebUI`,
              fix: `use auth.scim.exposeThroughProxy (with SCIM on), or entries that narrow it, e.g. "POST=^/api/v1/scim/v2/Users$"`,
              variables: [proxyVar(route.variable)],
            },
          ]
        : [];
    }),
};
