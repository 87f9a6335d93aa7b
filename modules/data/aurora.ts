/**
 * Aurora PostgreSQL Serverless v2: the cluster (CMK storage, RDS-managed master password, IAM auth,
 * TLS forced), its instances spread over the AZs, and the KMS log group RDS exports to.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { RdsCluster } from "@cdktf/provider-aws/lib/rds-cluster";
import { RdsClusterInstance } from "@cdktf/provider-aws/lib/rds-cluster-instance";
import { RdsClusterParameterGroup } from "@cdktf/provider-aws/lib/rds-cluster-parameter-group";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { EnvConfig } from "../../envs/schema.js";
import { resourceName } from "../../lib/naming.js";
import type { KeyRef, SecurityGroupRef } from "../security/index.js";

/** The PostgreSQL port the cluster listens on. */
export const POSTGRES_PORT = 5432;
/** Statements slower than this (ms) go to the exported postgresql log. */
export const SLOW_STATEMENT_MS = 1000;

/**
 * The final snapshot's name: `<cluster id>-final-<UTC creation time>`, e.g.
 * `owui-prod-aurora-final-20250301120000`. A fixed `<id>-final` would collide on the second destroy
 * of an env (the first destroy's snapshot still has the name, and RDS refuses the delete).
 * Terraform evaluates `timestamp()` at apply, when the cluster is created; `ignore_changes` keeps
 * that value in state, so later plans show no diff and a destroy, which reads the name from state,
 * uses the creation time of the cluster it deletes: each incarnation of the cluster has its own.
 * Always set, even with `finalSnapshot` off, so switching it on later has a name in state.
 *
 * The snapshot is encrypted with the workload CMK; that key keeps `prevent_destroy` whenever a final
 * snapshot is configured (lib/protection.ts), so no destroy schedules the snapshot's key for
 * deletion. Restore with `aws rds restore-db-cluster-from-snapshot` while the key exists.
 */
export function finalSnapshotIdentifier(identifier: string): string {
  return `${identifier}-final-${Fn.formatdate("YYYYMMDDhhmmss", Fn.timestamp())}`;
}

export interface AuroraProps {
  readonly envName: string;
  readonly config: EnvConfig["data"]["aurora"];
  /** AZs to spread the instances over, in order (instance i goes to azs[i % n]). */
  readonly azs: readonly string[];
  readonly subnetIds: readonly string[];
  readonly securityGroup: SecurityGroupRef;
  readonly key: KeyRef;
  readonly logRetentionDays: number;
}

/** The cluster as other layers see it. */
export interface DatabaseOutputs {
  readonly clusterArn: string;
  readonly clusterIdentifier: string;
  /** Writer endpoint. */
  readonly endpoint: string;
  readonly readerEndpoint: string;
  readonly port: number;
  /** The RDS-managed secret holding the master `{"username","password"}`. */
  readonly masterSecretArn: string;
}

export class AuroraPostgres extends Construct implements DatabaseOutputs {
  readonly cluster: RdsCluster;
  readonly instances: RdsClusterInstance[];
  readonly clusterArn: string;
  readonly clusterIdentifier: string;
  readonly endpoint: string;
  readonly readerEndpoint: string;
  readonly port = POSTGRES_PORT;
  readonly masterSecretArn: string;

  constructor(scope: Construct, id: string, props: AuroraProps) {
    super(scope, id);
    const { config, key } = props;
    const identifier = resourceName(props.envName, "aurora");
    const major = config.engineVersion.split(".")[0];
    const family = `aurora-postgresql${major}`;

    // Created before the cluster, so RDS exports into an encrypted group with retention
    // instead of creating an unencrypted one that never expires.
    const logGroup = new CloudwatchLogGroup(this, "postgresql-log-group", {
      name: `/aws/rds/cluster/${identifier}/postgresql`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: key.keyArn,
    });
    const subnetGroup = new DbSubnetGroup(this, "subnet-group", {
      name: identifier,
      description: `Private subnets of the ${identifier} cluster`,
      subnetIds: [...props.subnetIds],
    });
    // name_prefix, never a fixed name: create_before_destroy creates the new group before the old
    // one is gone, and a fixed name would collide (a new family, e.g. a major upgrade, replaces it).
    const parameters = new RdsClusterParameterGroup(this, "parameters", {
      namePrefix: `${identifier}-pg${major}-`,
      family,
      description: `${identifier}: TLS only, slow statements logged`,
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_min_duration_statement", value: String(SLOW_STATEMENT_MS) },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    this.cluster = new RdsCluster(this, "Resource", {
      clusterIdentifier: identifier,
      engine: "aurora-postgresql",
      engineMode: "provisioned",
      engineVersion: config.engineVersion,
      serverlessv2ScalingConfiguration: { minCapacity: config.minAcu, maxCapacity: config.maxAcu },
      port: POSTGRES_PORT,
      masterUsername: "owui_master",
      // RDS generates the password and keeps it in its own secret: it never enters state.
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: key.keyArn,
      storageEncrypted: true,
      kmsKeyId: key.keyArn,
      iamDatabaseAuthenticationEnabled: true,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [props.securityGroup.securityGroupId],
      dbClusterParameterGroupName: parameters.name,
      backupRetentionPeriod: config.backupRetentionDays,
      preferredBackupWindow: "03:00-04:00",
      preferredMaintenanceWindow: "sun:04:30-sun:05:30",
      deletionProtection: config.deletionProtection,
      skipFinalSnapshot: !config.finalSnapshot,
      finalSnapshotIdentifier: finalSnapshotIdentifier(identifier),
      enabledCloudwatchLogsExports: ["postgresql"],
      copyTagsToSnapshot: true,
      // No availability_zones: the provider then reports the AZs RDS picked as a perpetual diff.
      dependsOn: [logGroup],
      // The final snapshot's name is fixed when the cluster is created (see finalSnapshotIdentifier).
      lifecycle: { ignoreChanges: ["final_snapshot_identifier"] },
    });

    this.instances = Array.from({ length: config.instances }, (_, i) => {
      const n = i + 1;
      return new RdsClusterInstance(this, `instance-${n}`, {
        identifier: `${identifier}-${n}`,
        clusterIdentifier: this.cluster.clusterIdentifier,
        engine: this.cluster.engine,
        engineVersion: this.cluster.engineVersion,
        instanceClass: "db.serverless",
        availabilityZone: props.azs[i % props.azs.length]!,
        dbSubnetGroupName: subnetGroup.name,
        publiclyAccessible: false,
        // Lower tiers are promoted first on failover: the first instance is the preferred writer.
        promotionTier: Math.min(i, 15),
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: key.keyArn,
        performanceInsightsRetentionPeriod: config.performanceInsightsRetentionDays,
        autoMinorVersionUpgrade: true,
      });
    });

    this.clusterArn = this.cluster.arn;
    this.clusterIdentifier = this.cluster.clusterIdentifier;
    this.endpoint = this.cluster.endpoint;
    this.readerEndpoint = this.cluster.readerEndpoint;
    this.masterSecretArn = this.cluster.masterUserSecret.get(0).secretArn;
  }
}
