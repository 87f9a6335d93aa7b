/**
 * The optional cache step: gives an ElastiCache (Redis OSS/Valkey) replication group an AUTH token
 * without the token ever entering Terraform state. Terraform creates the group with transit
 * encryption and no token (`ignore_changes = [auth_token, auth_token_update_strategy]`) plus an
 * empty secret; this step generates the token, stores it in the secret FIRST, then sets it on the
 * group with `ModifyReplicationGroup(AuthTokenUpdateStrategy=ROTATE)`.
 *
 * Order and idempotence: the secret is written before the group is modified, so a crash (or a
 * timeout while the group is busy) between the two leaves a secret whose token the next run reuses
 * and sets again; it never leaves a group whose token is nowhere. A secret that holds our JSON for
 * this host/port while the group reports `AuthTokenEnabled` is left alone (the token cannot be
 * checked against Redis cheaply, and this function does not connect to Redis).
 *
 * ROTATE keeps a token the group already had valid next to the new one. Dropping the old one needs
 * a later `ModifyReplicationGroup(AuthTokenUpdateStrategy=SET)` with the new token once every
 * client uses it; this function never does that on its own.
 *
 * The token is never logged and never part of an error message or of the result.
 */
import {
  DescribeReplicationGroupsCommand,
  ModifyReplicationGroupCommand,
  type ElastiCacheClient,
  type ReplicationGroup,
} from "@aws-sdk/client-elasticache";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { randomBytes } from "node:crypto";
import type { RedisSpec } from "./event.js";
import { readSecretString, writeSecretJson } from "./secrets.js";

/** What the cache secret holds. ECS tasks read `url` (`valueFrom = "<arn>:url::"`) as REDIS_URL. */
export interface RedisSecret {
  readonly host: string;
  readonly port: number;
  readonly authToken: string;
  /** `rediss://:<token>@<host>:<port>/0` (TLS; the token as the default user's password). */
  readonly url: string;
}

/**
 * `unchanged`: the secret holds our token for this host/port and the group has AUTH on; nothing
 *   written, nothing modified (also when an earlier run's pending modification completed while
 *   this run waited).
 * `stored`: the group had no token; the token in the secret (new, or the one an interrupted earlier
 *   run stored) was set on it. Also: the group has AUTH on and only the secret's `url` was stale.
 * `rotated`: the group already had a token but the secret held none usable for this host/port
 *   (empty, not ours, other host/port); a new token was stored and added with ROTATE (the old
 *   token stays valid too until a SET).
 */
export type RedisOutcome = "stored" | "unchanged" | "rotated";

export interface RedisSettings {
  /** How long to wait for the group to become `available` before modifying it. */
  readonly waitMs: number;
  /** Interval between DescribeReplicationGroups polls while waiting. */
  readonly pollMs: number;
}

export class RedisError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RedisError";
  }
}

/**
 * ElastiCache's AUTH token rules: 16-128 printable ASCII characters other than space, `@`, `"` and
 * `/`. Generated tokens are base64url (a subset); a stored token must match this to be reused.
 */
export const AUTH_TOKEN = /^(?!.*[@"/])[\x21-\x7e]{16,128}$/;

/** 48 random bytes, base64url without padding: 64 characters of `A-Z a-z 0-9 - _`, 384 bits. */
export function generateAuthToken(): string {
  return randomBytes(48).toString("base64url");
}

export function redisUrl(p: { host: string; port: number; authToken: string }): string {
  return `rediss://:${encodeURIComponent(p.authToken)}@${p.host}:${p.port}/0`;
}

export function buildRedisSecret(p: { host: string; port: number; authToken: string }): RedisSecret {
  return { host: p.host, port: p.port, authToken: p.authToken, url: redisUrl(p) };
}

/**
 * The token of a stored secret when it is our JSON for this host and port with a valid token, and
 * whether the rest of it (the url) is current; undefined otherwise.
 */
export function parseRedisSecret(raw: string | undefined, target: { host: string; port: number }): { authToken: string; current: boolean } | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (o.host !== target.host || o.port !== target.port || typeof o.authToken !== "string" || !AUTH_TOKEN.test(o.authToken)) return undefined;
  const wanted = buildRedisSecret({ host: target.host, port: target.port, authToken: o.authToken });
  const current = Object.keys(o).length === 4 && o.url === wanted.url;
  return { authToken: o.authToken, current };
}

/** REDIS_WAIT_SECONDS (default 600) and REDIS_POLL_SECONDS (default 15); fractions are allowed. */
export function redisSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const seconds = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new RedisError(`${name} must be a number of seconds ≥ ${min} (got "${env[name]}")`);
    return n;
  };
  const waitMs = Math.round(seconds("REDIS_WAIT_SECONDS", 600, 0) * 1000);
  const pollMs = Math.max(1, Math.round(seconds("REDIS_POLL_SECONDS", 15, 0.001) * 1000));
  return { waitMs, pollMs };
}

export interface RedisContext {
  readonly sm: SecretsManagerClient;
  readonly ec: ElastiCacheClient;
  readonly settings: RedisSettings;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Lambda's `context.getRemainingTimeInMillis`: the wait also stops in time to fail cleanly. */
  readonly remainingTimeMs?: () => number;
}

/** Time kept back from the Lambda timeout to modify the group and return a clear error. */
const LAMBDA_MARGIN_MS = 15_000;

const errName = (e: unknown) => (e as { name?: string })?.name ?? "Error";
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface GroupState {
  readonly status: string;
  readonly authTokenEnabled: boolean;
  readonly transitEncryptionEnabled: boolean | undefined;
  readonly pendingAuthTokenStatus: string | undefined;
}

async function describeGroup(ec: ElastiCacheClient, id: string): Promise<GroupState> {
  let group: ReplicationGroup | undefined;
  try {
    const out = await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
    group = out.ReplicationGroups?.find((g) => g.ReplicationGroupId?.toLowerCase() === id.toLowerCase()) ?? out.ReplicationGroups?.[0];
  } catch (e) {
    if (errName(e) === "ReplicationGroupNotFoundFault") throw new RedisError(`replication group "${id}" not found (redis.replicationGroupId)`, { cause: e });
    throw new RedisError(`DescribeReplicationGroups failed: ${errName(e)}: ${errMessage(e)}`, { cause: e });
  }
  if (!group) throw new RedisError(`replication group "${id}" not found (redis.replicationGroupId): DescribeReplicationGroups returned no group`);
  return {
    status: (group.Status ?? "unknown").toLowerCase(),
    authTokenEnabled: group.AuthTokenEnabled === true,
    transitEncryptionEnabled: group.TransitEncryptionEnabled,
    pendingAuthTokenStatus: group.PendingModifiedValues?.AuthTokenStatus,
  };
}

/** States from which a group does not become available by waiting. */
const HOPELESS = new Set(["deleting", "deleted", "create-failed"]);

/**
 * Polls until the group is `available` (with `pollFirst`, polls at least once: the group just
 * refused a modification although it looked available). Throws when it does not get there within
 * REDIS_WAIT_SECONDS of `startedAt`, or before the Lambda timeout.
 */
async function waitAvailable(ctx: RedisContext, spec: RedisSpec, first: GroupState, hint: string, startedAt: number, pollFirst = false): Promise<GroupState> {
  let group = first;
  let mustPoll = pollFirst;
  for (;;) {
    if (group.status === "available" && !mustPoll) return group;
    if (HOPELESS.has(group.status)) throw new RedisError(`replication group "${spec.replicationGroupId}" is "${group.status}"; ${hint}`);
    const waited = Date.now() - startedAt;
    const lambdaLeft = ctx.remainingTimeMs ? ctx.remainingTimeMs() - LAMBDA_MARGIN_MS : Number.POSITIVE_INFINITY;
    if (waited + ctx.settings.pollMs > ctx.settings.waitMs || ctx.settings.pollMs > lambdaLeft) {
      const limit = ctx.settings.pollMs > lambdaLeft ? "the function's timeout is near" : `REDIS_WAIT_SECONDS=${ctx.settings.waitMs / 1000}`;
      throw new RedisError(
        `replication group "${spec.replicationGroupId}" is still "${mustPoll ? "busy" : group.status}" after waiting ${Math.round(waited / 1000)} s (${limit}); ${hint}`,
      );
    }
    ctx.log("redis waiting", { replicationGroupId: spec.replicationGroupId, status: group.status, waitedSeconds: Math.round(waited / 1000) });
    await sleep(ctx.settings.pollMs);
    mustPoll = false;
    group = await describeGroup(ctx.ec, spec.replicationGroupId);
  }
}

/** "busy" when the group left `available` between the describe and the modify (then we wait again). */
async function setAuthToken(ec: ElastiCacheClient, id: string, token: string): Promise<"requested" | "busy"> {
  try {
    await ec.send(
      new ModifyReplicationGroupCommand({ ReplicationGroupId: id, AuthToken: token, AuthTokenUpdateStrategy: "ROTATE", ApplyImmediately: true }),
    );
    return "requested";
  } catch (e) {
    if (errName(e) === "InvalidReplicationGroupStateFault") return "busy";
    // Defensive: a service message should never echo the token, but make sure ours does not.
    const message = errMessage(e).split(token).join("<token>");
    throw new RedisError(`ModifyReplicationGroup failed: ${errName(e)}: ${message}`, { cause: e });
  }
}

export async function ensureRedisAuthToken(spec: RedisSpec, ctx: RedisContext): Promise<RedisOutcome> {
  const id = spec.replicationGroupId;
  let raw: string | undefined;
  try {
    raw = await readSecretString(ctx.sm, spec.secretArn);
  } catch (e) {
    throw new RedisError(`redis.secretArn: ${errMessage(e)}`, { cause: e });
  }
  const stored = parseRedisSecret(raw, spec);

  let group = await describeGroup(ctx.ec, id);
  if (group.transitEncryptionEnabled === false) {
    throw new RedisError(`replication group "${id}" has transit encryption off; ElastiCache accepts an AUTH token only with TLS (transit_encryption_enabled = true)`);
  }
  const hadToken = group.authTokenEnabled;
  const put = async (token: string) => {
    await writeSecretJson(ctx.sm, spec.secretArn, buildRedisSecret({ host: spec.host, port: spec.port, authToken: token }));
    ctx.log("redis token stored", { replicationGroupId: id, secretArn: spec.secretArn });
  };

  if (stored && group.authTokenEnabled) {
    if (stored.current) return "unchanged";
    await put(stored.authToken); // same token, only the url was stale
    return "stored";
  }

  // Store first: whatever happens next, the secret holds the token the group is (or will be) given.
  let token: string;
  let wrote = false;
  if (stored) {
    token = stored.authToken;
    if (!stored.current) {
      await put(token);
      wrote = true;
    }
  } else {
    token = generateAuthToken();
    await put(token);
    wrote = true;
  }

  const hint =
    `the AUTH token was not set on it. The secret (redis.secretArn) already holds the token; run the invocation again once the group is ` +
    `"available" and it sets that same token (no new one)`;
  const startedAt = Date.now();
  let busy = false;
  for (;;) {
    group = await waitAvailable(ctx, spec, group, hint, startedAt, busy);
    if (stored && group.authTokenEnabled) {
      // An earlier run stored this token and its modification completed while we waited.
      return wrote ? "stored" : "unchanged";
    }
    busy = (await setAuthToken(ctx.ec, id, token)) === "busy";
    if (!busy) break;
    ctx.log("redis group busy", { replicationGroupId: id, status: group.status });
  }
  ctx.log("redis auth token requested", { replicationGroupId: id, strategy: "ROTATE", hadToken });
  return hadToken ? "rotated" : "stored";
}
