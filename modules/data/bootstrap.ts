/**
 * Per-service databases: one empty secret per service, and the db-bootstrap function (in the VPC)
 * invoked at apply time to create each service's role and database and fill its secret. The
 * invocation's result (stored in state) holds only names and outcomes, never a password.
 */
import { LambdaInvocation } from "@cdktf/provider-aws/lib/lambda-invocation";
import { Fn, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { bundleFunction } from "../../lib/bundle.js";
import type { AwsContext } from "../../lib/context.js";
import { resourceName } from "../../lib/naming.js";
import { NodeFunction } from "../../lib/node-function.js";
import type { PolicyStatement } from "../../lib/policy.js";
import type { SecretRef } from "../../lib/refs.js";
import type { KeyRef, SecurityGroupRef } from "../security/index.js";
import type { DatabaseOutputs } from "./aurora.js";
import { emptySecret } from "./secret.js";

/** What db-bootstrap needs to set the cache's AUTH token (see redis.ts). */
export interface RedisBootstrapTarget {
  readonly replicationGroupId: string;
  readonly replicationGroupArn: string;
  readonly primaryEndpoint: string;
  readonly port: number;
  readonly secret: SecretRef;
}

/** A service's database, and the PostgreSQL extensions db-bootstrap creates in it. */
export interface DatabaseSpec {
  /** Service name; its database and login role are named the same. */
  readonly name: string;
  /**
   * Extensions created in the service's database by the master user (`CREATE EXTENSION IF NOT
   * EXISTS … SCHEMA public`), e.g. `["vector"]`; only those db-bootstrap knows
   * (functions/db-bootstrap/src/event.ts, KNOWN_EXTENSIONS).
   * @default []
   */
  readonly extensions?: readonly string[];
}

export interface DatabaseBootstrapProps {
  readonly envName: string;
  readonly aws: AwsContext;
  readonly key: KeyRef;
  readonly logRetentionDays: number;
  readonly subnetIds: readonly string[];
  /** The function's client group (allowed into the database group on 5432). */
  readonly securityGroup: SecurityGroupRef;
  readonly database: DatabaseOutputs;
  /** What must be up before the invocation: the cluster instances (the writer). */
  readonly waitFor: readonly ITerraformDependable[];
  /** Services that get a database, a login role and a secret; database and role are named like the service. */
  readonly services: readonly DatabaseSpec[];
  /** @default - no cache */
  readonly redis?: RedisBootstrapTarget;
}

export class DatabaseBootstrap extends Construct {
  readonly secrets: Readonly<Record<string, SecretRef>>;
  readonly function: NodeFunction;
  readonly invocation: LambdaInvocation;

  constructor(scope: Construct, id: string, props: DatabaseBootstrapProps) {
    super(scope, id);
    const { envName, key, database, redis } = props;
    const functionName = resourceName(envName, "db-bootstrap");
    this.secrets = Object.fromEntries(
      props.services.map(({ name: service }) => [
        service,
        emptySecret(this, `secret-${service}`, {
          name: `owui/${envName}/${service}/database`,
          description:
            `PostgreSQL login of ${service}. Filled by the ${functionName} function, never by Terraform: {"engine":"postgres","host","port","dbname","username","password",` +
            `"url":"postgresql://<user>:<password>@<host>:5432/<db>?sslmode=require"}. ECS reads the url key as DATABASE_URL.`,
          key,
        }),
      ]),
    );
    const bundle = bundleFunction({ pkg: "db-bootstrap", entry: "src/index.ts" });
    this.function = new NodeFunction(this, "function", {
      name: functionName,
      description: "Creates each service's PostgreSQL role and database and stores its credentials in Secrets Manager",
      aws: props.aws,
      bundle,
      // REDIS_WAIT_SECONDS stays inside the 300 s timeout (the function's own default is 600).
      environment: { DB_SSL_MODE: "verify-full", NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem", REDIS_WAIT_SECONDS: "240" },
      kmsKey: key,
      logRetentionDays: props.logRetentionDays,
      // CREATE DATABASE on Aurora takes seconds; a cold Serverless v2 writer may need to scale first.
      timeoutSeconds: 300,
      reservedConcurrency: 1,
      vpc: { subnetIds: props.subnetIds, securityGroupIds: [props.securityGroup.securityGroupId] },
      statements: bootstrapStatements(props.aws.region, key, database.masterSecretArn, Object.values(this.secrets), redis),
    });

    const services = props.services.map(({ name, extensions = [] }) => ({
      name,
      database: name,
      role: name,
      secretArn: this.secrets[name]!.secretArn,
      ...(extensions.length > 0 ? { extensions } : {}),
    }));
    // `openwebui:vector,litellm:pg_trgm+pgcrypto`; absent while no service has extensions.
    const extensions = props.services
      .filter((s) => (s.extensions ?? []).length > 0)
      .map((s) => `${s.name}:${s.extensions!.join("+")}`)
      .join(",");
    this.invocation = new LambdaInvocation(this, "invocation", {
      functionName: this.function.functionName,
      // Per functions/db-bootstrap/README.md; `redis` is read by the cache step (see redis.ts).
      input: Fn.jsonencode({
        masterSecretArn: database.masterSecretArn,
        host: database.endpoint,
        port: database.port,
        services,
        ...(redis ? { redis: { replicationGroupId: redis.replicationGroupId, secretArn: redis.secret.secretArn, host: redis.primaryEndpoint, port: redis.port } } : {}),
      }),
      triggers: {
        cluster_endpoint: database.endpoint,
        services: props.services.map((s) => s.name).join(","),
        // A new extension re-runs the bootstrap (the input changes too).
        ...(extensions ? { extensions } : {}),
        bundle_sha256: bundle.sha256,
        ...(redis ? { redis_replication_group: redis.replicationGroupId } : {}),
      },
      dependsOn: [...props.waitFor],
    });
  }
}

/** Exactly what the function does: read the master secret, read/write the service (and cache) secrets, set the cache token. */
function bootstrapStatements(region: string, key: KeyRef, masterSecretArn: string, secrets: readonly SecretRef[], redis?: RedisBootstrapTarget): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    { sid: "ReadMasterSecret", actions: ["secretsmanager:GetSecretValue"], resources: [masterSecretArn] },
    { sid: "ReadWriteServiceSecrets", actions: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], resources: secrets.map((s) => s.secretArn) },
    {
      // The master secret and the service secrets are all encrypted with the workload CMK.
      sid: "UseWorkloadKeyThroughSecretsManager",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [key.keyArn],
      conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [`secretsmanager.${region}.amazonaws.com`] }],
    },
  ];
  if (!redis) return statements;
  return [
    ...statements,
    { sid: "ReadWriteRedisSecret", actions: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], resources: [redis.secret.secretArn] },
    { sid: "SetRedisAuthToken", actions: ["elasticache:ModifyReplicationGroup", "elasticache:DescribeReplicationGroups"], resources: [redis.replicationGroupArn] },
  ];
}
