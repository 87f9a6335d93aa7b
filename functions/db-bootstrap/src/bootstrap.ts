/**
 * The bootstrap itself: for each service, its role, its database, the database's privileges, the
 * public schema's owner, and the credentials in the service's secret; then, when the event has
 * `redis`, the cache's AUTH token (redis.ts). Safe to re-run: with nothing to do it writes nothing
 * (no PutSecretValue, no ALTER, no ModifyReplicationGroup).
 */
import type { ElastiCacheClient } from "@aws-sdk/client-elasticache";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type pg from "pg";
import type { BootstrapEvent, ServiceSpec } from "./event.js";
import { generatePassword } from "./password.js";
import {
  closeQuietly,
  connect,
  ensureDatabase,
  ensureExtension,
  ensureMasterCanActAs,
  ensurePublicSchemaOwned,
  ensureRole,
  lockBootstrap,
  masterInfo,
  setPassword,
  tryLogin,
  DbError,
  type DbSettings,
  type Login,
  type MasterInfo,
  type Outcome,
} from "./pg.js";
import { ensureRedisAuthToken, type RedisOutcome, type RedisSettings } from "./redis.js";
import { buildServiceSecret, parseServiceSecret, readMasterCredentials, readSecretString, secretIsCurrent, writeServiceSecret } from "./secrets.js";

export interface ServiceSummary {
  readonly service: string;
  readonly database: Outcome;
  readonly role: Outcome;
  /**
   * `unchanged`: the stored password logs in and the secret is current; nothing written.
   * `stored`: the secret was empty (a new password was set and stored), or its password still
   *   logs in but another field (host, port, url) was stale and was rewritten.
   * `rotated`: the secret held a value whose password did not log in (wrong, unparsable, or for
   *   another role/database); a new password was set on the role and stored.
   */
  readonly password: "stored" | "unchanged" | "rotated";
  /**
   * Only when the event lists `extensions` for the service: per extension, `created` (this run ran
   * CREATE EXTENSION in the service's database) or `exists` (already installed; nothing run).
   */
  readonly extensions?: Readonly<Record<string, Outcome>>;
}

export interface BootstrapResult {
  readonly services: ServiceSummary[];
  /** Only when the event has `redis`; see RedisOutcome. Never the token. */
  readonly redis?: RedisOutcome;
}

/** What the cache step needs; required when the event has `redis`. */
export interface RedisDeps {
  /** Created only when the event has `redis`. */
  readonly elastiCache: () => ElastiCacheClient;
  readonly settings: RedisSettings;
  /** Lambda's `context.getRemainingTimeInMillis`, to stop waiting before the function times out. */
  readonly remainingTimeMs?: () => number;
}

export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

/** One JSON line per event; never passwords. */
export const jsonLogger: Logger = (msg, fields = {}) => console.log(JSON.stringify({ msg, ...fields }));

export async function bootstrap(
  event: BootstrapEvent,
  sm: SecretsManagerClient,
  settings: DbSettings,
  log: Logger = jsonLogger,
  redisDeps?: RedisDeps,
): Promise<BootstrapResult> {
  if (event.redis && !redisDeps) throw new Error("bootstrap: the event has redis but no ElastiCache client was given");
  const master = await readMasterCredentials(sm, event.masterSecretArn);
  const masterLogin: Login = { host: event.host, port: event.port, user: master.username, password: master.password, database: settings.masterDatabase };
  let mc: pg.Client;
  try {
    mc = await connect(masterLogin, settings);
  } catch (e) {
    throw new DbError(`cannot connect to ${event.host}:${event.port}/${settings.masterDatabase} as the master user "${master.username}" (DB_SSL_MODE=${settings.sslMode}): ${(e as Error).message}`, { cause: e });
  }
  try {
    await lockBootstrap(mc);
    const info = await masterInfo(mc);
    log("connected", { host: event.host, port: event.port, master: info.user, superuser: info.superuser, serverVersionNum: info.serverVersionNum, sslMode: settings.sslMode });
    const services: ServiceSummary[] = [];
    for (const spec of event.services) {
      try {
        services.push(await bootstrapService(mc, info, masterLogin, event, spec, sm, settings, log));
      } catch (e) {
        const err = new Error(`service ${spec.name} (database "${spec.database}", role "${spec.role}"): ${(e as Error).message}`, { cause: e });
        err.name = (e as Error).name ?? "Error";
        throw err;
      }
    }
    if (!event.redis) return { services };
    // Still under the advisory lock, so two invocations never store and set different tokens.
    const spec = event.redis;
    let redis: RedisOutcome;
    try {
      redis = await ensureRedisAuthToken(spec, { sm, ec: redisDeps!.elastiCache(), settings: redisDeps!.settings, log, remainingTimeMs: redisDeps!.remainingTimeMs });
    } catch (e) {
      const err = new Error(`redis (replication group "${spec.replicationGroupId}"): ${(e as Error).message}`, { cause: e });
      err.name = (e as Error).name ?? "Error";
      throw err;
    }
    log("redis ready", { replicationGroupId: spec.replicationGroupId, host: spec.host, port: spec.port, redis });
    return { services, redis };
  } finally {
    await closeQuietly(mc);
  }
}

async function bootstrapService(
  mc: pg.Client,
  info: MasterInfo,
  masterLogin: Login,
  event: BootstrapEvent,
  spec: ServiceSpec,
  sm: SecretsManagerClient,
  settings: DbSettings,
  log: Logger,
): Promise<ServiceSummary> {
  const raw = await readSecretString(sm, spec.secretArn);
  const hadValue = raw !== undefined && raw.trim() !== "";
  const stored = parseServiceSecret(raw);

  let password = generatePassword();
  const role = await ensureRole(mc, spec.role, password);
  await ensureMasterCanActAs(mc, info, spec.role);
  const database = await ensureDatabase(mc, spec.database, spec.role);

  const asService = (pw: string) => ({ host: event.host, port: event.port, user: spec.role, password: pw, database: spec.database });
  let sc: pg.Client | undefined;
  try {
    let passwordChanged = role === "created";
    if (!passwordChanged) {
      // Reuse the stored password only if it is for this role and database and still logs in.
      if (stored && stored.username === spec.role && stored.dbname === spec.database) {
        sc = await tryLogin(asService(stored.password), settings);
      }
      if (sc) {
        password = stored!.password;
      } else {
        await setPassword(mc, spec.role, password);
        passwordChanged = true;
      }
    }

    const wanted = buildServiceSecret({ host: event.host, port: event.port, dbname: spec.database, username: spec.role, password });
    let outcome: ServiceSummary["password"] = "unchanged";
    if (passwordChanged || !stored || !secretIsCurrent(stored, wanted)) {
      await writeServiceSecret(sm, spec.secretArn, wanted);
      outcome = passwordChanged && hadValue ? "rotated" : "stored";
    }

    sc ??= await connect(asService(password), settings);
    await ensurePublicSchemaOwned(sc, spec.role);

    const extensions = spec.extensions && (await ensureExtensions({ ...masterLogin, database: spec.database }, spec.extensions, settings));
    const summary: ServiceSummary = { service: spec.name, database, role, password: outcome, ...(extensions ? { extensions } : {}) };
    log("service ready", { ...summary, databaseName: spec.database, roleName: spec.role });
    return summary;
  } finally {
    await closeQuietly(sc);
  }
}

/**
 * Creates the service's extensions, connected as the master to the service's database (extensions
 * are per database; only the master, Aurora's rds_superuser, may create an untrusted one such as
 * `vector`). Runs after the schema step, so `public` is already the service role's: the master
 * creates in it as a member of that role (or as a superuser).
 */
async function ensureExtensions(login: Login, extensions: readonly string[], settings: DbSettings): Promise<Record<string, Outcome>> {
  const outcomes: Record<string, Outcome> = {};
  if (extensions.length === 0) return outcomes;
  let c: pg.Client;
  try {
    c = await connect(login, settings);
  } catch (e) {
    throw new DbError(`cannot connect to database "${login.database}" as the master user "${login.user}" to create extensions (${extensions.join(", ")}): ${(e as Error).message}`, { cause: e });
  }
  try {
    for (const extension of extensions) outcomes[extension] = await ensureExtension(c, extension);
    return outcomes;
  } finally {
    await closeQuietly(c);
  }
}
