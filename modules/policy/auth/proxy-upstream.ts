import { proxyVar, type AuthRule } from "./view.js";

/** The sidecar must forward to Open WebUI in its own task (the loopback of the shared network namespace). */
export const proxyUpstream: AuthRule = {
  id: "OWUI-AUTH-8",
  title: "oauth2-proxy upstream other than the task's own loopback",
  check: (view) => {
    if (!view.proxy) return [];
    const loopback = `http://127.0.0.1:${view.openwebuiPort}`;
    const upstream = view.proxy.OAUTH2_PROXY_UPSTREAMS;
    if (upstream === loopback || upstream === `${loopback}/`) return [];
    return [
      {
        problem: `OAUTH2_PROXY_UPSTREAMS is ${upstream === undefined ? "unset" : `"${upstream}"`}, not the task's own Open WebUI (${loopback}): the verified identity headers would go to another host (or to several), and Open WebUI would receive requests the proxy never authenticated`,
        fix: `set OAUTH2_PROXY_UPSTREAMS to exactly ${loopback}`,
        variables: [proxyVar("OAUTH2_PROXY_UPSTREAMS")],
      },
    ];
  },
};
