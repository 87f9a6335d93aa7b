/**
 * Security layer: the workload CMK (RDS, EFS, Secrets Manager, SQS, SNS, logs), the per-user chat
 * encryption keys (HMAC key for user ids, CMK for data keys), the security-group chain
 * ALB → services → data stores, the emptied default security group, and an optional WAFv2 web ACL.
 */
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { accountKeyAdministration, policyDocument, type PolicyStatement } from "../../lib/policy.js";
import type { NetworkOutputs } from "../network/index.js";

export interface SecurityProps {
  readonly envName: string;
  readonly aws: AwsContext;
  readonly network: Pick<NetworkOutputs, "vpcId">;
  /** CIDRs allowed to reach the ALB on 443, and on 80 for the redirect. Must not be empty. */
  readonly albIngressCidrs: readonly string[];
  /** Create a WAFv2 web ACL for the ALB. @default true */
  readonly wafEnabled?: boolean;
  /** KMS deletion window in days (7–30). @default 30 */
  readonly kmsDeletionWindowDays?: number;
}

/** A KMS key as other layers see it. */
export interface KeyRef {
  readonly keyArn: string;
  readonly keyId: string;
  readonly aliasName: string;
}

/** A security group as other layers see it. */
export interface SecurityGroupRef {
  readonly securityGroupId: string;
}

/** What other layers may use of the security layer. */
export interface SecurityOutputs {
  /** CMK for RDS, EFS, Secrets Manager, SQS, SNS and CloudWatch Logs. */
  readonly workloadKey: KeyRef;
  /** HMAC_512 key that derives stable per-user ids from the lower-cased email. */
  readonly userIdHmacKey: KeyRef;
  /** Symmetric CMK that wraps each user's data key (disaster recovery copy). */
  readonly userDataKey: KeyRef;
  readonly albSecurityGroup: SecurityGroupRef;
  readonly servicesSecurityGroup: SecurityGroupRef;
  readonly databaseSecurityGroup: SecurityGroupRef;
  readonly efsSecurityGroup: SecurityGroupRef;
  readonly redisSecurityGroup: SecurityGroupRef;
  /** WAFv2 web ACL ARN when enabled. */
  readonly webAclArn?: string;
}

/** A store or service group a client group may reach. */
export interface ClientTarget {
  readonly target: "database" | "services" | "redis" | "efs";
  readonly port: number;
}

const HTTPS_ANYWHERE = "0.0.0.0/0";

export class Security extends Construct implements SecurityOutputs {
  readonly workloadKey: KeyRef;
  readonly userIdHmacKey: KeyRef;
  readonly userDataKey: KeyRef;
  readonly albSecurityGroup: SecurityGroupRef;
  readonly servicesSecurityGroup: SecurityGroupRef;
  readonly databaseSecurityGroup: SecurityGroupRef;
  readonly efsSecurityGroup: SecurityGroupRef;
  readonly redisSecurityGroup: SecurityGroupRef;
  readonly webAcl?: Wafv2WebAcl;
  readonly webAclArn?: string;
  private readonly name: (...parts: string[]) => string;
  private readonly vpcId: string;
  private readonly albPorts = new Set<number>();
  private readonly internalPorts = new Set<number>();

  constructor(scope: Construct, id: string, props: SecurityProps) {
    super(scope, id);
    if (props.albIngressCidrs.length === 0) {
      throw new Error(`Security ${this.node.path}: albIngressCidrs is empty, so nobody could reach the ALB. List the corporate and VPN CIDRs.`);
    }
    this.name = (...parts) => resourceName(props.envName, ...parts);
    this.vpcId = props.network.vpcId;
    const { aws } = props;
    const deletionWindowInDays = props.kmsDeletionWindowDays ?? 30;

    // --- KMS --------------------------------------------------------------------------------
    const keyAdmin = accountKeyAdministration(aws.partition, aws.accountId, ["kms:RotateKeyOnDemand", "kms:GenerateMac", "kms:VerifyMac"]);
    const logsUse: PolicyStatement = {
      sid: "CloudWatchLogsEncryptsThisEnvironmentsLogGroups",
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      principals: [{ type: "Service", identifiers: [`logs.${aws.region}.amazonaws.com`] }],
      conditions: [
        {
          test: "ArnLike",
          variable: "kms:EncryptionContext:aws:logs:arn",
          values: [
            `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:/owui/${props.envName}/*`,
            `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:/aws/lambda/${this.name()}-*`,
            // RDS names its log groups itself: /aws/rds/cluster/<cluster id>/postgresql.
            `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:/aws/rds/cluster/${this.name()}-*`,
          ],
        },
      ],
    };
    const alarmsUse: PolicyStatement = {
      sid: "CloudWatchAlarmsPublishToEncryptedTopics",
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [aws.accountId] }],
    };

    this.workloadKey = this.key("workload", {
      description: `owui ${props.envName}: RDS, EFS, Secrets Manager, SQS, SNS and logs`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      deletionWindowInDays,
      policy: policyDocument(this, "workload-key-policy", [keyAdmin, logsUse, alarmsUse]).json,
    });
    this.userIdHmacKey = this.key("user-id-hmac", {
      description: `owui ${props.envName}: HMAC_SHA_512 over lower-cased emails -> stable user ids`,
      keyUsage: "GENERATE_VERIFY_MAC",
      customerMasterKeySpec: "HMAC_512",
      // HMAC keys cannot be rotated (KMS refuses); their ids must stay stable anyway.
      enableKeyRotation: false,
      deletionWindowInDays,
      policy: policyDocument(this, "user-id-hmac-key-policy", [keyAdmin]).json,
    });
    this.userDataKey = this.key("user-data", {
      description: `owui ${props.envName}: wraps per-user chat data keys (disaster-recovery copy)`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      deletionWindowInDays,
      policy: policyDocument(this, "user-data-key-policy", [keyAdmin]).json,
    });

    // --- Security groups ----------------------------------------------------------------------
    const sg = (id: string, description: string): SecurityGroupRef => ({
      securityGroupId: new SecurityGroup(this, id, {
        name: this.name(id),
        description,
        vpcId: props.network.vpcId,
        tags: { Name: this.name(id) },
        lifecycle: { createBeforeDestroy: true },
      }).id,
    });
    this.albSecurityGroup = sg("alb", "Internet-facing ALB: HTTPS (and HTTP redirect) from allowed CIDRs");
    this.servicesSecurityGroup = sg("services", "ECS services: from the ALB and from each other, on service ports");
    this.databaseSecurityGroup = sg("database", "Aurora PostgreSQL: 5432 from ECS services only");
    this.efsSecurityGroup = sg("efs", "EFS mount targets: NFS 2049 from ECS services only");
    this.redisSecurityGroup = sg("redis", "Redis: 6379 from ECS services only");

    props.albIngressCidrs.forEach((cidr, i) => {
      this.ingress(`alb-https-${i}`, this.albSecurityGroup, 443, `HTTPS from allowed CIDR ${cidr}`, { cidrIpv4: cidr });
      this.ingress(`alb-http-${i}`, this.albSecurityGroup, 80, `HTTP from allowed CIDR ${cidr}, redirected to HTTPS only`, { cidrIpv4: cidr });
    });

    this.egress("services-https-out", this.servicesSecurityGroup, 443, "HTTPS to AWS APIs, endpoints, IdP and registries", { cidrIpv4: HTTPS_ANYWHERE });
    this.storePath("database", this.databaseSecurityGroup, 5432, "PostgreSQL");
    this.storePath("efs", this.efsSecurityGroup, 2049, "NFS");
    this.storePath("redis", this.redisSecurityGroup, 6379, "Redis TLS");

    new DefaultSecurityGroup(this, "default-sg", { vpcId: props.network.vpcId, tags: { Name: this.name("default-unused") } });

    // --- WAF ------------------------------------------------------------------------------------
    if (props.wafEnabled ?? true) {
      const visibility = (metric: string) => ({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: metric });
      const managed = (name: string, priority: number, overrides: string[]) => ({
        Name: name,
        Priority: priority,
        OverrideAction: { None: {} },
        Statement: {
          ManagedRuleGroupStatement: {
            VendorName: "AWS",
            Name: name,
            ...(overrides.length > 0 ? { RuleActionOverrides: overrides.map((o) => ({ Name: o, ActionToUse: { Count: {} } })) } : {}),
          },
        },
        VisibilityConfig: visibility(name),
      });
      this.webAcl = new Wafv2WebAcl(this, "web-acl", {
        name: this.name("alb"),
        description: "AWS managed Common and KnownBadInputs rule groups in front of Open WebUI",
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        // rule_json keeps the nested WAF statement a plain JSON value (the provider types `statement` as any).
        ruleJson: Fn.jsonencode([
          // Chat prompts and file uploads exceed the Common set's 8 KB body limit: count, don't block.
          managed("AWSManagedRulesCommonRuleSet", 10, ["SizeRestrictions_BODY"]),
          managed("AWSManagedRulesKnownBadInputsRuleSet", 20, []),
        ]),
        visibilityConfig: { sampledRequestsEnabled: true, cloudwatchMetricsEnabled: true, metricName: this.name("alb") },
      });
      this.webAclArn = this.webAcl.arn;
    }
  }

  /** Lets the ALB reach services on `port` (and only there): ALB egress + services ingress. */
  allowAlbToServices(port: number, description: string): void {
    if (this.albPorts.has(port)) return;
    this.albPorts.add(port);
    this.egress(`alb-to-services-${port}`, this.albSecurityGroup, port, `To ECS services: ${description}`, { referencedSecurityGroupId: this.servicesSecurityGroup.securityGroupId });
    this.ingress(`services-from-alb-${port}`, this.servicesSecurityGroup, port, `From the ALB: ${description}`, { referencedSecurityGroupId: this.albSecurityGroup.securityGroupId });
  }

  /** Lets services reach each other on `port` (service discovery / Service Connect traffic). */
  allowServiceToService(port: number, description: string): void {
    if (this.internalPorts.has(port)) return;
    this.internalPorts.add(port);
    this.egress(`services-to-services-${port}`, this.servicesSecurityGroup, port, `To other services: ${description}`, { referencedSecurityGroupId: this.servicesSecurityGroup.securityGroupId });
    this.ingress(`services-from-services-${port}`, this.servicesSecurityGroup, port, `From other services: ${description}`, { referencedSecurityGroupId: this.servicesSecurityGroup.securityGroupId });
  }

  /**
   * A security group for a client of the platform's stores and services (e.g. a Lambda function in
   * the VPC): egress to each target on its port (plus HTTPS for AWS APIs), and the matching ingress
   * on the target group. Returns the new group.
   */
  addClientSecurityGroup(id: string, description: string, targets: readonly ClientTarget[]): SecurityGroupRef {
    const client: SecurityGroupRef = {
      securityGroupId: new SecurityGroup(this, `client-${id}`, {
        name: this.name(id),
        description,
        vpcId: this.vpcId,
        tags: { Name: this.name(id) },
        lifecycle: { createBeforeDestroy: true },
      }).id,
    };
    this.egress(`${id}-https-out`, client, 443, `${id}: HTTPS to AWS APIs and endpoints`, { cidrIpv4: HTTPS_ANYWHERE });
    for (const t of targets) {
      const target = this.targetGroup(t.target);
      this.egress(`${id}-to-${t.target}-${t.port}`, client, t.port, `${id}: to ${t.target} on ${t.port}`, { referencedSecurityGroupId: target.securityGroupId });
      this.ingress(`${t.target}-from-${id}-${t.port}`, target, t.port, `From ${id} on ${t.port}`, { referencedSecurityGroupId: client.securityGroupId });
    }
    return client;
  }

  private targetGroup(target: ClientTarget["target"]): SecurityGroupRef {
    return { database: this.databaseSecurityGroup, services: this.servicesSecurityGroup, redis: this.redisSecurityGroup, efs: this.efsSecurityGroup }[target];
  }

  private storePath(id: string, target: SecurityGroupRef, port: number, what: string): void {
    this.egress(`services-to-${id}`, this.servicesSecurityGroup, port, `${what} to the ${id} group`, { referencedSecurityGroupId: target.securityGroupId });
    this.ingress(`${id}-from-services`, target, port, `${what} from ECS services`, { referencedSecurityGroupId: this.servicesSecurityGroup.securityGroupId });
  }

  private ingress(id: string, group: SecurityGroupRef, port: number, description: string, peer: { cidrIpv4?: string; referencedSecurityGroupId?: string }) {
    return new VpcSecurityGroupIngressRule(this, id, { securityGroupId: group.securityGroupId, description, ipProtocol: "tcp", fromPort: port, toPort: port, ...peer });
  }

  private egress(id: string, group: SecurityGroupRef, port: number, description: string, peer: { cidrIpv4?: string; referencedSecurityGroupId?: string }) {
    return new VpcSecurityGroupEgressRule(this, id, { securityGroupId: group.securityGroupId, description, ipProtocol: "tcp", fromPort: port, toPort: port, ...peer });
  }

  private key(id: string, config: ConstructorParameters<typeof KmsKey>[2]): KeyRef {
    const key = new KmsKey(this, `${id}-key`, { ...config, tags: { Name: this.name(id) } });
    const alias = new KmsAlias(this, `${id}-alias`, { name: `alias/${this.name(id)}`, targetKeyId: key.keyId });
    return { keyArn: key.arn, keyId: key.keyId, aliasName: alias.name };
  }
}

