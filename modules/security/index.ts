/**
 * Security layer: the workload CMK (RDS, EFS, Secrets Manager, SQS, SNS, logs), the per-user chat
 * encryption keys (HMAC key for user ids, CMK for data keys), the security-group chain
 * ALB → one group per service → data stores, the emptied default security group, and an optional
 * WAFv2 web ACL with its KMS-encrypted log group.
 */
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Construct } from "constructs";
import { LOG_RETENTION_DAYS } from "../../envs/schema.js";
import type { AwsContext } from "../../lib/context.js";
import { ConfigError } from "../../lib/errors.js";
import { resourceName } from "../../lib/naming.js";
import { accountKeyAdministration, policyDocument, type PolicyStatement } from "../../lib/policy.js";
import type { NetworkOutputs } from "../network/index.js";
import { addAlbWebAcl, wafLogGroupName } from "./waf.js";

export * from "./waf.js";

export interface SecurityProps {
  readonly envName: string;
  readonly aws: AwsContext;
  readonly network: Pick<NetworkOutputs, "vpcId">;
  /** CIDRs allowed to reach the ALB on 443, and on 80 for the redirect. Must not be empty. */
  readonly albIngressCidrs: readonly string[];
  /** Create a WAFv2 web ACL for the ALB. @default true */
  readonly wafEnabled?: boolean;
  /** Days to keep the WAF's request logs (a CloudWatch Logs retention period). @default 90 */
  readonly wafLogRetentionDays?: number;
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
  readonly databaseSecurityGroup: SecurityGroupRef;
  readonly efsSecurityGroup: SecurityGroupRef;
  readonly redisSecurityGroup: SecurityGroupRef;
  /** WAFv2 web ACL ARN when enabled. */
  readonly webAclArn?: string;
  /** The web ACL's metric name when enabled (its visibility config's; the `WebACL` dimension of its CloudWatch metrics). */
  readonly webAclMetricName?: string;
  /** The WAF's log group (`aws-waf-logs-owui-<env>`) when the WAF is enabled. */
  readonly webAclLogGroupName?: string;
}

/** A data store's group, and the port it listens on. */
export type StoreTarget = "database" | "redis" | "efs";
export const STORE_PORTS: Readonly<Record<StoreTarget, number>> = { database: 5432, efs: 2049, redis: 6379 };
const STORE_WHAT: Readonly<Record<StoreTarget, string>> = { database: "PostgreSQL", efs: "NFS", redis: "Redis TLS" };

/** A store or service group a client group may reach. */
export type ClientTarget =
  | { readonly target: StoreTarget; readonly port: number }
  /** One service's group, on one of its ports (registered with `addServiceSecurityGroup`). */
  | { readonly target: "service"; readonly service: string; readonly port: number }
  /** The one service whose main port is `port` (prefer naming the service). */
  | { readonly target: "services"; readonly port: number };

const HTTPS_ANYWHERE = "0.0.0.0/0";

export class Security extends Construct implements SecurityOutputs {
  readonly workloadKey: KeyRef;
  readonly userIdHmacKey: KeyRef;
  readonly userDataKey: KeyRef;
  readonly albSecurityGroup: SecurityGroupRef;
  readonly databaseSecurityGroup: SecurityGroupRef;
  readonly efsSecurityGroup: SecurityGroupRef;
  readonly redisSecurityGroup: SecurityGroupRef;
  readonly webAcl?: Wafv2WebAcl;
  readonly webAclArn?: string;
  readonly webAclMetricName?: string;
  readonly webAclLogGroupName?: string;
  /** WCUs the web ACL's rules use, when the WAF is enabled. */
  readonly webAclWcu?: number;
  private readonly name: (...parts: string[]) => string;
  private readonly vpcId: string;
  private readonly serviceGroups = new Map<string, { readonly group: SecurityGroupRef; readonly port: number }>();
  /** Client targets naming a service that has no group yet. */
  private readonly pendingClients: { readonly id: string; readonly client: SecurityGroupRef; readonly target: Extract<ClientTarget, { target: "service" | "services" }> }[] = [];
  /** Paths opened so far (`from→to:port`): each opens once. */
  private readonly paths = new Set<string>();

  constructor(scope: Construct, id: string, props: SecurityProps) {
    super(scope, id);
    if (props.albIngressCidrs.length === 0) {
      throw new Error(`Security ${this.node.path}: albIngressCidrs is empty, so nobody could reach the ALB. List the corporate and VPN CIDRs.`);
    }
    this.name = (...parts) => resourceName(props.envName, ...parts);
    this.vpcId = props.network.vpcId;
    const { aws } = props;
    const deletionWindowInDays = props.kmsDeletionWindowDays ?? 30;
    const wafEnabled = props.wafEnabled ?? true;
    const wafLogRetentionDays = props.wafLogRetentionDays ?? 90;
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(wafLogRetentionDays)) {
      throw new ConfigError(`${props.envName}: security.wafLogRetentionDays`, `${wafLogRetentionDays} is not a CloudWatch Logs retention period`, `use one of ${LOG_RETENTION_DAYS.join(", ")}`);
    }
    const logGroupArn = (name: string) => `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:${name}`;

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
            logGroupArn(`/owui/${props.envName}/*`),
            logGroupArn(`/aws/lambda/${this.name()}-*`),
            // RDS names its log groups itself: /aws/rds/cluster/<cluster id>/postgresql.
            logGroupArn(`/aws/rds/cluster/${this.name()}-*`),
            // WAF logs only to log groups named aws-waf-logs-*.
            ...(wafEnabled ? [logGroupArn(wafLogGroupName(this.name()))] : []),
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
    this.albSecurityGroup = this.group("alb", "Internet-facing ALB: HTTPS (and HTTP redirect) from allowed CIDRs");
    // Every group has a name_prefix (Terraform appends a unique suffix) and create_before_destroy,
    // so a change that replaces a group (a new description, say) creates the new one first.
    this.databaseSecurityGroup = this.group("database", "Aurora PostgreSQL: 5432 from ECS services only");
    this.efsSecurityGroup = this.group("efs", "EFS mount targets: NFS 2049 from ECS services only");
    this.redisSecurityGroup = this.group("redis", "Redis: 6379 from ECS services only");

    props.albIngressCidrs.forEach((cidr, i) => {
      this.ingress(`alb-https-${i}`, this.albSecurityGroup, 443, `HTTPS from allowed CIDR ${cidr}`, { cidrIpv4: cidr });
      this.ingress(`alb-http-${i}`, this.albSecurityGroup, 80, `HTTP from allowed CIDR ${cidr}, redirected to HTTPS only`, { cidrIpv4: cidr });
    });

    new DefaultSecurityGroup(this, "default-sg", { vpcId: props.network.vpcId, tags: { Name: this.name("default-unused") } });

    // --- WAF ------------------------------------------------------------------------------------
    if (wafEnabled) {
      const waf = addAlbWebAcl(this, { namePrefix: this.name(), aws, kmsKeyArn: this.workloadKey.keyArn, logRetentionDays: wafLogRetentionDays });
      this.webAcl = waf.webAcl;
      this.webAclArn = waf.webAcl.arn;
      this.webAclMetricName = waf.webAcl.visibilityConfig.metricName;
      this.webAclLogGroupName = waf.logGroup.name;
      this.webAclWcu = waf.wcu;
    }
  }

  /**
   * A service's own group (`owui-<env>-service-<name>`): HTTPS egress only until paths are opened
   * with `allowAlbToService`, `allowServiceToStore` and `allowServiceToService`. `port` is the
   * service's main port, which `addClientSecurityGroup` targets.
   */
  addServiceSecurityGroup(service: string, port: number): SecurityGroupRef {
    if (this.serviceGroups.has(service)) throw new Error(`${this.node.path}: service "${service}" already has a security group. Fix: give each service a unique name`);
    // name_prefix: Terraform adds a unique suffix, so create_before_destroy can replace the group.
    const group = this.group(`service-${service}`, `ECS service ${service}: only the paths it needs`, { namePrefix: `${this.name(service)}-` });
    this.serviceGroups.set(service, { group, port });
    this.egress(`service-${service}-https-out`, group, 443, `${service}: HTTPS to AWS APIs, endpoints, IdP and registries`, { cidrIpv4: HTTPS_ANYWHERE });
    // Client groups created before this service that target it.
    const waiting = this.pendingClients.filter(({ target: t }) => (t.target === "service" ? t.service === service : t.port === port));
    for (const p of waiting) {
      this.clientPath(p.id, p.client, service, group, p.target.port);
      this.pendingClients.splice(this.pendingClients.indexOf(p), 1);
    }
    return group;
  }

  /** A service's group, from `addServiceSecurityGroup`. */
  serviceSecurityGroup(service: string): SecurityGroupRef {
    return this.service(service).group;
  }

  /** Lets the ALB reach a service on `port` (its target port) and only there: ALB egress + the service's ingress. */
  allowAlbToService(service: string, port: number): void {
    const group = this.serviceSecurityGroup(service);
    if (!this.once(`alb→${service}:${port}`)) return;
    this.egress(`alb-to-${service}-${port}`, this.albSecurityGroup, port, `To ${service} on its target port ${port}`, { referencedSecurityGroupId: group.securityGroupId });
    this.ingress(`${service}-from-alb-${port}`, group, port, `From the ALB on ${service}'s target port ${port}`, { referencedSecurityGroupId: this.albSecurityGroup.securityGroupId });
  }

  /** Lets a service reach a data store on the store's port: the service's egress + the store's ingress. */
  allowServiceToStore(service: string, store: StoreTarget): void {
    const group = this.serviceSecurityGroup(service);
    const port = STORE_PORTS[store];
    if (!this.once(`${service}→${store}:${port}`)) return;
    this.egress(`${service}-to-${store}`, group, port, `${service}: ${STORE_WHAT[store]} to the ${store} group`, { referencedSecurityGroupId: this.targetGroup(store).securityGroupId });
    this.ingress(`${store}-from-${service}`, this.targetGroup(store), port, `${STORE_WHAT[store]} from ${service}`, { referencedSecurityGroupId: group.securityGroupId });
  }

  /** Lets `client` reach the internal service `server` on the server's main port, and nothing else reach it. */
  allowServiceToService(client: string, server: string): void {
    const from = this.serviceSecurityGroup(client);
    const to = this.service(server);
    if (!this.once(`${client}→${server}:${to.port}`)) return;
    this.egress(`${client}-to-${server}-${to.port}`, from, to.port, `${client}: to ${server} on ${to.port}`, { referencedSecurityGroupId: to.group.securityGroupId });
    this.ingress(`${server}-from-${client}-${to.port}`, to.group, to.port, `From ${client} on ${server}'s port ${to.port}`, { referencedSecurityGroupId: from.securityGroupId });
  }

  /**
   * A security group for a client of the platform's stores and services (e.g. a Lambda function in
   * the VPC): egress to each target on its port (plus HTTPS for AWS APIs), and the matching ingress
   * on the target group. A service target whose service has no group yet opens when the service is
   * added (`addServiceSecurityGroup`). Returns the new group.
   */
  addClientSecurityGroup(id: string, description: string, targets: readonly ClientTarget[]): SecurityGroupRef {
    const client = this.group(`client-${id}`, description, { namePrefix: `${this.name(id)}-` });
    this.egress(`${id}-https-out`, client, 443, `${id}: HTTPS to AWS APIs and endpoints`, { cidrIpv4: HTTPS_ANYWHERE });
    for (const t of targets) {
      if (t.target !== "service" && t.target !== "services") {
        this.clientPath(id, client, t.target, this.targetGroup(t.target), t.port);
        continue;
      }
      const hits = [...this.serviceGroups].filter(([name, s]) => (t.target === "service" ? name === t.service : s.port === t.port));
      if (hits.length > 1) {
        throw new Error(`${this.node.path}: client "${id}" targets "the service on port ${t.port}", which matches ${hits.map(([n]) => n).join(", ")}. Fix: name it, { target: "service", service: "<name>", port: ${t.port} }`);
      }
      if (hits.length === 1) this.clientPath(id, client, hits[0]![0], hits[0]![1].group, t.port);
      else this.pendingClients.push({ id, client, target: t });
    }
    return client;
  }

  private clientPath(id: string, client: SecurityGroupRef, name: string, target: SecurityGroupRef, port: number): void {
    this.egress(`${id}-to-${name}-${port}`, client, port, `${id}: to ${name} on ${port}`, { referencedSecurityGroupId: target.securityGroupId });
    this.ingress(`${name}-from-${id}-${port}`, target, port, `From ${id} on ${port}`, { referencedSecurityGroupId: client.securityGroupId });
  }

  private service(name: string): { readonly group: SecurityGroupRef; readonly port: number } {
    const entry = this.serviceGroups.get(name);
    if (!entry) throw new Error(`${this.node.path}: no security group for service "${name}". Fix: add the service (compute.addService) before opening paths to it`);
    return entry;
  }

  private targetGroup(target: StoreTarget): SecurityGroupRef {
    return { database: this.databaseSecurityGroup, redis: this.redisSecurityGroup, efs: this.efsSecurityGroup }[target];
  }

  private once(path: string): boolean {
    if (this.paths.has(path)) return false;
    this.paths.add(path);
    return true;
  }

  /**
   * Never a fixed `name`: with create_before_destroy, the replacement group is created while the old
   * one still holds the name, and EC2 refuses the duplicate. `name_prefix` (`owui-<env>-<id>-` + a
   * unique suffix) lets the replacement happen; the `Name` tag keeps the readable name.
   */
  private group(id: string, description: string, naming: { readonly namePrefix: string } = { namePrefix: `${this.name(id)}-` }): SecurityGroupRef {
    const tag = naming.namePrefix.replace(/-$/, "");
    return {
      securityGroupId: new SecurityGroup(this, id, { namePrefix: naming.namePrefix, description, vpcId: this.vpcId, tags: { Name: tag }, lifecycle: { createBeforeDestroy: true } }).id,
    };
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

