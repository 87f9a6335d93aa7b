/**
 * Provisioning layer: Cognito sign-ups become Open WebUI users (issue #7). A PostConfirmation
 * trigger (producer) puts each confirmed sign-up on an encrypted SQS queue; a worker in the VPC
 * creates the user in Open WebUI (through its SCIM API in the native OIDC modes, by the
 * trusted-header sign-in a first visit makes in the oauth2-proxy mode); after 5 failed receives a message moves to a DLQ
 * that alarms; an hourly reconciler re-derives the truth from the user pool. The Lambda code and its
 * contract live in functions/provisioning (README there); this layer deploys it.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { SqsQueueRedriveAllowPolicy } from "@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { BUNDLES, METRICS, type HandlerName } from "../../functions/provisioning/src/config.js";
import { bundleFunction } from "../../lib/bundle.js";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { NodeFunction, type NodeFunctionVpcConfig } from "../../lib/node-function.js";
import { denyInsecureTransport, policyDocument, type PolicyStatement } from "../../lib/policy.js";
import type { SecretRef } from "../../lib/refs.js";
import type { AuthConfig, ProvisioningConfig } from "../../envs/auth.js";
import type { OpenWebUiAuth, ScimOutputs, UserPoolOutputs } from "../identity/types.js";
import type { NetworkOutputs } from "../network/index.js";
import type { ObservabilityOutputs } from "../observability/index.js";
import type { KeyRef, Security, SecurityGroupRef } from "../security/index.js";
import { contractEnvironment } from "./environment.js";

export { contractEnvironment, contractProblems } from "./environment.js";

/** The three functions of the pipeline (the package's pre-sign-up handler belongs to the identity layer). */
export type PipelineHandler = Extract<HandlerName, "producer" | "worker" | "reconciler">;

/**
 * How the worker and the reconciler create users in Open WebUI (the functions'
 * `OPENWEBUI_PROVISIONING`; functions/provisioning/README.md):
 *  - `scim`: `POST /api/v1/scim/v2/Users` with the `SCIM_TOKEN` bearer token. For Open WebUI's native
 *    OIDC modes, whose sign-in merges a SCIM-created user by email.
 *  - `trusted-header`: `POST /api/v1/auths/signin` with `<emailHeader>: <email>`, the request a first
 *    visit through oauth2-proxy makes. For the oauth2-proxy mode, where a SCIM-created user has no
 *    auth record and trusted-header sign-in refuses it forever (CONTRACTS, v0.10.2).
 */
export type OpenWebUiProvisioning =
  | {
      readonly kind: "scim";
      /**
       * The secret holding Open WebUI's `SCIM_TOKEN` (identity layer `ScimOutputs.token`), encrypted
       * with the workload CMK. Only the worker and the reconciler may read it.
       */
      readonly tokenSecret: SecretRef;
    }
  | {
      readonly kind: "trusted-header";
      /** Open WebUI's `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` (identity layer `TRUSTED_EMAIL_HEADER`, `X-Forwarded-Email`). */
      readonly emailHeader: string;
      /** Open WebUI's `WEBUI_AUTH_TRUSTED_NAME_HEADER`, passed on only when it differs from `emailHeader`. */
      readonly nameHeader?: string;
    };

/** Open WebUI as the worker and the reconciler reach it. */
export interface OpenWebUiTarget {
  /**
   * Open WebUI's own base URL, reachable from the private subnets on its port 8080, no path: the
   * Open WebUI service's internal URL, `http://openwebui.owui-<env>.internal:8080`. Never the
   * proxy's 4180 or the ALB: nothing is sent through the proxy.
   */
  readonly url: string;
  readonly provisioning: OpenWebUiProvisioning;
}

/** @deprecated `openwebui: { url, provisioning: { kind: "scim", tokenSecret } }`; still accepted, same result. */
export interface ScimTarget {
  /** SCIM base URL without `/Users`, e.g. `http://openwebui.owui-<env>.internal:8080/api/v1/scim/v2`. */
  readonly baseUrl: string;
  /** The secret holding Open WebUI's `SCIM_TOKEN`. */
  readonly token: SecretRef;
}

/** Open WebUI's SCIM API under its base URL. */
export const SCIM_PATH = "/api/v1/scim/v2";

/**
 * The target matching what the identity layer configured Open WebUI with: trusted-header when its
 * environment sets `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` (the oauth2-proxy mode, where SCIM-created
 * users cannot sign in), SCIM otherwise (then `scim`, the identity layer's `ScimOutputs`, is needed).
 */
export function openWebUiTargetOf(url: string, auth: Pick<OpenWebUiAuth, "environment">, scim?: Pick<ScimOutputs, "token">): OpenWebUiTarget {
  const emailHeader = auth.environment.WEBUI_AUTH_TRUSTED_EMAIL_HEADER;
  if (emailHeader) {
    const nameHeader = auth.environment.WEBUI_AUTH_TRUSTED_NAME_HEADER;
    return { url, provisioning: { kind: "trusted-header", emailHeader, ...(nameHeader ? { nameHeader } : {}) } };
  }
  if (!scim) {
    throw new Error("provisioning: Open WebUI trusts no email header, so users are created through SCIM, but the identity layer has no SCIM token. Fix: enable auth.scim");
  }
  return { url, provisioning: { kind: "scim", tokenSecret: scim.token } };
}

export interface ProvisioningProps {
  /** Names every resource `owui-<env>-provisioning…`. */
  readonly envName: string;
  /** Region, account and partition: the functions' ARNs and the KMS `ViaService` conditions. */
  readonly aws: AwsContext;
  /** `auth.provisioning` of the env: the worker's maximum concurrency, the reconcile schedule, the optional webhook. */
  readonly config: ProvisioningConfig;
  /** The private subnets the worker and the reconciler run in (they reach Open WebUI on 8080). */
  readonly network: Pick<NetworkOutputs, "privateSubnetIds">;
  /**
   * The workload CMK (queues, log groups, function environments; it must also be the SCIM token
   * secret's key) and the client security group factory (the worker's and reconciler's group, allowed
   * into the services group on 8080).
   */
  readonly security: Pick<Security, "workloadKey" | "addClientSecurityGroup">;
  /** The Cognito user pool: the producer becomes its PostConfirmation trigger; the reconciler lists its users. */
  readonly userPool: Pick<UserPoolOutputs, "userPoolId" | "userPoolArn" | "addTrigger">;
  /**
   * Open WebUI's base URL and how users are created there ({@link openWebUiTargetOf} derives it
   * from the identity layer). Give this or the older `scim`, not both.
   */
  readonly openwebui?: OpenWebUiTarget;
  /** @deprecated the SCIM path as props gave it before `openwebui`: the same as `openwebui.provisioning.kind = "scim"`. */
  readonly scim?: ScimTarget;
  /** Where alarms go: the DLQ, EnqueueFailed, ReconcileFailed and Errors alarms notify every action (ALARM and OK): the env's topic, then `observability.alarmTopicArns`. */
  readonly observability: Pick<ObservabilityOutputs, "alarmActions">;
  /** Retention of the three functions' log groups, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
}

/** What other layers (and the stack's outputs) may use of the provisioning layer. */
export interface ProvisioningOutputs {
  /** `owui-<env>-provisioning`: send `{"email":"x@y.z"}` here to provision someone by hand. */
  readonly queueUrl: string;
  readonly queueArn: string;
  /** `owui-<env>-provisioning-dlq`: what the DLQ alarm watches; redrive it with `aws sqs start-message-move-task`. */
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  /** The queues' names (`QueueName`, the dimension of their CloudWatch metrics). */
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** `owui-<env>-provisioning-<handler>`. */
  readonly functionNames: Readonly<Record<PipelineHandler, string>>;
  /** The worker's and reconciler's security group (egress 8080 to services, 443 to AWS APIs). */
  readonly clientSecurityGroup: SecurityGroupRef;
}

/** The worker's timeout; the queue's visibility timeout is derived from it. */
export const WORKER_TIMEOUT_SECONDS = 30;

/**
 * The fixed settings of the pipeline (functions/provisioning/README.md, CONTRACTS "SQS with Lambda").
 * The worker's reserved concurrency is `config.maxConcurrency`, the event source's maximum.
 */
export const PROVISIONING_SETTINGS = {
  /** Lambda refuses an SQS event source whose queue visibility is below 6× the function timeout. */
  visibilityTimeoutSeconds: 6 * WORKER_TIMEOUT_SECONDS,
  /** 4 days. */
  queueRetentionSeconds: 4 * 24 * 3600,
  /** 14 days: longer than the queue's, as a standard queue's message keeps its original enqueue time in the DLQ. */
  deadLetterRetentionSeconds: 14 * 24 * 3600,
  /** Receives before a message moves to the DLQ (≈ 5 × 180 s of Open WebUI outage ridden out). */
  maxReceiveCount: 5,
  /** How long SQS reuses a data key before asking KMS again (the SQS default, stated). */
  kmsDataKeyReusePeriodSeconds: 300,
  /** Records per worker invocation (≤ 10 keeps the mapping free of a batching window). */
  batchSize: 10,
  /** Cognito waits on the producer (5 s): 10 at once at ~0.1 s each is ~100 sign-ups per second. */
  producer: { timeoutSeconds: 5, memoryMiB: 256, reservedConcurrency: 10 },
  worker: { timeoutSeconds: WORKER_TIMEOUT_SECONDS, memoryMiB: 256 },
  reconciler: { timeoutSeconds: 300, memoryMiB: 256, reservedConcurrency: 1 },
  /** Alarm period: one 5-minute datapoint above 0 alarms. */
  alarmPeriodSeconds: 300,
} as const;

export class Provisioning extends Construct implements ProvisioningOutputs {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly producer: NodeFunction;
  readonly worker: NodeFunction;
  readonly reconciler: NodeFunction;
  readonly eventSourceMapping: LambdaEventSourceMapping;
  readonly schedule: CloudwatchEventRule;
  readonly alarms: Readonly<Record<"deadLetterQueue" | "enqueueFailed" | "reconcileFailed", CloudwatchMetricAlarm>>;
  /** One alarm per function on Lambda `Errors` > 0: crashes and timeouts, which emit no EMF metric. */
  readonly errorAlarms: Readonly<Record<PipelineHandler, CloudwatchMetricAlarm>>;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly functionNames: Readonly<Record<PipelineHandler, string>>;
  readonly clientSecurityGroup: SecurityGroupRef;

  constructor(scope: Construct, id: string, props: ProvisioningProps) {
    super(scope, id);
    const target = checkProps(this, props);
    const { envName, aws, config } = props;
    const key = props.security.workloadKey;
    const S = PROVISIONING_SETTINGS;
    const name = (...parts: string[]) => resourceName(envName, "provisioning", ...parts);

    // --- Queues -----------------------------------------------------------------------------
    this.deadLetterQueue = this.encryptedQueue("dead-letter-queue", { name: name("dlq"), messageRetentionSeconds: S.deadLetterRetentionSeconds }, key);
    this.queue = this.encryptedQueue(
      "queue",
      {
        name: name(),
        messageRetentionSeconds: S.queueRetentionSeconds,
        visibilityTimeoutSeconds: S.visibilityTimeoutSeconds,
        redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: S.maxReceiveCount }),
      },
      key,
    );
    // A separate resource: inline on the DLQ it would reference the queue that references the DLQ.
    new SqsQueueRedriveAllowPolicy(this, "dead-letter-queue-redrive-allow-policy", {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: Fn.jsonencode({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
    });

    // --- Functions ----------------------------------------------------------------------------
    // The description predates the trusted-header path and stays as it is on both: a new description
    // replaces the group (create_before_destroy with a name_prefix, so it would work, but for nothing).
    const clientGroup = props.security.addClientSecurityGroup("provisioning", "Provisioning worker and reconciler: SCIM to Open WebUI on 8080, HTTPS to AWS APIs", [
      { target: "service", service: "openwebui", port: 8080 },
    ]);
    const vpc: NodeFunctionVpcConfig = { subnetIds: props.network.privateSubnetIds, securityGroupIds: [clientGroup.securityGroupId] };
    const via = (service: "sqs" | "secretsmanager"): PolicyStatement["conditions"] => [
      { test: "StringEquals", variable: "kms:ViaService", values: [`${service}.${aws.region}.amazonaws.com`] },
    ];
    // The worker's and reconciler's way to Open WebUI: environment and, for SCIM only, the token's IAM.
    const clientEnvironment: Record<string, string> = {
      ...(target.kind === "scim"
        ? { OPENWEBUI_PROVISIONING: "scim", SCIM_BASE_URL: target.scimBaseUrl, SCIM_TOKEN_SECRET_ARN: target.tokenSecret.secretArn }
        : {
            OPENWEBUI_PROVISIONING: "trusted-header",
            OPENWEBUI_URL: target.url,
            TRUSTED_EMAIL_HEADER: target.emailHeader,
            ...(target.nameHeader ? { TRUSTED_NAME_HEADER: target.nameHeader } : {}),
          }),
      ...(config.webhookUrl ? { WEBHOOK_URL: config.webhookUrl } : {}),
      METRIC_NAMESPACE: METRICS.namespace,
    };
    const readScimToken: PolicyStatement[] =
      target.kind === "scim"
        ? [
            { sid: "ReadScimToken", actions: ["secretsmanager:GetSecretValue"], resources: [target.tokenSecret.secretArn] },
            { sid: "DecryptScimTokenThroughSecretsManager", actions: ["kms:Decrypt"], resources: [key.keyArn], conditions: via("secretsmanager") },
          ]
        : [];
    const how = target.kind === "scim" ? "through SCIM (201 or 409 = done)" : "by a trusted-header sign-in on port 8080 (200 = done)";
    const fn = (handler: PipelineHandler, description: string, rest: { environment: Record<string, string>; reservedConcurrency: number; vpc?: NodeFunctionVpcConfig; statements: PolicyStatement[] }) =>
      new NodeFunction(this, handler, {
        name: name(handler),
        description,
        aws,
        bundle: bundleFunction(BUNDLES[handler]),
        kmsKey: key,
        logRetentionDays: props.logRetentionDays,
        timeoutSeconds: S[handler].timeoutSeconds,
        memoryMiB: S[handler].memoryMiB,
        ...rest,
        environment: contractEnvironment(handler, rest.environment),
      });

    this.producer = fn("producer", "Cognito PostConfirmation trigger: puts each confirmed sign-up on the provisioning queue; never fails a sign-up", {
      environment: { QUEUE_URL: this.queue.url, METRIC_NAMESPACE: METRICS.namespace },
      reservedConcurrency: S.producer.reservedConcurrency,
      statements: [
        { sid: "SendToProvisioningQueue", actions: ["sqs:SendMessage"], resources: [this.queue.arn] },
        { sid: "EncryptMessagesThroughSqs", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [key.keyArn], conditions: via("sqs") },
      ],
    });
    this.worker = fn("worker", `Creates each queued sign-up in Open WebUI ${how}; failures are retried, then dead-lettered`, {
      environment: clientEnvironment,
      // Never below the event source's maximum concurrency, or the poller's invocations are throttled.
      reservedConcurrency: config.maxConcurrency,
      vpc,
      statements: [
        {
          sid: "ConsumeProvisioningQueue",
          actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
          resources: [this.queue.arn],
        },
        { sid: "DecryptMessagesThroughSqs", actions: ["kms:Decrypt"], resources: [key.keyArn], conditions: via("sqs") },
        ...readScimToken,
      ],
    });
    this.reconciler = fn("reconciler", "Hourly: ensures every confirmed Cognito user exists in Open WebUI (heals lost events and dead-lettered users)", {
      environment: { USER_POOL_ID: props.userPool.userPoolId, ...clientEnvironment },
      // One run at a time: overlapping runs would only repeat each other's calls to Open WebUI.
      reservedConcurrency: S.reconciler.reservedConcurrency,
      vpc,
      statements: [{ sid: "ListUserPoolUsers", actions: ["cognito-idp:ListUsers"], resources: [props.userPool.userPoolArn] }, ...readScimToken],
    });

    // --- Wiring -------------------------------------------------------------------------------
    this.eventSourceMapping = new LambdaEventSourceMapping(this, "worker-event-source", {
      eventSourceArn: this.queue.arn,
      functionName: this.worker.functionArn,
      batchSize: S.batchSize,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: config.maxConcurrency },
    });

    this.schedule = new CloudwatchEventRule(this, "reconcile-schedule", {
      name: name("reconcile"),
      description: `Runs ${name("reconciler")} (${config.reconcileSchedule})`,
      scheduleExpression: config.reconcileSchedule,
    });
    new CloudwatchEventTarget(this, "reconcile-target", { rule: this.schedule.name, targetId: "reconciler", arn: this.reconciler.functionArn });
    this.reconciler.addPermission("schedule-invoke", { principal: "events.amazonaws.com", sourceArn: this.schedule.arn });

    // Only PostConfirmation: it also fires on a federated user's first sign-in (functions/provisioning/README.md).
    props.userPool.addTrigger("PostConfirmation", this.producer);

    // --- Alarms -------------------------------------------------------------------------------
    const topic = props.observability.alarmActions;
    const runbook = "Runbook: modules/provisioning/README.md, \"When an alarm fires\".";
    this.alarms = {
      deadLetterQueue: this.alarmAboveZero("dlq-alarm", topic, {
        alarmName: name("dlq-not-empty"),
        alarmDescription: `Sign-ups that failed ${S.maxReceiveCount} times sit in ${name("dlq")}: those users are not in Open WebUI until the cause is fixed and the DLQ redriven (or the reconciler heals them). ${runbook}`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: "Maximum",
      }),
      enqueueFailed: this.alarmAboveZero("enqueue-failed-alarm", topic, {
        alarmName: name("enqueue-failed"),
        alarmDescription: `The producer could not enqueue a confirmed sign-up (the sign-up itself succeeded; the reconciler heals it within its schedule). Check the producer's logs. ${runbook}`,
        ...emf("producer", METRICS.enqueueFailed),
      }),
      reconcileFailed: this.alarmAboveZero("reconcile-failed-alarm", topic, {
        alarmName: name("reconcile-failed"),
        alarmDescription: `The reconciler could not ensure some users (or could not list the pool). Check the reconciler's logs. ${runbook}`,
        ...emf("reconciler", METRICS.reconcileFailed),
      }),
    };

    const functions: Record<PipelineHandler, NodeFunction> = { producer: this.producer, worker: this.worker, reconciler: this.reconciler };
    this.errorAlarms = Object.fromEntries(
      (Object.keys(functions) as PipelineHandler[]).map((handler) => [
        handler,
        this.alarmAboveZero(`${handler}-errors-alarm`, topic, {
          alarmName: name(`${handler}-errors`),
          alarmDescription: `The ${handler} function crashed or timed out (its own failure metrics cannot report that). Check its logs for the error. ${runbook}`,
          namespace: "AWS/Lambda",
          metricName: "Errors",
          dimensions: { FunctionName: functions[handler].functionName },
          statistic: "Sum",
        }),
      ]),
    ) as Record<PipelineHandler, CloudwatchMetricAlarm>;

    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;
    this.deadLetterQueueUrl = this.deadLetterQueue.url;
    this.deadLetterQueueArn = this.deadLetterQueue.arn;
    this.queueName = this.queue.name;
    this.deadLetterQueueName = this.deadLetterQueue.name;
    this.functionNames = { producer: this.producer.functionName, worker: this.worker.functionName, reconciler: this.reconciler.functionName };
    this.clientSecurityGroup = clientGroup;
  }

  /** A queue encrypted with the CMK, and a queue policy that refuses any request not made over TLS. */
  private encryptedQueue(id: string, config: { name: string; messageRetentionSeconds: number; visibilityTimeoutSeconds?: number; redrivePolicy?: string }, key: KeyRef): SqsQueue {
    const queue = new SqsQueue(this, id, {
      ...config,
      kmsMasterKeyId: key.keyArn,
      kmsDataKeyReusePeriodSeconds: PROVISIONING_SETTINGS.kmsDataKeyReusePeriodSeconds,
    });
    new SqsQueuePolicy(this, `${id}-policy`, {
      queueUrl: queue.url,
      policy: policyDocument(this, `${id}-policy-document`, [denyInsecureTransport([queue.arn], ["sqs:*"])]).json,
    });
    return queue;
  }

  /** Sum/Maximum > 0 over one period alarms; no data is not breaching; ALARM and OK notify every action. */
  private alarmAboveZero(
    id: string,
    actions: readonly string[],
    metric: { alarmName: string; alarmDescription: string; namespace: string; metricName: string; dimensions: Record<string, string>; statistic: "Sum" | "Maximum" },
  ): CloudwatchMetricAlarm {
    return new CloudwatchMetricAlarm(this, id, {
      ...metric,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      period: PROVISIONING_SETTINGS.alarmPeriodSeconds,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      alarmActions: [...actions],
      okActions: [...actions],
    });
  }
}

/** An EMF metric of one function: the namespace and the single `Function` dimension the code emits. */
function emf(handler: PipelineHandler, metricName: string) {
  return { namespace: METRICS.namespace, metricName, dimensions: { [METRICS.dimensionName]: handler }, statistic: "Sum" as const };
}

/** The path the functions are given, from the props (checked). */
type ResolvedTarget =
  | { readonly kind: "scim"; readonly scimBaseUrl: string; readonly tokenSecret: SecretRef }
  | { readonly kind: "trusted-header"; readonly url: string; readonly emailHeader: string; readonly nameHeader?: string };

/** RFC 9110 field-name (a token), as the functions check it. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses props that would deploy but not work, naming the prop, the value and the fix; returns the path. */
function checkProps(scope: Construct, props: ProvisioningProps): ResolvedTarget {
  const problems: string[] = [];
  const { config, scim, openwebui } = props;
  if (!Number.isInteger(config.maxConcurrency) || config.maxConcurrency < 2 || config.maxConcurrency > 1000) {
    problems.push(`config.maxConcurrency is ${config.maxConcurrency}. Fix: a whole number from 2 to 1000 (the SQS event source's maximum concurrency range)`);
  }
  let target: ResolvedTarget | undefined;
  if (openwebui && scim) {
    problems.push("both openwebui and scim are given. Fix: pass only openwebui (scim is its older SCIM-only form)");
  } else if (scim) {
    if (!Token.isUnresolved(scim.baseUrl)) {
      const url = httpUrl(scim.baseUrl);
      if (!url) problems.push(`scim.baseUrl "${scim.baseUrl}" is not an http(s) URL. Fix: e.g. "http://openwebui.owui-<env>.internal:8080${SCIM_PATH}"`);
      else if (/\/Users\/*$/i.test(url.pathname)) problems.push(`scim.baseUrl "${scim.baseUrl}" ends in /Users. Fix: pass the SCIM base, e.g. "${scim.baseUrl.replace(/\/Users\/*$/i, "")}"`);
    }
    target = { kind: "scim", scimBaseUrl: scim.baseUrl, tokenSecret: scim.token };
  } else if (openwebui) {
    const { url, provisioning: p } = openwebui;
    if (!Token.isUnresolved(url)) {
      const parsed = httpUrl(url);
      if (!parsed) problems.push(`openwebui.url "${url}" is not an http(s) URL. Fix: Open WebUI's internal URL, e.g. "http://openwebui.owui-<env>.internal:8080"`);
      else if (parsed.pathname !== "/" || parsed.search) problems.push(`openwebui.url "${url}" has a path. Fix: Open WebUI's base URL only (e.g. "${parsed.origin}"); the functions add ${p.kind === "scim" ? SCIM_PATH : "/api/v1/auths/signin"}`);
      else if (parsed.port === "4180") problems.push(`openwebui.url "${url}" is on port 4180, oauth2-proxy's. Fix: Open WebUI's own port 8080 (the worker plays the proxy's part and sends nothing through it)`);
    }
    const base = url.replace(/\/+$/, "");
    if (p.kind === "scim") {
      target = { kind: "scim", scimBaseUrl: `${base}${SCIM_PATH}`, tokenSecret: p.tokenSecret };
    } else {
      for (const [name, value] of [["emailHeader", p.emailHeader], ["nameHeader", p.nameHeader]] as const) {
        if (value !== undefined && !HEADER_NAME.test(value)) problems.push(`openwebui.provisioning.${name} "${value}" is not an HTTP header name. Fix: Open WebUI's WEBUI_AUTH_TRUSTED_${name === "emailHeader" ? "EMAIL" : "NAME"}_HEADER, e.g. "X-Forwarded-Email"`);
      }
      const distinctName = p.nameHeader && p.nameHeader.toLowerCase() !== p.emailHeader.toLowerCase() ? p.nameHeader : undefined;
      target = { kind: "trusted-header", url: base, emailHeader: p.emailHeader, ...(distinctName ? { nameHeader: distinctName } : {}) };
    }
  } else {
    problems.push("neither openwebui nor scim is given. Fix: pass openwebui: openWebUiTargetOf(<Open WebUI internal URL>, identity.openwebui, identity.scim)");
  }
  if (props.network.privateSubnetIds.length === 0) problems.push("network.privateSubnetIds is empty. Fix: pass the network layer's private subnets");
  if (problems.length > 0 || !target) throw new Error(`Provisioning ${scope.node.path}: ${problems.join("; ")}`);
  return target;
}

/** The `auth` section's provisioning settings, or undefined when the env has no Cognito pool or provisioning is off. */
export function provisioningConfigOf(auth: AuthConfig): ProvisioningConfig | undefined {
  return "provisioning" in auth && auth.provisioning.enabled ? auth.provisioning : undefined;
}
