import { openwebuiVar, trustedHeaders, type AuthRule } from "./view.js";

/** A trusted header is only as good as the proxy that sets it and strips client copies. */
export const trustedHeadersWithoutProxy: AuthRule = {
  id: "OWUI-AUTH-7",
  title: "Trusted headers without a proxy in front of Open WebUI",
  check: (view) =>
    view.mode === "oauth2-proxy" && view.proxy
      ? []
      : trustedHeaders(view).map((t) => ({
          problem: `${t.variable} is set ("${view.openwebui[t.variable]}") in mode "${view.mode}", which has no proxy in front of Open WebUI: anyone who reaches the ALB can send that header and sign in as any user`,
          fix: 'remove the trusted-header override, or use mode "oauth2-proxy"',
          variables: [openwebuiVar(t.variable)],
        })),
};
