/** One environment: every layer, composed in dependency order, with S3-compatible remote state. */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Aspects, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvConfig } from "../envs/schema.js";
import { useRemoteState } from "../lib/backend.js";
import type { AwsContext } from "../lib/context.js";
import { defaultTags, resourceName } from "../lib/naming.js";
import { PreventDestroy, protectedTypes } from "../lib/protection.js";
import { Compute } from "../modules/compute/index.js";
import { Data } from "../modules/data/index.js";
import { Canary } from "../modules/canary/index.js";
import { Identity } from "../modules/identity/index.js";
import { Integrations } from "../modules/integrations/index.js";
import { Network, type NetworkProps } from "../modules/network/index.js";
import { Security } from "../modules/security/index.js";
import { type FunctionFacts, Observability, type PlatformMonitoring } from "../modules/observability/index.js";
import { openWebUiTargetOf, Provisioning, provisioningConfigOf } from "../modules/provisioning/index.js";
import { LITELLM_PORT, PlatformServices } from "../modules/services/index.js";
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
    interfaceEndpointAzs: n.interfaceEndpointAzs,
  };
}

export class PlatformStack extends TerraformStack {
  readonly network: Network;
  readonly security: Security;
  readonly data: Data;
  readonly compute: Compute;
  readonly integrations: Integrations;
  readonly identity: Identity;
  readonly services: PlatformServices;
  readonly observability: Observability;
  readonly provisioning?: Provisioning;
  readonly canary?: Canary;
  readonly monitoring: PlatformMonitoring;

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
    // Before identity: it publishes (or reads) the Entra ids identity wires into Open WebUI.
    this.integrations = new Integrations(this, "integrations", {
      envName: env.name,
      aws,
      entra: env.auth.idp === "entra" ? { tenantId: env.auth.entra.tenantId, clientId: env.auth.entra.clientId, groups: env.integrations.entra.groups } : undefined,
      litellmTeamBudgetsUsd: env.integrations.litellm.teamBudgetsUsd,
      // The per-user key ids, as SSM parameters, only when the image implements per-user encryption.
      userKeys: env.encryption.enabled ? { hmacKeyId: this.security.userIdHmacKey.keyId, applicationKeyId: this.security.userDataKey.keyId } : undefined,
    });
    this.identity = new Identity(this, "identity", {
      env,
      aws,
      security: this.security,
      logRetentionDays: env.logRetentionDays,
      alb: { subnetCidrs: env.network.publicSubnetCidrs, idleTimeoutSeconds: env.compute.albIdleTimeoutSeconds },
      integrations: this.integrations,
    });
    this.services = new PlatformServices(this, "services", { env, aws, compute: this.compute, data: this.data, security: this.security, identity: this.identity });

    // The topic exists before provisioning (its alarms notify it); the platform alarms come last.
    this.observability = new Observability(this, "observability", {
      envName: env.name,
      aws,
      security: this.security,
      alarmEmails: env.observability.alarmEmails,
      alarmTopicArns: env.observability.alarmTopicArns,
      otel: { logGroups: env.observability.otel.logGroups, retentionDays: env.observability.otel.retentionDays ?? env.logRetentionDays },
      logRetentionDays: env.logRetentionDays,
    });
    this.provisioning = this.addProvisioning(env, aws);
    this.canary = this.addCanary(env, aws);
    // After every layer: the alarms and the dashboard look at all of them.
    this.monitoring = this.addMonitoring(env);

    new TerraformOutput(this, "alb_dns_name", { value: this.compute.albDnsName, description: "The ALB's DNS name: the target of the app hostname's CNAME (the <env>-dns stack reads it)" });
    new TerraformOutput(this, "alb_zone_id", { value: this.compute.albZoneId, description: "The ALB's Route 53 hosted zone id (for an alias record, if DNS moves to Route 53)" });
    new TerraformOutput(this, "app_url", { value: this.compute.appUrl, description: "Open WebUI's URL" });
    new TerraformOutput(this, "certificate_validation_records", { value: props.certificate.certificate.validationRecords, description: "The certificate's DNS validation records (name, type, value) to create in the zone" });
    new TerraformOutput(this, "cluster_name", { value: this.compute.clusterName, description: "The ECS cluster's name" });
    new TerraformOutput(this, "service_names", { value: this.compute.serviceNames, description: "The ECS services' names" });
    new TerraformOutput(this, "vpc_id", { value: this.network.vpcId, description: "The VPC's id" });
    new TerraformOutput(this, "private_subnet_ids", { value: this.network.privateSubnetIds, description: "The private subnets' ids (ECS tasks, Aurora, EFS, Redis, the in-VPC functions)" });
    new TerraformOutput(this, "workload_kms_key_arn", { value: this.security.workloadKey.keyArn, description: "The workload CMK: encrypts Aurora, EFS, secrets, queues, the alarm topic and the log groups" });
    new TerraformOutput(this, "auth_mode", { value: env.auth.mode, description: "How Open WebUI signs users in (auth.mode)" });
    new TerraformOutput(this, "auth_idp", { value: env.auth.idp, description: "Who signs users in (auth.idp)" });
    new TerraformOutput(this, "alarm_topic_arn", { value: this.observability.alarmTopicArn, description: "The SNS topic every alarm notifies; subscribe on-call here (observability.alarmEmails)" });
    new TerraformOutput(this, "alarm_actions", { value: this.observability.alarmActions, description: "Every alarm's actions: the env's topic, then observability.alarmTopicArns" });
    new TerraformOutput(this, "otel_log_group_names", { value: this.observability.otelLogGroupNames, description: "Log groups for the OpenTelemetry collectors' exporters, by name (observability.otel.logGroups)" });
    new TerraformOutput(this, "dashboard_name", { value: this.monitoring.dashboardName, description: "The env's CloudWatch dashboard" });
    new TerraformOutput(this, "dashboard_url", { value: this.monitoring.dashboardUrl, description: "The env's CloudWatch dashboard in the console" });
    new TerraformOutput(this, "integration_parameter_names", { value: this.integrations.parameterNames, description: "SSM parameters the integrations layer publishes, by key (modules/integrations/README.md)" });
    const pool = this.identity.userPool;
    if (pool) {
      new TerraformOutput(this, "cognito_user_pool_id", { value: pool.userPoolId, description: "The Cognito user pool's id" });
      new TerraformOutput(this, "cognito_domain", { value: pool.domainHost, description: "The Cognito hosted domain users sign in at" });
      new TerraformOutput(this, "cognito_client_id", { value: pool.clientId, description: "The Cognito app client's id" });
    }
    if (this.provisioning) {
      new TerraformOutput(this, "provisioning_queue_url", { value: this.provisioning.queueUrl, description: "The provisioning queue: send {\"email\":\"x@y.z\"} to provision a user by hand" });
      new TerraformOutput(this, "provisioning_dlq_url", { value: this.provisioning.deadLetterQueueUrl, description: "The provisioning DLQ: sign-ups that failed 5 times; redrive after fixing the cause" });
      new TerraformOutput(this, "provisioning_dlq_arn", { value: this.provisioning.deadLetterQueueArn, description: "The provisioning DLQ's ARN (aws sqs start-message-move-task --source-arn)" });
      new TerraformOutput(this, "provisioning_function_names", { value: this.provisioning.functionNames, description: "The provisioning functions' names (producer, worker, reconciler)" });
    }
  }

  /** The platform alarms and the dashboard, from each layer's typed outputs. */
  private addMonitoring(env: EnvConfig): PlatformMonitoring {
    const p = this.provisioning;
    return this.observability.addPlatformAlarms({
      thresholds: env.observability.alarms,
      aurora: { clusterIdentifier: this.data.database.clusterIdentifier, maxAcu: env.data.aurora.maxAcu },
      alb: { arnSuffix: this.compute.albArnSuffix },
      ecs: { clusterName: this.compute.clusterName, clusterArn: this.compute.clusterArn, containerInsights: env.compute.containerInsights !== "disabled", services: this.compute.serviceMetrics },
      functions: lambdaFunctionsOf(this, env.name, p ? [p.producer.resource, p.worker.resource, p.reconciler.resource] : []),
      redis: this.data.redis ? { cacheClusterIds: this.data.redis.cacheClusterIds } : undefined,
      waf: this.security.webAclMetricName ? { webAclMetricName: this.security.webAclMetricName } : undefined,
      queues: p ? [{ label: "provisioning", queueName: p.queueName }, { label: "provisioning DLQ", queueName: p.deadLetterQueueName }] : [],
      // The alarms other layers own (provisioning, canary), for the dashboard's alarm widget.
      otherAlarmArns: this.node.findAll().filter((c): c is CloudwatchMetricAlarm => c instanceof CloudwatchMetricAlarm).map((a) => a.arn),
    });
  }

  /** The canary (modules/canary): KMS, Bedrock and health checks on a schedule, one alarm each. */
  private addCanary(env: EnvConfig, aws: AwsContext): Canary | undefined {
    if (!env.canary.enabled) return undefined;
    const { openwebui, litellm } = this.services;
    if (!openwebui.targetGroup) throw new Error(`${env.name}: Open WebUI has no ALB target group, which the canary's health check reads`);
    return new Canary(this, "canary", {
      envName: env.name,
      aws,
      network: this.network,
      security: this.security,
      models: [...this.services.models, this.services.embeddingModel],
      litellm: { internalUrl: litellm.internalUrl, serviceName: "litellm", port: LITELLM_PORT },
      openwebui: { clusterName: this.compute.clusterName, clusterArn: this.compute.clusterArn, serviceName: openwebui.serviceName, containerName: openwebui.spec.name, targetGroupArn: openwebui.targetGroup.arn },
      alarmActions: this.observability.alarmActions,
      schedule: env.canary.schedule,
      invokeModel: env.canary.invokeModel ? { modelName: this.services.models[0]!.name, masterKeySecretName: this.litellmMasterKeySecretName() } : undefined,
      logRetentionDays: env.logRetentionDays,
    });
  }

  /** The LiteLLM master key's secret name, as the services layer created it. */
  private litellmMasterKeySecretName(): string {
    const secret = this.services.placeholders.find((s) => s.name === "litellm-master-key");
    if (!secret) throw new Error(`${this.node.path}: the services layer has no litellm-master-key secret, which the canary's model invocation reads`);
    return secret.secretName;
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

/**
 * Every Lambda function in the stack, keyed by its name without `owui-<env>-`; `errorsAlarmedBy`
 * lists the functions whose layer already alarms on their `Errors` (provisioning's).
 */
function lambdaFunctionsOf(stack: TerraformStack, envName: string, errorsAlarmedBy: readonly LambdaFunction[]): FunctionFacts[] {
  const prefix = `${resourceName(envName)}-`;
  return stack.node
    .findAll()
    .filter((c): c is LambdaFunction => c instanceof LambdaFunction)
    .map((fn) => {
      const literal = fn.functionNameInput;
      if (!literal) throw new Error(`${fn.node.path}: a Lambda function without a literal name. Fix: name it resourceName(env, ...)`);
      return { key: literal.startsWith(prefix) ? literal.slice(prefix.length) : literal, functionName: fn.functionName, errorsAlarmedByOwner: errorsAlarmedBy.includes(fn) };
    });
}
