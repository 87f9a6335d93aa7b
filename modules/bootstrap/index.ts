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
import { accountKeyAdministration, denyInsecureTransport, policyDocument, type PolicyStatement } from "../../lib/policy.js";

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
}

export class Bootstrap extends Construct {
  readonly bucket: S3Bucket;
  readonly stateKey: KmsKey;
  readonly lockTable?: DynamodbTable;
  /** JSON of the policy for reading/writing state (plan and apply). */
  readonly statePolicyJson: string;
  /** JSON of the read-only policy a `cdktf diff` (terraform plan) role needs. */
  readonly planPolicyJson: string;
  /** JSON of the policy a `cdktf deploy` role needs, scoped to the resource prefix and region. */
  readonly deployPolicyJson: string;

  constructor(scope: Construct, id: string, props: BootstrapProps) {
    super(scope, id);
    const { aws } = props;
    const arn = (service: string, resource: string, region = aws.region) => `arn:${aws.partition}:${service}:${region}:${aws.accountId}:${resource}`;

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

    const regionOnly = { test: "StringEquals", variable: "aws:RequestedRegion", values: [aws.region] };
    // Reads cannot be scoped by resource for most Describe/List APIs; they are read-only and region-bound.
    this.planPolicyJson = policyDocument(this, "ci-plan-policy", [
      {
        sid: "ReadPlatformConfiguration",
        actions: [
          "ec2:Describe*", "elasticloadbalancing:Describe*", "ecs:Describe*", "ecs:List*", "rds:Describe*", "rds:ListTagsForResource",
          "elasticfilesystem:Describe*", "elasticache:Describe*", "elasticache:ListTagsForResource", "kms:DescribeKey", "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags", "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
          "secretsmanager:ListSecrets", "logs:Describe*", "logs:ListTagsForResource", "cloudwatch:Describe*", "cloudwatch:ListTagsForResource",
          "sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:GetSubscriptionAttributes", "sqs:GetQueueAttributes", "sqs:ListQueueTags",
          "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:ListVersionsByFunction", "lambda:GetFunctionCodeSigningConfig",
          "lambda:ListTags", "lambda:GetEventSourceMapping", "lambda:GetFunctionConcurrency", "cognito-idp:Describe*", "cognito-idp:GetUserPoolMfaConfig",
          "cognito-idp:ListTagsForResource", "wafv2:Get*", "wafv2:List*", "acm:DescribeCertificate", "acm:ListTagsForCertificate",
          "ssm:GetParameter", "ssm:GetParameters", "ssm:DescribeParameters", "ssm:ListTagsForResource", "servicediscovery:Get*", "servicediscovery:List*",
          "application-autoscaling:Describe*", "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource",
          "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration",
          "s3:ListBucket", "bedrock:GetModelInvocationLoggingConfiguration", "sts:GetCallerIdentity",
        ],
        resources: ["*"],
        conditions: [regionOnly],
      },
      {
        sid: "ReadGlobalIam",
        actions: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListInstanceProfilesForRole"],
        resources: [`arn:${aws.partition}:iam::${aws.accountId}:role/${props.resourcePrefix}*`, `arn:${aws.partition}:iam::${aws.accountId}:policy/${props.resourcePrefix}*`],
      },
    ]).json;

    const prefixed = (service: string, type: string) => arn(service, `${type}${props.resourcePrefix}*`);
    this.deployPolicyJson = policyDocument(this, "ci-deploy-policy", [
      {
        sid: "ManageNetworkAndComputeInRegion",
        // EC2/ELB/ECS/Auto Scaling create calls take no resource names to scope by; the region and
        // the request tag Project=open-webui bound them instead.
        actions: [
          "ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateRoute", "ec2:AssociateRouteTable", "ec2:CreateInternetGateway",
          "ec2:AttachInternetGateway", "ec2:AllocateAddress", "ec2:CreateNatGateway", "ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs",
          "ec2:CreateTags", "ec2:ModifyVpcAttribute", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcEndpoint",
          "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
          "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
          "elasticloadbalancing:Create*", "elasticloadbalancing:Modify*", "elasticloadbalancing:AddTags", "elasticloadbalancing:SetWebAcl",
          "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "ecs:CreateCluster", "ecs:CreateService", "ecs:UpdateService",
          "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:TagResource", "ecs:PutClusterCapacityProviders", "ecs:UpdateCluster",
          "application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy", "application-autoscaling:TagResource",
          "servicediscovery:CreatePrivateDnsNamespace", "servicediscovery:CreateHttpNamespace", "servicediscovery:TagResource", "route53:CreateHostedZone",
          "acm:RequestCertificate", "acm:AddTagsToCertificate", "wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:AssociateWebACL", "wafv2:TagResource",
          "rds:CreateDBCluster", "rds:CreateDBInstance", "rds:CreateDBSubnetGroup", "rds:CreateDBClusterParameterGroup", "rds:ModifyDBCluster",
          "rds:ModifyDBInstance", "rds:ModifyDBClusterParameterGroup", "rds:AddTagsToResource", "elasticfilesystem:CreateFileSystem",
          "elasticfilesystem:CreateMountTarget", "elasticfilesystem:CreateAccessPoint", "elasticfilesystem:TagResource", "elasticfilesystem:PutLifecyclePolicy",
          "elasticfilesystem:PutBackupPolicy", "elasticache:CreateReplicationGroup", "elasticache:CreateCacheSubnetGroup", "elasticache:ModifyReplicationGroup",
          "elasticache:AddTagsToResource", "kms:CreateKey", "kms:TagResource", "cognito-idp:CreateUserPool", "cognito-idp:TagResource",
          "bedrock:PutModelInvocationLoggingConfiguration",
        ],
        resources: ["*"],
        conditions: [regionOnly],
      },
      {
        sid: "DeleteOnlyProjectTaggedResources",
        actions: [
          "ec2:Delete*", "ec2:DisassociateRouteTable", "ec2:DetachInternetGateway", "ec2:ReleaseAddress", "elasticloadbalancing:Delete*",
          "ecs:DeleteService", "ecs:DeleteCluster", "rds:DeleteDBCluster", "rds:DeleteDBInstance", "elasticfilesystem:Delete*", "elasticache:Delete*",
          "wafv2:DeleteWebACL", "wafv2:DisassociateWebACL", "acm:DeleteCertificate", "kms:ScheduleKeyDeletion",
        ],
        resources: ["*"],
        conditions: [regionOnly, { test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["open-webui"] }],
      },
      {
        sid: "ManagePrefixedNamedResources",
        actions: [
          "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:PutResourcePolicy",
          "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey", "logs:TagResource", "logs:TagLogGroup",
          "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:Unsubscribe", "sns:TagResource",
          "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "lambda:CreateFunction", "lambda:DeleteFunction",
          "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:AddPermission", "lambda:RemovePermission", "lambda:InvokeFunction",
          "lambda:PutFunctionConcurrency", "lambda:TagResource", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource",
          "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "events:PutRule", "events:PutTargets", "events:DeleteRule", "events:RemoveTargets",
          "s3:CreateBucket", "s3:PutBucket*", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutObject", "s3:DeleteBucket*",
        ],
        resources: [
          prefixed("secretsmanager", "secret:"), arn("logs", `log-group:/owui/*`), arn("logs", `log-group:/aws/lambda/${props.resourcePrefix}*`),
          prefixed("sns", ""), prefixed("sqs", ""), prefixed("lambda", "function:"), prefixed("cloudwatch", "alarm:"),
          arn("ssm", "parameter/owui/*"), prefixed("events", "rule/"), `arn:${aws.partition}:s3:::${props.resourcePrefix}*`,
        ],
      },
      {
        sid: "ManagePrefixedRoles",
        actions: [
          "iam:CreateRole", "iam:DeleteRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
          "iam:TagRole", "iam:UpdateAssumeRolePolicy", "iam:CreateServiceLinkedRole",
        ],
        resources: [`arn:${aws.partition}:iam::${aws.accountId}:role/${props.resourcePrefix}*`, `arn:${aws.partition}:iam::${aws.accountId}:role/aws-service-role/*`],
      },
      {
        sid: "PassPrefixedRolesToPlatformServices",
        actions: ["iam:PassRole"],
        resources: [`arn:${aws.partition}:iam::${aws.accountId}:role/${props.resourcePrefix}*`],
        conditions: [
          {
            test: "StringEquals",
            variable: "iam:PassedToService",
            values: ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com", "rds.amazonaws.com", "monitoring.rds.amazonaws.com", "bedrock.amazonaws.com"],
          },
        ],
      },
    ]).json;
  }
}
