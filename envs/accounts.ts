import { defineAccount, type AccountConfig } from "./schema.js";

/**
 * One stack per AWS account and region for the settings no env may own (stacks/account-stack.ts):
 * Bedrock model invocation logging is one setting per account and region, so an env stack that set
 * it would overwrite every other env's, and destroying that env would turn it off for all.
 *
 * nonprod, prod and sandbox all deploy to us-east-1 and declare no account id, so one entry covers
 * them. When envs move to accounts of their own, give each account its own entry with `accountId`
 * (envs/cross-env.ts refuses an entry that cannot tell them apart).
 */
export const ACCOUNTS: readonly AccountConfig[] = [
  defineAccount({
    region: "us-east-1",
    state: { key: "open-webui/aws/account-us-east-1.tfstate" },
    // Metadata only (model, caller, token counts, status): no prompt or completion is logged.
    bedrockInvocationLogging: { enabled: true, textDelivery: { enabled: false }, retentionDays: 365 },
    tags: { CostCenter: "platform" },
  }),
];
