import { TerraformOutput, type TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { Data, type DataProps } from "../modules/data/index.js";
import { ENVS, synthStack, type Json, type Synthesized, dataFixture, policyOf } from "./support/synth.js";

const SERVICES = ["openwebui", "litellm"] as const;
const CONSUMERS = [
  { name: "openwebui", path: "/app/backend/data", uid: 1000, gid: 1000 },
  { name: "mcpo", path: "/data", uid: 1001, gid: 1002 },
] as const;

/** A PlatformStack-like fixture: provider, network, security and the data layer. */
function build(env: EnvConfig, over: Partial<DataProps> = {}): { stack: TerraformStack; data: Data } {
  const { stack, data } = dataFixture(env, { databases: SERVICES, fileSystemConsumers: CONSUMERS, ...over });
  // The typed outputs, resolved to Terraform references in the synthesized JSON.
  const { database: db, redis } = data;
  new TerraformOutput(stack, "data_outputs", {
    value: {
      database: { clusterArn: db.clusterArn, clusterIdentifier: db.clusterIdentifier, endpoint: db.endpoint, readerEndpoint: db.readerEndpoint, port: db.port, masterSecretArn: db.masterSecretArn },
      databaseSecrets: data.databaseSecrets,
      accessPoints: data.fileSystem.accessPoints,
      ...(redis ? { redis: { primaryEndpoint: redis.primaryEndpoint, port: redis.port, secret: redis.secret } } : {}),
    },
  });
  return { stack, data };
}

/** `${aws_kms_key.security_workload-key_1234ABCD.arn}` → `aws_kms_key.security_workload-key`. */
const target = (ref: string) => /^\$\{([\w]+\.[\w-]+?)_[0-9A-F]{8}(?:\.|\[)/.exec(ref)?.[1];
const KEY = "aws_kms_key.security_workload-key";
const sgRef = (name: string) => expect.stringMatching(new RegExp(`^\\$\\{aws_security_group\\.security_${name}_[0-9A-F]{8}\\.id\\}$`));

/** Every key anywhere in a JSON value. */
function keysOf(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keysOf(x, out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) keysOf(x, out.add(k));
  return out;
}

/**
 * Decodes the HCL object inside `${jsonencode(...)}` to JSON; Terraform references become
 * `${reference}` strings, so the event can be compared as a value.
 */
function decodeJsonencode(expr: string): Json {
  const body = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expr)?.[1];
  if (body === undefined) throw new Error(`not a jsonencode expression: ${expr}`);
  const token = /\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[{}[\],=]|[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*)/gy;
  let json = "";
  for (let m = token.exec(body); m; m = token.exec(body)) {
    const t = m[1]!;
    json += t === "=" ? ":" : /^[A-Za-z_]/.test(t) && !["true", "false", "null"].includes(t) ? JSON.stringify("${" + t + "}") : t;
  }
  return JSON.parse(json);
}

/** Every statement of a role's one inline policy document. */
function inlineStatements(s: Synthesized, rolePolicy: Json): Json[] {
  return policyOf(s, rolePolicy.policy).statement;
}

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
] as const)("data layer in %s", (envName, env) => {
  const { stack, data } = build(env);
  const s = synthStack(stack);
  const aurora = env.data.aurora;
  const clusterName = s.resources("aws_rds_cluster")[0]![0];
  const cluster = s.resource("aws_rds_cluster");
  const instances = s.resources("aws_rds_cluster_instance").map(([, c]) => c);
  const privateSubnets = s.resources("aws_subnet").filter(([, c]) => c.tags.Tier === "private");
  const privateSubnetRefs = privateSubnets.map(([n]) => "${aws_subnet." + n + ".id}");

  describe("Aurora PostgreSQL", () => {
    it("is Serverless v2 aurora-postgresql at the configured version and ACU range", () => {
      expect(cluster).toMatchObject({ engine: "aurora-postgresql", engine_mode: "provisioned", engine_version: aurora.engineVersion, port: 5432 });
      expect(cluster.serverlessv2_scaling_configuration).toEqual({ min_capacity: aurora.minAcu, max_capacity: aurora.maxAcu });
    });

    it(`has ${aurora.instances} db.serverless instance(s), spread over distinct AZs in order`, () => {
      expect(instances).toHaveLength(aurora.instances);
      expect(instances.map((i) => i.availability_zone)).toEqual(env.network.azs.slice(0, aurora.instances));
      expect(new Set(instances.map((i) => i.availability_zone)).size).toBe(aurora.instances);
      for (const i of instances) {
        expect(i).toMatchObject({ instance_class: "db.serverless", publicly_accessible: false, auto_minor_version_upgrade: true });
        expect(i.cluster_identifier).toBe("${aws_rds_cluster." + clusterName + ".cluster_identifier}");
      }
    });

    it("encrypts storage with the workload CMK", () => {
      expect(cluster.storage_encrypted).toBe(true);
      expect(target(cluster.kms_key_id)).toBe(KEY);
    });

    it("lets RDS manage the master password in a CMK-encrypted secret, and has no master_password", () => {
      expect(cluster.manage_master_user_password).toBe(true);
      expect(target(cluster.master_user_secret_kms_key_id)).toBe(KEY);
      expect(JSON.stringify(s.json)).not.toContain("master_password");
    });

    it("enables IAM database authentication", () => {
      expect(cluster.iam_database_authentication_enabled).toBe(true);
    });

    it("forces TLS and logs slow statements through its cluster parameter group", () => {
      const pg = s.resource("aws_rds_cluster_parameter_group");
      expect(target(cluster.db_cluster_parameter_group_name)).toBe("aws_rds_cluster_parameter_group.data_aurora_parameters");
      expect(pg.family).toBe(`aurora-postgresql${aurora.engineVersion.split(".")[0]}`);
      expect(pg.parameter).toEqual([
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ]);
    });

    it(`keeps backups ${aurora.backupRetentionDays} days (≥ 7)`, () => {
      expect(cluster.backup_retention_period).toBe(aurora.backupRetentionDays);
      expect(cluster.backup_retention_period).toBeGreaterThanOrEqual(7);
    });

    it(`has deletion protection ${aurora.deletionProtection} and final snapshot ${aurora.finalSnapshot}`, () => {
      expect(cluster.deletion_protection).toBe(aurora.deletionProtection);
      expect(cluster.skip_final_snapshot).toBe(!aurora.finalSnapshot);
      // Named at creation, unique per incarnation of the cluster (test/protection.test.ts has the details).
      expect(cluster.final_snapshot_identifier).toBe(`owui-${envName}-aurora-final-\${formatdate("YYYYMMDDhhmmss", timestamp())}`);
    });

    it("exports the postgresql log into a KMS log group with retention, created before the cluster", () => {
      expect(cluster.enabled_cloudwatch_logs_exports).toEqual(["postgresql"]);
      const [name, group] = s.resources("aws_cloudwatch_log_group").find(([, g]) => g.name.startsWith("/aws/rds/"))!;
      expect(group.name).toBe(`/aws/rds/cluster/owui-${envName}-aurora/postgresql`);
      expect(target(group.kms_key_id)).toBe(KEY);
      expect(group.retention_in_days).toBe(env.logRetentionDays);
      expect(cluster.depends_on).toEqual([`aws_cloudwatch_log_group.${name}`]);
    });

    it("copies tags to snapshots and sets no availability_zones (perpetual diff)", () => {
      expect(cluster.copy_tags_to_snapshot).toBe(true);
      expect(cluster.availability_zones).toBeUndefined();
    });

    it("turns Performance Insights on with the CMK and the configured retention", () => {
      for (const i of instances) {
        expect(i.performance_insights_enabled).toBe(true);
        expect(target(i.performance_insights_kms_key_id)).toBe(KEY);
        expect(i.performance_insights_retention_period).toBe(aurora.performanceInsightsRetentionDays);
      }
    });

    it("outputs its endpoints, port and master secret", () => {
      const ref = (attr: string) => "${aws_rds_cluster." + clusterName + "." + attr + "}";
      expect(s.output("data_outputs")!.value.database).toEqual({
        clusterArn: ref("arn"),
        clusterIdentifier: ref("cluster_identifier"),
        endpoint: ref("endpoint"),
        readerEndpoint: ref("reader_endpoint"),
        port: 5432,
        masterSecretArn: ref("master_user_secret[0].secret_arn"),
      });
    });

    it("lives in the private subnets behind the database security group only", () => {
      expect(s.resource("aws_db_subnet_group").subnet_ids).toEqual(privateSubnetRefs);
      expect(cluster.vpc_security_group_ids).toEqual([sgRef("database")]);
    });
  });

  describe("per-service database secrets", () => {
    const secrets = SERVICES.map((svc) => s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/${envName}/${svc}/database`)?.[1]);

    it("creates one CMK-encrypted secret per service, recoverable for 7 days", () => {
      for (const secret of secrets) {
        expect(secret).toBeDefined();
        expect(target(secret!.kms_key_id)).toBe(KEY);
        expect(secret!.recovery_window_in_days).toBeGreaterThanOrEqual(7);
      }
    });

    it("says in the description who fills it and in which format", () => {
      for (const secret of secrets) {
        expect(secret!.description).toContain(`owui-${envName}-db-bootstrap`);
        expect(secret!.description).toContain("postgresql://<user>:<password>@<host>:5432/<db>?sslmode=require");
      }
    });

    it("creates no secret version anywhere (no value in state)", () => {
      expect(s.resources("aws_secretsmanager_secret_version")).toHaveLength(0);
    });

    it("exposes them as typed SecretRefs by service", () => {
      const names = SERVICES.map((svc) => s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/${envName}/${svc}/database`)![0]);
      expect(s.output("data_outputs")!.value.databaseSecrets).toEqual(
        Object.fromEntries(SERVICES.map((svc, i) => [svc, { secretArn: `\${aws_secretsmanager_secret.${names[i]}.arn}`, secretName: `\${aws_secretsmanager_secret.${names[i]}.name}` }])),
      );
    });
  });

  describe("db-bootstrap", () => {
    const fn = s.resource("aws_lambda_function");
    const invocation = s.resource("aws_lambda_invocation");
    const secretRef = (svc: string) => "${aws_secretsmanager_secret." + s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/${envName}/${svc}/database`)![0] + ".arn}";
    it("runs in the private subnets with its own client security group", () => {
      expect(fn.function_name).toBe(`owui-${envName}-db-bootstrap`);
      expect(fn.vpc_config).toEqual({ subnet_ids: privateSubnetRefs, security_group_ids: [sgRef("client-db-bootstrap")] });
    });

    it("verifies the server certificate against the runtime's CA bundle, and waits for Redis within its timeout", () => {
      expect(fn.environment.variables).toEqual({ DB_SSL_MODE: "verify-full", NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem", REDIS_WAIT_SECONDS: "240" });
      expect(Number(fn.environment.variables.REDIS_WAIT_SECONDS)).toBeLessThan(fn.timeout);
    });

    it("may reach the database on 5432 (and the database accepts it)", () => {
      const egress = s.resources("aws_vpc_security_group_egress_rule").map(([, r]) => r).filter((r) => /client-db-bootstrap/.test(r.security_group_id));
      expect(egress.map((r) => `${r.from_port} ${r.referenced_security_group_id ? "sg" : r.cidr_ipv4}`).sort()).toEqual(["443 0.0.0.0/0", "5432 sg"]);
      const ingress = s.resources("aws_vpc_security_group_ingress_rule").map(([, r]) => r).find((r) => /client-db-bootstrap/.test(r.referenced_security_group_id ?? ""));
      expect(ingress).toMatchObject({ from_port: 5432, to_port: 5432, security_group_id: sgRef("database") });
    });

    it("is invoked with the event of its README", () => {
      const event = decodeJsonencode(invocation.input);
      expect(event).toMatchObject({
        masterSecretArn: "${aws_rds_cluster." + clusterName + ".master_user_secret[0].secret_arn}",
        host: "${aws_rds_cluster." + clusterName + ".endpoint}",
        port: 5432,
        services: SERVICES.map((svc) => ({ name: svc, database: svc, role: svc, secretArn: secretRef(svc) })),
      });
      // Plain names: no extensions in the event (nor in the triggers, below).
      expect(event.services).toEqual(SERVICES.map((svc) => ({ name: svc, database: svc, role: svc, secretArn: secretRef(svc) })));
    });

    it("is invoked after every cluster instance is up", () => {
      expect(invocation.depends_on).toEqual(s.resources("aws_rds_cluster_instance").map(([n]) => `aws_rds_cluster_instance.${n}`));
    });

    it("re-runs when the cluster endpoint, the services or the bundle change", () => {
      expect(invocation.triggers).toMatchObject({
        cluster_endpoint: "${aws_rds_cluster." + clusterName + ".endpoint}",
        services: SERVICES.join(","),
        bundle_sha256: fn.source_code_hash,
      });
      expect(invocation.triggers).not.toHaveProperty("extensions");
    });

    it("may do exactly what the function needs, and no more", () => {
      const statements = inlineStatements(s, s.resource("aws_iam_role_policy")).filter(
        (st) => !["WriteOwnLogGroup", "WriteXRayTraces", "DecryptOwnEnvironment", "ManageVpcNetworkInterfaces", "DenyNetworkInterfacesToFunctionCode"].includes(st.sid),
      );
      const kms = {
        sid: "UseWorkloadKeyThroughSecretsManager",
        effect: "Allow",
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [expect.stringMatching(/^\$\{aws_kms_key\.security_workload-key_\w+\.arn\}$/)],
        condition: [{ test: "StringEquals", variable: "kms:ViaService", values: ["secretsmanager.us-east-1.amazonaws.com"] }],
      };
      const base = [
        { sid: "ReadMasterSecret", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: ["${aws_rds_cluster." + clusterName + ".master_user_secret[0].secret_arn}"] },
        { sid: "ReadWriteServiceSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], resources: SERVICES.map(secretRef) },
        kms,
      ];
      expect(statements).toEqual(env.data.redis.enabled ? [...base, expect.objectContaining({ sid: "ReadWriteRedisSecret" }), expect.objectContaining({ sid: "SetRedisAuthToken" })] : base);
    });
  });

  describe("EFS", () => {
    const fs = s.resource("aws_efs_file_system");

    it("is encrypted with the CMK, in the configured throughput mode, with IA lifecycle both ways", () => {
      expect(fs.encrypted).toBe(true);
      expect(target(fs.kms_key_id)).toBe(KEY);
      expect(fs.throughput_mode).toBe(env.data.efs.throughputMode);
      expect(fs.lifecycle_policy).toEqual([{ transition_to_ia: "AFTER_30_DAYS" }, { transition_to_primary_storage_class: "AFTER_1_ACCESS" }]);
    });

    it("has a mount target in every private subnet, behind the EFS security group only", () => {
      const targets = s.resources("aws_efs_mount_target").map(([, t]) => t);
      expect(targets.map((t) => t.subnet_id)).toEqual(privateSubnetRefs);
      for (const t of targets) expect(t.security_groups).toEqual([sgRef("efs")]);
    });

    it("denies client access without TLS or outside the mount targets", () => {
      const policy = s.resource("aws_efs_file_system_policy");
      const doc = s.json.data.aws_iam_policy_document[/data\.aws_iam_policy_document\.([\w-]+)\.json/.exec(policy.policy)![1]!];
      const deny = (variable: string) => doc.statement.find((st: Json) => st.condition[0].variable === variable);
      for (const variable of ["aws:SecureTransport", "elasticfilesystem:AccessedViaMountTarget"]) {
        expect(deny(variable)).toMatchObject({
          effect: "Deny",
          principals: [{ type: "AWS", identifiers: ["*"] }],
          actions: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"],
          condition: [{ test: "Bool", variable, values: ["false"] }],
        });
      }
      expect(doc.statement).toHaveLength(2);
    });

    it(`has AWS Backup ${env.data.efs.backups ? "enabled" : "disabled"}`, () => {
      expect(s.resource("aws_efs_backup_policy").backup_policy).toEqual({ status: env.data.efs.backups ? "ENABLED" : "DISABLED" });
    });

    it("gives each consumer its own directory (never /) and POSIX user", () => {
      const points = s.resources("aws_efs_access_point").map(([, a]) => a).sort((a, b) => a.root_directory.path.localeCompare(b.root_directory.path));
      const consumers = [...CONSUMERS].sort((a, b) => a.name.localeCompare(b.name));
      expect(points.map((a) => a.root_directory)).toEqual(
        consumers.map((c) => ({ path: `/${c.name}`, creation_info: { owner_uid: c.uid, owner_gid: c.gid, permissions: "0750" } })),
      );
      expect(points.map((a) => a.posix_user)).toEqual(consumers.map((c) => ({ uid: c.uid, gid: c.gid })));
    });

    it("outputs the id and ARN of each access point, by consumer", () => {
      const name = s.resources("aws_efs_access_point").find(([, a]) => a.root_directory.path === "/openwebui")![0];
      expect(Object.keys(data.fileSystem.accessPoints)).toEqual(CONSUMERS.map((c) => c.name));
      expect(s.output("data_outputs")!.value.accessPoints.openwebui).toEqual({
        accessPointId: `\${aws_efs_access_point.${name}.id}`,
        accessPointArn: `\${aws_efs_access_point.${name}.arn}`,
        path: "/app/backend/data",
      });
    });
  });

  describe("Redis", () => {
    it("never puts an auth_token (or master password) attribute in the configuration", () => {
      const keys = keysOf(s.json.resource);
      expect(keys.has("auth_token")).toBe(false);
      expect(keys.has("master_password")).toBe(false);
    });

    if (!env.data.redis.enabled) {
      it("is absent: no replication group, no secret, no event field, no permissions", () => {
        expect(s.resources("aws_elasticache_replication_group")).toHaveLength(0);
        expect(s.resources("aws_secretsmanager_secret").map(([, c]) => c.name)).not.toContain(`owui/${envName}/redis`);
        expect(decodeJsonencode(s.resource("aws_lambda_invocation").input).redis).toBeUndefined();
        expect(data.redis).toBeUndefined();
      });
      return;
    }

    const rg = s.resource("aws_elasticache_replication_group");
    const redis = env.data.redis;
    const rgName = s.resources("aws_elasticache_replication_group")[0]![0];

    it("runs the configured engine, version and node type with 1 + replicas nodes across AZs", () => {
      expect(rg).toMatchObject({ engine: redis.engine, engine_version: redis.engineVersion, node_type: redis.nodeType, num_cache_clusters: 1 + redis.replicas });
      expect(rg).toMatchObject({ automatic_failover_enabled: true, multi_az_enabled: true });
    });

    it("requires TLS and encrypts at rest with the CMK", () => {
      expect(rg).toMatchObject({ transit_encryption_enabled: true, transit_encryption_mode: "required", at_rest_encryption_enabled: "true" });
      expect(target(rg.kms_key_id)).toBe(KEY);
    });

    it("lives in the private subnets behind the redis security group only, with snapshots", () => {
      expect(s.resource("aws_elasticache_subnet_group").subnet_ids).toEqual(privateSubnetRefs);
      expect(rg.security_group_ids).toEqual([sgRef("redis")]);
      expect(rg.snapshot_retention_limit).toBeGreaterThanOrEqual(1);
    });

    it("delivers slow logs to a KMS log group with retention", () => {
      const [name, group] = s.resources("aws_cloudwatch_log_group").find(([, g]) => g.name === `/owui/${envName}/redis/slow-log`)!;
      expect(target(group.kms_key_id)).toBe(KEY);
      expect(group.retention_in_days).toBe(env.logRetentionDays);
      expect(rg.log_delivery_configuration).toEqual([{ destination: `\${aws_cloudwatch_log_group.${name}.name}`, destination_type: "cloudwatch-logs", log_format: "json", log_type: "slow-log" }]);
    });

    it("leaves the auth token to db-bootstrap: Terraform ignores it", () => {
      expect(rg.lifecycle).toEqual({ ignore_changes: ["auth_token", "auth_token_update_strategy"] });
    });

    it("has an empty CMK secret for its connection, described with its format", () => {
      const secret = s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/${envName}/redis`)![1];
      expect(target(secret.kms_key_id)).toBe(KEY);
      expect(secret.description).toContain('{"url": "rediss://:<token>@<host>:6379/0", "host", "port", "authToken"}');
    });

    it("is passed to db-bootstrap in the same event, and the function may set its token only", () => {
      const secretName = s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/${envName}/redis`)![0];
      expect(decodeJsonencode(s.resource("aws_lambda_invocation").input).redis).toEqual({
        replicationGroupId: `\${aws_elasticache_replication_group.${rgName}.id}`,
        secretArn: `\${aws_secretsmanager_secret.${secretName}.arn}`,
        host: `\${aws_elasticache_replication_group.${rgName}.primary_endpoint_address}`,
        port: 6379,
      });
      const statements = inlineStatements(s, s.resource("aws_iam_role_policy"));
      expect(statements.find((st) => st.sid === "SetRedisAuthToken")).toEqual({
        sid: "SetRedisAuthToken",
        effect: "Allow",
        actions: ["elasticache:ModifyReplicationGroup", "elasticache:DescribeReplicationGroups"],
        resources: [`\${aws_elasticache_replication_group.${rgName}.arn}`],
      });
      expect(statements.find((st) => st.sid === "ReadWriteRedisSecret")).toMatchObject({
        actions: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
        resources: [`\${aws_secretsmanager_secret.${secretName}.arn}`],
      });
    });

    it("outputs endpoint, port and secret", () => {
      const secretName = s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/${envName}/redis`)![0];
      expect(s.output("data_outputs")!.value.redis).toEqual({
        primaryEndpoint: `\${aws_elasticache_replication_group.${rgName}.primary_endpoint_address}`,
        port: 6379,
        secret: { secretArn: `\${aws_secretsmanager_secret.${secretName}.arn}`, secretName: `\${aws_secretsmanager_secret.${secretName}.name}` },
      });
    });
  });
});

describe("data layer: extensions in a service's database", () => {
  const synthWith = (databases: DataProps["databases"]) => {
    const s = synthStack(build(ENVS.nonprod, { databases }).stack);
    const invocation = s.resource("aws_lambda_invocation");
    const secretRef = (svc: string) => "${aws_secretsmanager_secret." + s.resources("aws_secretsmanager_secret").find(([, c]) => c.name === `owui/nonprod/${svc}/database`)![0] + ".arn}";
    return { s, invocation, event: decodeJsonencode(invocation.input), secretRef };
  };
  const plain = synthWith(["openwebui", "litellm"]);
  const vector = synthWith([{ name: "openwebui", extensions: ["vector"] }, "litellm"]);

  it("are passed to db-bootstrap on that service only (the README's services[].extensions)", () => {
    expect(vector.event.services).toEqual([
      { name: "openwebui", database: "openwebui", role: "openwebui", secretArn: vector.secretRef("openwebui"), extensions: ["vector"] },
      { name: "litellm", database: "litellm", role: "litellm", secretArn: vector.secretRef("litellm") },
    ]);
  });

  it("re-run the bootstrap when they change (a trigger of their own; the services trigger keeps its value)", () => {
    expect(vector.invocation.triggers).toMatchObject({ services: "openwebui,litellm", extensions: "openwebui:vector" });
    expect(plain.invocation.triggers).not.toHaveProperty("extensions");
    const { extensions: _e, ...rest } = vector.invocation.triggers as Record<string, string>;
    expect(rest).toEqual(plain.invocation.triggers);
    const more = synthWith([{ name: "openwebui", extensions: ["vector", "pg_trgm"] }, { name: "litellm", extensions: ["pgcrypto"] }]);
    expect(more.invocation.triggers.extensions).toBe("openwebui:vector+pg_trgm,litellm:pgcrypto");
    expect(more.event.services.map((x: Json) => x.extensions)).toEqual([["vector", "pg_trgm"], ["pgcrypto"]]);
  });

  it("change nothing else: `{ name }` alone is the same as the plain name", () => {
    const same = synthWith([{ name: "openwebui" }, { name: "litellm", extensions: [] }]);
    expect(same.invocation.input).toBe(plain.invocation.input);
    expect(same.invocation.triggers).toEqual(plain.invocation.triggers);
    // Same resources, only the invocation's input and triggers differ.
    const names = (x: typeof plain) => x.s.resources("aws_secretsmanager_secret").map(([n, c]) => `${n} ${c.name}`);
    expect(names(vector)).toEqual(names(plain));
    expect(vector.s.resource("aws_lambda_function").source_code_hash).toBe(plain.s.resource("aws_lambda_function").source_code_hash);
  });
});

describe("data layer input checks", () => {
  it.each([
    [{ databases: ["Lite-LLM"] }, /databases\[0\] "Lite-LLM" is not a PostgreSQL identifier db-bootstrap accepts\. Fix: match/],
    [{ databases: ["openwebui", "openwebui"] }, /databases\[1\] "openwebui" is listed twice/],
    [{ databases: [] }, /databases is empty/],
    [{ databases: [{ name: "Open WebUI" }] }, /databases\[0\]\.name "Open WebUI" is not a PostgreSQL identifier db-bootstrap accepts/],
    [{ databases: ["openwebui", { name: "openwebui", extensions: ["vector"] }] }, /databases\[1\]\.name "openwebui" is listed twice/],
    [{ databases: [{ name: "openwebui", extensions: ["postgis"] }] }, /databases\[0\]\.extensions\[0\] "postgis" is not an extension db-bootstrap creates\. Fix: use one of vector, pg_trgm, pgcrypto/],
    [{ databases: [{ name: "openwebui", extensions: ["vector", "vector"] }] }, /databases\[0\]\.extensions\[1\] "vector" is listed twice\. Fix: list each extension once/],
    [{ fileSystemConsumers: [{ name: "../etc", path: "/d", uid: 1, gid: 1 }] }, /fileSystemConsumers\[0\]\.name "\.\.\/etc" cannot name a directory/],
    [{ fileSystemConsumers: [{ name: "a", path: "/", uid: 1, gid: 1 }] }, /fileSystemConsumers\[0\]\.path "\/" is not an absolute container path/],
    [{ fileSystemConsumers: [{ name: "a", path: "/d", uid: -1, gid: 1 }] }, /fileSystemConsumers\[0\]\.uid -1 is not a POSIX id/],
  ] as const)("refuses %j", (over, message) => {
    expect(() => build(ENVS.nonprod, over as Partial<DataProps>)).toThrow(message);
  });
});
