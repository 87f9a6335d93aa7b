/**
 * IAM policy documents as `aws_iam_policy_document` data sources: the HCL shows every statement as
 * a block an auditor can read, and Terraform renders the JSON, so no hand-written JSON strings (and
 * none of the escaping traps of `jsonencode` in HCL) are involved.
 */
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
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

/** Creates an `aws_iam_policy_document`; use `.json` as the policy. */
export function policyDocument(scope: Construct, id: string, statements: readonly PolicyStatement[]): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: statements.map((s) => ({
      sid: s.sid,
      effect: s.effect ?? "Allow",
      actions: [...s.actions],
      resources: s.resources ? [...s.resources] : undefined,
      principals: s.principals?.map((p) => ({ type: p.type, identifiers: [...p.identifiers] })),
      condition: s.conditions?.map((c) => ({ test: c.test, variable: c.variable, values: [...c.values] })),
    })),
  });
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
