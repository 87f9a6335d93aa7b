import { proxyFlag, proxyVar, type AuthRule } from "./view.js";

export const cookieNotSecure: AuthRule = {
  id: "OWUI-AUTH-10",
  title: "OAUTH2_PROXY_COOKIE_SECURE=false",
  check: (view) =>
    view.proxy && !proxyFlag(view, "OAUTH2_PROXY_COOKIE_SECURE", true)
      ? [
          {
            problem: `OAUTH2_PROXY_COOKIE_SECURE is "${view.proxy.OAUTH2_PROXY_COOKIE_SECURE}": the session cookie would also be sent over plain HTTP (the ALB's port-80 redirect listener), where anyone on the path can copy it and use the session`,
            fix: "keep OAUTH2_PROXY_COOKIE_SECURE true (TLS ends at the ALB; browsers see only https)",
            variables: [proxyVar("OAUTH2_PROXY_COOKIE_SECURE")],
          },
        ]
      : [],
};
