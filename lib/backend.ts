/** The S3-compatible remote state every environment stack uses (MinIO by default). */
import { S3Backend, type TerraformStack } from "cdktf";

export interface StateConfig {
  readonly bucket: string;
  readonly endpoint: string;
  readonly region: string;
  readonly usePathStyle: boolean;
  readonly skipAwsValidations: boolean;
  readonly useLockfile: boolean;
  readonly profile?: string;
}

/** Configures `stack` to keep its state at `key` in the configured bucket, with locking. */
export function useRemoteState(stack: TerraformStack, state: StateConfig, key: string): S3Backend {
  const skip = state.skipAwsValidations;
  const backend = new S3Backend(stack, {
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
  });
  // cdktf 0.21's S3Backend has no useLockfile prop; Terraform >= 1.10 locks with a .tflock object.
  if (state.useLockfile) stack.addOverride("terraform.backend.s3.use_lockfile", true);
  return backend;
}
