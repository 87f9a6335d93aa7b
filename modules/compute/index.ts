/**
 * Compute layer: the ECS cluster, the internet-facing HTTPS ALB (access logs, WAF, TLS 1.3 policy,
 * HTTP → HTTPS redirect), the Cloud Map namespace services find each other in, and the service
 * factory (`addService`).
 *
 * The ACM certificate lives in its own small stack (`<env>-certificate`, see {@link Certificate})
 * so an empty account deploys without a cycle: certificate → DNS validation records (Cloudflare
 * stack or by hand) → this layer waits for validation, then creates the HTTPS listener.
 */
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { DataAwsElbServiceAccount } from "@cdktf/provider-aws/lib/data-aws-elb-service-account";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { denyInsecureTransport, policyDocument } from "../../lib/policy.js";
import type { NetworkOutputs } from "../network/index.js";
import type { Security, StoreTarget } from "../security/index.js";
import { FargateService, type ServiceContext } from "./service.js";
import { validateServiceSpec, type ServiceSpec } from "./spec.js";

export { FargateService } from "./service.js";
export * from "./spec.js";

/** The network paths a service needs beyond HTTPS egress (every service has that). */
export interface ServiceNetworkAccess {
  /** Data stores it connects to, each on its port. EFS is implied by `efsMounts`. @default - none */
  readonly stores?: readonly StoreTarget[];
  /** Internal services it calls, by name, on their port. @default - none */
  readonly services?: readonly string[];
}

/**
 * The platform's services and what each reaches (item 5 of the hardening issue): Open WebUI the
 * stores and both internal services; LiteLLM its database only; mcpo, which runs third-party MCP
 * server code, nothing inside the VPC. Redis is listed for Open WebUI in every env: where Redis is
 * off, its group exists with no members, so the rule opens nothing.
 */
export const PLATFORM_SERVICE_ACCESS: Readonly<Record<string, ServiceNetworkAccess>> = {
  openwebui: { stores: ["database", "redis"], services: ["litellm", "mcpo"] },
  litellm: { stores: ["database"] },
  mcpo: {},
};

export interface ComputeProps {
  readonly envName: string;
  readonly aws: AwsContext;
  readonly network: Pick<NetworkOutputs, "vpcId" | "publicSubnetIds" | "privateSubnetIds">;
  /** The security layer: its groups and CMK; each service gets its own group from it. */
  readonly security: Security;
  /** Public hostname; the app URL is `https://<hostname>`. */
  readonly hostname: string;
  /** ARN of the ACM certificate for `hostname` (from the `<env>-certificate` stack). */
  readonly certificateArn: string;
  /** Minutes to wait for the certificate's DNS validation. @default 45 */
  readonly certificateValidationTimeoutMinutes?: number;
  readonly logRetentionDays: number;
  /** @default true */
  readonly albDeletionProtection?: boolean;
  /** @default 300 */
  readonly albIdleTimeoutSeconds?: number;
  /** Days to keep ALB access logs. @default 90 */
  readonly albAccessLogDays?: number;
  /** @default "ELBSecurityPolicy-TLS13-1-2-2021-06" (TLS 1.3 and 1.2 only) */
  readonly sslPolicy?: string;
  /** @default "enhanced" */
  readonly containerInsights?: "enhanced" | "enabled" | "disabled";
  /** ECS Exec for every service. @default false */
  readonly enableExecuteCommand?: boolean;
  /**
   * What each service may reach, by service name; a service not listed gets HTTPS egress only
   * (plus the ALB path when routed, and EFS when it mounts it).
   * @default PLATFORM_SERVICE_ACCESS
   */
  readonly serviceAccess?: Readonly<Record<string, ServiceNetworkAccess>>;
}

/** What other layers may use of the compute layer. */
export interface ComputeOutputs {
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly albDnsName: string;
  readonly albZoneId: string;
  readonly albArn: string;
  /** The ALB's ARN suffix (`app/<name>/<id>`): the `LoadBalancer` dimension of its CloudWatch metrics. */
  readonly albArnSuffix: string;
  readonly appUrl: string;
  /** Private DNS namespace services are discoverable in: `<service>.<namespaceName>`. */
  readonly namespaceName: string;
}

export class Compute extends Construct implements ComputeOutputs {
  readonly cluster: EcsCluster;
  readonly alb: Lb;
  readonly httpsListener: LbListener;
  readonly accessLogBucket: S3Bucket;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly albDnsName: string;
  readonly albZoneId: string;
  readonly albArn: string;
  readonly albArnSuffix: string;
  readonly appUrl: string;
  readonly namespaceName: string;
  private readonly services: FargateService[] = [];
  /** What every service shares; addService adds the service's own security group. */
  private readonly ctx: Omit<ServiceContext, "servicesSecurityGroupId">;
  private readonly props: ComputeProps;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    this.props = props;
    const name = (...parts: string[]) => resourceName(props.envName, ...parts);
    const { aws, security } = props;

    this.cluster = new EcsCluster(this, "cluster", {
      name: name("cluster"),
      setting: [{ name: "containerInsights", value: props.containerInsights ?? "enhanced" }],
    });
    this.clusterName = this.cluster.name;
    this.clusterArn = this.cluster.arn;

    this.namespaceName = `${name()}.internal`;
    const namespace = new ServiceDiscoveryPrivateDnsNamespace(this, "namespace", {
      name: this.namespaceName,
      description: "Service discovery for the platform's services (reachable from ECS tasks and in-VPC functions)",
      vpc: props.network.vpcId,
    });

    this.accessLogBucket = this.accessLogs(name("alb-logs"), props.albAccessLogDays ?? 90);

    this.alb = new Lb(this, "alb", {
      name: name("alb"),
      loadBalancerType: "application",
      internal: false,
      subnets: [...props.network.publicSubnetIds],
      securityGroups: [security.albSecurityGroup.securityGroupId],
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "strictest",
      enableDeletionProtection: props.albDeletionProtection ?? true,
      idleTimeout: props.albIdleTimeoutSeconds ?? 300,
      enableHttp2: true,
      accessLogs: { bucket: this.accessLogBucket.bucket, prefix: "alb", enabled: true },
      dependsOn: [this.accessLogBucket],
    });
    this.albDnsName = this.alb.dnsName;
    this.albZoneId = this.alb.zoneId;
    this.albArn = this.alb.arn;
    this.albArnSuffix = this.alb.arnSuffix;
    this.appUrl = `https://${props.hostname}`;

    // Waits until ACM has issued the certificate; the HTTPS listener uses the ARN it returns, so
    // it is created only after validation (ALB refuses pending certificates).
    const validation = new AcmCertificateValidation(this, "certificate-validation", {
      certificateArn: props.certificateArn,
      timeouts: { create: `${props.certificateValidationTimeoutMinutes ?? 45}m` },
    });
    this.httpsListener = new LbListener(this, "https", {
      loadBalancerArn: this.alb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: props.sslPolicy ?? "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: validation.certificateArn,
      // Until a service claims the default route, unknown requests get a plain 404.
      defaultAction: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not found" } }],
    });
    new LbListener(this, "http-redirect", {
      loadBalancerArn: this.alb.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
    });
    if (security.webAclArn) new Wafv2WebAclAssociation(this, "waf", { resourceArn: this.alb.arn, webAclArn: security.webAclArn });

    this.ctx = {
      envName: props.envName,
      aws,
      clusterArn: this.cluster.arn,
      clusterName: this.cluster.name,
      privateSubnetIds: props.network.privateSubnetIds,
      vpcId: props.network.vpcId,
      kmsKeyArn: security.workloadKey.keyArn,
      logRetentionDays: props.logRetentionDays,
      namespaceId: namespace.id,
      namespaceName: this.namespaceName,
      alb: { httpsListenerArn: this.httpsListener.arn, albArnSuffix: this.alb.arnSuffix },
    };
  }

  /**
   * Creates a service from a spec, after validating it (and against the services already added):
   * gives it its own security group with exactly the paths `serviceAccess` names (and EFS when it
   * mounts it), and claims its ALB route.
   */
  addService(spec: ServiceSpec): FargateService {
    validateServiceSpec(spec, this.services.map((s) => s.spec));
    const { security } = this.props;
    const access = this.accessOf(spec.name);
    const declared = access.services ?? [];
    // Paths to the internal services added before this one, and from the clients added before it
    // (order-independent). An ALB-routed service is reached from the ALB only: behind a proxy
    // sidecar its port trusts identity headers another service could forge; a client that must
    // reach it gets its own group (security.addClientSecurityGroup).
    const servers = this.services.filter((s) => declared.includes(s.spec.name));
    const clients = this.services.filter((s) => (this.accessOf(s.spec.name).services ?? []).includes(spec.name));
    const routedServer = servers.find((s) => s.spec.routing.type !== "internal");
    if (routedServer) {
      throw new Error(`services.${spec.name}: serviceAccess.services names "${routedServer.spec.name}", which is ALB-routed and reachable from the ALB only. Fix: remove it, or give the caller its own client group`);
    }
    if (spec.routing.type !== "internal" && clients.length > 0) {
      throw new Error(`services.${spec.name}.routing: "${spec.routing.type}" is ALB-routed, but ${clients.map((c) => c.spec.name).join(", ")} would reach it service to service. Fix: make it internal, or remove it from their serviceAccess.services`);
    }

    const group = security.addServiceSecurityGroup(spec.name, spec.port);
    const withExec = { ...spec, enableExecuteCommand: spec.enableExecuteCommand ?? this.props.enableExecuteCommand ?? false };
    if (spec.capacity === "spot" && spec.cpuArchitecture === "ARM64") {
      throw new Error(`services.${spec.name}.capacity: "spot" with cpuArchitecture "ARM64"; Fargate Spot runs only X86_64 Linux tasks. Fix: use X86_64 for Spot, or on-demand capacity for ARM64`);
    }
    const spot = spec.capacity === "spot" ? { capacityProviders: this.spotCapacityProviders() } : {};
    const service = new FargateService(this, spec.name, withExec, { ...this.ctx, ...spot, servicesSecurityGroupId: group.securityGroupId /* the service's own group */ });

    if (spec.routing.type !== "internal") {
      // The ALB reaches the target port only (a routed sidecar's, when there is one).
      security.allowAlbToService(spec.name, spec.targetPort ?? spec.port);
    }
    const stores = new Set<StoreTarget>([...(access.stores ?? []), ...((spec.efsMounts ?? []).length > 0 ? (["efs"] as const) : [])]);
    for (const store of stores) security.allowServiceToStore(spec.name, store);
    for (const server of servers) security.allowServiceToService(spec.name, server.spec.name);
    for (const client of clients) security.allowServiceToService(client.spec.name, spec.name);

    if (spec.routing.type === "default") {
      this.httpsListener.putDefaultAction([{ type: "forward", targetGroupArn: service.targetGroup!.arn }]);
    }
    this.services.push(service);
    return service;
  }

  private capacityProviders?: EcsClusterCapacityProviders;

  /** FARGATE and FARGATE_SPOT on the cluster, created with the first service that asks for Spot. */
  private spotCapacityProviders(): EcsClusterCapacityProviders {
    this.capacityProviders ??= new EcsClusterCapacityProviders(this, "capacity-providers", {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      // Services without a strategy keep their FARGATE launch type; this is only the cluster's default.
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
    return this.capacityProviders;
  }

  private accessOf(name: string): ServiceNetworkAccess {
    return (this.props.serviceAccess ?? PLATFORM_SERVICE_ACCESS)[name] ?? {};
  }

  /**
   * What CloudWatch metrics name each service by, for the services created so far: its short name,
   * the ECS service's name (`ServiceName`) and its target group's ARN suffix (`TargetGroup`), when ALB-routed.
   */
  get serviceMetrics(): { readonly name: string; readonly serviceName: string; readonly targetGroupArnSuffix?: string }[] {
    return this.services.map((s) => ({ name: s.spec.name, serviceName: s.service.name, ...(s.targetGroup ? { targetGroupArnSuffix: s.targetGroup.arnSuffix } : {}) }));
  }

  /** Names of the ECS services created so far. */
  get serviceNames(): string[] {
    return this.services.map((s) => s.serviceName);
  }

  private accessLogs(bucketName: string, days: number): S3Bucket {
    const bucket = new S3Bucket(this, "alb-logs", { bucket: bucketName, forceDestroy: false });
    new S3BucketOwnershipControls(this, "alb-logs-ownership", { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketPublicAccessBlock(this, "alb-logs-public-access", { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    new S3BucketVersioningA(this, "alb-logs-versioning", { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } });
    // ALB log delivery supports only SSE-S3 (AES256), not SSE-KMS: a documented AWS limit.
    new S3BucketServerSideEncryptionConfigurationA(this, "alb-logs-sse", { bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    new S3BucketLifecycleConfiguration(this, "alb-logs-lifecycle", {
      bucket: bucket.id,
      // abort: an upload ALB log delivery never completes is dropped after a day (CKV_AWS_300).
      rule: [{ id: "expire-access-logs", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days }], noncurrentVersionExpiration: [{ noncurrentDays: 1 }], abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }] }],
    });
    const elbAccount = new DataAwsElbServiceAccount(this, "elb-account", {});
    const logObjects = `${bucket.arn}/alb/AWSLogs/${this.props.aws.accountId}/*`;
    new S3BucketPolicy(this, "alb-logs-policy", {
      bucket: bucket.id,
      policy: policyDocument(this, "alb-logs-policy-document", [
        // Regions before August 2022 deliver as the regional ELB account; newer ones as the service.
        { sid: "ElbAccountDeliversLogs", actions: ["s3:PutObject"], resources: [logObjects], principals: [{ type: "AWS", identifiers: [elbAccount.arn] }] },
        { sid: "ElbServiceDeliversLogs", actions: ["s3:PutObject"], resources: [logObjects], principals: [{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }] },
        denyInsecureTransport([bucket.arn, `${bucket.arn}/*`], ["s3:*"]),
      ]).json,
    });
    return bucket;
  }
}

export interface CertificateProps {
  /** The hostname the certificate covers. */
  readonly hostname: string;
}

/** The env's ACM certificate, DNS-validated; deployed in its own stack before the env stack. */
export class Certificate extends Construct {
  readonly certificate: AcmCertificate;
  readonly certificateArn: string;
  /** Set of `{domain_name, resource_record_name, resource_record_type, resource_record_value}`. */
  readonly validationRecords: AcmCertificate["domainValidationOptions"];

  constructor(scope: Construct, id: string, props: CertificateProps) {
    super(scope, id);
    this.certificate = new AcmCertificate(this, "Resource", {
      domainName: props.hostname,
      validationMethod: "DNS",
      keyAlgorithm: "EC_prime256v1",
      lifecycle: { createBeforeDestroy: true },
    });
    this.certificateArn = this.certificate.arn;
    this.validationRecords = this.certificate.domainValidationOptions;
  }
}
