/**
 * The platform's services on the compute layer's factory. Each spec is built from config and the
 * typed outputs of the data layer; nothing here reaches into another layer's internals.
 */
import type { Construct } from "constructs";
import type { EnvConfig } from "../envs/schema.js";
import { placeholderSecret } from "../lib/placeholder-secret.js";
import type { Compute, FargateService, ServiceSpec } from "../modules/compute/index.js";
import type { DataOutputs } from "../modules/data/index.js";

export interface PlatformServicesProps {
  readonly env: EnvConfig;
  readonly compute: Compute;
  readonly data: DataOutputs;
  readonly kmsKeyArn: string;
}

/** Open WebUI: the ALB's default route. */
export function addOpenWebUi(scope: Construct, props: PlatformServicesProps): FargateService {
  const { env, compute, data } = props;
  const cfg = env.services.openwebui;
  const dataDir = data.fileSystem.accessPoints.openwebui!;
  const secretKey = placeholderSecret(scope, "openwebui-secret-key", {
    name: `owui/${env.name}/openwebui/secret-key`,
    description: "WEBUI_SECRET_KEY: one random string shared by every replica (signs sessions and JWTs). Fill with: openssl rand -hex 32",
    kmsKeyArn: props.kmsKeyArn,
  });
  const redis = data.redis;
  const spec: ServiceSpec = {
    name: "openwebui",
    image: cfg.image,
    cpu: cfg.cpu,
    memoryMiB: cfg.memoryMiB,
    port: 8080,
    routing: { type: "default" },
    // First start runs the database migrations; measured cold starts run to several minutes.
    healthCheck: { path: "/health", gracePeriodSeconds: 600 },
    scaling: { minCount: cfg.minCount, maxCount: cfg.maxCount, targetCpuPercent: cfg.targetCpuPercent, requestsPerTarget: cfg.requestsPerTarget },
    stickySessions: cfg.maxCount > 1,
    writableRootFilesystemReason: "Open WebUI writes static assets and secrets into /app/backend at start",
    environment: {
      DATA_DIR: dataDir.path,
      WEBUI_URL: `https://${env.hostname}`,
      UVICORN_WORKERS: "1",
      DATABASE_POOL_RECYCLE: "3600",
      DATABASE_POOL_PRE_PING: "true",
      ...(redis ? { WEBSOCKET_MANAGER: "redis", ENABLE_WEBSOCKET_SUPPORT: "true" } : {}),
    },
    secrets: {
      DATABASE_URL: { secret: data.databaseSecrets.openwebui!, jsonKey: "url" },
      WEBUI_SECRET_KEY: { secret: secretKey },
      ...(redis ? { REDIS_URL: { secret: redis.secret, jsonKey: "url" }, WEBSOCKET_REDIS_URL: { secret: redis.secret, jsonKey: "url" } } : {}),
    },
    efsMounts: [
      {
        fileSystemId: data.fileSystem.fileSystemId,
        fileSystemArn: data.fileSystem.fileSystemArn,
        accessPointId: dataDir.accessPointId,
        accessPointArn: dataDir.accessPointArn,
        containerPath: dataDir.path,
      },
    ],
  };
  return compute.addService(spec);
}
