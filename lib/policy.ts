/**
 * IAM policy documents as `aws_iam_policy_document` data sources: the HCL shows every statement as
 * a block an auditor can read, and Terraform renders the JSON, so no hand-written JSON strings (and
 * none of the escaping traps of `jsonencode` in HCL) are involved.
 */
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { Construct } from "constructs";

export interface PolicyCondition {
  /** e.g. `StringEquals`, `ArnLike`, `Bool`. */
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

export interface PolicyPrincipal {
  /** `AWS`, `Service` or `Federated`. */
  readonly type: "AWS" | "Service" | "Federated";
  readonly identifiers: readonly string[];
}

export interface PolicyStatement {
  /** Statement id: says why the statement exists. */
  readonly sid: string;
  /** @default "Allow" */
  readonly effect?: "Allow" | "Deny";
  readonly actions: readonly string[];
  /** @default - none (only valid in resource policies, with principals) */
  readonly resources?: readonly string[];
  /** @default - none */
  readonly principals?: readonly PolicyPrincipal[];
  /** @default - none */
  readonly conditions?: readonly PolicyCondition[];
}

function toBlocks(statements: readonly PolicyStatement[]) {
  return statements.map((s) => ({
    sid: s.sid,
    effect: s.effect ?? "Allow",
    actions: [...s.actions],
    resources: s.resources ? [...s.resources] : undefined,
    principals: s.principals?.map((p) => ({ type: p.type, identifiers: [...p.identifiers] })),
    condition: s.conditions?.map((c) => ({ test: c.test, variable: c.variable, values: [...c.values] })),
  }));
}

/** Creates an `aws_iam_policy_document`; use `.json` as the policy. */
export function policyDocument(scope: Construct, id: string, statements: readonly PolicyStatement[]): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, { statement: toBlocks(statements) });
}

/**
 * A role's inline policy that grows with `add()`: nothing is created until the first statement, so
 * a role that is never granted anything stays empty (least privilege by default).
 */
export class InlinePolicy {
  private readonly statements: PolicyStatement[] = [];
  private document?: DataAwsIamPolicyDocument;
  /** The `aws_iam_role_policy`, once the first statement exists (for `depends_on`). */
  resource?: IamRolePolicy;

  constructor(
    private readonly scope: Construct,
    private readonly id: string,
    private readonly roleName: string,
  ) {}

  /** Adds statements; a statement id may appear only once per policy. */
  add(...statements: readonly PolicyStatement[]): void {
    for (const s of statements) {
      if (this.statements.some((t) => t.sid === s.sid)) throw new Error(`${this.scope.node.path}: statement sid "${s.sid}" is used twice. Fix: give each statement its own sid (IAM refuses duplicate sids in one policy)`);
      this.statements.push(s);
    }
    if (this.document) {
      this.document.putStatement(toBlocks(this.statements));
      return;
    }
    this.document = policyDocument(this.scope, `${this.id}-document`, this.statements);
    this.resource = new IamRolePolicy(this.scope, this.id, { name: this.id, role: this.roleName, policy: this.document.json });
  }

  /** The statements granted so far. */
  get granted(): readonly PolicyStatement[] {
    return this.statements;
  }
}

/** The statement every bucket/queue policy carries: deny any request not made over TLS. */
export function denyInsecureTransport(resources: readonly string[], actions: readonly string[]): PolicyStatement {
  return {
    sid: "DenyInsecureTransport",
    effect: "Deny",
    actions,
    resources,
    principals: [{ type: "AWS", identifiers: ["*"] }],
    conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
  };
}

/**
 * The key-policy statement that lets the account administer a KMS key and delegate its use to IAM
 * policies, listing the administrative actions instead of `kms:*`. `extraActions` adds
 * key-specific ones (on-demand rotation, MAC operations).
 */
export function accountKeyAdministration(partition: string, accountId: string, extraActions: readonly string[] = []): PolicyStatement {
  return {
    sid: "AccountAdministersKeyAndDelegatesUseToIam",
    actions: [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
      "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
      "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
      ...extraActions,
    ],
    resources: ["*"],
    principals: [{ type: "AWS", identifiers: [`arn:${partition}:iam::${accountId}:root`] }],
  };
}
