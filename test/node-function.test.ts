import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, TerraformStack } from "cdktf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleFunction, type Bundle } from "../lib/bundle.js";
import { checkEnvironment, NodeFunction, type NodeFunctionProps } from "../lib/node-function.js";
import { synthStack, type Json, type Synthesized, policyOf } from "./support/synth.js";

const KEY = { keyArn: "arn:aws:kms:us-east-1:111122223333:key/env-key", keyId: "env-key", aliasName: "alias/env" };
const AWS = { region: "us-east-1", accountId: "111122223333", partition: "aws" };
const bundle: Bundle = bundleFunction({ pkg: "db-bootstrap", entry: "src/index.ts", outRoot: mkdtempSync(join(tmpdir(), "nodefn-")) });

function props(over: Partial<NodeFunctionProps> = {}): NodeFunctionProps {
  return {
    name: "owui-test-fn",
    description: "test function",
    aws: AWS,
    bundle,
    kmsKey: KEY,
    logRetentionDays: 30,
    reservedConcurrency: 2,
    statements: [{ sid: "ReadOneSecret", actions: ["secretsmanager:GetSecretValue"], resources: ["arn:aws:secretsmanager:us-east-1:111122223333:secret:x"] }],
    ...over,
  };
}

function stackWith(p: NodeFunctionProps, after?: (fn: NodeFunction) => void): { fn: NodeFunction; stack: TerraformStack } {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const fn = new NodeFunction(stack, "fn", p);
  after?.(fn);
  return { fn, stack };
}

/** `aws_iam_role.fn_role_1234ABCD`: the address of the one resource of a type. */
function addr(s: Synthesized, type: string): string {
  const all = s.resources(type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return `${type}.${all[0]![0]}`;
}

/** `${aws_iam_role.fn_role_1234ABCD.arn}`: a Terraform reference to an attribute of that resource. */
function ref(s: Synthesized, type: string, attr: string): string {
  return "${" + `${addr(s, type)}.${attr}}`;
}

function synthFn(p: NodeFunctionProps, after?: (fn: NodeFunction) => void): Synthesized {
  return synthStack(stackWith(p, after).stack);
}

/** Every statement of a role's one inline policy document. */
function inlineStatements(s: Synthesized, rolePolicy: Json): Json[] {
  return policyOf(s, rolePolicy.policy).statement;
}

describe("NodeFunction", () => {
  const s = synthFn(props());
  const fn = s.resource("aws_lambda_function");

  it("runs nodejs22.x on arm64 with the default handler, timeout and memory", () => {
    expect(fn).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], handler: "index.handler", timeout: 30, memory_size: 256, function_name: "owui-test-fn" });
  });

  it("traces with X-Ray in Active mode", () => {
    expect(fn.tracing_config).toEqual({ mode: "Active" });
  });

  it("reserves its concurrency", () => {
    expect(fn.reserved_concurrent_executions).toBe(2);
  });

  it("refuses a reserved concurrency below 1", () => {
    expect(() => stackWith(props({ reservedConcurrency: 0 }))).toThrow(/reservedConcurrency is 0\. Fix: reserve a whole number of executions ≥ 1/);
  });

  it("encrypts environment variables with the CMK", () => {
    const withEnv = synthFn(props({ environment: { DB_SSL_MODE: "verify-full" } })).resource("aws_lambda_function");
    expect(withEnv.kms_key_arn).toBe(KEY.keyArn);
    expect(withEnv.environment).toEqual({ variables: { DB_SSL_MODE: "verify-full" } });
  });

  it("creates /aws/lambda/<name> with KMS and retention, and logs to it in JSON", () => {
    expect(s.resource("aws_cloudwatch_log_group")).toEqual({ name: "/aws/lambda/owui-test-fn", kms_key_id: KEY.keyArn, retention_in_days: 30 });
    expect(fn.logging_config).toEqual({ log_format: "JSON", log_group: ref(s, "aws_cloudwatch_log_group", "name") });
  });

  it("ships the bundle's deterministic zip as a file asset with the bundle's hash", () => {
    expect(fn.filename).toMatch(/^assets\/fn_code_[0-9A-F]+\/[0-9A-F]+\/index\.zip$/);
    expect(fn.source_code_hash).toBe(bundle.sha256);
  });

  it("gives the same source_code_hash on two synths of two fresh bundles", () => {
    const again = bundleFunction({ pkg: "db-bootstrap", entry: "src/index.ts", outRoot: mkdtempSync(join(tmpdir(), "nodefn-")) });
    const first = synthFn(props()).resource("aws_lambda_function").source_code_hash;
    const second = synthFn(props({ bundle: again })).resource("aws_lambda_function").source_code_hash;
    expect(second).toBe(first);
    expect(again.sha256).toBe(bundle.sha256);
  });

  it("has its own role that only Lambda in this account may assume", () => {
    const role = s.resource("aws_iam_role");
    expect(role.name).toBe("owui-test-fn");
    expect(fn.role).toBe(ref(s, "aws_iam_role", "arn"));
    const [trustName, trust] = s.data("aws_iam_policy_document").find(([n]) => n.includes("trust"))!;
    expect(role.assume_role_policy).toBe("${" + `data.aws_iam_policy_document.${trustName}.json}`);
    expect(trust.statement).toEqual([
      {
        sid: "LambdaAssumesForThisAccount",
        effect: "Allow",
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111122223333"] }],
      },
    ]);
  });

  it("has one inline policy: its statements, its log group, X-Ray and its env key", () => {
    expect(s.resources("aws_iam_role_policy")).toHaveLength(1);
    const statements = inlineStatements(s, s.resource("aws_iam_role_policy"));
    expect(statements.map((st) => st.sid)).toEqual(["WriteOwnLogGroup", "WriteXRayTraces", "DecryptOwnEnvironment", "ReadOneSecret"]);
    expect(statements[0]).toMatchObject({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${ref(s, "aws_cloudwatch_log_group", "arn")}:*`] });
    expect(statements[1]).toMatchObject({ actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] });
    expect(statements[2]).toMatchObject({
      actions: ["kms:Decrypt"],
      resources: [KEY.keyArn],
      condition: [{ test: "StringEquals", variable: "kms:EncryptionContext:LambdaFunctionName", values: ["owui-test-fn"] }],
    });
  });

  it("is created after its policy and log group", () => {
    expect(fn.depends_on).toEqual([addr(s, "aws_iam_role_policy"), addr(s, "aws_cloudwatch_log_group")]);
  });

  it("puts statements granted after construction into the same policy", () => {
    const later = synthFn(props(), (f) => f.grant({ sid: "PublishLater", actions: ["sns:Publish"], resources: ["arn:aws:sns:us-east-1:111122223333:t"] }));
    expect(later.resources("aws_iam_role_policy")).toHaveLength(1);
    expect(inlineStatements(later, later.resource("aws_iam_role_policy")).map((st) => st.sid)).toContain("PublishLater");
  });

  it("refuses a duplicate statement sid", () => {
    expect(() => stackWith(props(), (f) => f.grant({ sid: "ReadOneSecret", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }))).toThrow(
      /statement sid "ReadOneSecret" is used twice/,
    );
  });

  it("has no vpc_config and no ENI permissions outside a VPC", () => {
    expect(fn.vpc_config).toBeUndefined();
    expect(inlineStatements(s, s.resource("aws_iam_role_policy")).some((st) => st.actions.includes("ec2:CreateNetworkInterface"))).toBe(false);
  });

  describe("in a VPC", () => {
    const v = synthFn(props({ vpc: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"] } }));

    it("sets vpc_config", () => {
      expect(v.resource("aws_lambda_function").vpc_config).toEqual({ subnet_ids: ["subnet-a", "subnet-b"], security_group_ids: ["sg-1"] });
    });

    it("lets the Lambda service manage ENIs but denies them to the function's code", () => {
      const statements = inlineStatements(v, v.resource("aws_iam_role_policy"));
      const allow = statements.find((st) => st.sid === "ManageVpcNetworkInterfaces")!;
      const deny = statements.find((st) => st.sid === "DenyNetworkInterfacesToFunctionCode")!;
      expect(allow.actions).toContain("ec2:CreateNetworkInterface");
      expect(deny).toMatchObject({
        effect: "Deny",
        actions: allow.actions,
        condition: [{ test: "ArnEquals", variable: "lambda:SourceFunctionArn", values: ["arn:aws:lambda:us-east-1:111122223333:function:owui-test-fn"] }],
      });
    });
  });

  describe("invoke permissions", () => {
    it("require a service principal and carry the source ARN", () => {
      const p = synthFn(props(), (f) => f.addPermission("from-rule", { principal: "events.amazonaws.com", sourceArn: "arn:aws:events:us-east-1:111122223333:rule/r" }));
      expect(p.resource("aws_lambda_permission")).toMatchObject({
        action: "lambda:InvokeFunction",
        principal: "events.amazonaws.com",
        source_arn: "arn:aws:events:us-east-1:111122223333:rule/r",
        function_name: ref(p, "aws_lambda_function", "function_name"),
      });
    });

    it("refuse the * principal", () => {
      expect(() => stackWith(props(), (f) => f.addPermission("any", { principal: "*", sourceArn: "arn:x" }))).toThrow(/principal "\*"\. Fix: name the AWS service principal/);
    });
  });
});

describe("environment variable rule", () => {
  it.each(["DB_PASSWORD", "API_KEY", "SCIM_TOKEN", "CLIENT_SECRET", "PRIVATE_PEM", "AWS_CREDENTIALS", "apiKey"])("refuses %s", (name) => {
    expect(checkEnvironment({ [name]: "x" })).toEqual([expect.stringContaining(`environment variable "${name}" looks like a secret`)]);
  });

  it.each(["DB_PASSWORD_SECRET_ARN", "KMS_KEY_ID", "SCIM_TOKEN_PARAMETER_NAME", "OIDC_KEYS_URL", "DB_SSL_MODE", "NODE_EXTRA_CA_CERTS"])("accepts %s", (name) => {
    expect(checkEnvironment({ [name]: "x" })).toEqual([]);
  });

  it("refuses a URL carrying a password, whatever the name", () => {
    expect(checkEnvironment({ DATABASE_URL: "postgresql://u:p4ss@db:5432/x" })).toEqual([expect.stringContaining('"DATABASE_URL" holds a URL with a password')]);
  });

  it("fails the construct with the name, the reason and the fix", () => {
    expect(() => stackWith(props({ environment: { DB_PASSWORD: "hunter2" } }))).toThrow(
      'NodeFunction owui-test-fn: environment variable "DB_PASSWORD" looks like a secret (its name contains "PASSWORD"). Fix: keep the value in Secrets Manager and pass a reference such as "DB_PASSWORD_SECRET_ARN"',
    );
  });
});
