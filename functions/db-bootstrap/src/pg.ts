/**
 * PostgreSQL operations, each idempotent: it reads the catalog first and changes only what differs.
 * Identifiers are validated by the caller (IDENTIFIER in event.ts) and still quoted here.
 * No SQL statement carries a plaintext password: roles get a SCRAM-SHA-256 verifier.
 */
import { existsSync, readFileSync } from "node:fs";
import { rootCertificates, type ConnectionOptions } from "node:tls";
import pg from "pg";
import { IDENTIFIER } from "./event.js";
import { scramSha256Verifier } from "./password.js";

export type SslMode = "verify-full" | "disable";

/** Where the Lambda Node.js runtimes keep the CA bundle that includes the RDS CAs. */
export const LAMBDA_CA_FILE = "/var/runtime/ca-cert.pem";

export interface DbSettings {
  readonly sslMode: SslMode;
  /** Extra CA bundle (PEM) trusted in verify-full mode, in addition to Node's roots. */
  readonly caFile?: string;
  readonly connectTimeoutMs: number;
  /** The database the master user connects to. */
  readonly masterDatabase: string;
}

export class DbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DbError";
  }
}

/** Reads DB_SSL_MODE, DB_SSL_CA_FILE, DB_CONNECT_TIMEOUT_MS, DB_MASTER_DATABASE. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): DbSettings {
  const sslMode = (env.DB_SSL_MODE ?? "verify-full").trim() || "verify-full";
  if (sslMode !== "verify-full" && sslMode !== "disable") {
    throw new DbError(`DB_SSL_MODE must be "verify-full" or "disable" (got "${sslMode}")`);
  }
  // Without NODE_EXTRA_CA_CERTS the Node 20+ Lambda runtimes do not trust the RDS CAs; fall back to
  // reading the runtime's bundle ourselves so a forgotten env var does not break TLS.
  const caFile = env.DB_SSL_CA_FILE || (!env.NODE_EXTRA_CA_CERTS && existsSync(LAMBDA_CA_FILE) ? LAMBDA_CA_FILE : undefined);
  const timeout = Number(env.DB_CONNECT_TIMEOUT_MS ?? "10000");
  if (!Number.isInteger(timeout) || timeout <= 0) throw new DbError(`DB_CONNECT_TIMEOUT_MS must be a positive integer (got "${env.DB_CONNECT_TIMEOUT_MS}")`);
  const masterDatabase = env.DB_MASTER_DATABASE || "postgres";
  return { sslMode, caFile, connectTimeoutMs: timeout, masterDatabase };
}

function sslOptions(s: DbSettings): false | ConnectionOptions {
  if (s.sslMode === "disable") return false;
  const options: ConnectionOptions = { rejectUnauthorized: true }; // hostname is checked too (verify-full)
  if (s.caFile) options.ca = [...rootCertificates, readFileSync(s.caFile, "utf8")];
  return options;
}

export interface Login {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export async function connect(login: Login, s: DbSettings): Promise<pg.Client> {
  const client = new pg.Client({
    host: login.host,
    port: login.port,
    user: login.user,
    password: login.password,
    database: login.database,
    ssl: sslOptions(s),
    connectionTimeoutMillis: s.connectTimeoutMs,
    application_name: "db-bootstrap",
  });
  // An idle-connection error must not crash the process; the next query reports it.
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** SQLSTATEs that mean "these credentials do not log in" (rather than "the server is unreachable"). */
const LOGIN_REFUSED = new Set(["28P01", "28000"]);

/** Connects as `login`; undefined when the server refuses the credentials. Other failures throw. */
export async function tryLogin(login: Login, s: DbSettings): Promise<pg.Client | undefined> {
  try {
    return await connect(login, s);
  } catch (e) {
    if (LOGIN_REFUSED.has((e as { code?: string }).code ?? "")) return undefined;
    throw e;
  }
}

export function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) throw new DbError(`refusing identifier ${JSON.stringify(name)}: must match ${IDENTIFIER.source}`);
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  if (/[\\\0]/.test(value)) throw new DbError("refusing literal with a backslash or NUL");
  return `'${value.replace(/'/g, "''")}'`;
}

export interface MasterInfo {
  readonly user: string;
  readonly superuser: boolean;
  readonly serverVersionNum: number;
}

export async function masterInfo(c: pg.Client): Promise<MasterInfo> {
  const r = await c.query<{ user: string; superuser: boolean; v: number }>(
    "SELECT current_user AS user, r.rolsuper AS superuser, current_setting('server_version_num')::int AS v FROM pg_roles r WHERE r.rolname = current_user",
  );
  const row = r.rows[0];
  if (!row) throw new DbError("cannot read the master role from pg_roles");
  return { user: row.user, superuser: row.superuser, serverVersionNum: row.v };
}

/** Serializes concurrent invocations (session-level; released when the connection closes). */
export async function lockBootstrap(c: pg.Client): Promise<void> {
  await c.query("SELECT pg_advisory_lock(hashtext('owui-db-bootstrap'))");
}

interface RoleRow {
  rolsuper: boolean;
  rolcanlogin: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
}

async function getRole(c: pg.Client, role: string): Promise<RoleRow | undefined> {
  const r = await c.query<RoleRow>("SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = $1", [role]);
  return r.rows[0];
}

export type Outcome = "created" | "exists";

/**
 * Ensures a LOGIN role without SUPERUSER/CREATEDB/CREATEROLE exists. A new role gets `password`
 * (as a SCRAM verifier). An existing role keeps its password; its attributes are corrected.
 * A superuser of that name is refused: this function never hands a superuser to a service.
 */
export async function ensureRole(c: pg.Client, role: string, password: string): Promise<Outcome> {
  const id = quoteIdent(role);
  const row = await getRole(c, role);
  if (!row) {
    await c.query(`CREATE ROLE ${id} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`);
    return "created";
  }
  if (row.rolsuper) throw new DbError(`role "${role}" exists and is a superuser; refusing to use it for a service`);
  const fixes = [!row.rolcanlogin && "LOGIN", row.rolcreatedb && "NOCREATEDB", row.rolcreaterole && "NOCREATEROLE"].filter(Boolean);
  if (fixes.length > 0) await c.query(`ALTER ROLE ${id} WITH ${fixes.join(" ")}`);
  return "exists";
}

export async function setPassword(c: pg.Client, role: string, password: string): Promise<void> {
  await c.query(`ALTER ROLE ${quoteIdent(role)} WITH LOGIN PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`);
}

/**
 * A master that is not a superuser (Aurora's rds_superuser) may only create a database owned by
 * `role`, or alter that database, when it can act as `role`: PG ≤ 15 needs membership, PG 16+ the
 * SET option. Grants it when missing.
 */
export async function ensureMasterCanActAs(c: pg.Client, m: MasterInfo, role: string): Promise<void> {
  if (m.superuser) return;
  const priv = m.serverVersionNum >= 160000 ? "SET" : "MEMBER";
  const r = await c.query<{ ok: boolean }>(`SELECT pg_has_role(current_user, $1, '${priv}') AS ok`, [role]);
  if (!r.rows[0]?.ok) await c.query(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
}

/**
 * Ensures `database` exists and is owned by `role`, and that PUBLIC can neither connect to it nor
 * create temporary tables in it (so one service's role cannot reach another service's database).
 */
export async function ensureDatabase(c: pg.Client, database: string, role: string): Promise<Outcome> {
  const db = quoteIdent(database);
  const owner = quoteIdent(role);
  const q = () =>
    c.query<{ owner: string; connect: boolean; temp: boolean }>(
      `SELECT pg_get_userbyid(datdba) AS owner,
              has_database_privilege('public', oid, 'CONNECT') AS connect,
              has_database_privilege('public', oid, 'TEMPORARY') AS temp
         FROM pg_database WHERE datname = $1`,
      [database],
    );
  let row = (await q()).rows[0];
  let outcome: Outcome = "exists";
  if (!row) {
    await c.query(`CREATE DATABASE ${db} OWNER ${owner}`);
    outcome = "created";
    row = (await q()).rows[0];
    if (!row) throw new DbError(`database "${database}" not found after CREATE DATABASE`);
  } else if (row.owner !== role) {
    await c.query(`ALTER DATABASE ${db} OWNER TO ${owner}`);
  }
  if (row.connect || row.temp) await c.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
  return outcome;
}

/**
 * Run while connected AS the service role to its own database (the role owns the database, hence
 * is a member of pg_database_owner, which owns `public` on PG 15+): makes the role the owner of the
 * `public` schema and takes CREATE on it away from PUBLIC (the PG 15 default, applied on older
 * versions too).
 */
export async function ensurePublicSchemaOwned(c: pg.Client, role: string): Promise<void> {
  const r = await c.query<{ owner: string; public_create: boolean }>(
    "SELECT pg_get_userbyid(nspowner) AS owner, has_schema_privilege('public', oid, 'CREATE') AS public_create FROM pg_namespace WHERE nspname = 'public'",
  );
  const row = r.rows[0];
  if (!row) {
    await c.query("CREATE SCHEMA public");
    return;
  }
  if (row.owner !== role) await c.query(`ALTER SCHEMA public OWNER TO ${quoteIdent(role)}`);
  if (row.public_create) await c.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
}

/** What AWS documents about the Aurora PostgreSQL versions that ship pgvector (the `vector` extension). */
export const AURORA_PGVECTOR_VERSIONS =
  "Aurora PostgreSQL ships pgvector (extension `vector`) in 15.3, 14.8, 13.11, 12.15 and higher (AWS What's New, 13 July 2023), so in every 16.x and later";

function notAvailable(extension: string, serverVersion: string, detail: string): DbError {
  const fix = extension === "vector" ? `${AURORA_PGVECTOR_VERSIONS}: raise data.aurora.engineVersion` : "use an engine version that ships it";
  return new DbError(`extension "${extension}" is not available on this server (PostgreSQL ${serverVersion}: ${detail}). Fix: ${fix}`);
}

/**
 * Run while connected AS THE MASTER to the service's database: creates `extension` there, in the
 * `public` schema (where the service role, with the default search_path `"$user", public`, finds
 * its types and functions), unless it is already installed (in any schema: then nothing is run).
 * An extension's objects are usable by every role by default (types: USAGE to PUBLIC; functions
 * and operators: EXECUTE to PUBLIC), so no GRANT follows.
 *
 * Fails, naming the extension and the reason, when the server does not have it (not in
 * `pg_available_extensions`, or `could not open extension control file`) or refuses to create it
 * (a non-superuser master on plain PostgreSQL for an untrusted extension such as `vector`; on
 * Aurora, an extension left out of `rds.allowed_extensions`).
 */
export async function ensureExtension(c: pg.Client, extension: string): Promise<Outcome> {
  const id = quoteIdent(extension);
  const installed = await c.query("SELECT 1 FROM pg_extension WHERE extname = $1", [extension]);
  if (installed.rowCount) return "exists";
  const version = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? "?";
  const available = await c.query("SELECT 1 FROM pg_available_extensions WHERE name = $1", [extension]);
  if (!available.rowCount) throw notAvailable(extension, version, `no ${extension}.control in its extension directory`);
  try {
    await c.query(`CREATE EXTENSION IF NOT EXISTS ${id} SCHEMA public`);
  } catch (e) {
    const err = e as { code?: string; message: string };
    // 58P01 undefined_file: the control file is there but a script or the library is missing.
    if (err.code === "58P01") throw notAvailable(extension, version, err.message);
    const why =
      err.code === "42501"
        ? ". The master user may not create it: on Aurora the master (rds_superuser) may create the extensions listed in the " +
          "cluster parameter rds.allowed_extensions (default *), so check that parameter; plain PostgreSQL lets only a superuser create an untrusted extension"
        : "";
    throw new DbError(`CREATE EXTENSION ${extension} failed: ${err.message}${err.code ? ` (SQLSTATE ${err.code})` : ""}${why}`, { cause: e });
  }
  return "created";
}

export async function closeQuietly(c: pg.Client | undefined): Promise<void> {
  if (!c) return;
  try {
    await c.end();
  } catch {
    // already closed
  }
}
