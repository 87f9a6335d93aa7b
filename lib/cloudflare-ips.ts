/**
 * Cloudflare's published IPv4 ranges: the addresses a proxied (orange-cloud) record's traffic
 * reaches the origin from. An env whose app record is proxied must admit every one of them on the
 * ALB (`security.albIngressCidrs`), or the security group drops every request (envs/dns-checks.ts).
 *
 * Source: https://www.cloudflare.com/ips-v4 (also https://api.cloudflare.com/client/v4/ips),
 * transcribed 2026-12-02 in the order the page lists them. This machine has no route to
 * cloudflare.com, so the list was checked against copies of the page in public repositories (one
 * dated 2026-09-29, all identical) rather than fetched live. Cloudflare changes the list rarely and
 * announces changes in advance; when it does, update this constant and the date, then add the new
 * ranges to every proxied env's `security.albIngressCidrs` (synth refuses the env until then).
 */
export const CLOUDFLARE_IPV4_RANGES_AS_OF = "2026-12-02";

export const CLOUDFLARE_IPV4_RANGES: readonly string[] = [
  "173.245.48.0/20",
  "103.21.244.0/22",
  "103.22.200.0/22",
  "103.31.4.0/22",
  "141.101.64.0/18",
  "108.162.192.0/18",
  "190.93.240.0/20",
  "188.114.96.0/20",
  "197.234.240.0/22",
  "198.41.128.0/17",
  "162.158.0.0/15",
  "104.16.0.0/13",
  "104.24.0.0/14",
  "172.64.0.0/13",
  "131.0.72.0/22",
];
