import { describe, expect, it } from "vitest";
import { ENVS, policyOf, synthPlatform, type Synthesized } from "./support/synth.js";

/** `${aws_security_group.security_alb_1234ABCD.id}` → `alb`. */
function groupName(ref: string): string {
  const m = /aws_security_group\.(?:security|network)_([a-z-]+?)(?:-sg)?_[0-9A-F]{8}\.id/.exec(ref);
  if (!m) throw new Error(`not a security group reference: ${ref}`);
  return m[1]!;
}

/** Every ingress/egress rule as `group direction proto/from-to peer`, sorted. */
function ruleTable(s: Synthesized): string[] {
  const row = (dir: string) => ([, r]: [string, any]) => {
    const peer = r.cidr_ipv4 ?? (r.referenced_security_group_id ? `sg:${groupName(r.referenced_security_group_id)}` : "?");
    return `${groupName(r.security_group_id)} ${dir} ${r.ip_protocol}/${r.from_port}-${r.to_port} ${peer}`;
  };
  return [
    ...s.resources("aws_vpc_security_group_ingress_rule").map(row("in")),
    ...s.resources("aws_vpc_security_group_egress_rule").map(row("out")),
  ].sort();
}

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
] as const)("security layer in %s", (_name, env) => {
  const s = synthPlatform(env);

  it("has exactly the intended security-group rules", () => {
    const cidrs = env.security.albIngressCidrs;
    expect(ruleTable(s)).toEqual(
      [
        ...cidrs.flatMap((c) => [`alb in tcp/443-443 ${c}`, `alb in tcp/80-80 ${c}`]),
        "alb out tcp/8080-8080 sg:services",
        "services in tcp/8080-8080 sg:alb",
        "services in tcp/8080-8080 sg:services",
        "services out tcp/8080-8080 sg:services",
        "services in tcp/4000-4000 sg:services",
        "services out tcp/4000-4000 sg:services",
        "services in tcp/8000-8000 sg:services",
        "services out tcp/8000-8000 sg:services",
        "services out tcp/443-443 0.0.0.0/0",
        "services out tcp/5432-5432 sg:database",
        "database in tcp/5432-5432 sg:services",
        "services out tcp/2049-2049 sg:efs",
        "efs in tcp/2049-2049 sg:services",
        "services out tcp/6379-6379 sg:redis",
        "redis in tcp/6379-6379 sg:services",
        `endpoints in tcp/443-443 ${env.network.vpcCidr}`,
        // The data layer's db-bootstrap function, a client group of its own:
        "client-db-bootstrap out tcp/443-443 0.0.0.0/0",
        "client-db-bootstrap out tcp/5432-5432 sg:database",
        "database in tcp/5432-5432 sg:client-db-bootstrap",
      ].sort(),
    );
  });

  it("gives every group and every rule a description", () => {
    for (const [, g] of s.resources("aws_security_group")) expect(g.description.length).toBeGreaterThan(10);
    for (const type of ["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"]) {
      for (const [, r] of s.resources(type)) expect(r.description.length).toBeGreaterThan(10);
    }
  });

  it("allows 0.0.0.0/0 ingress nowhere, and no all-ports or all-protocol rule", () => {
    for (const [, r] of s.resources("aws_vpc_security_group_ingress_rule")) {
      expect(r.cidr_ipv4).not.toBe("0.0.0.0/0");
      expect(r.ip_protocol).toBe("tcp");
      expect(r.from_port).toBe(r.to_port);
    }
  });

  it("empties the default security group", () => {
    const d = s.resource("aws_default_security_group");
    expect(d.ingress).toBeUndefined();
    expect(d.egress).toBeUndefined();
    expect(d.vpc_id).toMatch(/aws_vpc\.network_\w+\.id/);
  });

  it("creates a rotating workload CMK whose policy lets CloudWatch Logs use it only for this env's log groups", () => {
    const key = s.resource("aws_kms_key", "workload");
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30, customer_master_key_spec: "SYMMETRIC_DEFAULT" });
    const policy = policyOf(s, key.policy);
    const logs = policy.statement.find((st: any) => st.sid === "CloudWatchLogsEncryptsThisEnvironmentsLogGroups");
    expect(logs.principals).toEqual([{ type: "Service", identifiers: ["logs.us-east-1.amazonaws.com"] }]);
    expect(logs.condition).toEqual([
      {
        test: "ArnLike",
        variable: "kms:EncryptionContext:aws:logs:arn",
        values: [
          `arn:\${data.aws_partition.partition.partition}:logs:us-east-1:\${data.aws_caller_identity.current.account_id}:log-group:/owui/${env.name}/*`,
          `arn:\${data.aws_partition.partition.partition}:logs:us-east-1:\${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/owui-${env.name}-*`,
          `arn:\${data.aws_partition.partition.partition}:logs:us-east-1:\${data.aws_caller_identity.current.account_id}:log-group:/aws/rds/cluster/owui-${env.name}-*`,
        ],
      },
    ]);
    for (const st of policy.statement) expect(st.actions).not.toContain("kms:*");
  });

  it("creates the per-user keys: a non-rotating HMAC_512 MAC key and a rotating symmetric CMK", () => {
    expect(s.resource("aws_kms_key", "user-id-hmac")).toMatchObject({ key_usage: "GENERATE_VERIFY_MAC", customer_master_key_spec: "HMAC_512", enable_key_rotation: false });
    expect(s.resource("aws_kms_key", "user-data")).toMatchObject({ key_usage: "ENCRYPT_DECRYPT", customer_master_key_spec: "SYMMETRIC_DEFAULT", enable_key_rotation: true });
    expect(s.resources("aws_kms_alias").map(([, a]) => a.name).sort()).toEqual([`alias/owui-${env.name}-user-data`, `alias/owui-${env.name}-user-id-hmac`, `alias/owui-${env.name}-workload`]);
  });

  it("creates a regional WAF web ACL with the Common and KnownBadInputs managed groups", () => {
    const acl = s.resource("aws_wafv2_web_acl");
    expect(acl.scope).toBe("REGIONAL");
    expect(acl.default_action).toEqual({ allow: {} });
    expect(acl.rule_json).toContain('"Name" = "AWSManagedRulesCommonRuleSet"');
    expect(acl.rule_json).toContain('"Name" = "AWSManagedRulesKnownBadInputsRuleSet"');
    expect(acl.rule_json).toContain('"Name" = "SizeRestrictions_BODY"');
  });
});
