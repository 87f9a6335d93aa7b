/** Once per account: the state bucket, its key, an optional lock table, and CI/CD policy documents. */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { BootstrapConfig } from "../envs/schema.js";
import { useRemoteState } from "../lib/backend.js";
import { defaultTags } from "../lib/naming.js";
import { Bootstrap } from "../modules/bootstrap/index.js";
import type { GithubCiConfig } from "../modules/bootstrap/github.js";

/** The bootstrap config, plus the GitHub Actions roles (envs/bootstrap.ts). */
export type BootstrapStackConfig = BootstrapConfig & { readonly github?: GithubCiConfig };

export class BootstrapStack extends TerraformStack {
  readonly bootstrap: Bootstrap;

  constructor(scope: Construct, id: string, config: BootstrapStackConfig) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: config.region, defaultTags: [{ tags: defaultTags("bootstrap", config.tags) }] });
    if (config.migrated) {
      // After the first apply the bucket exists: keep this stack's own state in it, on real S3.
      useRemoteState(this, {
        bucket: config.stateBucketName,
        endpoint: `https://s3.${config.region}.amazonaws.com`,
        region: config.region,
        usePathStyle: false,
        skipAwsValidations: false,
        useLockfile: true,
      }, `${config.keyPrefix}/bootstrap.tfstate`);
    } else {
      new LocalBackend(this, { path: "terraform.bootstrap.tfstate" });
    }
    this.bootstrap = new Bootstrap(this, "bootstrap", {
      aws: {
        region: config.region,
        accountId: new DataAwsCallerIdentity(this, "current").accountId,
        partition: new DataAwsPartition(this, "partition").partition,
      },
      stateBucketName: config.stateBucketName,
      keyPrefix: config.keyPrefix,
      resourcePrefix: config.resourcePrefix,
      dynamodbLockTable: config.dynamodbLockTable,
      noncurrentVersionDays: config.noncurrentVersionDays,
      kmsDeletionWindowDays: config.kmsDeletionWindowDays,
      ...(config.github ? { github: config.github } : {}),
    });
    const b = this.bootstrap;
    new TerraformOutput(this, "state_bucket", { value: b.bucket.bucket });
    new TerraformOutput(this, "state_kms_key_arn", { value: b.stateKey.arn });
    if (b.lockTable) new TerraformOutput(this, "lock_table", { value: b.lockTable.name });
    new TerraformOutput(this, "ci_state_policy_json", { value: b.statePolicyJson, description: "Attach to the CI/CD role: read/write state and lock files" });
    new TerraformOutput(this, "ci_plan_policy_json", { value: b.planPolicyJson, description: "Attach to the CI/CD plan and deploy roles: Describe/List/Get of the stacks' resource types" });
    new TerraformOutput(this, "ci_deploy_policy_json", {
      value: b.deployPolicyJson,
      description: "The CI/CD deploy role's write policy, whole (for review; larger than one managed policy: attach ci_deploy_policy_parts_json)",
    });
    new TerraformOutput(this, "ci_deploy_policy_parts_json", {
      value: b.deployPolicyPartsJson,
      description: "ci_deploy_policy_json split into managed-policy-sized documents: attach each to the CI/CD deploy role",
    });
    if (b.github) {
      new TerraformOutput(this, "github_oidc_provider_arn", { value: b.github.providerArn });
      new TerraformOutput(this, "ci_plan_role_arn", { value: b.github.planRole.arn, description: "Repository variable AWS_PLAN_ROLE_ARN: the pull-request plan jobs assume it" });
      new TerraformOutput(this, "ci_deploy_role_arn", { value: b.github.deployRole.arn, description: "Repository variable AWS_DEPLOY_ROLE_ARN: the apply jobs (GitHub environments) assume it" });
    }
  }
}
