/** One environment: every layer, composed in dependency order, with S3-compatible remote state. */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Aspects, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvConfig } from "../envs/schema.js";
import { useRemoteState } from "../lib/backend.js";
import type { AwsContext } from "../lib/context.js";
import { defaultTags } from "../lib/naming.js";
import { PreventDestroy, protectedTypes } from "../lib/protection.js";
import { Compute } from "../modules/compute/index.js";
import { Data } from "../modules/data/index.js";
import { Identity } from "../modules/identity/index.js";
import { Network, type NetworkProps } from "../modules/network/index.js";
import { Security } from "../modules/security/index.js";
import { Observability } from "../modules/observability/index.js";
import { openWebUiTargetOf, Provisioning, provisioningConfigOf } from "../modules/provisioning/index.js";
import { PlatformServices } from "../modules/services/index.js";
import type { CertificateStack } from "./certificate-stack.js";

export interface PlatformStackProps {
  readonly env: EnvConfig;
  /** The env's certificate stack (deployed first); its ARN arrives through remote state. */
  readonly certificate: CertificateStack;
}

/** The network layer's props, from the env's `network` section (the one mapping stacks and test fixtures share). */
export function networkPropsOf(env: EnvConfig): NetworkProps {
  const n = env.network;
  return {
    envName: env.name,
    region: env.region,
    vpcCidr: n.vpcCidr,
    azs: n.azs,
    publicSubnetCidrs: n.publicSubnetCidrs,
    privateSubnetCidrs: n.privateSubnetCidrs,
    singleNatGateway: n.singleNatGateway,
    interfaceEndpoints: n.interfaceEndpoints,
  };
}

export class PlatformStack extends TerraformStack {
  readonly network: Network;
  readonly security: Security;
  readonly data: Data;
  readonly compute: Compute;
  readonly identity: Identity;
  readonly services: PlatformServices;
  readonly observability: Observability;
  readonly provisioning?: Provisioning;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const { env } = props;
    new AwsProvider(this, "aws", { region: env.region, defaultTags: [{ tags: defaultTags(env.name, env.tags) }] });
    useRemoteState(this, env.state, env.stateKey);
    // prevent_destroy on Aurora, EFS and the KMS keys unless env.protection says otherwise (lib/protection.ts).
    Aspects.of(this).add(new PreventDestroy(protectedTypes(env)));
    const aws: AwsContext = {
      region: env.region,
      accountId: new DataAwsCallerIdentity(this, "current").accountId,
      partition: new DataAwsPartition(this, "partition").partition,
    };

    this.network = new Network(this, "network", networkPropsOf(env));
    this.security = new Security(this, "security", {
      envName: env.name,
      aws,
      network: this.network,
      albIngressCidrs: env.security.albIngressCidrs,
      wafEnabled: env.security.wafEnabled,
      wafLogRetentionDays: env.logRetentionDays,
      kmsDeletionWindowDays: env.security.kmsDeletionWindowDays,
    });
    this.network.addFlowLog({
      kmsKeyArn: this.security.workloadKey.keyArn,
      retentionDays: env.network.flowLogs.retentionDays,
      trafficType: env.network.flowLogs.trafficType,
    });

    this.data = new Data(this, "data", {
      envName: env.name,
      aws,
      network: this.network,
      security: this.security,
      config: env.data,
      logRetentionDays: env.logRetentionDays,
      // Open WebUI's vectors live in its own database (pgvector), created by db-bootstrap as the master.
      databases: [{ name: "openwebui", extensions: env.services.openwebui.retrieval.vectorDb === "pgvector" ? ["vector"] : [] }, "litellm"],
      fileSystemConsumers: [{ name: "openwebui", path: "/app/backend/data", uid: 1000, gid: 1000 }],
    });

    this.compute = new Compute(this, "compute", {
      envName: env.name,
      aws,
      network: this.network,
      security: this.security,
      hostname: env.hostname,
      certificateArn: props.certificate.certificate.certificateArn,
      logRetentionDays: env.logRetentionDays,
      albDeletionProtection: env.compute.albDeletionProtection,
      albIdleTimeoutSeconds: env.compute.albIdleTimeoutSeconds,
      albAccessLogDays: env.compute.albAccessLogDays,
      containerInsights: env.compute.containerInsights,
      enableExecuteCommand: env.compute.enableExecuteCommand,
    });
    this.identity = new Identity(this, "identity", {
      env,
      aws,
      security: this.security,
      logRetentionDays: env.logRetentionDays,
      alb: { subnetCidrs: env.network.publicSubnetCidrs, idleTimeoutSeconds: env.compute.albIdleTimeoutSeconds },
    });
    this.services = new PlatformServices(this, "services", { env, aws, compute: this.compute, data: this.data, security: this.security, identity: this.identity });

    this.observability = new Observability(this, "observability", { envName: env.name, aws, security: this.security, alarmEmails: env.observability.alarmEmails });
    this.provisioning = this.addProvisioning(env, aws);

    new TerraformOutput(this, "alb_dns_name", { value: this.compute.albDnsName });
    new TerraformOutput(this, "alb_zone_id", { value: this.compute.albZoneId });
    new TerraformOutput(this, "app_url", { value: this.compute.appUrl });
    new TerraformOutput(this, "certificate_validation_records", { value: props.certificate.certificate.validationRecords });
    new TerraformOutput(this, "cluster_name", { value: this.compute.clusterName });
    new TerraformOutput(this, "service_names", { value: this.compute.serviceNames });
    new TerraformOutput(this, "vpc_id", { value: this.network.vpcId });
    new TerraformOutput(this, "private_subnet_ids", { value: this.network.privateSubnetIds });
    new TerraformOutput(this, "workload_kms_key_arn", { value: this.security.workloadKey.keyArn });
    new TerraformOutput(this, "auth_mode", { value: env.auth.mode });
    new TerraformOutput(this, "auth_idp", { value: env.auth.idp });
    new TerraformOutput(this, "alarm_topic_arn", { value: this.observability.alarmTopicArn });
    const pool = this.identity.userPool;
    if (pool) {
      new TerraformOutput(this, "cognito_user_pool_id", { value: pool.userPoolId });
      new TerraformOutput(this, "cognito_domain", { value: pool.domainHost });
      new TerraformOutput(this, "cognito_client_id", { value: pool.clientId });
    }
    if (this.provisioning) {
      new TerraformOutput(this, "provisioning_queue_url", { value: this.provisioning.queueUrl });
      new TerraformOutput(this, "provisioning_dlq_url", { value: this.provisioning.deadLetterQueueUrl });
      new TerraformOutput(this, "provisioning_dlq_arn", { value: this.provisioning.deadLetterQueueArn });
      new TerraformOutput(this, "provisioning_function_names", { value: this.provisioning.functionNames });
    }
  }

  /** Cognito sign-up → SQS → worker (+ reconciler) → Open WebUI, when the env's auth section turns it on. */
  private addProvisioning(env: EnvConfig, aws: AwsContext): Provisioning | undefined {
    const config = provisioningConfigOf(env.auth);
    if (!config) return undefined;
    const { userPool, scim } = this.identity;
    // The schema allows provisioning only with a Cognito pool.
    if (!userPool) throw new Error(`${env.name}: auth.provisioning is on but the identity layer has no Cognito user pool`);
    return new Provisioning(this, "provisioning", {
      envName: env.name,
      aws,
      config,
      network: this.network,
      security: this.security,
      userPool,
      // Trusted-header sign-in when Open WebUI trusts an email header (oauth2-proxy), SCIM otherwise.
      openwebui: openWebUiTargetOf(this.services.openwebui.internalUrl, this.identity.openwebui, scim),
      observability: this.observability,
      logRetentionDays: env.logRetentionDays,
    });
  }
}
