/**
 * The one Lambda construct of the project: a Node.js function (nodejs22.x, arm64, X-Ray active)
 * shipped from a deterministic esbuild bundle, with its own KMS-encrypted log group, its own
 * execution role and one inline least-privilege policy.
 *
 * The inline policy is one readable `aws_iam_policy_document` (lib/policy.ts `InlinePolicy`, the
 * same mechanism ECS task roles use): the runtime's own needs, the `statements` prop, and each
 * later `grant(...)`, which lands in the same document.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { AssetType, TerraformAsset, Token } from "cdktf";
import { Construct } from "constructs";
import type { KeyRef } from "../modules/security/index.js";
import type { Bundle } from "./bundle.js";
import type { AwsContext } from "./context.js";
import { InlinePolicy, policyDocument, type PolicyStatement } from "./policy.js";

export interface NodeFunctionVpcConfig {
  /** Subnets of the function's network interfaces (private subnets). */
  readonly subnetIds: readonly string[];
  /** Security groups of the function's network interfaces. */
  readonly securityGroupIds: readonly string[];
}

export interface NodeFunctionProps {
  /** Full function name, e.g. `owui-nonprod-db-bootstrap`; also names the role and the log group. */
  readonly name: string;
  readonly description: string;
  /** Account facts: the role's trust condition and the function's own ARN. */
  readonly aws: AwsContext;
  /** The code, from `bundleFunction` (lib/bundle.ts). */
  readonly bundle: Bundle;
  /** @default "index.handler" */
  readonly handler?: string;
  /**
   * Plain, non-secret settings. Names that mention a secret (PASSWORD, PASSWD, SECRET, TOKEN, KEY,
   * CREDENTIAL, PRIVATE) are refused unless they end in `_ARN`, `_ID`, `_NAME` or `_URL` (they then
   * name where a secret lives, not the secret); values holding a URL with a password are refused
   * whatever the name. See {@link checkEnvironment}.
   * @default - no environment variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** CMK for the environment variables (`kms_key_arn`) and the log group. */
  readonly kmsKey: KeyRef;
  /** Retention of `/aws/lambda/<name>`, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /** @default 30 */
  readonly timeoutSeconds?: number;
  /** @default 256 */
  readonly memoryMiB?: number;
  /** Reserved concurrent executions (CKV_AWS_115): caps what one function can take from the account. */
  readonly reservedConcurrency: number;
  /** Run inside the VPC. @default - no VPC (public Lambda networking) */
  readonly vpc?: NodeFunctionVpcConfig;
  /** The function's own least-privilege permissions; more can be added with `grant()`. */
  readonly statements: readonly PolicyStatement[];
}

/** What other layers may use of a function. */
export interface NodeFunctionOutputs {
  readonly functionName: string;
  readonly functionArn: string;
  readonly roleArn: string;
  readonly roleName: string;
}

/** Who may invoke the function; `sourceArn` is required (CKV_AWS_301). */
export interface InvokePermission {
  /** Service principal, e.g. `events.amazonaws.com`. Never `*`. */
  readonly principal: string;
  /** The one resource allowed to invoke, e.g. an EventBridge rule or a Cognito user pool ARN. */
  readonly sourceArn: string;
  /** @default - not set (the source ARN already pins the account for most services) */
  readonly sourceAccount?: string;
  /** @default "lambda:InvokeFunction" */
  readonly action?: string;
}

const SECRET_WORDS = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE"] as const;
const REFERENCE_SUFFIXES = ["_ARN", "_ID", "_NAME", "_URL"] as const;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

/**
 * The rule for environment variables (they are plain text in Terraform state and in the Lambda
 * configuration): a name containing one of {@link SECRET_WORDS} must end in one of
 * {@link REFERENCE_SUFFIXES}, and no value may be a URL carrying a password. Returns the problems.
 */
export function checkEnvironment(environment: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(environment)) {
    const upper = name.toUpperCase();
    const word = SECRET_WORDS.find((w) => upper.includes(w));
    if (word && !REFERENCE_SUFFIXES.some((s) => upper.endsWith(s))) {
      problems.push(
        `environment variable "${name}" looks like a secret (its name contains "${word}"). Fix: keep the value in Secrets Manager and pass a reference ` +
          `such as "${name}_SECRET_ARN"; names containing ${SECRET_WORDS.join("/")} are allowed only when they end in ${REFERENCE_SUFFIXES.join(", ")}`,
      );
    }
    if (!Token.isUnresolved(value) && URL_WITH_PASSWORD.test(value)) {
      problems.push(`environment variable "${name}" holds a URL with a password. Fix: drop the credentials from the URL and read them from Secrets Manager at run time`);
    }
  }
  return problems;
}

export class NodeFunction extends Construct implements NodeFunctionOutputs {
  readonly resource: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly functionName: string;
  readonly functionArn: string;
  readonly roleArn: string;
  readonly roleName: string;
  private readonly policy: InlinePolicy;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    const problems = checkEnvironment(props.environment ?? {});
    if (problems.length > 0) throw new Error(`NodeFunction ${props.name}: ${problems.join("; ")}`);
    if (!Number.isInteger(props.reservedConcurrency) || props.reservedConcurrency < 1) {
      throw new Error(`NodeFunction ${props.name}: reservedConcurrency is ${props.reservedConcurrency}. Fix: reserve a whole number of executions ≥ 1 (0 would throttle every call)`);
    }
    const { aws } = props;
    const functionArn = `arn:${aws.partition}:lambda:${aws.region}:${aws.accountId}:function:${props.name}`;

    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: `/aws/lambda/${props.name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKey.keyArn,
    });
    this.role = new IamRole(this, "role", {
      name: props.name,
      description: `Execution role of the ${props.name} function`,
      assumeRolePolicy: policyDocument(this, "trust", [
        {
          sid: "LambdaAssumesForThisAccount",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
          conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [aws.accountId] }],
        },
      ]).json,
    });
    this.roleArn = this.role.arn;
    this.roleName = this.role.name;

    this.policy = new InlinePolicy(this, "permissions", this.role.name);
    this.policy.add(...runtimeStatements(this.logGroup.arn, props.kmsKey.keyArn, props.name, functionArn, props.vpc !== undefined), ...props.statements);

    // A prebuilt deterministic zip: copied, not archived (no child process, byte-identical output).
    const code = new TerraformAsset(this, "code", { path: props.bundle.zip, type: AssetType.FILE });
    this.resource = new LambdaFunction(this, "Resource", {
      functionName: props.name,
      description: props.description,
      role: this.role.arn,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: props.handler ?? "index.handler",
      filename: code.path,
      sourceCodeHash: props.bundle.sha256,
      timeout: props.timeoutSeconds ?? 30,
      memorySize: props.memoryMiB ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrency,
      kmsKeyArn: props.kmsKey.keyArn,
      environment: props.environment && Object.keys(props.environment).length > 0 ? { variables: { ...props.environment } } : undefined,
      tracingConfig: { mode: "Active" },
      loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
      vpcConfig: props.vpc ? { subnetIds: [...props.vpc.subnetIds], securityGroupIds: [...props.vpc.securityGroupIds] } : undefined,
      // Lambda checks the role's ENI permissions on create, and logs must be writable on first run.
      dependsOn: [this.policy.resource!, this.logGroup],
    });
    this.functionName = this.resource.functionName;
    this.functionArn = this.resource.arn;
  }

  /** Adds statements to the function's one inline policy (also after construction). Sids must be unique. */
  grant(...statements: PolicyStatement[]): void {
    if (statements.length > 0) this.policy.add(...statements);
  }

  /** Lets one AWS resource (`sourceArn`) of a service invoke the function. */
  addPermission(id: string, permission: InvokePermission): LambdaPermission {
    if (permission.principal === "*" || !permission.principal.endsWith(".amazonaws.com")) {
      throw new Error(`NodeFunction ${this.node.path}: invoke permission "${id}" has principal "${permission.principal}". Fix: name the AWS service principal, e.g. "events.amazonaws.com"`);
    }
    return new LambdaPermission(this, id, {
      functionName: this.functionName,
      action: permission.action ?? "lambda:InvokeFunction",
      principal: permission.principal,
      sourceArn: permission.sourceArn,
      sourceAccount: permission.sourceAccount,
    });
  }
}

/** What every function needs to run: logs, X-Ray, its env-var key, and ENIs when in a VPC. */
function runtimeStatements(logGroupArn: string, keyArn: string, name: string, functionArn: string, inVpc: boolean): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    { sid: "WriteOwnLogGroup", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroupArn}:*`] },
    // X-Ray has no resource-level permissions for these two actions: "*" is the only valid resource.
    { sid: "WriteXRayTraces", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] },
    // Lambda decrypts the environment variables with a grant it makes when the function is created;
    // this statement is the same right, pinned to this function's encryption context.
    {
      sid: "DecryptOwnEnvironment",
      actions: ["kms:Decrypt"],
      resources: [keyArn],
      conditions: [{ test: "StringEquals", variable: "kms:EncryptionContext:LambdaFunctionName", values: [name] }],
    },
  ];
  if (!inVpc) return statements;
  // Inline rather than the managed AWSLambdaVPCAccessExecutionRole: that policy also grants
  // logs:CreateLogGroup/PutLogEvents on every log group. EC2 does not scope these actions by
  // resource (Describe* and CreateNetworkInterface need "*"), so, as AWS documents, the Deny keeps
  // the function's own code (whose credentials carry lambda:SourceFunctionArn) from using them;
  // only the Lambda service, managing the function's ENIs, can.
  const eniActions = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ];
  return [
    ...statements,
    { sid: "ManageVpcNetworkInterfaces", actions: eniActions, resources: ["*"] },
    {
      sid: "DenyNetworkInterfacesToFunctionCode",
      effect: "Deny",
      actions: eniActions,
      resources: ["*"],
      conditions: [{ test: "ArnEquals", variable: "lambda:SourceFunctionArn", values: [functionArn] }],
    },
  ];
}
