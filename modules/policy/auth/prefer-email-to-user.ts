import { openwebuiVar, proxyFlag, proxyVar, trustedHeaders, type AuthRule } from "./view.js";

/**
 * oauth2-proxy's `PREFER_EMAIL_TO_USER=true` puts the email into `X-Forwarded-User` and then neither
 * sets nor strips `X-Forwarded-Email` (pkg/apis/options/legacy_options.go `getPassUserHeaders`).
 */
export const preferEmailToUser: AuthRule = {
  id: "OWUI-AUTH-2",
  title: "OAUTH2_PROXY_PREFER_EMAIL_TO_USER=true while Open WebUI trusts X-Forwarded-Email",
  check: (view) => {
    if (!proxyFlag(view, "OAUTH2_PROXY_PREFER_EMAIL_TO_USER", false)) return [];
    const trusting = trustedHeaders(view).filter((t) => t.header === "x-forwarded-email");
    if (trusting.length === 0) return [];
    return [
      {
        problem: `OAUTH2_PROXY_PREFER_EMAIL_TO_USER is true while Open WebUI trusts X-Forwarded-Email (${trusting.map((t) => t.variable).join(", ")}): with it oauth2-proxy neither sends nor strips X-Forwarded-Email, so a client's own copy reaches Open WebUI and anyone signed in can act as any email`,
        fix: "keep OAUTH2_PROXY_PREFER_EMAIL_TO_USER false (the proxy then sends the verified email as X-Forwarded-Email and strips client copies)",
        variables: [proxyVar("OAUTH2_PROXY_PREFER_EMAIL_TO_USER"), ...trusting.map((t) => openwebuiVar(t.variable))],
      },
    ];
  },
};
