import { describe, expect, it } from "vitest";
import { ENVS, envWith, policyOf, synthPlatform } from "./support/synth.js";

const ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "ssm", "ssmmessages", "secretsmanager", "kms", "sts", "bedrock", "bedrock-runtime"];

describe.each([
  ["nonprod", ENVS.nonprod, 2, 1],
  ["prod", ENVS.prod, 3, 3],
] as const)("network layer in %s", (_name, env, azCount, natCount) => {
  const s = synthPlatform(env);

  it("creates a VPC with DNS support and hostnames", () => {
    expect(s.resource("aws_vpc")).toMatchObject({ cidr_block: env.network.vpcCidr, enable_dns_support: true, enable_dns_hostnames: true });
  });

  it(`creates ${azCount} public and ${azCount} private subnets, one per AZ, none mapping public IPs`, () => {
    const subnets = s.resources("aws_subnet").map(([, c]) => c);
    const publicOnes = subnets.filter((c) => c.tags.Tier === "public");
    const privateOnes = subnets.filter((c) => c.tags.Tier === "private");
    expect(publicOnes.map((c) => c.availability_zone)).toEqual(env.network.azs);
    expect(privateOnes.map((c) => c.availability_zone)).toEqual(env.network.azs);
    expect(publicOnes.map((c) => c.cidr_block)).toEqual(env.network.publicSubnetCidrs);
    expect(privateOnes.map((c) => c.cidr_block)).toEqual(env.network.privateSubnetCidrs);
    expect(subnets.every((c) => c.map_public_ip_on_launch === false)).toBe(true);
  });

  it(`creates ${natCount} NAT gateway(s) with an EIP each, in public subnets`, () => {
    const nats = s.resources("aws_nat_gateway");
    expect(nats).toHaveLength(natCount);
    expect(s.resources("aws_eip")).toHaveLength(natCount);
    for (const [, nat] of nats) expect(nat.subnet_id).toMatch(/aws_subnet\.network_public-/);
  });

  it("routes public subnets to the IGW and each private subnet to a NAT gateway", () => {
    expect(s.resources("aws_internet_gateway")).toHaveLength(1);
    const routes = s.resources("aws_route").map(([, r]) => r);
    expect(routes.filter((r) => r.gateway_id?.includes("aws_internet_gateway"))).toHaveLength(1);
    const natRoutes = routes.filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(azCount);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(natCount);
    expect(routes.every((r) => r.destination_cidr_block === "0.0.0.0/0")).toBe(true);
    expect(s.resources("aws_route_table_association")).toHaveLength(azCount * 2);
  });

  it("creates the S3 gateway endpoint on every private route table", () => {
    const s3 = s.resource("aws_vpc_endpoint", "s3-endpoint");
    expect(s3).toMatchObject({ service_name: "com.amazonaws.us-east-1.s3", vpc_endpoint_type: "Gateway" });
    expect(s3.route_table_ids).toHaveLength(azCount);
  });

  // nonprod switches every endpoint off (README "Cost"); the endpoint tests then assert that none exists.
  const wanted = ENDPOINTS.filter((e) => (env.network.interfaceEndpoints as Record<string, boolean>)[e]);

  it("creates every interface endpoint the env switches on, with private DNS, in private subnets, behind the endpoint group", () => {
    const iface = s.resources("aws_vpc_endpoint").filter(([, c]) => c.vpc_endpoint_type === "Interface").map(([, c]) => c);
    expect(iface.map((c) => c.service_name).sort()).toEqual(wanted.map((e) => `com.amazonaws.us-east-1.${e}`).sort());
    for (const c of iface) {
      expect(c.private_dns_enabled).toBe(true);
      expect(c.subnet_ids).toHaveLength(azCount);
      expect(c.security_group_ids).toEqual([expect.stringMatching(/^\$\{aws_security_group\.network_endpoints-sg_\w+\.id\}$/)]);
    }
  });

  it("lets the endpoint group accept only HTTPS from the VPC", () => {
    const rules = s.resources("aws_vpc_security_group_ingress_rule").filter(([, r]) => r.security_group_id.includes("endpoints-sg")).map(([, r]) => r);
    expect(rules).toEqual(wanted.length === 0 ? [] : [expect.objectContaining({ ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: env.network.vpcCidr, description: expect.any(String) })]);
    expect(s.resources("aws_vpc_security_group_egress_rule").filter(([, r]) => r.security_group_id.includes("endpoints-sg"))).toHaveLength(0);
  });

  it("sends flow logs to a KMS-encrypted log group with retention, through a scoped role", () => {
    const log = s.resource("aws_flow_log");
    expect(log).toMatchObject({ traffic_type: "ALL", log_destination_type: "cloud-watch-logs", max_aggregation_interval: 60 });
    const group = s.resource("aws_cloudwatch_log_group", "flow-log");
    expect(group).toMatchObject({ name: `/owui/${env.name}/vpc-flow-logs`, retention_in_days: env.network.flowLogs.retentionDays });
    expect(group.kms_key_id).toMatch(/aws_kms_key\.security_workload-key_\w+\.arn/);
    const policy = policyOf(s, s.resource("aws_iam_role_policy", "flow-log").policy);
    expect(policy.statement).toEqual([
      expect.objectContaining({ actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], effect: "Allow" }),
    ]);
    expect(policy.statement[0].resources).toHaveLength(2);
  });
});

describe("interface endpoints are switchable", () => {
  it("leaves out endpoints switched off, and the endpoint group when all are off", () => {
    const some = synthPlatform(envWith((r) => (r.network.interfaceEndpoints = { bedrock: false, "ecr.dkr": false })));
    const names = some.resources("aws_vpc_endpoint").map(([, c]) => c.service_name);
    expect(names).not.toContain("com.amazonaws.us-east-1.bedrock");
    expect(names).not.toContain("com.amazonaws.us-east-1.ecr.dkr");
    expect(names).toContain("com.amazonaws.us-east-1.bedrock-runtime");

    const none = synthPlatform(envWith((r) => (r.network.interfaceEndpoints = Object.fromEntries(ENDPOINTS.map((e) => [e, false])))));
    expect(none.resources("aws_vpc_endpoint").map(([, c]) => c.vpc_endpoint_type)).toEqual(["Gateway"]);
    expect(none.resources("aws_security_group").filter(([n]) => n.includes("endpoints"))).toHaveLength(0);
  });
});
