import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { defineBootstrap } from "../envs/schema.js";
import { BootstrapStack } from "../stacks/bootstrap-stack.js";
import { ENVS, envWith, policyOf, synthPlatform, synthStack } from "./support/synth.js";

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
] as const)("remote state of %s", (name, env) => {
  it("uses the S3-compatible bucket with path-style addressing, skipped AWS checks, a lock file and the store's own profile", () => {
    expect(synthPlatform(env).json.terraform.backend).toEqual({
      s3: {
        bucket: "workspaces",
        key: `open-webui/aws/${name}.tfstate`,
        region: "us-east-1",
        encrypt: true,
        endpoints: { s3: "https://s3.oremuslabs.app" },
        use_path_style: true,
        skip_credentials_validation: true,
        skip_region_validation: true,
        skip_requesting_account_id: true,
        skip_metadata_api_check: true,
        skip_s3_checksum: true,
        // The MinIO keys, never the default chain's AWS credentials (README "Remote state").
        profile: "owui-state",
        use_lockfile: true,
      },
    });
  });
});

describe("remote state settings come from config", () => {
  it("honours a different endpoint, bucket, profile and no lock file", () => {
    const env = envWith((r) => (r.state = { bucket: "other", endpoint: "https://minio.example.com", key: "x/y/test.tfstate", useLockfile: false, profile: "minio" }));
    const backend = synthPlatform(env).json.terraform.backend.s3;
    expect(backend).toMatchObject({ bucket: "other", key: "x/y/test.tfstate", endpoints: { s3: "https://minio.example.com" }, profile: "minio" });
    expect(backend.use_lockfile).toBeUndefined();
  });
});

describe("bootstrap stack", () => {
  const synth = (over: Partial<Parameters<typeof defineBootstrap>[0]> = {}) =>
    synthStack(new BootstrapStack(Testing.app(), "bootstrap", defineBootstrap({ stateBucketName: "acme-owui-tfstate", ...over })));
  const s = synth();

  it("keeps its own state locally until migrated, then in the bucket it created", () => {
    expect(s.json.terraform.backend).toEqual({ local: { path: "terraform.bootstrap.tfstate" } });
    const migrated = synth({ migrated: true }).json.terraform.backend.s3;
    expect(migrated).toMatchObject({ bucket: "acme-owui-tfstate", key: "open-webui/aws/bootstrap.tfstate", use_lockfile: true });
  });

  it("versions the state bucket, encrypts it with its own rotating key and blocks all public access", () => {
    expect(s.resource("aws_s3_bucket_versioning")).toMatchObject({ versioning_configuration: { status: "Enabled" } });
    const sse = s.resource("aws_s3_bucket_server_side_encryption_configuration").rule[0];
    expect(sse.apply_server_side_encryption_by_default.sse_algorithm).toBe("aws:kms");
    expect(sse.apply_server_side_encryption_by_default.kms_master_key_id).toMatch(/aws_kms_key\.bootstrap_state-key_\w+\.arn/);
    expect(s.resource("aws_kms_key")).toMatchObject({ enable_key_rotation: true });
    expect(s.resource("aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(s.resource("aws_s3_bucket")).toMatchObject({ bucket: "acme-owui-tfstate", lifecycle: { prevent_destroy: true } });
  });

  it("denies non-TLS access in the bucket policy", () => {
    const doc = policyOf(s, s.resource("aws_s3_bucket_policy").policy);
    expect(doc.statement).toEqual([
      expect.objectContaining({
        effect: "Deny",
        actions: ["s3:*"],
        principals: [{ type: "AWS", identifiers: ["*"] }],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    ]);
  });

  it("expires noncurrent versions", () => {
    const rule = s.resource("aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule.noncurrent_version_expiration).toEqual([{ noncurrent_days: 90 }]);
    expect(rule.status).toBe("Enabled");
  });

  it("creates the DynamoDB lock table only on request, with PITR, KMS and deletion protection", () => {
    expect(s.resources("aws_dynamodb_table")).toHaveLength(0);
    const table = synth({ dynamodbLockTable: true }).resource("aws_dynamodb_table");
    expect(table).toMatchObject({ hash_key: "LockID", point_in_time_recovery: { enabled: true }, deletion_protection_enabled: true });
    expect(table.server_side_encryption.enabled).toBe(true);
  });

  it("outputs least-privilege CI/CD policy documents without service wildcards", () => {
    for (const out of ["ci_state_policy_json", "ci_plan_policy_json", "ci_deploy_policy_json"]) {
      const doc = policyOf(s, s.output(out)!.value);
      for (const st of doc.statement) {
        for (const a of st.actions) expect(a).not.toMatch(/^[\w-]+:\*$|^\*$/);
        if (st.resources?.includes("*")) expect(st.condition?.length ?? 0).toBeGreaterThan(0);
      }
    }
    const state = policyOf(s, s.output("ci_state_policy_json")!.value);
    expect(state.statement.find((st: any) => st.sid === "ReadWriteStateAndLockFiles").resources).toEqual([
      expect.stringMatching(/aws_s3_bucket\.bootstrap_state-bucket_\w+\.arn\}\/open-webui\/aws\/\*$/),
    ]);
  });
});
