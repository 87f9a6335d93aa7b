import { proxyFlag, proxyVar, skipRoutes, type AuthRule } from "./view.js";

/**
 * With `REVERSE_PROXY=true`, oauth2-proxy matches skip-auth routes against the `X-Forwarded-Uri`
 * header (pkg/requests/util/util.go `GetRequestPath`; GHSA-7x63-xv5r-3p2x). The ALB passes a
 * client's `X-Forwarded-Uri` through unchanged, so `--trusted-proxy-ip` (v7.15.2) does not help here.
 */
export const skipAuthBehindReverseProxy: AuthRule = {
  id: "OWUI-AUTH-12",
  title: "Skip-auth routes while OAUTH2_PROXY_REVERSE_PROXY=true",
  check: (view) => {
    const routes = skipRoutes(view);
    if (routes.length === 0 || !proxyFlag(view, "OAUTH2_PROXY_REVERSE_PROXY", false)) return [];
    return [
      {
        problem: `skip-auth routes are set while OAUTH2_PROXY_REVERSE_PROXY is true: oauth2-proxy then matches them against the X-Forwarded-Uri header, which the ALB passes through from the client, so any request that claims a skipped path in that header reaches Open WebUI unauthenticated`,
        fix: "set OAUTH2_PROXY_REVERSE_PROXY to false whenever a route skips auth (the identity layer does so itself; the redirect URL is absolute and the cookie secure, so nothing else needs it)",
        variables: [proxyVar("OAUTH2_PROXY_REVERSE_PROXY"), ...[...new Set(routes.map((r) => r.variable))].map(proxyVar)],
      },
    ];
  },
};
