/**
 * Lambda entry point: `aws_lambda_invocation` sends a BootstrapEvent (see event.ts and README.md);
 * the result is `{ services: [{ service, database, role, password }] }`. Any failure throws, which
 * fails the invocation (and the Terraform apply) with the message.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { bootstrap, type BootstrapResult } from "./bootstrap.js";
import { parseEvent } from "./event.js";
import { settingsFromEnv } from "./pg.js";

export type { BootstrapResult, ServiceSummary } from "./bootstrap.js";
export type { BootstrapEvent, ServiceSpec } from "./event.js";

let client: SecretsManagerClient | undefined;

/** SDK v3 defaults: region, credentials and AWS_ENDPOINT_URL_SECRETS_MANAGER come from the environment. */
function secretsManager(): SecretsManagerClient {
  client ??= new SecretsManagerClient({});
  return client;
}

export async function handler(event: unknown): Promise<BootstrapResult> {
  const input = parseEvent(event);
  const settings = settingsFromEnv();
  return bootstrap(input, secretsManager(), settings);
}
