/**
 * Lambda entry point: `aws_lambda_invocation` sends an UpgradeEvent (see event.ts and README.md)
 * whenever Open WebUI's image changes; the result is an UpgradeResult (gate.ts). Any failure
 * throws, which fails the invocation (and the Terraform apply) with the message.
 */
import { awsUpgradeApi } from "./aws.js";
import { parseEvent } from "./event.js";
import { runUpgrade, type UpgradeResult } from "./gate.js";
import { settingsFromEnv } from "./settings.js";

export type { UpgradeEvent } from "./event.js";
export type { MigrationOutcome, UpgradeResult } from "./gate.js";

export async function handler(event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<UpgradeResult> {
  const input = parseEvent(event);
  const settings = settingsFromEnv(process.env, context?.getRemainingTimeInMillis?.());
  return runUpgrade(input, awsUpgradeApi(), settings);
}
