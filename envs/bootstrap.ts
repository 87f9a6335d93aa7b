import { defineGithubCi } from "../modules/bootstrap/github.js";
import type { BootstrapStackConfig } from "../stacks/bootstrap-stack.js";
import { defineBootstrap } from "./schema.js";

/** The account-level state store; deploy once per account that lacks the shared MinIO backend. */
export const bootstrap: BootstrapStackConfig = {
  ...defineBootstrap({
    region: "us-east-1",
    stateBucketName: "oremuslabs-owui-tfstate",
    dynamodbLockTable: false,
    noncurrentVersionDays: 90,
    tags: { CostCenter: "platform" },
  }),
  // GitHub Actions (.github/workflows): pull-request jobs of this repository may assume the plan
  // role; jobs in these GitHub environments (the apply jobs of deploy.yml) the deploy role.
  github: defineGithubCi({
    repository: "oremuslabs/open-webui-aws",
    deployEnvironments: ["account", "sandbox", "nonprod", "prod"],
  }),
};
