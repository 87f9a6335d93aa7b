import { describe, expect, it } from "vitest";
import { ENVS, intendedServiceGroupRules, policyOf, refOf, ruleTable, synthPlatform } from "./support/synth.js";

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
  ["sandbox", ENVS.sandbox],
] as const)("security layer in %s", (_name, env) => {
  const s = synthPlatform(env);
  const proxied = env.auth.mode === "oauth2-proxy";

  it(`has exactly the intended security-group rules (one group per service; the ALB reaches ${proxied ? "oauth2-proxy on 4180 only" : "Open WebUI on 8080"})`, () => {
    expect(ruleTable(s)).toEqual(intendedServiceGroupRules(env, proxied ? 4180 : 8080));
  });

  it("lets nothing reach Open WebUI's 8080 but the ALB (native OIDC) or the provisioning worker's group (behind the proxy)", () => {
    const to8080 = ruleTable(s).filter((r) => r.includes("tcp/8080-8080"));
    expect(to8080).toEqual(
      proxied
        ? ["client-provisioning out tcp/8080-8080 sg:service-openwebui", "service-openwebui in tcp/8080-8080 sg:client-provisioning"]
        : ["alb out tcp/8080-8080 sg:service-openwebui", "service-openwebui in tcp/8080-8080 sg:alb"],
    );
  });

  it("gives mcpo (third-party MCP server code) HTTPS egress and Open WebUI's calls on 8000, nothing else", () => {
    expect(ruleTable(s).filter((r) => r.includes("service-mcpo"))).toEqual([
      "service-mcpo in tcp/8000-8000 sg:service-openwebui",
      "service-mcpo out tcp/443-443 0.0.0.0/0",
      "service-openwebui out tcp/8000-8000 sg:service-mcpo",
    ]);
  });

  it("lets only Open WebUI and LiteLLM (and db-bootstrap) reach Aurora, and only Open WebUI reach Redis and EFS", () => {
    const from = (store: string) => ruleTable(s).filter((r) => r.startsWith(`${store} in `)).map((r) => r.split("sg:")[1]);
    expect(from("database")).toEqual(["client-db-bootstrap", "service-litellm", "service-openwebui"]);
    expect(from("redis")).toEqual(["service-openwebui"]);
    expect(from("efs")).toEqual(["service-openwebui"]);
  });

  it("runs each ECS service in its own group only", () => {
    for (const name of ["openwebui", "litellm", "mcpo"]) {
      expect(s.resource("aws_ecs_service", `compute_${name}`).network_configuration.security_groups).toEqual([refOf(s, "aws_security_group", `security_service-${name}_`, "id")]);
    }
    expect(s.resources("aws_security_group").filter(([n]) => n.startsWith("security_services"))).toEqual([]);
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
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: env.security.kmsDeletionWindowDays, customer_master_key_spec: "SYMMETRIC_DEFAULT" });
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
          `arn:\${data.aws_partition.partition.partition}:logs:us-east-1:\${data.aws_caller_identity.current.account_id}:log-group:aws-waf-logs-owui-${env.name}`,
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

  it("creates a regional WAF web ACL with the Common and KnownBadInputs managed groups and the body-rule enforcer", () => {
    const acl = s.resource("aws_wafv2_web_acl");
    expect(acl.scope).toBe("REGIONAL");
    expect(acl.default_action).toEqual({ allow: {} });
    expect(acl.rule_json).toContain('"Name" = "AWSManagedRulesCommonRuleSet"');
    expect(acl.rule_json).toContain('"Name" = "AWSManagedRulesKnownBadInputsRuleSet"');
    expect(acl.rule_json).toContain('"Name" = "BodyRulesOnSignInAndAdminRoutes"');
  });

  it("logs the WAF to aws-waf-logs-owui-<env>, encrypted with the workload CMK, without credential headers", () => {
    const group = s.resource("aws_cloudwatch_log_group", "security_waf-logs");
    expect(group).toMatchObject({ name: `aws-waf-logs-owui-${env.name}`, kms_key_id: refOf(s, "aws_kms_key", "security_workload", "arn") });
    expect(group.retention_in_days).toBeGreaterThan(0);
    const logging = s.resource("aws_wafv2_web_acl_logging_configuration");
    expect(logging.resource_arn).toBe(refOf(s, "aws_wafv2_web_acl", "security_web-acl", "arn"));
    expect(logging.log_destination_configs).toEqual([refOf(s, "aws_cloudwatch_log_group", "security_waf-logs", "arn")]);
    expect(logging.redacted_fields).toEqual([{ single_header: { name: "authorization" } }, { single_header: { name: "cookie" } }]);
  });
});
