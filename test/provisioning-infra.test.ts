/**
 * The provisioning layer (issue #7) on the foundation fixture, with the observability layer's alarm
 * topic and a small Cognito user-pool double: every queue attribute, function setting, IAM
 * statement, wiring resource and alarm, asserted on the synthesized JSON, on the SCIM path; what the
 * trusted-header path (the oauth2-proxy mode) changes; which path the platform stack picks per auth
 * mode; then the HCL gate on a stack with both layers.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { CognitoUserPool } from "@cdktf/provider-aws/lib/cognito-user-pool";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { BUNDLES, ENV_CONTRACT, METRICS } from "../functions/provisioning/src/config.js";
import { bundleFunction } from "../lib/bundle.js";
import type { AwsContext } from "../lib/context.js";
import type { SecretRef } from "../lib/refs.js";
import type { CognitoTrigger, UserPoolOutputs } from "../modules/identity/types.js";
import { Network } from "../modules/network/index.js";
import { Observability } from "../modules/observability/index.js";
import { TRUSTED_EMAIL_HEADER } from "../modules/identity/wiring.js";
import {
  PROVISIONING_SETTINGS,
  Provisioning,
  type ProvisioningProps,
  WORKER_TIMEOUT_SECONDS,
  contractEnvironment,
  contractProblems,
  openWebUiTargetOf,
  provisioningConfigOf,
} from "../modules/provisioning/index.js";
import { Security } from "../modules/security/index.js";
import { type SynthOutput, evaluateTemplate, gateOutputs, synthHcl, synthJson } from "./support/hcl-gate.js";
import { ENVS, envWith, foundationFixture, type Json, policyOf, type Synthesized, synthPlatform, synthStack, withAuth } from "./support/synth.js";

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

/**
 * A stand-in for the identity layer's Cognito pool: a real `aws_cognito_user_pool`, and
 * `addTrigger` as the interface documents it (lambda_config + a permission pinned to the pool).
 */
class TestUserPool extends Construct implements UserPoolOutputs {
  readonly pool: CognitoUserPool;
  readonly userPoolId: string;
  readonly userPoolArn: string;
  readonly issuerUrl: string;
  readonly domainHost: string;
  readonly clientId = "test-client-id";
  readonly clientSecret: SecretRef = { secretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:client", secretName: "client" };
  private readonly triggers = new Map<CognitoTrigger, string>();

  constructor(scope: Construct, id: string, env: EnvConfig) {
    super(scope, id);
    this.pool = new CognitoUserPool(this, "Resource", { name: `owui-${env.name}-users` });
    this.userPoolId = this.pool.id;
    this.userPoolArn = this.pool.arn;
    this.issuerUrl = `https://cognito-idp.${env.region}.amazonaws.com/${this.pool.id}`;
    this.domainHost = `owui-${env.name}.auth.${env.region}.amazoncognito.com`;
  }

  addTrigger(trigger: CognitoTrigger, fn: { readonly functionArn: string; readonly functionName: string }): void {
    if (this.triggers.has(trigger)) throw new Error(`${trigger} is already attached`);
    this.triggers.set(trigger, fn.functionArn);
    const attribute = { PreSignUp: "preSignUp", PostConfirmation: "postConfirmation" } as const;
    this.pool.putLambdaConfig(Object.fromEntries([...this.triggers].map(([t, arn]) => [attribute[t], arn])));
    new LambdaPermission(this, `invoke-${trigger}`, { functionName: fn.functionName, action: "lambda:InvokeFunction", principal: "cognito-idp.amazonaws.com", sourceArn: this.pool.arn });
  }
}

type AuthPatch = (auth: any) => void;

/** An env with Cognito behind oauth2-proxy (provisioning on by default), edited by `patch`. */
function cognitoEnv(patch: AuthPatch = () => {}): EnvConfig {
  return envWith((raw) => {
    raw.auth = { mode: "oauth2-proxy", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" } };
    patch(raw.auth);
    raw.observability = { alarmEmails: ["oncall@example.com"] };
  });
}

/**
 * The observability and provisioning layers (plus the pool double and the SCIM token secret) on a
 * foundation; the SCIM path unless `over` says otherwise.
 */
function addLayers(stack: TerraformStack, env: EnvConfig, aws: AwsContext, network: Network, security: Security, over: Partial<ProvisioningProps> = {}) {
  security.addServiceSecurityGroup("openwebui", 8080);
  const observability = new Observability(stack, "observability", { envName: env.name, aws, security, alarmEmails: env.observability.alarmEmails });
  const userPool = new TestUserPool(stack, "user-pool", env);
  const token = new SecretsmanagerSecret(stack, "scim-token", { name: `owui/${env.name}/openwebui/scim-token`, kmsKeyId: security.workloadKey.keyArn });
  const provisioning = new Provisioning(stack, "provisioning", {
    envName: env.name,
    aws,
    config: provisioningConfigOf(env.auth)!,
    network,
    security,
    userPool,
    openwebui: { url: `http://openwebui.owui-${env.name}.internal:8080`, provisioning: { kind: "scim", tokenSecret: { secretArn: token.arn, secretName: token.name } } },
    observability,
    logRetentionDays: env.logRetentionDays,
    ...over,
  });
  new TerraformOutput(stack, "provisioning_outputs", {
    value: {
      queueUrl: provisioning.queueUrl,
      queueArn: provisioning.queueArn,
      deadLetterQueueUrl: provisioning.deadLetterQueueUrl,
      deadLetterQueueArn: provisioning.deadLetterQueueArn,
      functionNames: provisioning.functionNames,
      clientSecurityGroupId: provisioning.clientSecurityGroup.securityGroupId,
    },
  });
  return { provisioning, observability };
}

function build(env: EnvConfig, over: Partial<ProvisioningProps> = {}): Synthesized {
  const { stack, aws, network, security } = foundationFixture(env);
  addLayers(stack, env, aws, network, security, over);
  return synthStack(stack);
}

/** The props `build` would pass, for refusal tests that change one of them. */
function constructWith(over: (env: EnvConfig) => Partial<ProvisioningProps>, env = cognitoEnv()): () => void {
  return () => {
    const { stack, aws, network, security } = foundationFixture(env);
    addLayers(stack, env, aws, network, security, over(env));
  };
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

/** The logical name of the one resource of `type` whose name contains `includes`. */
function nameOf(s: Synthesized, type: string, includes: string): string {
  const hits = s.resources(type).filter(([n]) => n.includes(includes));
  if (hits.length !== 1) throw new Error(`expected one ${type} matching "${includes}", found ${hits.map(([n]) => n).join(", ") || "none"}`);
  return hits[0]![0];
}
/** `${type.name.attr}`. */
const ref = (s: Synthesized, type: string, includes: string, attr: string) => "${" + `${type}.${nameOf(s, type, includes)}.${attr}` + "}";
/** Reads `${jsonencode(...)}` the way Terraform would; references become `<address>`. */
const decode = (text: string): Json => JSON.parse(evaluateTemplate(text, (a) => `<${a}>`) as string);
const address = (s: Synthesized, type: string, includes: string, attr: string) => `<${type}.${nameOf(s, type, includes)}.${attr}>`;

const HANDLERS = ["producer", "worker", "reconciler"] as const;
const fnOf = (s: Synthesized, handler: string) => s.resource("aws_lambda_function", `provisioning_${handler}_`);
const statementsOf = (s: Synthesized, handler: string): Json[] => policyOf(s, s.resource("aws_iam_role_policy", `provisioning_${handler}_permissions`).policy).statement;
const KEY_ARN = (s: Synthesized) => ref(s, "aws_kms_key", "security_workload-key", "arn");

// ---------------------------------------------------------------------------------------------

describe("provisioning layer (Cognito env, SCIM path, defaults)", () => {
  const env = cognitoEnv();
  const s = build(env);
  const queueArn = ref(s, "aws_sqs_queue", "provisioning_queue_", "arn");
  const queueUrl = ref(s, "aws_sqs_queue", "provisioning_queue_", "url");
  const dlqArn = ref(s, "aws_sqs_queue", "provisioning_dead-letter-queue_", "arn");
  const secretArn = "${aws_secretsmanager_secret.scim-token.arn}";
  const topicArn = ref(s, "aws_sns_topic", "observability_alarm-topic", "arn");
  const scimBaseUrl = "http://openwebui.owui-test.internal:8080/api/v1/scim/v2";

  describe("queues", () => {
    const queue = s.resource("aws_sqs_queue", "provisioning_queue_");
    const dlq = s.resource("aws_sqs_queue", "provisioning_dead-letter-queue_");

    it("are exactly the main queue and its DLQ", () => {
      expect(s.resources("aws_sqs_queue").map(([, q]) => q.name).sort()).toEqual(["owui-test-provisioning", "owui-test-provisioning-dlq"]);
    });

    it("main queue: 4-day retention, visibility 180 s = 6 × the worker's 30 s timeout", () => {
      expect(queue.message_retention_seconds).toBe(4 * 86_400);
      expect(queue.visibility_timeout_seconds).toBe(180);
      expect(queue.visibility_timeout_seconds).toBe(6 * fnOf(s, "worker").timeout);
      expect(PROVISIONING_SETTINGS.visibilityTimeoutSeconds).toBe(6 * WORKER_TIMEOUT_SECONDS);
    });

    it("main queue: redrives to the DLQ after 5 receives (parsed redrive policy)", () => {
      expect(decode(queue.redrive_policy)).toEqual({ deadLetterTargetArn: address(s, "aws_sqs_queue", "provisioning_dead-letter-queue_", "arn"), maxReceiveCount: 5 });
    });

    it("DLQ: 14-day retention, longer than the main queue's, and no redrive of its own", () => {
      expect(dlq.message_retention_seconds).toBe(14 * 86_400);
      expect(dlq.message_retention_seconds).toBeGreaterThan(queue.message_retention_seconds);
      expect(dlq.redrive_policy).toBeUndefined();
      expect(dlq.visibility_timeout_seconds).toBeUndefined();
    });

    it("DLQ: accepts redrive from the main queue only (redrive_allow_policy)", () => {
      const allow = s.resource("aws_sqs_queue_redrive_allow_policy");
      expect(allow.queue_url).toBe(ref(s, "aws_sqs_queue", "provisioning_dead-letter-queue_", "url"));
      expect(decode(allow.redrive_allow_policy)).toEqual({ redrivePermission: "byQueue", sourceQueueArns: [address(s, "aws_sqs_queue", "provisioning_queue_", "arn")] });
      expect(dlq.redrive_allow_policy).toBeUndefined();
    });

    it.each(["provisioning_queue_", "provisioning_dead-letter-queue_"])("%s: SSE with the workload CMK, data key reused 300 s", (name) => {
      const q = s.resource("aws_sqs_queue", name);
      expect(q.kms_master_key_id).toBe(KEY_ARN(s));
      expect(q.kms_data_key_reuse_period_seconds).toBe(300);
      expect(q.sqs_managed_sse_enabled).toBeUndefined();
    });

    it.each([
      ["provisioning_queue-policy", "provisioning_queue_"],
      ["provisioning_dead-letter-queue-policy", "provisioning_dead-letter-queue_"],
    ])("%s: denies every request not made over TLS, and nothing else", (policy, queueName) => {
      const p = s.resource("aws_sqs_queue_policy", policy);
      expect(p.queue_url).toBe(ref(s, "aws_sqs_queue", queueName, "url"));
      expect(policyOf(s, p.policy).statement).toEqual([
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          actions: ["sqs:*"],
          resources: [ref(s, "aws_sqs_queue", queueName, "arn")],
          principals: [{ type: "AWS", identifiers: ["*"] }],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ]);
    });
  });

  describe("functions", () => {
    const settings = {
      producer: { timeout: 5, reserved: 10 },
      worker: { timeout: 30, reserved: 2 },
      reconciler: { timeout: 300, reserved: 1 },
    } as const;

    it.each(HANDLERS)("%s: nodejs22.x arm64, index.handler, its timeout, 256 MiB, reserved concurrency", (h) => {
      expect(fnOf(s, h)).toMatchObject({
        function_name: `owui-test-provisioning-${h}`,
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        handler: "index.handler",
        timeout: settings[h].timeout,
        memory_size: 256,
        reserved_concurrent_executions: settings[h].reserved,
      });
    });

    it.each(HANDLERS)("%s: ships its bundle from BUNDLES (AWS SDK external)", (h) => {
      expect(BUNDLES[h].external).toEqual(["@aws-sdk/*"]);
      const bundle = bundleFunction(BUNDLES[h]);
      expect(fnOf(s, h).source_code_hash).toBe(bundle.sha256);
      expect(fnOf(s, h).filename).toMatch(new RegExp(`/${h}\\.zip$`));
    });

    it.each(HANDLERS)("%s: X-Ray active, environment encrypted with the workload CMK", (h) => {
      expect(fnOf(s, h).tracing_config).toEqual({ mode: "Active" });
      expect(fnOf(s, h).kms_key_arn).toBe(KEY_ARN(s));
    });

    it.each(HANDLERS)("%s: its own log group, CMK-encrypted, with the env's retention", (h) => {
      const group = s.resource("aws_cloudwatch_log_group", `provisioning_${h}_log-group`);
      expect(group).toMatchObject({ name: `/aws/lambda/owui-test-provisioning-${h}`, retention_in_days: env.logRetentionDays, kms_key_id: KEY_ARN(s) });
      expect(fnOf(s, h).logging_config.log_group).toBe(ref(s, "aws_cloudwatch_log_group", `provisioning_${h}_log-group`, "name"));
    });

    it("producer runs outside the VPC; worker and reconciler in the private subnets with the one provisioning group", () => {
      const privateSubnets = s
        .resources("aws_subnet")
        .filter(([, c]) => c.tags.Tier === "private")
        .map(([n]) => "${aws_subnet." + n + ".id}");
      expect(privateSubnets).toHaveLength(2);
      const group = ref(s, "aws_security_group", "security_client-provisioning", "id");
      expect(fnOf(s, "producer").vpc_config).toBeUndefined();
      for (const h of ["worker", "reconciler"]) expect(fnOf(s, h).vpc_config).toEqual({ subnet_ids: privateSubnets, security_group_ids: [group] });
    });

    it("environments: exactly the contract's names", () => {
      expect(fnOf(s, "producer").environment.variables).toEqual({ QUEUE_URL: queueUrl, METRIC_NAMESPACE: METRICS.namespace });
      expect(fnOf(s, "worker").environment.variables).toEqual({ OPENWEBUI_PROVISIONING: "scim", SCIM_BASE_URL: scimBaseUrl, SCIM_TOKEN_SECRET_ARN: secretArn, METRIC_NAMESPACE: METRICS.namespace });
      expect(fnOf(s, "reconciler").environment.variables).toEqual({
        USER_POOL_ID: ref(s, "aws_cognito_user_pool", "user-pool", "id"),
        OPENWEBUI_PROVISIONING: "scim",
        SCIM_BASE_URL: scimBaseUrl,
        SCIM_TOKEN_SECRET_ARN: secretArn,
        METRIC_NAMESPACE: METRICS.namespace,
      });
    });

    it.each(HANDLERS)("%s: its environment sets every required variable of ENV_CONTRACT and no unknown one", (h) => {
      const variables = fnOf(s, h).environment.variables as Record<string, string>;
      expect(contractProblems(h, variables)).toEqual([]);
      const required = ENV_CONTRACT[h].filter((v) => v.required && (!v.when || v.when.value === "scim")).map((v) => v.name);
      expect(Object.keys(variables)).toEqual(expect.arrayContaining(required));
    });

    it("no environment value holds a secret: the SCIM token is referenced by its secret's ARN", () => {
      for (const h of HANDLERS) {
        for (const [name, value] of Object.entries(fnOf(s, h).environment.variables as Record<string, string>)) {
          expect(name, h).not.toMatch(/TOKEN$|PASSWORD|SECRET$/);
          expect(String(value)).not.toMatch(/secret_string/);
        }
      }
    });
  });

  describe("IAM, least privilege", () => {
    const RUNTIME = ["WriteOwnLogGroup", "WriteXRayTraces", "DecryptOwnEnvironment"];
    const VPC = ["ManageVpcNetworkInterfaces", "DenyNetworkInterfacesToFunctionCode"];
    const viaSqs = [{ test: "StringEquals", variable: "kms:ViaService", values: ["sqs.us-east-1.amazonaws.com"] }];
    const viaSecretsManager = [{ test: "StringEquals", variable: "kms:ViaService", values: ["secretsmanager.us-east-1.amazonaws.com"] }];
    const allow = (sid: string, actions: string[], resources: string[], condition?: Json[]) => ({ sid, effect: "Allow", actions, resources, ...(condition ? { condition } : {}) });
    const own = (h: string) => statementsOf(s, h).filter((st) => ![...RUNTIME, ...VPC].includes(st.sid));
    const scimToken = () => [
      allow("ReadScimToken", ["secretsmanager:GetSecretValue"], [secretArn]),
      allow("DecryptScimTokenThroughSecretsManager", ["kms:Decrypt"], [KEY_ARN(s)], viaSecretsManager),
    ];

    it("producer: sqs:SendMessage on the queue and the CMK through SQS, nothing else", () => {
      expect(own("producer")).toEqual([
        allow("SendToProvisioningQueue", ["sqs:SendMessage"], [queueArn]),
        allow("EncryptMessagesThroughSqs", ["kms:GenerateDataKey", "kms:Decrypt"], [KEY_ARN(s)], viaSqs),
      ]);
    });

    it("worker: consume the queue, decrypt through SQS, read the SCIM token secret only", () => {
      expect(own("worker")).toEqual([
        allow("ConsumeProvisioningQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], [queueArn]),
        allow("DecryptMessagesThroughSqs", ["kms:Decrypt"], [KEY_ARN(s)], viaSqs),
        ...scimToken(),
      ]);
    });

    it("reconciler: cognito-idp:ListUsers on the pool, and the SCIM token secret only", () => {
      expect(own("reconciler")).toEqual([allow("ListUserPoolUsers", ["cognito-idp:ListUsers"], [ref(s, "aws_cognito_user_pool", "user-pool", "arn")]), ...scimToken()]);
    });

    it("the runtime statements come from NodeFunction: logs, X-Ray, own environment; ENI management only for the two VPC functions", () => {
      expect(statementsOf(s, "producer").map((st) => st.sid)).toEqual([...RUNTIME, "SendToProvisioningQueue", "EncryptMessagesThroughSqs"]);
      for (const h of ["worker", "reconciler"]) expect(statementsOf(s, h).map((st) => st.sid).slice(0, 5)).toEqual([...RUNTIME, ...VPC]);
      const deny = statementsOf(s, "worker").find((st) => st.sid === "DenyNetworkInterfacesToFunctionCode")!;
      expect(deny.effect).toBe("Deny");
      expect(deny.condition[0].values[0]).toMatch(/:function:owui-test-provisioning-worker$/);
    });

    it("no statement allows a service wildcard or Resource * beyond X-Ray and the ENI actions NodeFunction needs", () => {
      for (const h of HANDLERS) {
        for (const st of statementsOf(s, h)) {
          if (st.effect !== "Allow") continue;
          for (const a of st.actions) expect(a, `${h} ${st.sid}`).not.toMatch(/:\*$|^\*$/);
          if (st.resources.includes("*")) expect(["WriteXRayTraces", "ManageVpcNetworkInterfaces"], `${h} ${st.sid}`).toContain(st.sid);
        }
      }
    });
  });

  describe("wiring", () => {
    it("the worker consumes the queue: batch 10, ReportBatchItemFailures, maximum concurrency from config", () => {
      const mapping = s.resource("aws_lambda_event_source_mapping");
      expect(mapping).toMatchObject({
        event_source_arn: queueArn,
        function_name: ref(s, "aws_lambda_function", "provisioning_worker_", "arn"),
        batch_size: 10,
        function_response_types: ["ReportBatchItemFailures"],
        scaling_config: { maximum_concurrency: 2 },
      });
      expect(mapping.maximum_batching_window_in_seconds).toBeUndefined();
      expect(fnOf(s, "worker").reserved_concurrent_executions).toBeGreaterThanOrEqual(mapping.scaling_config.maximum_concurrency);
    });

    it("the reconciler runs on the config's schedule (default rate(1 hour))", () => {
      const rule = s.resource("aws_cloudwatch_event_rule");
      expect(rule).toMatchObject({ name: "owui-test-provisioning-reconcile", schedule_expression: "rate(1 hour)" });
      expect(s.resource("aws_cloudwatch_event_target")).toMatchObject({
        rule: ref(s, "aws_cloudwatch_event_rule", "reconcile-schedule", "name"),
        arn: ref(s, "aws_lambda_function", "provisioning_reconciler_", "arn"),
        target_id: "reconciler",
      });
    });

    it("EventBridge may invoke the reconciler, from that rule only (source_arn)", () => {
      expect(s.resource("aws_lambda_permission", "provisioning_reconciler_schedule-invoke")).toEqual({
        action: "lambda:InvokeFunction",
        function_name: ref(s, "aws_lambda_function", "provisioning_reconciler_", "function_name"),
        principal: "events.amazonaws.com",
        source_arn: ref(s, "aws_cloudwatch_event_rule", "reconcile-schedule", "arn"),
      });
    });

    it("the producer is the pool's PostConfirmation trigger, and the pool's only trigger", () => {
      expect(s.resource("aws_cognito_user_pool").lambda_config).toEqual({ post_confirmation: ref(s, "aws_lambda_function", "provisioning_producer_", "arn") });
      const cognito = s.resources("aws_lambda_permission").filter(([, p]) => p.principal === "cognito-idp.amazonaws.com");
      expect(cognito.map(([, p]) => p)).toEqual([
        {
          action: "lambda:InvokeFunction",
          function_name: ref(s, "aws_lambda_function", "provisioning_producer_", "function_name"),
          principal: "cognito-idp.amazonaws.com",
          source_arn: ref(s, "aws_cognito_user_pool", "user-pool", "arn"),
        },
      ]);
    });

    it("every invoke permission names its source (no permission without source_arn)", () => {
      for (const [, p] of s.resources("aws_lambda_permission")) expect(p.source_arn).toMatch(/^\$\{aws_(cognito_user_pool|cloudwatch_event_rule)\./);
      expect(s.resources("aws_lambda_permission")).toHaveLength(2);
    });
  });

  describe("security groups", () => {
    /** `${aws_security_group.security_client-provisioning_XXXX.id}` → `client-provisioning`. */
    const group = (r: string) => /aws_security_group\.security_([a-z-]+?)_[0-9A-F]{8}\.id/.exec(r)?.[1];
    const rules = (type: string) =>
      s
        .resources(type)
        .map(([, r]) => `${group(r.security_group_id)} ${r.ip_protocol}/${r.from_port}-${r.to_port} ${r.cidr_ipv4 ?? "sg:" + group(r.referenced_security_group_id)}`)
        .filter((r) => r.includes("provisioning"));

    it("one client group for the worker and the reconciler", () => {
      const groups = s.resources("aws_security_group").filter(([n]) => n.includes("provisioning"));
      expect(groups.map(([, g]) => g.name_prefix)).toEqual(["owui-test-provisioning-"]);
      expect(groups[0]![1].description).toMatch(/SCIM to Open WebUI on 8080/);
    });

    it("egress: 8080 to Open WebUI's group, 443 to AWS APIs; nothing else", () => {
      expect(rules("aws_vpc_security_group_egress_rule").sort()).toEqual(["client-provisioning tcp/443-443 0.0.0.0/0", "client-provisioning tcp/8080-8080 sg:service-openwebui"]);
    });

    it("ingress: Open WebUI's group accepts it on 8080; no group accepts anything else from it", () => {
      expect(rules("aws_vpc_security_group_ingress_rule")).toEqual(["service-openwebui tcp/8080-8080 sg:client-provisioning"]);
    });
  });

  describe("alarms", () => {
    const alarm = (name: string) => s.resources("aws_cloudwatch_metric_alarm").find(([, a]) => a.alarm_name === name)![1];
    const common = { comparison_operator: "GreaterThanThreshold", threshold: 0, evaluation_periods: 1, period: 300, treat_missing_data: "notBreaching" };

    it("are exactly six, each notifying the alarm topic on ALARM and on OK", () => {
      const all = s.resources("aws_cloudwatch_metric_alarm").map(([, a]) => a);
      expect(all.map((a) => a.alarm_name).sort()).toEqual([
        "owui-test-provisioning-dlq-not-empty",
        "owui-test-provisioning-enqueue-failed",
        "owui-test-provisioning-producer-errors",
        "owui-test-provisioning-reconcile-failed",
        "owui-test-provisioning-reconciler-errors",
        "owui-test-provisioning-worker-errors",
      ]);
      for (const a of all) {
        expect(a.alarm_actions).toEqual([topicArn]);
        expect(a.ok_actions).toEqual([topicArn]);
        expect(a.alarm_description).toMatch(/Runbook: modules\/provisioning\/README\.md/);
      }
    });

    it("DLQ: ApproximateNumberOfMessagesVisible > 0 on the DLQ, missing data not breaching", () => {
      expect(alarm("owui-test-provisioning-dlq-not-empty")).toMatchObject({
        ...common,
        namespace: "AWS/SQS",
        metric_name: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: ref(s, "aws_sqs_queue", "provisioning_dead-letter-queue_", "name") },
        statistic: "Maximum",
      });
    });

    it.each([
      ["owui-test-provisioning-enqueue-failed", "EnqueueFailed", "producer"],
      ["owui-test-provisioning-reconcile-failed", "ReconcileFailed", "reconciler"],
    ])("%s: Sum of the EMF metric %s > 0, in the functions' namespace, dimension Function=%s only", (name, metric, fn) => {
      expect(METRICS.namespace).toBe("OpenWebUI/Provisioning");
      expect(alarm(name)).toMatchObject({ ...common, namespace: METRICS.namespace, metric_name: metric, statistic: "Sum" });
      expect(alarm(name).dimensions).toEqual({ [METRICS.dimensionName]: fn });
      expect(METRICS.dimensionName).toBe("Function");
    });

    it.each(HANDLERS)("%s: Lambda Errors > 0 (crashes and timeouts, which emit no EMF metric)", (handler) => {
      expect(alarm(`owui-test-provisioning-${handler}-errors`)).toMatchObject({
        ...common,
        namespace: "AWS/Lambda",
        metric_name: "Errors",
        statistic: "Sum",
        dimensions: { FunctionName: ref(s, "aws_lambda_function", `provisioning_${handler}_`, "function_name") },
      });
    });
  });

  it("typed outputs resolve to the queues, the functions and the client group", () => {
    expect(s.output("provisioning_outputs")!.value).toEqual({
      queueUrl,
      queueArn,
      deadLetterQueueUrl: ref(s, "aws_sqs_queue", "provisioning_dead-letter-queue_", "url"),
      deadLetterQueueArn: dlqArn,
      functionNames: Object.fromEntries(HANDLERS.map((h) => [h, ref(s, "aws_lambda_function", `provisioning_${h}_`, "function_name")])),
      clientSecurityGroupId: ref(s, "aws_security_group", "security_client-provisioning", "id"),
    });
  });
});

describe("trusted-header path (the oauth2-proxy mode: users created as a first visit through the proxy creates them)", () => {
  const env = cognitoEnv();
  const trusted = { openwebui: { url: "http://openwebui.owui-test.internal:8080", provisioning: { kind: "trusted-header" as const, emailHeader: TRUSTED_EMAIL_HEADER } } };
  const s = build(env, trusted);
  const viaSqs = [{ test: "StringEquals", variable: "kms:ViaService", values: ["sqs.us-east-1.amazonaws.com"] }];
  const own = (h: string) => statementsOf(s, h).filter((st) => !["WriteOwnLogGroup", "WriteXRayTraces", "DecryptOwnEnvironment", "ManageVpcNetworkInterfaces", "DenyNetworkInterfacesToFunctionCode"].includes(st.sid));

  it("worker and reconciler get Open WebUI's URL and the trusted header, and no SCIM variable", () => {
    const expected = { OPENWEBUI_PROVISIONING: "trusted-header", OPENWEBUI_URL: "http://openwebui.owui-test.internal:8080", TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", METRIC_NAMESPACE: METRICS.namespace };
    expect(fnOf(s, "worker").environment.variables).toEqual(expected);
    expect(fnOf(s, "reconciler").environment.variables).toEqual({ USER_POOL_ID: ref(s, "aws_cognito_user_pool", "user-pool", "id"), ...expected });
    for (const h of HANDLERS) expect(contractProblems(h, fnOf(s, h).environment.variables)).toEqual([]);
  });

  it("IAM: no secretsmanager:GetSecretValue on the SCIM token, no KMS through Secrets Manager", () => {
    expect(own("worker")).toEqual([
      { sid: "ConsumeProvisioningQueue", effect: "Allow", actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], resources: [ref(s, "aws_sqs_queue", "provisioning_queue_", "arn")] },
      { sid: "DecryptMessagesThroughSqs", effect: "Allow", actions: ["kms:Decrypt"], resources: [KEY_ARN(s)], condition: viaSqs },
    ]);
    expect(own("reconciler")).toEqual([{ sid: "ListUserPoolUsers", effect: "Allow", actions: ["cognito-idp:ListUsers"], resources: [ref(s, "aws_cognito_user_pool", "user-pool", "arn")] }]);
    for (const h of HANDLERS) expect(JSON.stringify(statementsOf(s, h))).not.toMatch(/secretsmanager/);
  });

  it("the same network path: the provisioning group, egress 8080 to the services group only (the proxy's 4180 is not reachable)", () => {
    const egress = s.resources("aws_vpc_security_group_egress_rule").filter(([n]) => n.includes("provisioning")).map(([, r]) => r.from_port).sort();
    expect(egress).toEqual([443, 8080]);
    // Unchanged from the SCIM path: a new description would replace the group (fixed name + create_before_destroy).
    expect(s.resources("aws_security_group").find(([n]) => n.includes("provisioning"))![1].description).toBe("Provisioning worker and reconciler: SCIM to Open WebUI on 8080, HTTPS to AWS APIs");
  });

  it("the worker's description says how it creates users", () => {
    expect(fnOf(s, "worker").description).toMatch(/by a trusted-header sign-in on port 8080 \(200 = done\)/);
  });

  it("a distinct name header is passed on; one equal to the email header is not", () => {
    const distinct = build(env, { openwebui: { ...trusted.openwebui, provisioning: { kind: "trusted-header", emailHeader: "X-Forwarded-Email", nameHeader: "X-Forwarded-Name" } } });
    expect(fnOf(distinct, "worker").environment.variables.TRUSTED_NAME_HEADER).toBe("X-Forwarded-Name");
    const same = build(env, { openwebui: { ...trusted.openwebui, provisioning: { kind: "trusted-header", emailHeader: "X-Forwarded-Email", nameHeader: "x-forwarded-email" } } });
    expect(fnOf(same, "worker").environment.variables.TRUSTED_NAME_HEADER).toBeUndefined();
  });

  it("the older scim prop still gives the SCIM path, identically", () => {
    const older = build(env, {
      openwebui: undefined,
      scim: { baseUrl: "http://openwebui.owui-test.internal:8080/api/v1/scim/v2", token: { secretArn: "${aws_secretsmanager_secret.scim-token.arn}", secretName: "owui/test/openwebui/scim-token" } },
    });
    const current = build(env);
    for (const h of HANDLERS) expect(fnOf(older, h).environment.variables).toEqual(fnOf(current, h).environment.variables);
    expect(statementsOf(older, "worker")).toEqual(statementsOf(current, "worker"));
  });
});

describe("which path the platform stack picks (openWebUiTargetOf on the identity layer's Open WebUI environment)", () => {
  const workerEnv = (s: Synthesized) => fnOf(s, "worker").environment.variables as Record<string, string>;

  it("sandbox (oauth2-proxy): trusted-header, with the header Open WebUI's task trusts, and no SCIM token read", () => {
    const s = synthPlatform(ENVS.sandbox);
    expect(workerEnv(s)).toMatchObject({ OPENWEBUI_PROVISIONING: "trusted-header", OPENWEBUI_URL: "http://openwebui.owui-sandbox.internal:8080", TRUSTED_EMAIL_HEADER: TRUSTED_EMAIL_HEADER });
    expect(workerEnv(s).SCIM_BASE_URL).toBeUndefined();
    expect(workerEnv(s).TRUSTED_NAME_HEADER).toBeUndefined();
    const task = JSON.stringify(s.resources("aws_ecs_task_definition").map(([, t]) => t.container_definitions));
    expect(task).toMatch(/WEBUI_AUTH_TRUSTED_EMAIL_HEADER[^X]*X-Forwarded-Email/);
    expect(JSON.stringify(statementsOf(s, "worker"))).not.toMatch(/secretsmanager:GetSecretValue/);
  });

  it("native OIDC with Cognito: SCIM, with the identity layer's token secret", () => {
    const s = synthPlatform(withAuth(ENVS.sandbox, { mode: "oidc", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" }, provisioning: { enabled: true } }));
    expect(workerEnv(s)).toMatchObject({ OPENWEBUI_PROVISIONING: "scim", SCIM_BASE_URL: "http://openwebui.owui-sandbox.internal:8080/api/v1/scim/v2" });
    expect(workerEnv(s).SCIM_TOKEN_SECRET_ARN).toMatch(/^\$\{aws_secretsmanager_secret\..*scim-token.*\.arn\}$/);
    expect(workerEnv(s).OPENWEBUI_URL).toBeUndefined();
  });

  it("openWebUiTargetOf: the trusted header decides; SCIM needs the token", () => {
    const token = { secretArn: "arn:scim", secretName: "scim" };
    expect(openWebUiTargetOf("http://o:8080", { environment: { WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", WEBUI_AUTH_TRUSTED_NAME_HEADER: "X-Forwarded-Email" } }, { token })).toEqual({
      url: "http://o:8080",
      provisioning: { kind: "trusted-header", emailHeader: "X-Forwarded-Email", nameHeader: "X-Forwarded-Email" },
    });
    expect(openWebUiTargetOf("http://o:8080", { environment: { ENABLE_OAUTH_SIGNUP: "true" } }, { token })).toEqual({ url: "http://o:8080", provisioning: { kind: "scim", tokenSecret: token } });
    expect(() => openWebUiTargetOf("http://o:8080", { environment: {} })).toThrow(/Open WebUI trusts no email header, so users are created through SCIM, but the identity layer has no SCIM token/);
  });
});

describe("provisioning config", () => {
  it("webhookUrl reaches the worker and the reconciler as WEBHOOK_URL, and only them", () => {
    const s = build(cognitoEnv((auth) => (auth.provisioning = { webhookUrl: "https://n8n.example.com/webhook/invite" })));
    expect(fnOf(s, "worker").environment.variables.WEBHOOK_URL).toBe("https://n8n.example.com/webhook/invite");
    expect(fnOf(s, "reconciler").environment.variables.WEBHOOK_URL).toBe("https://n8n.example.com/webhook/invite");
    expect(fnOf(s, "producer").environment.variables.WEBHOOK_URL).toBeUndefined();
    for (const h of HANDLERS) expect(contractProblems(h, fnOf(s, h).environment.variables)).toEqual([]);
  });

  it("maxConcurrency sets the mapping's maximum concurrency and the worker's reserved concurrency", () => {
    const s = build(cognitoEnv((auth) => (auth.provisioning = { maxConcurrency: 7 })));
    expect(s.resource("aws_lambda_event_source_mapping").scaling_config).toEqual({ maximum_concurrency: 7 });
    expect(fnOf(s, "worker").reserved_concurrent_executions).toBe(7);
  });

  it("reconcileSchedule sets the rule's schedule expression", () => {
    const s = build(cognitoEnv((auth) => (auth.provisioning = { reconcileSchedule: "cron(15 * * * ? *)" })));
    expect(s.resource("aws_cloudwatch_event_rule").schedule_expression).toBe("cron(15 * * * ? *)");
  });

  it("provisioningConfigOf: the section when on, undefined when off or on Entra", () => {
    expect(provisioningConfigOf(cognitoEnv().auth)).toEqual({ enabled: true, maxConcurrency: 2, reconcileSchedule: "rate(1 hour)" });
    expect(provisioningConfigOf(cognitoEnv((auth) => (auth.provisioning = { enabled: false })).auth)).toBeUndefined();
    expect(provisioningConfigOf(envWith(() => {}).auth)).toBeUndefined();
  });
});

describe("refusals", () => {
  it("a SCIM base URL ending in /Users", () => {
    expect(constructWith(() => ({ openwebui: undefined, scim: { baseUrl: "http://openwebui.internal:8080/api/v1/scim/v2/Users", token: { secretArn: "arn:x", secretName: "x" } } }))).toThrow(
      /scim\.baseUrl "http:\/\/openwebui\.internal:8080\/api\/v1\/scim\/v2\/Users" ends in \/Users\. Fix: pass the SCIM base, e\.g\. "http:\/\/openwebui\.internal:8080\/api\/v1\/scim\/v2"/,
    );
  });

  it("a SCIM base that is not an http(s) URL", () => {
    expect(constructWith(() => ({ openwebui: undefined, scim: { baseUrl: "openwebui:8080/api/v1/scim/v2", token: { secretArn: "arn:x", secretName: "x" } } }))).toThrow(/scim\.baseUrl "openwebui:8080\/api\/v1\/scim\/v2" is not an http\(s\) URL/);
  });

  it("openwebui.url with a path, on the proxy's port 4180, or not http(s)", () => {
    const th = (url: string) => () => ({ openwebui: { url, provisioning: { kind: "trusted-header" as const, emailHeader: "X-Forwarded-Email" } } });
    expect(constructWith(th("http://openwebui.internal:8080/api/v1/auths/signin"))).toThrow(/openwebui\.url "http:\/\/openwebui\.internal:8080\/api\/v1\/auths\/signin" has a path\. Fix: Open WebUI's base URL only \(e\.g\. "http:\/\/openwebui\.internal:8080"\)/);
    expect(constructWith(th("http://openwebui.internal:4180"))).toThrow(/is on port 4180, oauth2-proxy's\. Fix: Open WebUI's own port 8080/);
    expect(constructWith(th("openwebui:8080"))).toThrow(/openwebui\.url "openwebui:8080" is not an http\(s\) URL/);
  });

  it("a trusted header that is not a header name", () => {
    expect(constructWith(() => ({ openwebui: { url: "http://o:8080", provisioning: { kind: "trusted-header", emailHeader: "X Forwarded Email" } } }))).toThrow(
      /openwebui\.provisioning\.emailHeader "X Forwarded Email" is not an HTTP header name/,
    );
  });

  it("both openwebui and scim, or neither", () => {
    const token = { secretArn: "arn:x", secretName: "x" };
    expect(constructWith(() => ({ scim: { baseUrl: "http://o:8080/api/v1/scim/v2", token } }))).toThrow(/both openwebui and scim are given/);
    expect(constructWith(() => ({ openwebui: undefined }))).toThrow(/neither openwebui nor scim is given/);
  });

  it("a maximum concurrency outside the event source's 2–1000", () => {
    expect(constructWith((env) => ({ config: { ...provisioningConfigOf(env.auth)!, maxConcurrency: 1 } }))).toThrow(/config\.maxConcurrency is 1\. Fix: a whole number from 2 to 1000/);
  });

  it("no private subnets", () => {
    expect(constructWith(() => ({ network: { privateSubnetIds: [] } }))).toThrow(/network\.privateSubnetIds is empty/);
  });
});

describe("contractProblems / contractEnvironment (the synth-time env check)", () => {
  const worker = { SCIM_BASE_URL: "http://x:8080/api/v1/scim/v2", SCIM_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:1:secret:t" };

  it("accepts exactly the required variables, and optional ones of the contract", () => {
    expect(contractProblems("worker", worker)).toEqual([]);
    expect(contractProblems("worker", { ...worker, WEBHOOK_URL: "https://h.example.com", WORKER_CONCURRENCY: "3" })).toEqual([]);
  });

  it("names each missing required variable", () => {
    expect(contractProblems("reconciler", worker)).toEqual([expect.stringMatching(/^reconciler: USER_POOL_ID is required \(Cognito user pool to reconcile from\.\) but is not set\. Fix: set it$/)]);
    expect(contractProblems("producer", {})).toEqual([expect.stringMatching(/^producer: QUEUE_URL is required .* but is not set/)]);
  });

  it("treats an empty value as missing, as the handler does", () => {
    expect(contractProblems("producer", { QUEUE_URL: "  " })).toEqual([expect.stringMatching(/QUEUE_URL is required .* but is empty/)]);
  });

  it("names each variable the handler does not read (a typo, or another handler's)", () => {
    expect(contractProblems("worker", { ...worker, SCIM_BASEURL: "x", USER_POOL_ID: "p" })).toEqual([
      expect.stringMatching(/^worker: SCIM_BASEURL is not a variable the worker reads, so it would be ignored\. Fix: remove it, or use one of OPENWEBUI_PROVISIONING, SCIM_BASE_URL, /),
      expect.stringMatching(/^worker: USER_POOL_ID is not a variable the worker reads/),
    ]);
  });

  it("a path's variables are required on that path only, and refused on the other", () => {
    const trusted = { OPENWEBUI_PROVISIONING: "trusted-header", OPENWEBUI_URL: "http://o:8080", TRUSTED_EMAIL_HEADER: "X-Forwarded-Email" };
    expect(contractProblems("worker", trusted)).toEqual([]);
    expect(contractProblems("worker", { OPENWEBUI_PROVISIONING: "trusted-header" })).toEqual([
      expect.stringMatching(/^worker: OPENWEBUI_URL is required with OPENWEBUI_PROVISIONING=trusted-header .* but is not set/),
      expect.stringMatching(/^worker: TRUSTED_EMAIL_HEADER is required with OPENWEBUI_PROVISIONING=trusted-header/),
    ]);
    expect(contractProblems("worker", { ...trusted, ...worker })).toEqual([
      "worker: SCIM_BASE_URL is read only with OPENWEBUI_PROVISIONING=scim, so it would be ignored. Fix: remove it",
      "worker: SCIM_TOKEN_SECRET_ARN is read only with OPENWEBUI_PROVISIONING=scim, so it would be ignored. Fix: remove it",
    ]);
    // SCIM is the default path.
    expect(contractProblems("worker", { TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", ...worker })).toEqual([
      "worker: TRUSTED_EMAIL_HEADER is read only with OPENWEBUI_PROVISIONING=trusted-header, so it would be ignored. Fix: remove it",
    ]);
  });

  it("contractEnvironment throws with every problem, or returns a copy", () => {
    expect(() => contractEnvironment("producer", { QUEUE_URLS: "x" })).toThrow(/ENV_CONTRACT: producer: QUEUE_URL is required .*; producer: QUEUE_URLS is not a variable/);
    const env = { QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q" };
    expect(contractEnvironment("producer", env)).toEqual(env);
    expect(contractEnvironment("producer", env)).not.toBe(env);
  });
});

// ---------------------------------------------------------------------------------------------
// HCL gate
// ---------------------------------------------------------------------------------------------

/** foundationFixture's stack, in an App that can write HCL (Testing.app cannot). */
function gateApp(env: EnvConfig) {
  return ({ outdir, hclOutput }: { outdir?: string; hclOutput?: boolean }) => {
    const app = new App({ outdir, hclOutput, skipValidation: false });
    const { stack, aws, network, security } = foundationFixture(env, app);
    addLayers(stack, env, aws, network, security);
    return app;
  };
}

describe("HCL gate: a stack with the observability and provisioning layers", () => {
  const env = cognitoEnv((auth) => (auth.provisioning = { webhookUrl: "https://n8n.example.com/webhook/invite", reconcileSchedule: "cron(15 * * * ? *)" }));
  const factory = gateApp(env);

  it("cdk.tf decodes to exactly the JSON synth, and is in terraform fmt form", async () => {
    let json: SynthOutput | undefined;
    let hcl: SynthOutput | undefined;
    try {
      json = synthJson(factory);
      hcl = await synthHcl(factory);
      expect(await gateOutputs(json, hcl)).toEqual({ [env.name]: [] });
      const text = hcl.stacks[env.name]!.text;
      expect(text).toMatch(/resource "aws_sqs_queue" "provisioning_queue_/);
      expect(text).toMatch(/resource "aws_cloudwatch_metric_alarm" "provisioning_dlq-alarm_/);
      expect(text).toMatch(/resource "aws_sns_topic_policy" "observability_alarm-topic-policy_/);
      const terraform = ["/usr/local/bin/terraform", "/usr/bin/terraform"].find((p) => existsSync(p));
      if (terraform) {
        const formatted = execFileSync(terraform, ["fmt", "-no-color", "-"], { input: text, stdio: "pipe" }).toString();
        expect(formatted.trimEnd()).toBe(text.trimEnd());
      }
    } finally {
      json?.cleanup();
      hcl?.cleanup();
    }
  });
});
