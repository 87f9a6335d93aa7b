/** Data-layer settings AWS accepts only in combination: Aurora versions and capacity, ElastiCache versions. */
import { AURORA_PG_AUTO_PAUSE_MIN, AURORA_PG_SERVERLESS_V2_MIN, ELASTICACHE_VERSIONS } from "../lib/aws-limits.js";
import type { Fail } from "../lib/errors.js";
import type { ParsedEnv } from "./schema.js";

export function checkDataVersions(env: ParsedEnv, fail: Fail): void {
  const { aurora, redis } = env.data;
  const [major, minor] = aurora.engineVersion.split(".").map(Number) as [number, number];
  const v2Min = AURORA_PG_SERVERLESS_V2_MIN[major];
  if (v2Min === undefined) {
    fail("data.aurora.engineVersion", `"${aurora.engineVersion}" is not an Aurora PostgreSQL major version that runs Serverless v2`, `use one of ${Object.keys(AURORA_PG_SERVERLESS_V2_MIN).map((m) => `${m}.x`).join(", ")}, e.g. "16.6"`);
  } else if (minor < v2Min) {
    fail("data.aurora.engineVersion", `"${aurora.engineVersion}" predates Serverless v2 support in PostgreSQL ${major} (from ${major}.${v2Min})`, `use ${major}.${v2Min} or later`);
  } else if (aurora.minAcu === 0 && minor < AURORA_PG_AUTO_PAUSE_MIN[major]!) {
    fail("data.aurora.minAcu", `0 (auto-pause) needs Aurora PostgreSQL ${major}.${AURORA_PG_AUTO_PAUSE_MIN[major]} or later, but engineVersion is "${aurora.engineVersion}"`, `raise engineVersion to ${major}.${AURORA_PG_AUTO_PAUSE_MIN[major]} or later, or set minAcu to 0.5`);
  }
  const versions = ELASTICACHE_VERSIONS[redis.engine];
  if (!versions.includes(redis.engineVersion)) {
    fail("data.redis.engineVersion", `"${redis.engineVersion}" is not a ${redis.engine} version ElastiCache offers`, `use one of ${versions.join(", ")} (or change data.redis.engine)`);
  }
}
