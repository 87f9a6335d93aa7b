/**
 * `account-<region>` (or `account-<accountId>-<region>`): the settings that exist once per AWS
 * account and region, owned by no env (envs/accounts.ts). Its state is its own, so destroying or
 * renaming an env never touches them; envs/cross-env.ts refuses two such stacks for one account
 * and region.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AccountConfig } from "../envs/schema.js";
import { useRemoteState } from "../lib/backend.js";
import type { AwsContext } from "../lib/context.js";
import { defaultTags } from "../lib/naming.js";
import { BedrockInvocationLogging } from "../modules/account/index.js";

export class AccountStack extends TerraformStack {
  /** Present when `bedrockInvocationLogging.enabled`. */
  readonly invocationLogging?: BedrockInvocationLogging;

  constructor(scope: Construct, id: string, account: AccountConfig) {
    super(scope, id);
    new AwsProvider(this, "aws", {
      region: account.region,
      // With a declared account, credentials of any other account fail at plan instead of writing there.
      ...(account.accountId ? { allowedAccountIds: [account.accountId] } : {}),
      defaultTags: [{ tags: defaultTags("account", account.tags) }],
    });
    useRemoteState(this, account.state, account.state.key);
    const aws: AwsContext = {
      region: account.region,
      accountId: new DataAwsCallerIdentity(this, "current").accountId,
      partition: new DataAwsPartition(this, "partition").partition,
    };

    const logging = account.bedrockInvocationLogging;
    // Switched off, the stack stays (empty): its next deploy deletes the setting, nothing is orphaned.
    if (!logging.enabled) return;
    const text = logging.textDelivery;
    this.invocationLogging = new BedrockInvocationLogging(this, "bedrock-invocation-logging", {
      aws,
      retentionDays: logging.retentionDays,
      textDelivery: text.enabled ? { reason: text.reason } : undefined,
      kmsDeletionWindowDays: account.kmsDeletionWindowDays,
    });
    new TerraformOutput(this, "bedrock_invocation_log_group", { value: this.invocationLogging.logGroupName });
    new TerraformOutput(this, "bedrock_invocation_text_delivery", {
      value: text.enabled,
      description: text.enabled ? `prompts and completions are logged: ${text.reason}` : "metadata only: no prompt or completion is logged",
    });
  }
}
