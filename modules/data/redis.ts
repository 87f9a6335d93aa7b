/**
 * Redis-compatible cache (Valkey or Redis OSS) for websocket fan-out between Open WebUI replicas:
 * TLS required, CMK at rest, Multi-AZ with a replica, slow log to a KMS log group.
 *
 * No auth token in Terraform state: ElastiCache has no write-only `auth_token`, so the group is
 * created without one and Terraform ignores the token from then on. The db-bootstrap function
 * generates it, stores `owui/<env>/redis` and applies it with ModifyReplicationGroup (ROTATE).
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import type { EnvConfig } from "../../envs/schema.js";
import { resourceName } from "../../lib/naming.js";
import type { SecretRef } from "../../lib/refs.js";
import type { KeyRef, SecurityGroupRef } from "../security/index.js";
import { emptySecret } from "./secret.js";

export const REDIS_PORT = 6379;
/** Days of daily snapshots kept. */
export const REDIS_SNAPSHOT_DAYS = 7;

export interface RedisCacheProps {
  readonly envName: string;
  readonly config: EnvConfig["data"]["redis"];
  readonly subnetIds: readonly string[];
  readonly securityGroup: SecurityGroupRef;
  readonly key: KeyRef;
  readonly logRetentionDays: number;
}

/** The cache as other layers see it. */
export interface RedisOutputs {
  readonly primaryEndpoint: string;
  readonly port: number;
  /** `{"url": "rediss://:<token>@<host>:6379/0", "host", "port", "authToken"}`, filled by db-bootstrap. */
  readonly secret: SecretRef;
  /** The replication group's member clusters, one per node (`CacheClusterId`, the dimension of their CloudWatch metrics). */
  readonly cacheClusterIds: readonly string[];
}

export class RedisCache extends Construct implements RedisOutputs {
  readonly replicationGroup: ElasticacheReplicationGroup;
  readonly replicationGroupId: string;
  readonly replicationGroupArn: string;
  readonly primaryEndpoint: string;
  readonly port = REDIS_PORT;
  readonly secret: SecretRef;
  readonly cacheClusterIds: readonly string[];

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const { config, key } = props;
    const name = resourceName(props.envName, "redis");
    const slowLog = new CloudwatchLogGroup(this, "slow-log-group", {
      name: `/owui/${props.envName}/redis/slow-log`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: key.keyArn,
    });
    const subnetGroup = new ElasticacheSubnetGroup(this, "subnet-group", {
      name,
      description: `Private subnets of ${name}`,
      subnetIds: [...props.subnetIds],
    });
    const multiAz = config.replicas >= 1;
    this.replicationGroup = new ElasticacheReplicationGroup(this, "Resource", {
      replicationGroupId: name,
      description: `owui ${props.envName}: websocket and shared state of Open WebUI replicas`,
      engine: config.engine,
      engineVersion: config.engineVersion,
      nodeType: config.nodeType,
      numCacheClusters: 1 + config.replicas,
      automaticFailoverEnabled: multiAz,
      multiAzEnabled: multiAz,
      port: REDIS_PORT,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [props.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: "true",
      kmsKeyId: key.keyArn,
      snapshotRetentionLimit: REDIS_SNAPSHOT_DAYS,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      autoMinorVersionUpgrade: "true",
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
      // The token is set outside Terraform (see the file comment); never let a plan undo it.
      lifecycle: { ignoreChanges: ["auth_token", "auth_token_update_strategy"] },
    });
    this.replicationGroupId = this.replicationGroup.id;
    // member_clusters is a set (cdktf reads it through tolist, sorted): element i is node i+1 (`<group>-001`, `-002`, …).
    this.cacheClusterIds = Array.from({ length: 1 + config.replicas }, (_, i) => Token.asString(Fn.element(this.replicationGroup.memberClusters, i)));
    this.replicationGroupArn = this.replicationGroup.arn;
    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;
    this.secret = emptySecret(this, "secret", {
      name: `owui/${props.envName}/redis`,
      description:
        `Redis connection of ${name}. Filled by the ${resourceName(props.envName, "db-bootstrap")} function, never by Terraform: it generates the AUTH token, ` +
        `stores {"url": "rediss://:<token>@<host>:${REDIS_PORT}/0", "host", "port", "authToken"} and applies the token with ModifyReplicationGroup (ROTATE).`,
      key,
    });
  }
}
