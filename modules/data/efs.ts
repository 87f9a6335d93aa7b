/**
 * EFS for shared files: CMK-encrypted, a mount target per private subnet, TLS and mount targets
 * enforced by the file-system policy, and one access point (own directory, fixed POSIX user) per
 * consumer.
 */
import { EfsAccessPoint } from "@cdktf/provider-aws/lib/efs-access-point";
import { EfsBackupPolicy } from "@cdktf/provider-aws/lib/efs-backup-policy";
import { EfsFileSystem } from "@cdktf/provider-aws/lib/efs-file-system";
import { EfsFileSystemPolicy } from "@cdktf/provider-aws/lib/efs-file-system-policy";
import { EfsMountTarget } from "@cdktf/provider-aws/lib/efs-mount-target";
import { Construct } from "constructs";
import type { EnvConfig } from "../../envs/schema.js";
import { resourceName } from "../../lib/naming.js";
import { denyInsecureTransport, policyDocument } from "../../lib/policy.js";
import type { KeyRef, SecurityGroupRef } from "../security/index.js";

/** A service that gets its own directory `/<name>` on the file system, owned by `uid:gid`. */
export interface FileSystemConsumer {
  /** Directory and access-point name: lower-case letters, digits and dashes. */
  readonly name: string;
  /** Where the consumer mounts its directory in its container, e.g. `/app/backend/data`; passed on to the compute layer. */
  readonly path: string;
  /** POSIX user id every NFS request through the access point runs as. */
  readonly uid: number;
  /** POSIX group id every NFS request through the access point runs as. */
  readonly gid: number;
}

export interface AccessPointRef {
  readonly accessPointId: string;
  readonly accessPointArn: string;
  /** The consumer's container mount path (its `path`). */
  readonly path: string;
}

/**
 * The file system as other layers see it. Mount it through an access point with
 * `transit_encryption = "ENABLED"` and `authorization_config { iam = "ENABLED" }`, and grant the task
 * role `elasticfilesystem:ClientMount`/`ClientWrite` on `fileSystemArn` for that access point.
 */
export interface FileSystemOutputs {
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPoints: Readonly<Record<string, AccessPointRef>>;
}

export interface SharedFileSystemProps {
  readonly envName: string;
  readonly config: EnvConfig["data"]["efs"];
  /** Private subnets, one mount target each, named by `azs` in the same order. */
  readonly subnetIds: readonly string[];
  readonly azs: readonly string[];
  readonly securityGroup: SecurityGroupRef;
  readonly key: KeyRef;
  readonly consumers: readonly FileSystemConsumer[];
}

/** Directory permissions of each consumer's root: owner rwx, group rx, others nothing. */
export const ACCESS_POINT_PERMISSIONS = "0750";
const CLIENT_ACTIONS = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"];

export class SharedFileSystem extends Construct implements FileSystemOutputs {
  readonly fileSystem: EfsFileSystem;
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPoints: Readonly<Record<string, AccessPointRef>>;

  constructor(scope: Construct, id: string, props: SharedFileSystemProps) {
    super(scope, id);
    const name = resourceName(props.envName, "data");
    this.fileSystem = new EfsFileSystem(this, "Resource", {
      creationToken: name,
      encrypted: true,
      kmsKeyId: props.key.keyArn,
      performanceMode: "generalPurpose",
      throughputMode: props.config.throughputMode,
      lifecyclePolicy: [{ transitionToIa: "AFTER_30_DAYS" }, { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" }],
      tags: { Name: name },
    });
    this.fileSystemId = this.fileSystem.id;
    this.fileSystemArn = this.fileSystem.arn;

    props.subnetIds.forEach((subnetId, i) => {
      new EfsMountTarget(this, `mount-target-${props.azs[i]}`, {
        fileSystemId: this.fileSystem.id,
        subnetId,
        securityGroups: [props.securityGroup.securityGroupId],
      });
    });

    new EfsFileSystemPolicy(this, "policy", {
      fileSystemId: this.fileSystem.id,
      policy: policyDocument(this, "policy-document", [
        denyInsecureTransport([this.fileSystem.arn], CLIENT_ACTIONS),
        {
          sid: "DenyAccessOutsideMountTargets",
          effect: "Deny",
          actions: CLIENT_ACTIONS,
          resources: [this.fileSystem.arn],
          principals: [{ type: "AWS", identifiers: ["*"] }],
          conditions: [{ test: "Bool", variable: "elasticfilesystem:AccessedViaMountTarget", values: ["false"] }],
        },
      ]).json,
    });

    new EfsBackupPolicy(this, "backup-policy", {
      fileSystemId: this.fileSystem.id,
      backupPolicy: { status: props.config.backups ? "ENABLED" : "DISABLED" },
    });

    this.accessPoints = Object.fromEntries(props.consumers.map((c) => [c.name, this.accessPoint(name, c)]));
  }

  private accessPoint(fsName: string, consumer: FileSystemConsumer): AccessPointRef {
    const ap = new EfsAccessPoint(this, `access-point-${consumer.name}`, {
      fileSystemId: this.fileSystem.id,
      // Never "/": each consumer sees only its own directory, created on first use with this owner.
      rootDirectory: {
        path: `/${consumer.name}`,
        creationInfo: { ownerUid: consumer.uid, ownerGid: consumer.gid, permissions: ACCESS_POINT_PERMISSIONS },
      },
      posixUser: { uid: consumer.uid, gid: consumer.gid },
      tags: { Name: `${fsName}-${consumer.name}` },
    });
    return { accessPointId: ap.id, accessPointArn: ap.arn, path: consumer.path };
  }
}
