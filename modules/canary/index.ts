/**
 * Canary layer: one Lambda (functions/canary) that every 5 minutes proves per-user key disaster
 * recovery (KMS), Bedrock access for every catalog entry, LiteLLM's readiness and Open WebUI's
 * health (from the control plane only), writes one EMF metric per check, and one alarm per check
 * that fires on a failure or on missing data.
 *
 * Network: private subnets, its own security group with egress only to LiteLLM's port (and HTTPS
 * for the AWS APIs). No path to Open WebUI's port: anything that reaches it behind oauth2-proxy
 * can claim any identity.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { CANARY_BUNDLE, CANARY_METRICS } from "../../functions/canary/src/config.js";
import { CHECK_NAMES, type CheckName } from "../../functions/canary/src/checks.js";
import { bundleFunction } from "../../lib/bundle.js";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { NodeFunction } from "../../lib/node-function.js";
import type { PolicyStatement } from "../../lib/policy.js";
import type { NetworkOutputs } from "../network/index.js";
import type { Security, SecurityGroupRef } from "../security/index.js";
import { catalogRegions, foundationModelArns, userKeyStatements, type ResolvedModel } from "../services/index.js";

export interface CanaryProps {
  readonly envName: string;
  readonly aws: AwsContext;
  readonly network: Pick<NetworkOutputs, "privateSubnetIds">;
  /** The per-user keys (checked), the workload CMK (logs, environment) and a client security group. */
  readonly security: Pick<Security, "workloadKey" | "userIdHmacKey" | "userDataKey" | "addClientSecurityGroup">;
  /** The LiteLLM catalog, resolved (modules/services `models` + `embeddingModel`). */
  readonly models: readonly ResolvedModel[];
  /** LiteLLM: its internal base URL (`http://litellm.<namespace>:4000`), service name and port (security group). */
  readonly litellm: { readonly internalUrl: string; readonly serviceName: string; readonly port: number };
  /** Open WebUI, seen from the control plane only. */
  readonly openwebui: { readonly clusterName: string; readonly clusterArn: string; readonly serviceName: string; readonly containerName: string; readonly targetGroupArn: string };
  /** Where the alarms go (observability `alarmActions`: the env's topic, then `observability.alarmTopicArns`). */
  readonly alarmActions: readonly string[];
  /** EventBridge schedule expression. @default "rate(5 minutes)" */
  readonly schedule?: string;
  /** Also one tiny chat request through LiteLLM per run (costs money). @default - off */
  readonly invokeModel?: { readonly modelName: string; readonly masterKeySecretName: string };
  readonly logRetentionDays: number;
}

export interface CanaryOutputs {
  readonly functionName: string;
  readonly functionArn: string;
  /** Alarm names by check. */
  readonly alarmNames: Readonly<Partial<Record<CheckName, string>>>;
}

/** Alarm period: two 5-minute runs; any 0, or no datapoint at all, in it alarms. */
export const CANARY_ALARM_PERIOD_SECONDS = 600;

export class Canary extends Construct implements CanaryOutputs {
  readonly function: NodeFunction;
  readonly schedule: CloudwatchEventRule;
  readonly securityGroup: SecurityGroupRef;
  readonly alarms: Readonly<Partial<Record<CheckName, CloudwatchMetricAlarm>>>;
  readonly functionName: string;
  readonly functionArn: string;
  readonly alarmNames: Readonly<Partial<Record<CheckName, string>>>;

  constructor(scope: Construct, id: string, props: CanaryProps) {
    super(scope, id);
    const { aws, security } = props;
    const name = (...parts: string[]) => resourceName(props.envName, "canary", ...parts);
    const p = aws.partition;

    this.securityGroup = security.addClientSecurityGroup("canary", "Canary: LiteLLM readiness on its port, HTTPS to AWS APIs; no path to Open WebUI", [
      { target: "service", service: props.litellm.serviceName, port: props.litellm.port },
    ]);

    const profiles = props.models.filter((m) => m.profile);
    const bare = props.models.filter((m) => !m.profile);
    const statements: PolicyStatement[] = [
      // The same grants as Open WebUI's task role with encryption on: the round trips prove what the app relies on.
      ...userKeyStatements(security),
      // GetFoundationModel only for entries called by their bare model id (profiles: GetInferenceProfile).
      ...(bare.length > 0 ? [{ sid: "DescribeCatalogModels", actions: ["bedrock:GetFoundationModel"], resources: foundationModelArns(bare, aws) }] : []),
      ...(profiles.length > 0
        ? [{ sid: "DescribeCatalogProfiles", actions: ["bedrock:GetInferenceProfile"], resources: [...new Set(profiles.map((m) => `arn:${p}:bedrock:${m.region}:${aws.accountId}:inference-profile/${m.modelId}`))].sort() }]
        : []),
      // GetFoundationModelAvailability has no resource type (Service Authorization Reference): "*", narrowed to the catalog's regions.
      { sid: "CatalogModelAvailability", actions: ["bedrock:GetFoundationModelAvailability"], resources: ["*"], conditions: [{ test: "StringEquals", variable: "aws:RequestedRegion", values: catalogRegions(props.models) }] },
      // DescribeTargetHealth has no resource type either.
      { sid: "OpenWebUiTargetHealth", actions: ["elasticloadbalancing:DescribeTargetHealth"], resources: ["*"] },
      { sid: "ListOpenWebUiTasks", actions: ["ecs:ListTasks"], resources: ["*"], conditions: [{ test: "ArnEquals", variable: "ecs:cluster", values: [props.openwebui.clusterArn] }] },
      { sid: "DescribeOpenWebUiTasks", actions: ["ecs:DescribeTasks"], resources: [`arn:${p}:ecs:${aws.region}:${aws.accountId}:task/${props.openwebui.clusterName}/*`] },
      ...(props.invokeModel
        ? [
            // Secrets Manager appends "-" and 6 characters to the name.
            { sid: "ReadLiteLlmMasterKey", actions: ["secretsmanager:GetSecretValue"], resources: [`arn:${p}:secretsmanager:${aws.region}:${aws.accountId}:secret:${props.invokeModel.masterKeySecretName}-??????`] },
            {
              sid: "DecryptLiteLlmMasterKey",
              actions: ["kms:Decrypt"],
              resources: [security.workloadKey.keyArn],
              conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [`secretsmanager.${aws.region}.amazonaws.com`] }],
            },
          ]
        : []),
    ];

    this.function = new NodeFunction(this, "function", {
      name: name(),
      description: "Every run: KMS user-key round trips, Bedrock catalog access, LiteLLM readiness, Open WebUI health; one EMF metric per check",
      aws,
      bundle: bundleFunction(CANARY_BUNDLE),
      environment: {
        ENV_NAME: props.envName,
        METRIC_NAMESPACE: CANARY_METRICS.namespace,
        KMS_HMAC_KEY_ID: security.userIdHmacKey.keyArn,
        KMS_APPLICATION_CMK_ID: security.userDataKey.keyArn,
        CATALOG_MODELS: JSON.stringify(props.models.map((m) => ({ name: m.name, modelId: m.modelId, region: m.region, foundationModelId: m.foundationModelId, ...(m.profile ? { profile: m.profile } : {}) }))),
        LITELLM_URL: props.litellm.internalUrl,
        ECS_CLUSTER: props.openwebui.clusterName,
        OPENWEBUI_SERVICE: props.openwebui.serviceName,
        OPENWEBUI_CONTAINER: props.openwebui.containerName,
        OPENWEBUI_TARGET_GROUP_ARN: props.openwebui.targetGroupArn,
        ...(props.invokeModel ? { INVOKE_MODEL: "true", INVOKE_MODEL_NAME: props.invokeModel.modelName, LITELLM_MASTER_KEY_SECRET_NAME: props.invokeModel.masterKeySecretName } : {}),
      },
      kmsKey: security.workloadKey,
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: 60,
      memoryMiB: 256,
      // One run at a time: overlapping runs would only repeat each other.
      reservedConcurrency: 1,
      vpc: { subnetIds: props.network.privateSubnetIds, securityGroupIds: [this.securityGroup.securityGroupId] },
      statements,
    });
    this.functionName = this.function.functionName;
    this.functionArn = this.function.functionArn;

    const schedule = props.schedule ?? "rate(5 minutes)";
    this.schedule = new CloudwatchEventRule(this, "schedule", { name: name(), description: `Runs ${name()} (${schedule})`, scheduleExpression: schedule });
    new CloudwatchEventTarget(this, "schedule-target", { rule: this.schedule.name, targetId: "canary", arn: this.function.functionArn });
    this.function.addPermission("schedule-invoke", { principal: "events.amazonaws.com", sourceArn: this.schedule.arn });

    const checks = CHECK_NAMES.filter((c) => c !== "bedrock-invoke" || props.invokeModel);
    const runbook = "Runbook: modules/canary/README.md, \"When an alarm fires\"; `pnpm ops bedrock check <env>` reruns the checks.";
    this.alarms = Object.fromEntries(
      checks.map((check) => [
        check,
        new CloudwatchMetricAlarm(this, `${check}-alarm`, {
          alarmName: name(check),
          alarmDescription: `Canary check ${check} failed, or the canary did not report it (missing data breaches). The canary's log line for the check says what failed. ${runbook}`,
          namespace: CANARY_METRICS.namespace,
          metricName: CANARY_METRICS.metricName,
          dimensions: { Env: props.envName, Check: check },
          statistic: "Minimum",
          comparisonOperator: "LessThanThreshold",
          threshold: 1,
          period: CANARY_ALARM_PERIOD_SECONDS,
          evaluationPeriods: 1,
          treatMissingData: "breaching",
          alarmActions: [...props.alarmActions],
          okActions: [...props.alarmActions],
        }),
      ]),
    );
    this.alarmNames = Object.fromEntries(Object.entries(this.alarms).map(([k, a]) => [k, a!.alarmName]));
  }
}
