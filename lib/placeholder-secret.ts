/**
 * A Secrets Manager secret Terraform creates EMPTY (no `aws_secretsmanager_secret_version`), so its
 * value never enters code, HCL or state. An operator or a function fills it after apply; the
 * description says what goes in and in which format (README: "Secrets to fill after apply").
 */
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import type { Construct } from "constructs";
import type { SecretRef } from "./refs.js";

/** A secret Terraform creates empty; an operator fills it after apply (README: "Secrets to fill"). */
export interface PlaceholderInfo {
  /** What it is, e.g. `litellm-master-key`. */
  readonly name: string;
  /** Its Secrets Manager name, e.g. `owui/nonprod/litellm/master-key`. */
  readonly secretName: string;
  /** Exact format of the value, and how to make one. */
  readonly format: string;
}

export interface PlaceholderSecretProps {
  /** Full name, e.g. `owui/nonprod/openwebui/secret-key`. */
  readonly name: string;
  /** What the value is and its exact format (shown in the console and the README). */
  readonly description: string;
  readonly kmsKeyArn: string;
  /** @default 7 */
  readonly recoveryWindowInDays?: number;
}

export function placeholderSecret(scope: Construct, id: string, props: PlaceholderSecretProps): SecretRef {
  const secret = new SecretsmanagerSecret(scope, id, {
    name: props.name,
    description: props.description,
    kmsKeyId: props.kmsKeyArn,
    recoveryWindowInDays: props.recoveryWindowInDays ?? 7,
  });
  return { secretArn: secret.arn, secretName: secret.name };
}
