import { openwebuiVar, trustedHeaders, type AuthRule } from "./view.js";

/**
 * `X-Auth-Request-*` are response headers for nginx `auth_request` (`SET_XAUTHREQUEST`); in
 * direct-proxy mode they never reach the upstream, and oauth2-proxy does not strip client copies.
 */
export const xAuthRequestHeaders: AuthRule = {
  id: "OWUI-AUTH-4",
  title: "X-Auth-Request-* trusted headers in direct-proxy mode",
  check: (view) =>
    view.mode !== "oauth2-proxy"
      ? []
      : trustedHeaders(view)
          .filter((t) => t.header.startsWith("x-auth-request-"))
          .map((t) => ({
            problem: `${t.variable} trusts "${view.openwebui[t.variable]}", an nginx auth_request response header: with oauth2-proxy in front of Open WebUI it is never set on the request and never stripped, so the only value Open WebUI sees is one a client sent`,
            fix: "trust X-Forwarded-Email (set by oauth2-proxy with PASS_USER_HEADERS, client copies stripped)",
            variables: [openwebuiVar(t.variable)],
          })),
};
