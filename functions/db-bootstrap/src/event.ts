/**
 * The invocation event (sent by Terraform's `aws_lambda_invocation`) and its validation. Every
 * error names the offending field, e.g. `services[1].role`.
 */

/** PostgreSQL identifiers this function accepts: lower-case, unquoted-safe, at most 63 bytes. */
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

export interface ServiceSpec {
  /** Service name, e.g. `openwebui`; only used in the summary and logs. */
  readonly name: string;
  /** Database to create, owned by `role`. */
  readonly database: string;
  /** Login role to create. */
  readonly role: string;
  /** ARN (or name) of the service's Secrets Manager secret that receives the credentials. */
  readonly secretArn: string;
  /**
   * Extensions to create in `database`, as the master user (`CREATE EXTENSION IF NOT EXISTS … SCHEMA
   * public`), e.g. `["vector"]`; only names in KNOWN_EXTENSIONS. Absent: none (and no `extensions`
   * in the service's summary).
   */
  readonly extensions?: readonly string[];
}

/**
 * Extensions db-bootstrap agrees to create. Each one is created by the master user (Aurora's
 * rds_superuser) in a service's database, so the list is kept to extensions whose objects are
 * harmless to hand to a service: data types, operators, index methods and functions that run no
 * code outside the database and read no server files.
 *   - `vector`   pgvector: Open WebUI's VECTOR_DB=pgvector (its role may not create it: untrusted).
 *   - `pg_trgm`  trigram matching and indexes (trusted since PostgreSQL 13).
 *   - `pgcrypto` hashing and encryption functions, e.g. Open WebUI's PGVECTOR_PGCRYPTO (trusted since 13).
 */
export const KNOWN_EXTENSIONS: readonly string[] = ["vector", "pg_trgm", "pgcrypto"];

/**
 * The optional cache: an ElastiCache (Redis OSS/Valkey) replication group created by Terraform
 * without an AUTH token, and the empty secret that receives it (see redis.ts).
 */
export interface RedisSpec {
  /** `aws_elasticache_replication_group.id`. */
  readonly replicationGroupId: string;
  /** ARN (or name) of the Secrets Manager secret that receives `{"host","port","authToken","url"}`. */
  readonly secretArn: string;
  /** Primary endpoint (what goes into the `url`). */
  readonly host: string;
  readonly port: number;
}

export interface BootstrapEvent {
  /** ARN of the RDS-managed master secret (`{"username","password"}`). */
  readonly masterSecretArn: string;
  /** Cluster writer endpoint. */
  readonly host: string;
  readonly port: number;
  readonly services: readonly ServiceSpec[];
  /** Absent (or null): no cache step. */
  readonly redis?: RedisSpec;
}

export class EventError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`invalid event: ${field} ${problem}`);
    this.name = "EventError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  const s = JSON.stringify(v);
  return `got ${s === undefined ? typeof v : s.length > 80 ? `${s.slice(0, 77)}...` : s}`;
}

function nonEmptyString(v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") throw new EventError(field, `must be a non-empty string (${describe(v)})`);
  return v;
}

function identifier(v: unknown, field: string): string {
  if (typeof v !== "string" || !IDENTIFIER.test(v)) {
    throw new EventError(field, `must match ${IDENTIFIER.source} (lower-case letter first, then lower-case letters, digits or _; at most 63) (${describe(v)})`);
  }
  return v;
}

function extensions(v: unknown, field: string): readonly string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new EventError(field, `must be an array of extension names, e.g. ["vector"] (${describe(v)})`);
  return v.map((x: unknown, i: number) => {
    const at = `${field}[${i}]`;
    if (typeof x !== "string" || !KNOWN_EXTENSIONS.includes(x)) {
      throw new EventError(at, `must be one of the extensions db-bootstrap creates: ${KNOWN_EXTENSIONS.join(", ")} (${describe(x)})`);
    }
    const first = v.indexOf(x);
    if (first !== i) throw new EventError(at, `duplicates ${field}[${first}] ("${x}"); list each extension once`);
    return x;
  });
}

function bareHost(v: unknown, field: string): string {
  const host = nonEmptyString(v, field);
  if (/[\s/@?#]/.test(host)) throw new EventError(field, `must be a bare host name (${describe(host)})`);
  return host;
}

function tcpPort(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new EventError(field, `must be an integer from 1 to 65535 (${describe(v)})`);
  }
  return v;
}

/** ElastiCache's rule for replication group ids: 1-40 letters, digits or hyphens, a letter first, no "--", no trailing "-". */
export const REPLICATION_GROUP_ID = /^[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,39}$/;

function parseRedis(v: unknown): RedisSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new EventError("redis", `must be an object with replicationGroupId, secretArn, host, port (${describe(v)})`);
  const id = v.replicationGroupId;
  if (typeof id !== "string" || !REPLICATION_GROUP_ID.test(id)) {
    throw new EventError("redis.replicationGroupId", `must be an ElastiCache replication group id (1-40 letters, digits or hyphens, a letter first, no "--" or trailing "-") (${describe(id)})`);
  }
  return {
    replicationGroupId: id,
    secretArn: nonEmptyString(v.secretArn, "redis.secretArn"),
    host: bareHost(v.host, "redis.host"),
    port: tcpPort(v.port, "redis.port"),
  };
}

/** `event` may also be a JSON string (some invokers double-encode). */
export function parseEvent(event: unknown): BootstrapEvent {
  let e = event;
  if (typeof e === "string") {
    try {
      e = JSON.parse(e);
    } catch {
      throw new EventError("event", "is a string that is not JSON");
    }
  }
  if (!isObject(e)) throw new EventError("event", `must be a JSON object (${describe(e)})`);

  const masterSecretArn = nonEmptyString(e.masterSecretArn, "masterSecretArn");
  const host = bareHost(e.host, "host");
  const port = tcpPort(e.port, "port");
  if (!Array.isArray(e.services) || e.services.length === 0) {
    throw new EventError("services", `must be a non-empty array (${describe(e.services)})`);
  }

  const seen = { name: new Map<string, number>(), database: new Map<string, number>(), role: new Map<string, number>() };
  const services = e.services.map((s: unknown, i: number): ServiceSpec => {
    const at = `services[${i}]`;
    if (!isObject(s)) throw new EventError(at, `must be an object (${describe(s)})`);
    const base = {
      name: identifier(s.name, `${at}.name`),
      database: identifier(s.database, `${at}.database`),
      role: identifier(s.role, `${at}.role`),
      secretArn: nonEmptyString(s.secretArn, `${at}.secretArn`),
    };
    const exts = extensions(s.extensions, `${at}.extensions`);
    const spec: ServiceSpec = exts ? { ...base, extensions: exts } : base;
    // Services must not share a database or a role (their migrations collide).
    for (const key of ["name", "database", "role"] as const) {
      const prev = seen[key].get(spec[key]);
      if (prev !== undefined) throw new EventError(`${at}.${key}`, `duplicates services[${prev}].${key} ("${spec[key]}"); each service needs its own`);
      seen[key].set(spec[key], i);
    }
    return spec;
  });
  const redis = parseRedis(e.redis);
  return redis ? { masterSecretArn, host, port, services, redis } : { masterSecretArn, host, port, services };
}
