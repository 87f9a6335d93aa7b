/** The S3-compatible remote state every environment stack uses (MinIO by default). */
import type { Construct } from "constructs";
import { DataTerraformRemoteStateS3, S3Backend, type S3BackendConfig, type TerraformStack } from "cdktf";

export interface StateConfig {
  readonly bucket: string;
  readonly endpoint: string;
  readonly region: string;
  readonly usePathStyle: boolean;
  readonly skipAwsValidations: boolean;
  readonly useLockfile: boolean;
  readonly profile?: string;
}

/** The S3 backend settings of the state at `key`: shared by a stack's backend and the remote-state readers of it. */
function s3Config(state: StateConfig, key: string): S3BackendConfig {
  const skip = state.skipAwsValidations;
  return {
    bucket: state.bucket,
    key,
    region: state.region,
    encrypt: true,
    endpoints: { s3: state.endpoint },
    usePathStyle: state.usePathStyle,
    skipCredentialsValidation: skip,
    skipRegionValidation: skip,
    skipRequestingAccountId: skip,
    skipMetadataApiCheck: skip,
    skipS3Checksum: skip,
    ...(state.profile ? { profile: state.profile } : {}),
  };
}

/** Configures `stack` to keep its state at `key` in the configured bucket, with locking. */
export function useRemoteState(stack: TerraformStack, state: StateConfig, key: string): S3Backend {
  const backend = new S3Backend(stack, s3Config(state, key));
  // cdktf 0.21's S3Backend has no useLockfile prop; Terraform >= 1.10 locks with a .tflock object.
  if (state.useLockfile) stack.addOverride("terraform.backend.s3.use_lockfile", true);
  return backend;
}

/**
 * Reads the outputs of the stack whose state is at `key` (same store and settings as
 * {@link useRemoteState}), as `data.terraform_remote_state.<id>.outputs.<name>`. For stacks that read
 * another stack's named outputs explicitly (the DNS stacks), rather than through cdktf's implicit
 * cross-stack references, whose output names derive from construct paths.
 */
export function readRemoteState(scope: Construct, id: string, state: StateConfig, key: string): DataTerraformRemoteStateS3 {
  return new DataTerraformRemoteStateS3(scope, id, s3Config(state, key));
}
