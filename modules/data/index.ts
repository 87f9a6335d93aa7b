/**
 * Data layer: Aurora PostgreSQL Serverless v2, a database + role + secret per service (filled by
 * the db-bootstrap function at apply time), EFS with one access point per consumer, and, when
 * enabled, a Redis-compatible cache. Everything is encrypted with the workload CMK; no secret value
 * ever reaches code, HCL or Terraform state.
 */
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { EnvConfig } from "../../envs/schema.js";
import { IDENTIFIER, KNOWN_EXTENSIONS } from "../../functions/db-bootstrap/src/event.js";
import type { AwsContext } from "../../lib/context.js";
import type { SecretRef } from "../../lib/refs.js";
import type { NetworkOutputs } from "../network/index.js";
import type { Security } from "../security/index.js";
import { AuroraPostgres, POSTGRES_PORT, type DatabaseOutputs } from "./aurora.js";
import { DatabaseBootstrap, type DatabaseSpec } from "./bootstrap.js";
import { SharedFileSystem, type FileSystemConsumer, type FileSystemOutputs } from "./efs.js";
import { RedisCache, type RedisOutputs } from "./redis.js";

export type { DatabaseOutputs } from "./aurora.js";
export type { DatabaseSpec } from "./bootstrap.js";
export type { AccessPointRef, FileSystemConsumer, FileSystemOutputs } from "./efs.js";
export type { RedisOutputs } from "./redis.js";

export interface DataProps {
  /** Environment name, used in resource and secret names. */
  readonly envName: string;
  readonly aws: AwsContext;
  readonly network: Pick<NetworkOutputs, "vpcId" | "privateSubnetIds" | "azs">;
  /** The CMK, the store security groups, and client groups for in-VPC functions. */
  readonly security: Pick<Security, "workloadKey" | "databaseSecurityGroup" | "efsSecurityGroup" | "redisSecurityGroup" | "addClientSecurityGroup">;
  readonly config: EnvConfig["data"];
  /** Retention of the RDS, Redis and db-bootstrap log groups, in days. */
  readonly logRetentionDays: number;
  /**
   * Services that get their own database, login role and secret, e.g. `["openwebui", "litellm"]`.
   * An entry may instead be `{ name, extensions }` to have db-bootstrap create PostgreSQL
   * extensions in that service's database as the master user, e.g.
   * `{ name: "openwebui", extensions: ["vector"] }` for Open WebUI's pgvector (its own role may not
   * create it). Extensions: only those db-bootstrap knows (`vector`, `pg_trgm`, `pgcrypto`).
   */
  readonly databases: readonly (string | DatabaseSpec)[];
  /** One EFS access point (directory `/<name>`, fixed POSIX user) per consumer. */
  readonly fileSystemConsumers: readonly FileSystemConsumer[];
}

/** What other layers may use of the data layer. */
export interface DataOutputs {
  readonly database: DatabaseOutputs;
  /** Per service; the JSON key `url` holds `postgresql://…?sslmode=require` (ECS: `valueFrom = "<arn>:url::"`). */
  readonly databaseSecrets: Readonly<Record<string, SecretRef>>;
  readonly fileSystem: FileSystemOutputs;
  /** Present when `config.redis.enabled`. */
  readonly redis?: RedisOutputs;
  /**
   * The db-bootstrap invocation: once it has run, every service's database, role and secret
   * (`DATABASE_URL`) exist. Whatever connects to a service database at apply time depends on it.
   */
  readonly bootstrapInvocation: ITerraformDependable;
}

/** PostgreSQL identifiers db-bootstrap accepts (functions/db-bootstrap/src/event.ts). */
const SERVICE_NAME = IDENTIFIER;
const CONSUMER_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export class Data extends Construct implements DataOutputs {
  readonly aurora: AuroraPostgres;
  readonly bootstrap: DatabaseBootstrap;
  readonly efs: SharedFileSystem;
  readonly cache?: RedisCache;
  readonly database: DatabaseOutputs;
  readonly databaseSecrets: Readonly<Record<string, SecretRef>>;
  readonly fileSystem: FileSystemOutputs;
  readonly redis?: RedisOutputs;
  readonly bootstrapInvocation: ITerraformDependable;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    validate(this.node.path, props);
    const { envName, network, security, config } = props;
    const key = security.workloadKey;
    const subnetIds = network.privateSubnetIds;

    this.aurora = new AuroraPostgres(this, "aurora", {
      envName,
      config: config.aurora,
      azs: network.azs,
      subnetIds,
      securityGroup: security.databaseSecurityGroup,
      key,
      logRetentionDays: props.logRetentionDays,
    });
    this.database = this.aurora;

    if (config.redis.enabled) {
      this.cache = new RedisCache(this, "redis", { envName, config: config.redis, subnetIds, securityGroup: security.redisSecurityGroup, key, logRetentionDays: props.logRetentionDays });
      this.redis = this.cache;
    }

    this.bootstrap = new DatabaseBootstrap(this, "db-bootstrap", {
      envName,
      aws: props.aws,
      key,
      logRetentionDays: props.logRetentionDays,
      subnetIds,
      securityGroup: security.addClientSecurityGroup("db-bootstrap", "db-bootstrap function: PostgreSQL to Aurora, HTTPS to AWS APIs", [
        { target: "database", port: POSTGRES_PORT },
      ]),
      database: this.aurora,
      waitFor: this.aurora.instances,
      services: props.databases.map(databaseSpec),
      redis: this.cache,
    });
    this.databaseSecrets = this.bootstrap.secrets;
    this.bootstrapInvocation = this.bootstrap.invocation;

    this.efs = new SharedFileSystem(this, "efs", {
      envName,
      config: config.efs,
      subnetIds,
      azs: network.azs,
      securityGroup: security.efsSecurityGroup,
      key,
      consumers: props.fileSystemConsumers,
    });
    this.fileSystem = this.efs;
  }
}

/** `"litellm"` → `{ name: "litellm", extensions: [] }`. */
function databaseSpec(entry: string | DatabaseSpec): Required<DatabaseSpec> {
  return typeof entry === "string" ? { name: entry, extensions: [] } : { name: entry.name, extensions: entry.extensions ?? [] };
}

/** Refuses, at synth, what would fail at apply (bad names, duplicates, root or relative paths). */
function validate(path: string, props: DataProps): void {
  const problems: string[] = [];
  if (props.databases.length === 0) problems.push("databases is empty. Fix: list the services that need a database, e.g. [\"openwebui\", \"litellm\"]");
  const names = props.databases.map((d) => databaseSpec(d).name);
  props.databases.forEach((entry, i) => {
    const { name: s, extensions } = databaseSpec(entry);
    const at = typeof entry === "string" ? `databases[${i}]` : `databases[${i}].name`;
    if (typeof s !== "string" || !SERVICE_NAME.test(s)) problems.push(`${at} ${JSON.stringify(s)} is not a PostgreSQL identifier db-bootstrap accepts. Fix: match ${SERVICE_NAME.source}, e.g. "openwebui"`);
    if (names.indexOf(s) !== i) problems.push(`${at} "${s}" is listed twice. Fix: list each service once`);
    extensions.forEach((x, j) => {
      const xat = `databases[${i}].extensions[${j}]`;
      if (!KNOWN_EXTENSIONS.includes(x)) problems.push(`${xat} ${JSON.stringify(x)} is not an extension db-bootstrap creates. Fix: use one of ${KNOWN_EXTENSIONS.join(", ")}`);
      else if (extensions.indexOf(x) !== j) problems.push(`${xat} "${x}" is listed twice. Fix: list each extension once`);
    });
  });
  props.fileSystemConsumers.forEach((c, i) => {
    const at = `fileSystemConsumers[${i}]`;
    if (!CONSUMER_NAME.test(c.name)) problems.push(`${at}.name "${c.name}" cannot name a directory and an access point. Fix: match ${CONSUMER_NAME.source}`);
    if (props.fileSystemConsumers.findIndex((o) => o.name === c.name) !== i) problems.push(`${at}.name "${c.name}" is listed twice. Fix: one access point per consumer`);
    if (!/^\/./.test(c.path)) problems.push(`${at}.path "${c.path}" is not an absolute container path below /. Fix: e.g. "/app/backend/data"`);
    for (const k of ["uid", "gid"] as const) {
      if (!Number.isInteger(c[k]) || c[k] < 0 || c[k] > 4294967294) problems.push(`${at}.${k} ${c[k]} is not a POSIX id. Fix: a whole number from 0, e.g. 1000`);
    }
  });
  if (problems.length > 0) throw new Error(`Data ${path}: ${problems.join("; ")}`);
}
