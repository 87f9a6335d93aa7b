/** Typed references that cross layer boundaries (interfaces, not ARN strings passed around loosely). */

/** A Secrets Manager secret. Terraform creates it; its value is written after apply, never by Terraform. */
export interface SecretRef {
  readonly secretArn: string;
  /** The secret's name, e.g. `owui/nonprod/openwebui/database`. */
  readonly secretName: string;
}

/** An SSM parameter. */
export interface ParameterRef {
  readonly parameterArn: string;
  readonly parameterName: string;
}
