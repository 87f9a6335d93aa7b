/**
 * `lifecycle.prevent_destroy` on the resources whose loss is data loss, from the env's
 * `protection` switch (envs/schema.ts). An Aspect over the stack, so each layer keeps building its
 * resources as before and a stateful resource added to a layer is covered by its type.
 */
import { TerraformResource, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";
import type { EnvConfig } from "../envs/schema.js";

/**
 * The Terraform types that hold data or the means to read it:
 * - the Aurora cluster and its instances (the database; an instance's replacement is a failover);
 * - the EFS file system (uploads, Open WebUI's DATA_DIR);
 * - every KMS key of the env (the workload CMK encrypts Aurora, EFS, the secrets and the final
 *   snapshot; the HMAC key derives the user ids and the data key wraps each user's DEK: without
 *   them the data is unreadable even if it survives). The per-user keys exist whatever
 *   `encryption.enabled` says, so switching the feature off never schedules them for deletion.
 *
 * Secrets are not on the list: Secrets Manager keeps a deleted secret restorable for its recovery
 * window (7 days, `aws secretsmanager restore-secret`), and every secret here is either filled by
 * db-bootstrap or the operator again. Redis holds no durable state.
 */
export const STATEFUL_TYPES: readonly string[] = ["aws_rds_cluster", "aws_rds_cluster_instance", "aws_efs_file_system", "aws_kms_key"];

/**
 * The types that get `prevent_destroy` for an env:
 * - `protection.preventDestroy` (the default): every {@link STATEFUL_TYPES} type;
 * - switched off but with `data.aurora.finalSnapshot`: the KMS keys still, because the final
 *   snapshot is encrypted with the workload CMK, and a destroy that scheduled that key for deletion
 *   would leave a snapshot nobody can restore once the deletion window ends;
 * - switched off without a final snapshot: none (a throwaway env, `cdktf destroy` removes it all).
 */
export function protectedTypes(env: Pick<EnvConfig, "protection" | "data">): readonly string[] {
  if (env.protection.preventDestroy) return STATEFUL_TYPES;
  return env.data.aurora.finalSnapshot ? ["aws_kms_key"] : [];
}

/** Sets `lifecycle.prevent_destroy = true` on every resource of `types`, keeping the rest of its lifecycle. */
export class PreventDestroy implements IAspect {
  constructor(private readonly types: readonly string[]) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !this.types.includes(node.terraformResourceType)) return;
    node.lifecycle = { ...node.lifecycle, preventDestroy: true };
  }
}
