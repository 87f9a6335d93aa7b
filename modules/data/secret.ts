/** An empty Secrets Manager secret: Terraform creates the container, a function or an operator fills it. */
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import type { Construct } from "constructs";
import type { SecretRef } from "../../lib/refs.js";
import type { KeyRef } from "../security/index.js";

/** Days a deleted secret can still be restored. */
export const SECRET_RECOVERY_DAYS = 7;

/** Creates the secret with no `aws_secretsmanager_secret_version`, so no value ever reaches state. */
export function emptySecret(scope: Construct, id: string, props: { name: string; description: string; key: KeyRef }): SecretRef {
  const secret = new SecretsmanagerSecret(scope, id, {
    name: props.name,
    description: props.description,
    kmsKeyId: props.key.keyArn,
    recoveryWindowInDays: SECRET_RECOVERY_DAYS,
  });
  return { secretArn: secret.arn, secretName: secret.name };
}
