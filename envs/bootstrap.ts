import { defineBootstrap } from "./schema.js";

/** The account-level state store; deploy once per account that lacks the shared MinIO backend. */
export const bootstrap = defineBootstrap({
  region: "us-east-1",
  stateBucketName: "oremuslabs-owui-tfstate",
  dynamodbLockTable: false,
  noncurrentVersionDays: 90,
  tags: { CostCenter: "platform" },
});
