import { openwebuiVar, proxyFlag, proxyVar, trustedHeaders, type AuthRule } from "./view.js";

/** The headers `PASS_USER_HEADERS` sets upstream (and strips from the client's request first). */
const USER_HEADERS = ["x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username", "x-forwarded-groups"];

export const passUserHeadersOff: AuthRule = {
  id: "OWUI-AUTH-9",
  title: "OAUTH2_PROXY_PASS_USER_HEADERS=false while Open WebUI trusts an X-Forwarded-* user header",
  check: (view) => {
    if (proxyFlag(view, "OAUTH2_PROXY_PASS_USER_HEADERS", true)) return [];
    const trusting = trustedHeaders(view).filter((t) => USER_HEADERS.includes(t.header));
    if (trusting.length === 0) return [];
    return [
      {
        problem: `OAUTH2_PROXY_PASS_USER_HEADERS is "${view.proxy?.OAUTH2_PROXY_PASS_USER_HEADERS}" while Open WebUI trusts ${trusting.map((t) => `${view.openwebui[t.variable]} (${t.variable})`).join(", ")}: oauth2-proxy then neither sets nor strips those headers, so a client's own copy reaches Open WebUI and anyone signed in can act as any user`,
        fix: "keep OAUTH2_PROXY_PASS_USER_HEADERS true",
        variables: [proxyVar("OAUTH2_PROXY_PASS_USER_HEADERS"), ...trusting.map((t) => openwebuiVar(t.variable))],
      },
    ];
  },
};
