/**
 * Network layer: VPC, public and private subnets per AZ, IGW, NAT (one, or one per AZ), routes,
 * the S3 gateway endpoint, switchable interface endpoints, and VPC flow logs.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import type { InterfaceEndpointName } from "../../envs/schema.js";
import { resourceName } from "../../lib/naming.js";
import { policyDocument } from "../../lib/policy.js";

export interface NetworkProps {
  /** Environment name, used in resource names. */
  readonly envName: string;
  /** AWS region (for endpoint service names). */
  readonly region: string;
  /** VPC CIDR. */
  readonly vpcCidr: string;
  /** AZs, one public and one private subnet each. */
  readonly azs: readonly string[];
  /** Public subnet CIDRs, in AZ order. */
  readonly publicSubnetCidrs: readonly string[];
  /** Private subnet CIDRs, in AZ order. */
  readonly privateSubnetCidrs: readonly string[];
  /** One NAT gateway for all AZs instead of one per AZ. @default false */
  readonly singleNatGateway?: boolean;
  /** Interface endpoints to create. @default - none */
  readonly interfaceEndpoints?: Readonly<Partial<Record<InterfaceEndpointName, boolean>>>;
  /**
   * The AZs the interface endpoints have network interfaces in: every AZ, or only the first AZ's
   * private subnet (billed per endpoint per AZ; the other AZs reach it across AZs). @default "all"
   */
  readonly interfaceEndpointAzs?: "all" | "first";
}

export interface FlowLogOptions {
  /** CMK that encrypts the flow-log group. */
  readonly kmsKeyArn: string;
  /** Retention of the flow-log group, in days. */
  readonly retentionDays: number;
  /** @default "ALL" */
  readonly trafficType?: "ALL" | "ACCEPT" | "REJECT";
}

/** What other layers may use of the network. */
export interface NetworkOutputs {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly azs: readonly string[];
  readonly publicSubnetIds: readonly string[];
  readonly privateSubnetIds: readonly string[];
  readonly privateRouteTableIds: readonly string[];
}

export class Network extends Construct implements NetworkOutputs {
  readonly vpc: Vpc;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly azs: readonly string[];
  readonly publicSubnets: Subnet[];
  readonly privateSubnets: Subnet[];
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  readonly natGateways: NatGateway[];
  readonly privateRouteTables: RouteTable[];
  readonly privateRouteTableIds: string[];
  /** Security group of the interface endpoints (443 from the VPC only); undefined when none. */
  readonly endpointSecurityGroup?: SecurityGroup;
  /** Interface endpoints by service name. */
  readonly interfaceEndpoints: ReadonlyMap<InterfaceEndpointName, VpcEndpoint>;
  readonly s3Endpoint: VpcEndpoint;
  private readonly props: NetworkProps;
  private readonly name: (...parts: string[]) => string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.props = props;
    const { azs } = props;
    if (props.publicSubnetCidrs.length !== azs.length || props.privateSubnetCidrs.length !== azs.length) {
      throw new Error(`Network ${this.node.path}: need one public and one private subnet CIDR per AZ (${azs.length} AZs, ${props.publicSubnetCidrs.length} public, ${props.privateSubnetCidrs.length} private)`);
    }
    this.name = (...parts) => resourceName(props.envName, ...parts);
    this.azs = azs;
    this.vpcCidr = props.vpcCidr;

    this.vpc = new Vpc(this, "Resource", {
      cidrBlock: props.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: this.name("vpc") },
    });
    this.vpcId = this.vpc.id;

    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: { Name: this.name("igw") } });

    this.publicSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `public-${az}`, {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: props.publicSubnetCidrs[i]!,
          // The ALB and NAT gateways have their own addresses; nothing here needs a public IP on launch.
          mapPublicIpOnLaunch: false,
          tags: { Name: this.name("public", az), Tier: "public" },
        }),
    );
    this.privateSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `private-${az}`, {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: props.privateSubnetCidrs[i]!,
          mapPublicIpOnLaunch: false,
          tags: { Name: this.name("private", az), Tier: "private" },
        }),
    );
    this.publicSubnetIds = this.publicSubnets.map((s) => s.id);
    this.privateSubnetIds = this.privateSubnets.map((s) => s.id);

    const publicRt = new RouteTable(this, "public-rt", { vpcId: this.vpc.id, tags: { Name: this.name("public") } });
    new Route(this, "public-default", { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
    this.publicSubnets.forEach((s, i) => new RouteTableAssociation(this, `public-rta-${azs[i]}`, { subnetId: s.id, routeTableId: publicRt.id }));

    const natAzs = props.singleNatGateway ? azs.slice(0, 1) : azs;
    this.natGateways = natAzs.map((az, i) => {
      const eip = new Eip(this, `nat-eip-${az}`, { domain: "vpc", tags: { Name: this.name("nat", az) } });
      return new NatGateway(this, `nat-${az}`, {
        allocationId: eip.allocationId,
        subnetId: this.publicSubnets[i]!.id,
        connectivityType: "public",
        tags: { Name: this.name("nat", az) },
        dependsOn: [igw],
      });
    });

    this.privateRouteTables = azs.map((az, i) => {
      const rt = new RouteTable(this, `private-rt-${az}`, { vpcId: this.vpc.id, tags: { Name: this.name("private", az) } });
      const nat = this.natGateways[props.singleNatGateway ? 0 : i]!;
      new Route(this, `private-default-${az}`, { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
      new RouteTableAssociation(this, `private-rta-${az}`, { subnetId: this.privateSubnets[i]!.id, routeTableId: rt.id });
      return rt;
    });
    this.privateRouteTableIds = this.privateRouteTables.map((r) => r.id);

    this.s3Endpoint = new VpcEndpoint(this, "s3-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: this.privateRouteTableIds,
      tags: { Name: this.name("s3") },
    });

    const wanted = (Object.entries(props.interfaceEndpoints ?? {}) as [InterfaceEndpointName, boolean][]).filter(([, on]) => on).map(([n]) => n);
    const endpoints = new Map<InterfaceEndpointName, VpcEndpoint>();
    if (wanted.length > 0) {
      const sg = new SecurityGroup(this, "endpoints-sg", {
        name: this.name("vpc-endpoints"),
        description: "Interface VPC endpoints: HTTPS from inside the VPC only",
        vpcId: this.vpc.id,
        tags: { Name: this.name("vpc-endpoints") },
      });
      new VpcSecurityGroupIngressRule(this, "endpoints-https-from-vpc", {
        securityGroupId: sg.id,
        description: "HTTPS from workloads in the VPC",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: props.vpcCidr,
      });
      this.endpointSecurityGroup = sg;
      for (const service of wanted) {
        endpoints.set(
          service,
          new VpcEndpoint(this, `endpoint-${service.replace(/\./g, "-")}`, {
            vpcId: this.vpc.id,
            serviceName: `com.amazonaws.${props.region}.${service}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds: props.interfaceEndpointAzs === "first" ? this.privateSubnetIds.slice(0, 1) : this.privateSubnetIds,
            securityGroupIds: [sg.id],
            tags: { Name: this.name(service.replace(/\./g, "-")) },
          }),
        );
      }
    }
    this.interfaceEndpoints = endpoints;
  }

  /** Sends VPC flow logs to a KMS-encrypted CloudWatch log group with retention. */
  addFlowLog(options: FlowLogOptions): FlowLog {
    const group = new CloudwatchLogGroup(this, "flow-log-group", {
      name: `/owui/${this.props.envName}/vpc-flow-logs`,
      retentionInDays: options.retentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    const role = new IamRole(this, "flow-log-role", {
      name: this.name("vpc-flow-logs"),
      description: "Lets VPC Flow Logs write to its log group",
      assumeRolePolicy: policyDocument(this, "flow-log-trust", [
        {
          sid: "VpcFlowLogsAssume",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
        },
      ]).json,
    });
    new IamRolePolicy(this, "flow-log-policy", {
      name: "write-flow-logs",
      role: role.id,
      policy: policyDocument(this, "flow-log-permissions", [
        {
          sid: "WriteFlowLogGroup",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [group.arn, `${group.arn}:*`],
        },
      ]).json,
    });
    return new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: options.trafficType ?? "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: { Name: this.name("vpc-flow-logs") },
    });
  }
}
