import { proxyFlag, proxyVar, type AuthRule } from "./view.js";

/** `PASS_AUTHORIZATION_HEADER=true` replaces the upstream `Authorization` header with the IdP's ID token. */
export const passAuthorizationHeader: AuthRule = {
  id: "OWUI-AUTH-3",
  title: "OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER=true",
  check: (view) =>
    proxyFlag(view, "OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER", false)
      ? [
          {
            problem: "OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER is true: oauth2-proxy then overwrites every request's Authorization header with the IdP's ID token, so Open WebUI's own JWTs, its sk- API keys and the SCIM bearer token never arrive and every API call fails",
            fix: "keep OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER false; Open WebUI learns the user from X-Forwarded-Email",
            variables: [proxyVar("OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER")],
          },
        ]
      : [],
};
