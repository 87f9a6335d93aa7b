/**
 * Network checks that need AWS's numbers: AZs the region has, subnets big enough for what runs in
 * them, and ALB ingress CIDRs that fit one security group.
 */
import { ALB_FREE_IPS, ALB_INGRESS_RULES_PER_CIDR, ALB_SUBNET_MAX_PREFIX, ECS_DEPLOY_SURGE, SG_INBOUND_RULES_QUOTA, usableIps } from "../lib/aws-limits.js";
import { azsOf, REGION_TABLE_FIX } from "../lib/aws-regions.js";
import { contains, parseCidr, type Cidr } from "../lib/cidr.js";
import type { Fail } from "../lib/errors.js";
import type { EnvConfig, ParsedEnv } from "./schema.js";

/** Refuses an AZ the region does not have (by the checked-in table in lib/aws-regions.ts). */
export function checkAz(region: string, az: string, at: string, fail: Fail): void {
  const azs = azsOf(region);
  if (!azs) return; // the region field already refuses a region outside the table
  if (!azs.includes(az)) {
    const other = az.startsWith(region) ? "" : ", or change region";
    fail(at, `"${az}" is not an AZ of region ${region}, which has ${azs.join(", ")}`, `use one of those${other} (${REGION_TABLE_FIX.replace(/^or /, "if AWS added one, ")})`);
  }
}

/** Every ALB ingress CIDR once, none inside another, and all rules within one security group's quota. */
export function checkAlbIngress(env: ParsedEnv, fail: Fail): void {
  const cidrs = env.security.albIngressCidrs;
  const parsed = cidrs.map((c) => parseCidr(c) as Cidr);
  parsed.forEach((p, i) => {
    const first = parsed.findIndex((o, j) => j < i && contains(o, p));
    const wider = parsed.findIndex((o, j) => j !== i && o.prefix < p.prefix && contains(o, p));
    const at = `security.albIngressCidrs[${i}]`;
    if (first >= 0 && parsed[first]!.prefix === p.prefix) fail(at, `"${cidrs[i]}" is listed twice (also at [${first}]), and each copy costs ${ALB_INGRESS_RULES_PER_CIDR} security-group rules`, "list each CIDR once");
    else if (wider >= 0) fail(at, `"${cidrs[i]}" lies inside security.albIngressCidrs[${wider}] ("${cidrs[wider]}"), so its rules add nothing`, `remove it, or narrow "${cidrs[wider]}"`);
  });
  const rules = cidrs.length * ALB_INGRESS_RULES_PER_CIDR;
  if (rules > SG_INBOUND_RULES_QUOTA) {
    fail(
      "security.albIngressCidrs",
      `has ${cidrs.length} CIDRs, which make ${rules} inbound rules on the ALB security group (${ALB_INGRESS_RULES_PER_CIDR} per CIDR: 443 and the 80 redirect); AWS's default quota is ${SG_INBOUND_RULES_QUOTA}, so apply fails`,
      `list at most ${Math.floor(SG_INBOUND_RULES_QUOTA / ALB_INGRESS_RULES_PER_CIDR)} CIDRs: summarize adjacent ranges into wider ones, or raise "Inbound or outbound rules per security group" in Service Quotas and keep the total under it`,
    );
  }
}

/**
 * Public subnets hold the ALB (a /27 with 8 free addresses) and NAT gateways; private subnets hold
 * one address per interface endpoint, EFS mount target, Aurora instance, Redis node and VPC
 * Lambda, plus every Fargate task, twice over while a deployment rolls. All of it may land in one
 * subnet (tasks rebalance into the remaining AZs when one fails), so each subnet must hold it all.
 */
export function checkSubnetSizes(env: ParsedEnv, network: EnvConfig["network"], redisEnabled: boolean, fail: Fail): void {
  network.publicSubnetCidrs.forEach((c, i) => {
    const p = parseCidr(c) as Cidr;
    if (p.prefix > ALB_SUBNET_MAX_PREFIX && p.prefix <= 28) {
      fail(`network.publicSubnetCidrs[${i}]`, `"${c}" is a /${p.prefix}; the ALB needs a /${ALB_SUBNET_MAX_PREFIX} or larger with at least ${ALB_FREE_IPS} free addresses in each of its subnets`, `use a /${ALB_SUBNET_MAX_PREFIX} or larger, e.g. the default layout's /22s (leave publicSubnetCidrs out)`);
    }
  });
  const need = privateAddressesNeeded(env, redisEnabled);
  const total = need.reduce((n, [, k]) => n + k, 0);
  network.privateSubnetCidrs.forEach((c, i) => {
    const p = parseCidr(c) as Cidr;
    if (p.prefix > 28) return; // refused as smaller than AWS's minimum already
    const usable = usableIps(p.prefix);
    if (usable < total) {
      fail(
        `network.privateSubnetCidrs[${i}]`,
        `"${c}" has ${usable} usable addresses (AWS reserves 5), but ${total} may be needed in it: ${need.filter(([, k]) => k > 0).map(([what, k]) => `${k} for ${what}`).join(", ")}`,
        `use a /${prefixFor(total)} or larger, or turn off interface endpoints you do not need (network.interfaceEndpoints)`,
      );
    }
  });
}

function privateAddressesNeeded(env: ParsedEnv, redisEnabled: boolean): [string, number][] {
  const endpoints = Object.values(env.network.interfaceEndpoints).filter(Boolean).length;
  const tasks = Object.values(env.services).reduce((n, s) => n + s.maxCount, 0);
  const provisioning = (env.auth as { provisioning?: { enabled?: boolean } }).provisioning?.enabled === true;
  return [
    [`${endpoints} interface endpoints`, endpoints],
    [`Fargate tasks (${tasks} at most, ×${ECS_DEPLOY_SURGE} while a deployment rolls)`, tasks * ECS_DEPLOY_SURGE],
    ["the EFS mount target", 1],
    [`${env.data.aurora.instances} Aurora instance(s)`, env.data.aurora.instances],
    ["Redis nodes", redisEnabled ? 1 + env.data.redis.replicas : 0],
    ["VPC Lambda functions (db-bootstrap, provisioning)", provisioning ? 2 : 1],
  ];
}

/** The longest prefix whose subnet holds `addresses` usable ones. */
function prefixFor(addresses: number): number {
  let prefix = 28;
  while (prefix > 16 && usableIps(prefix) < addresses) prefix--;
  return prefix;
}
