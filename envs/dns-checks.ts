/**
 * Checks of the optional Cloudflare DNS section (`dns.cloudflare`, stacks `<env>-dns-validation`
 * and `<env>-dns`): the records must lie in the configured zone, and a proxied app record needs an
 * ALB that admits Cloudflare's addresses. (A missing or malformed zone id is refused by the schema.)
 */
import { contains, parseCidr, type Cidr } from "../lib/cidr.js";
import { CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV4_RANGES_AS_OF } from "../lib/cloudflare-ips.js";
import type { Fail } from "../lib/errors.js";
import type { ParsedEnv } from "./schema.js";

/** True when `name` is `zone` or a name under it (DNS names compare case-insensitively). */
export function inZone(name: string, zone: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  const z = zone.toLowerCase().replace(/\.$/, "");
  return n === z || n.endsWith(`.${z}`);
}

/** Cloudflare's published IPv4 ranges that no CIDR of `cidrs` contains. */
export function uncoveredCloudflareRanges(cidrs: readonly string[]): string[] {
  const allowed = cidrs.map(parseCidr).filter((c): c is Cidr => typeof c !== "string");
  return CLOUDFLARE_IPV4_RANGES.filter((range) => !allowed.some((a) => contains(a, parseCidr(range) as Cidr)));
}

export function checkDns(env: ParsedEnv, fail: Fail): void {
  const cf = env.dns?.cloudflare;
  if (!cf) return;
  if (!inZone(env.hostname, cf.zoneName)) {
    const label = env.hostname.split(".")[0];
    fail(
      "hostname",
      `"${env.hostname}" lies outside the Cloudflare zone "${cf.zoneName}" (dns.cloudflare.zoneName), so neither the app's record nor the certificate's validation records can be written there`,
      `use a hostname under ${cf.zoneName}, e.g. "${label}.${cf.zoneName}", or set dns.cloudflare.zoneName and zoneId to the zone that holds "${env.hostname}"`,
    );
  }
  if (cf.proxied) {
    const missing = uncoveredCloudflareRanges(env.security.albIngressCidrs);
    if (missing.length > 0) {
      fail(
        "dns.cloudflare.proxied",
        `is true, but security.albIngressCidrs does not admit ${missing.length} of Cloudflare's ${CLOUDFLARE_IPV4_RANGES.length} published IPv4 ranges (${missing.join(", ")}); a proxied record makes every request reach the ALB from Cloudflare's addresses, and its security group would drop them`,
        `add the missing ranges to security.albIngressCidrs (the list in lib/cloudflare-ips.ts, from https://www.cloudflare.com/ips-v4 as of ${CLOUDFLARE_IPV4_RANGES_AS_OF}), or set proxied to false`,
      );
    }
  }
}
