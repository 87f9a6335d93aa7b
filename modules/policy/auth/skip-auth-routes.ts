import { proxyVar, skipRoutes, type AuthRule, type AuthViolation, type SkipRoute } from "./view.js";

/** Paths of Open WebUI's auth router a skipped route must never reach (an open signup on an empty database makes the caller admin). */
export const AUTH_ROUTE_SAMPLES = ["/api/v1/auths/", "/api/v1/auths/signup", "/api/v1/auths/signin", "/api/v1/auths/add", "/api/v1/auths/ldap", "/api/v1/auths/update/password"];

function violation(route: SkipRoute, what: string): AuthViolation {
  return {
    problem: `skip-auth entry "${route.entry}" in ${route.variable} ${what}`,
    fix: 'skip auth only for anchored paths outside /api/v1/auths/, e.g. "POST=^/api/v1/scim/v2/Users$" (see auth.scim.exposeThroughProxy)',
    variables: [proxyVar(route.variable)],
  };
}

function problemOf(route: SkipRoute): string | undefined {
  if (route.negate) return "is negated (!=): oauth2-proxy then skips auth for every path that does NOT match, i.e. almost the whole app";
  if (!route.path.startsWith("^")) return "is not anchored with ^: the regex may match anywhere in a path, so it opens more routes than it names";
  let regex: RegExp;
  try {
    regex = new RegExp(route.path);
  } catch {
    return "cannot be checked (the regex does not compile), so it might open any route";
  }
  const hit = AUTH_ROUTE_SAMPLES.find((p) => regex.test(p));
  if (hit) return `matches ${hit}: an unauthenticated caller reaches Open WebUI's auth routes, and an open signup on an empty database makes that caller admin`;
  return undefined;
}

export const skipAuthRoutes: AuthRule = {
  id: "OWUI-AUTH-6",
  title: "SKIP_AUTH_ROUTES entry unanchored, negated, or reaching /api/v1/auths/",
  check: (view) =>
    skipRoutes(view).flatMap((route) => {
      const what = problemOf(route);
      return what ? [violation(route, what)] : [];
    }),
};
