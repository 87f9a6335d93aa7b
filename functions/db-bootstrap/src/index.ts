/**
 * Lambda entry point: `aws_lambda_invocation` sends a BootstrapEvent (see event.ts and README.md);
 * the result is `{ services: [{ service, database, role, password, extensions? }], redis? }`. Any failure
 * throws, which fails the invocation (and the Terraform apply) with the message.
 */
import { ElastiCacheClient } from "@aws-sdk/client-elasticache";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { bootstrap, type BootstrapResult } from "./bootstrap.js";
import { parseEvent } from "./event.js";
import { settingsFromEnv } from "./pg.js";
import { redisSettingsFromEnv } from "./redis.js";

export type { BootstrapResult, ServiceSummary } from "./bootstrap.js";
export type { BootstrapEvent, RedisSpec, ServiceSpec } from "./event.js";
export type { RedisOutcome } from "./redis.js";

let client: SecretsManagerClient | undefined;
let elastiCacheClient: ElastiCacheClient | undefined;

/** SDK v3 defaults: region, credentials and AWS_ENDPOINT_URL_SECRETS_MANAGER come from the environment. */
function secretsManager(): SecretsManagerClient {
  client ??= new SecretsManagerClient({});
  return client;
}

/** SDK v3 defaults too (AWS_ENDPOINT_URL_ELASTICACHE); only created when the event has `redis`. */
function elastiCache(): ElastiCacheClient {
  elastiCacheClient ??= new ElastiCacheClient({});
  return elastiCacheClient;
}

export async function handler(event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<BootstrapResult> {
  const input = parseEvent(event);
  const settings = settingsFromEnv();
  const redisSettings = input.redis ? redisSettingsFromEnv() : undefined;
  const remaining = context?.getRemainingTimeInMillis?.bind(context);
  return bootstrap(
    input,
    secretsManager(),
    settings,
    undefined,
    redisSettings && { elastiCache, settings: redisSettings, remainingTimeMs: remaining },
  );
}
