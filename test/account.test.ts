/**
 * Bedrock model invocation logging has one owner per account and region: the account stack
 * (stacks/account-stack.ts, modules/account). Metadata only unless text delivery is opted into with
 * a reason; no env stack sets it (issue 12, item 4). The refusal of two owners is in
 * test/envs-refusals.test.ts ("cross-env collisions").
 */
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { ConfigErrors } from "../lib/errors.js";
import { ACCOUNT_STACKS, ENVIRONMENTS } from "../envs/index.js";
import { defineAccount, type AccountInput } from "../envs/schema.js";
import { INVOCATION_LOG_GROUP } from "../modules/account/index.js";
import { AccountStack } from "../stacks/account-stack.js";
import { policyOf, synthPlatform, synthStack, type Synthesized } from "./support/synth.js";

const ACCOUNT = "${data.aws_caller_identity.current.account_id}";
const base: AccountInput = { region: "us-east-1", state: { key: "open-webui/aws/account-us-east-1.tfstate" } };
const synthAccount = (input: AccountInput): Synthesized => {
  const account = defineAccount(input);
  return synthStack(new AccountStack(Testing.app(), account.stackId, account));
};
const loggingConfig = (s: Synthesized) => [s.resource("aws_bedrock_model_invocation_logging_configuration").logging_config].flat()[0];

describe("the account stack, by default", () => {
  const s = synthAccount(base);

  it("logs invocation metadata only: text, image, embedding and video delivery all written as false", () => {
    // The provider delivers every data type whose field is left out, so all four must be explicit.
    expect(loggingConfig(s)).toMatchObject({ text_data_delivery_enabled: false, image_data_delivery_enabled: false, embedding_data_delivery_enabled: false, video_data_delivery_enabled: false });
  });

  it("delivers to a log group encrypted with a key of its own, kept for 90 days", () => {
    const group = s.resource("aws_cloudwatch_log_group");
    expect(group).toMatchObject({ name: INVOCATION_LOG_GROUP, retention_in_days: 90 });
    expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\.bedrock-invocation-logging_key_\w+\.arn\}$/);
    expect([loggingConfig(s).cloudwatch_config].flat()[0].log_group_name).toMatch(/^\$\{aws_cloudwatch_log_group\.bedrock-invocation-logging_log-group_\w+\.name\}$/);
    const key = s.resource("aws_kms_key");
    expect(key.enable_key_rotation).toBe(true);
    const logs = policyOf(s, key.policy).statement.find((st: any) => st.sid === "CloudWatchLogsEncryptsTheInvocationLog");
    expect(logs.principals).toEqual([{ type: "Service", identifiers: ["logs.us-east-1.amazonaws.com"] }]);
    expect(logs.condition).toEqual([{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [`arn:\${data.aws_partition.partition.partition}:logs:us-east-1:${ACCOUNT}:log-group:${INVOCATION_LOG_GROUP}`] }]);
  });

  it("writes through a role only Bedrock of this account and region assumes, allowed only to write that group's streams", () => {
    const role = s.resource("aws_iam_role");
    expect(role.name).toBe("owui-bedrock-logging-us-east-1");
    const trust = policyOf(s, role.assume_role_policy).statement[0];
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["bedrock.amazonaws.com"] }]);
    expect(trust.condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
      { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:\${data.aws_partition.partition.partition}:bedrock:us-east-1:${ACCOUNT}:*`] },
    ]);
    const policy = policyOf(s, s.resource("aws_iam_role_policy").policy);
    expect(policy.statement).toEqual([expect.objectContaining({ sid: "WriteInvocationLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [expect.stringMatching(/aws_cloudwatch_log_group\.bedrock-invocation-logging_log-group_\w+\.arn\}:log-stream:\*$/)] })]);
  });

  it("is put only after the role's policy exists (depends_on, not a construct dependency cdktf drops)", () => {
    const [policyName] = s.resources("aws_iam_role_policy")[0]!;
    expect(s.resource("aws_bedrock_model_invocation_logging_configuration").depends_on).toEqual([`aws_iam_role_policy.${policyName}`]);
  });

  it("keeps its state at its own explicit key, with no account pinned when none is declared", () => {
    expect(s.json.terraform.backend.s3.key).toBe("open-webui/aws/account-us-east-1.tfstate");
    expect(s.json.provider.aws[0].allowed_account_ids).toBeUndefined();
    expect(s.output("bedrock_invocation_text_delivery")).toMatchObject({ value: false, description: "metadata only: no prompt or completion is logged" });
  });
});

describe("account stack switches", () => {
  it("delivers prompts and completions only when asked, with the reason on record", () => {
    const reason = "audit duty under policy SEC-12 until 2026-12";
    const s = synthAccount({ ...base, bedrockInvocationLogging: { textDelivery: { enabled: true, reason } } });
    expect(loggingConfig(s)).toMatchObject({ text_data_delivery_enabled: true, image_data_delivery_enabled: false, embedding_data_delivery_enabled: false, video_data_delivery_enabled: false });
    expect(s.output("bedrock_invocation_text_delivery")).toMatchObject({ value: true, description: `prompts and completions are logged: ${reason}` });
  });

  it("refuses text delivery without a reason of at least 10 characters", () => {
    const refused = (textDelivery: unknown) => {
      try {
        defineAccount({ ...base, bedrockInvocationLogging: { textDelivery } } as AccountInput);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigErrors);
        return (err as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refused({ enabled: true })).toMatch(/account-us-east-1: bedrockInvocationLogging\.textDelivery\.reason: expected string, got nothing \(the field is missing\)\. Fix: say why they must be kept, in at least 10 characters, or set enabled to false/);
    expect(refused({ enabled: true, reason: "  because " })).toMatch(/bedrockInvocationLogging\.textDelivery\.reason: "because" is shorter than 10 characters|bedrockInvocationLogging\.textDelivery\.reason: is shorter than 10 characters/);
    expect(refused({ enabled: false, reason: "not needed at all" })).toMatch(/bedrockInvocationLogging\.textDelivery: unknown key "reason"/);
  });

  it("creates nothing when logging is off, so its next deploy deletes the setting", () => {
    const s = synthAccount({ ...base, bedrockInvocationLogging: { enabled: false } });
    expect(Object.keys(s.json.resource ?? {})).toEqual([]);
  });

  it("pins a declared account: its id names the stack and the provider refuses other credentials", () => {
    const account = defineAccount({ ...base, accountId: "111122223333" });
    expect(account.stackId).toBe("account-111122223333-us-east-1");
    expect(synthAccount({ ...base, accountId: "111122223333" }).json.provider.aws[0].allowed_account_ids).toEqual(["111122223333"]);
  });

  it("keeps the log for the configured retention", () => {
    expect(synthAccount({ ...base, bedrockInvocationLogging: { retentionDays: 365 } }).resource("aws_cloudwatch_log_group").retention_in_days).toBe(365);
  });
});

describe("ownership across the app", () => {
  it("has one account stack for us-east-1, where every env deploys", () => {
    expect(ACCOUNT_STACKS.map((a) => a.stackId)).toEqual(["account-us-east-1"]);
    expect(new Set(ENVIRONMENTS.map((e) => e.region))).toEqual(new Set(["us-east-1"]));
  });

  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s sets no invocation logging of its own", (_name, env) => {
    const s = synthPlatform(env);
    expect(s.resources("aws_bedrock_model_invocation_logging_configuration")).toEqual([]);
    expect(s.resources("aws_iam_role").filter(([n]) => n.includes("bedrock"))).toEqual([]);
  });
});
