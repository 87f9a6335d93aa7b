/**
 * Bootstrap layer: the Terraform state store for an account that lacks the shared backend, and the
 * least-privilege IAM policy documents a CI/CD role needs to plan and deploy the platform.
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { defaultTags } from "../../lib/naming.js";
import { accountKeyAdministration, denyInsecureTransport, policyDocument, type PolicyStatement } from "../../lib/policy.js";
import { deployStatements, planStatements, splitForManagedPolicies, type CiPolicyContext } from "./ci-policy.js";
import { GithubCiRoles, type GithubCiConfig } from "./github.js";
import { STACK_TERRAFORM_TYPES } from "./stack-types.generated.js";

/** The tag the provider's default_tags put on every project resource; the deploy policy keys on it. */
const PROJECT_TAG = { key: "Project", value: defaultTags("bootstrap", {}).Project! };

export interface BootstrapProps {
  readonly aws: AwsContext;
  /** Name of the state bucket. */
  readonly stateBucketName: string;
  /** State keys CI may read and write are `<keyPrefix>/*`. */
  readonly keyPrefix: string;
  /** Resource-name prefix the deploy policy is scoped to, e.g. `owui-`. */
  readonly resourcePrefix: string;
  /** Create a DynamoDB lock table (Terraform < 1.10). @default false */
  readonly dynamodbLockTable?: boolean;
  /** Days before noncurrent state versions expire. @default 90 */
  readonly noncurrentVersionDays?: number;
  /** KMS deletion window. @default 30 */
  readonly kmsDeletionWindowDays?: number;
  /**
   * Terraform types (`aws_*`, data sources as `data.aws_*`) the CI/CD role plans and deploys; the
   * plan and deploy policies grant exactly what these need (lib/iam-actions.ts).
   * @default - the types the env and certificate stacks synthesize (stack-types.generated.ts)
   */
  readonly terraformTypes?: readonly string[];
  /**
   * GitHub Actions' OIDC provider and a plan and a deploy role carrying the policies below, trusted
   * by this repository's pull-request jobs (plan) and its listed GitHub environments (deploy).
   * Named `github-<resourcePrefix>plan|deploy`, outside the deploy policy's own `role/<resourcePrefix>*`.
   * @default - no roles (attach the policy outputs to roles of your own)
   */
  readonly github?: GithubCiConfig;
}

export class Bootstrap extends Construct {
  readonly bucket: S3Bucket;
  readonly stateKey: KmsKey;
  readonly lockTable?: DynamodbTable;
  /** JSON of the policy for reading/writing state (plan and apply). */
  readonly statePolicyJson: string;
  /** JSON of the read-only policy a `cdktf diff` (terraform plan) role needs: Describe/List/Get of the stacks' types. */
  readonly planPolicyJson: string;
  /**
   * JSON of the write policy a `cdktf deploy` role needs (attach it with the plan and state policies):
   * creates carry the project tag, changes touch only project-tagged or project-named resources.
   */
  readonly deployPolicyJson: string;
  /** {@link deployPolicyJson}'s statements in parts that each fit one managed policy; attach all of them. */
  readonly deployPolicyPartsJson: string[];
  /** The GitHub OIDC provider and CI roles, when {@link BootstrapProps.github} is set. */
  readonly github?: GithubCiRoles;

  constructor(scope: Construct, id: string, props: BootstrapProps) {
    super(scope, id);
    const { aws } = props;

    this.stateKey = new KmsKey(this, "state-key", {
      description: "Terraform state encryption",
      enableKeyRotation: true,
      deletionWindowInDays: props.kmsDeletionWindowDays ?? 30,
      policy: policyDocument(this, "state-key-policy", [accountKeyAdministration(aws.partition, aws.accountId)]).json,
    });
    new KmsAlias(this, "state-key-alias", { name: `alias/${props.stateBucketName}`, targetKeyId: this.stateKey.keyId });

    this.bucket = new S3Bucket(this, "state-bucket", { bucket: props.stateBucketName, forceDestroy: false, lifecycle: { preventDestroy: true } });
    new S3BucketOwnershipControls(this, "state-ownership", { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketVersioningA(this, "state-versioning", { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "state-sse", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.stateKey.arn }, bucketKeyEnabled: true }],
    });
    new S3BucketPublicAccessBlock(this, "state-public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketLifecycleConfiguration(this, "state-lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-noncurrent-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionDays ?? 90 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    new S3BucketPolicy(this, "state-policy", {
      bucket: this.bucket.id,
      policy: policyDocument(this, "state-bucket-policy", [denyInsecureTransport([this.bucket.arn, `${this.bucket.arn}/*`], ["s3:*"])]).json,
    });

    if (props.dynamodbLockTable) {
      this.lockTable = new DynamodbTable(this, "lock-table", {
        name: `${props.stateBucketName}-lock`,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "LockID",
        attribute: [{ name: "LockID", type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: this.stateKey.arn },
        deletionProtectionEnabled: true,
      });
    }

    // --- CI/CD policy documents ---------------------------------------------------------------
    const stateObjects = `${this.bucket.arn}/${props.keyPrefix}/*`;
    const stateStatements: PolicyStatement[] = [
      {
        sid: "ListStatePrefix",
        actions: ["s3:ListBucket"],
        resources: [this.bucket.arn],
        conditions: [{ test: "StringLike", variable: "s3:prefix", values: [`${props.keyPrefix}/*`] }],
      },
      // use_lockfile writes `<key>.tflock` next to the state object, so the same prefix covers it.
      { sid: "ReadWriteStateAndLockFiles", actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources: [stateObjects] },
      { sid: "UseStateKey", actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources: [this.stateKey.arn] },
    ];
    if (this.lockTable) {
      stateStatements.push({ sid: "LegacyDynamoDbLock", actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"], resources: [this.lockTable.arn] });
    }
    this.statePolicyJson = policyDocument(this, "ci-state-policy", stateStatements).json;

    const ci: CiPolicyContext = { partition: aws.partition, region: aws.region, accountId: aws.accountId, resourcePrefix: props.resourcePrefix, tag: PROJECT_TAG };
    const types = props.terraformTypes ?? STACK_TERRAFORM_TYPES;
    this.planPolicyJson = policyDocument(this, "ci-plan-policy", planStatements(ci, types)).json;
    this.deployPolicyJson = policyDocument(this, "ci-deploy-policy", deployStatements(ci, types)).json;
    // The whole deploy policy outgrows one managed policy (6,144 characters): the same statements,
    // in parts that each fit one, are what a role attaches.
    this.deployPolicyPartsJson = splitForManagedPolicies((c) => deployStatements(c, types), ci).map((part, i) => policyDocument(this, `ci-deploy-policy-part-${i + 1}`, part).json);

    if (props.github) {
      const common = { state: this.statePolicyJson, read: this.planPolicyJson };
      this.github = new GithubCiRoles(this, "github", {
        aws,
        config: props.github,
        // `github-owui-`: the deploy policy may change roles named `owui-*`, so it must not reach its own.
        namePrefix: `github-${props.resourcePrefix}`,
        planPolicies: common,
        deployPolicies: { ...common, ...Object.fromEntries(this.deployPolicyPartsJson.map((json, i) => [`write-${i + 1}`, json])) },
      });
    }
  }
}
