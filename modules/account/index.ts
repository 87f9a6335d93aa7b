/**
 * Account layer: the settings that exist once per AWS account and region, which no env stack may
 * own (every env would overwrite them, and destroying any env would undo them for all). Today one:
 * Bedrock model invocation logging, into a KMS-encrypted log group through a role only Bedrock of
 * this account and region may assume. Deployed by the `account-<region>` stack (stacks/account-stack.ts).
 */
import { BedrockModelInvocationLoggingConfiguration } from "@cdktf/provider-aws/lib/bedrock-model-invocation-logging-configuration";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { PROJECT } from "../../lib/naming.js";
import { accountKeyAdministration, InlinePolicy, policyDocument } from "../../lib/policy.js";

/** The log group Bedrock writes to (one per region; log groups are regional). */
export const INVOCATION_LOG_GROUP = `/${PROJECT}/account/bedrock-invocations`;

export interface BedrockInvocationLoggingProps {
  readonly aws: AwsContext;
  /** Days to keep the log (a CloudWatch Logs retention period). */
  readonly retentionDays: number;
  /**
   * Deliver the text of prompts and completions too, with the reason it is needed (at least 10
   * characters; envs/schema.ts checks it). @default - metadata only: model, caller ARN, token counts,
   * latency, status and errors; no prompt, completion, image, embedding or video
   */
  readonly textDelivery?: { readonly reason: string };
  /** Deletion window of the log group's key, in days (7–30). @default 30 */
  readonly kmsDeletionWindowDays?: number;
}

/**
 * `aws_bedrock_model_invocation_logging_configuration` → CloudWatch Logs.
 *
 * The provider delivers every data type a `logging_config` leaves out (each `*_data_delivery_enabled`
 * defaults to true), so all four are written: text from `textDelivery`, image, embedding and video
 * always false. With all four off, Bedrock still writes one record per invocation with its
 * metadata (model id, operation, the caller's ARN, input and output token counts, latency, status,
 * error code, request metadata): usage per model and caller, and who outside LiteLLM invokes
 * models in the account, without any user's words. That is the default.
 */
export class BedrockInvocationLogging extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly role: IamRole;
  readonly key: KmsKey;
  readonly configuration: BedrockModelInvocationLoggingConfiguration;
  readonly logGroupName: string;
  /** Whether prompts and completions are delivered (`textDelivery`). */
  readonly textDelivered: boolean;

  constructor(scope: Construct, id: string, props: BedrockInvocationLoggingProps) {
    super(scope, id);
    const { aws } = props;
    const name = `${PROJECT}-bedrock-invocations`;
    const logGroupArn = `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:${INVOCATION_LOG_GROUP}`;

    this.key = new KmsKey(this, "key", {
      description: `${PROJECT} account: encrypts the Bedrock invocation log of ${aws.region}`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      deletionWindowInDays: props.kmsDeletionWindowDays ?? 30,
      policy: policyDocument(this, "key-policy", [
        accountKeyAdministration(aws.partition, aws.accountId),
        {
          sid: "CloudWatchLogsEncryptsTheInvocationLog",
          actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
          resources: ["*"],
          principals: [{ type: "Service", identifiers: [`logs.${aws.region}.amazonaws.com`] }],
          conditions: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [logGroupArn] }],
        },
      ]).json,
      tags: { Name: name },
    });
    new KmsAlias(this, "key-alias", { name: `alias/${name}`, targetKeyId: this.key.keyId });

    this.logGroup = new CloudwatchLogGroup(this, "log-group", { name: INVOCATION_LOG_GROUP, retentionInDays: props.retentionDays, kmsKeyId: this.key.arn });
    this.logGroupName = this.logGroup.name;

    // IAM is global: the region in the name keeps one role per region of the account.
    this.role = new IamRole(this, "role", {
      name: `${PROJECT}-bedrock-logging-${aws.region}`,
      description: `Bedrock writes model invocation logs of ${aws.region} to ${INVOCATION_LOG_GROUP}`,
      assumeRolePolicy: policyDocument(this, "trust", [
        {
          sid: "BedrockAssumes",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["bedrock.amazonaws.com"] }],
          conditions: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [aws.accountId] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:${aws.partition}:bedrock:${aws.region}:${aws.accountId}:*`] },
          ],
        },
      ]).json,
    });
    const policy = new InlinePolicy(this, "policy", this.role.name);
    policy.add({ sid: "WriteInvocationLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${this.logGroup.arn}:log-stream:*`] });

    this.textDelivered = props.textDelivery !== undefined;
    this.configuration = new BedrockModelInvocationLoggingConfiguration(this, "Resource", {
      loggingConfig: [
        {
          cloudwatchConfig: [{ logGroupName: this.logGroup.name, roleArn: this.role.arn }],
          textDataDeliveryEnabled: this.textDelivered,
          imageDataDeliveryEnabled: false,
          embeddingDataDeliveryEnabled: false,
          videoDataDeliveryEnabled: false,
        },
      ],
      // Bedrock checks at the PUT that it can assume the role and write: the policy must exist first.
      // (`dependsOn` on the resource: cdktf writes no depends_on for node.addDependency.)
      dependsOn: [policy.resource!],
    });
  }
}
