/**
 * The ElastiCache Query-protocol fake (test/fakes/elasticache.ts) against the real SDK v3 client:
 * the XML it answers deserializes into the fields the function reads, its errors become the SDK's
 * exception classes, and AWS_ENDPOINT_URL_ELASTICACHE reaches it.
 */
import {
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  InvalidReplicationGroupStateFault,
  ModifyReplicationGroupCommand,
  ReplicationGroupNotFoundFault,
} from "@aws-sdk/client-elasticache";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_AWS_ENV } from "../../../test/fakes/aws-json.js";
import { faults, startElastiCacheFake, type ElastiCacheFake } from "../../../test/fakes/elasticache.js";

describe("ElastiCache Query-protocol fake", () => {
  let fake: ElastiCacheFake;
  let ec: ElastiCacheClient;
  const keys = [...Object.keys(FAKE_AWS_ENV), "AWS_ENDPOINT_URL_ELASTICACHE"];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));

  beforeAll(async () => {
    fake = await startElastiCacheFake();
    // The client's endpoint comes from the environment, as in the Lambda (SDK v3 defaults).
    Object.assign(process.env, FAKE_AWS_ENV, { AWS_ENDPOINT_URL_ELASTICACHE: fake.url });
    ec = new ElastiCacheClient({ maxAttempts: 1 });
  });

  afterAll(async () => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    ec?.destroy();
    await fake?.close();
  });

  const describeGroup = async (id: string) => (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0]!;

  it("DescribeReplicationGroups deserializes into the SDK's shape", async () => {
    fake.addGroup("owui-test-redis");
    const g = await describeGroup("owui-test-redis");
    expect(g).toMatchObject({
      ReplicationGroupId: "owui-test-redis",
      Status: "available",
      AuthTokenEnabled: false,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: "required",
      AtRestEncryptionEnabled: true,
      ClusterEnabled: false,
      MemberClusters: ["owui-test-redis-001"],
      ARN: "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:owui-test-redis",
      NodeGroups: [
        {
          NodeGroupId: "0001",
          PrimaryEndpoint: { Address: "master.owui-test-redis.abc123.use1.cache.amazonaws.com", Port: 6379 },
          NodeGroupMembers: [expect.objectContaining({ CacheClusterId: "owui-test-redis-001", CurrentRole: "primary" })],
        },
      ],
    });
    expect(fake.calls.at(-1)).toEqual({
      operation: "DescribeReplicationGroups",
      input: { Action: "DescribeReplicationGroups", Version: "2015-02-02", ReplicationGroupId: "owui-test-redis" },
    });
  });

  it("ModifyReplicationGroup sends the token form-encoded; the group goes modifying, then has AUTH on", async () => {
    fake.addGroup("mod");
    fake.modifyTakesDescribes = 2;
    try {
      const token = "A".repeat(30) + "-_!&#$^<>";
      const out = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: "mod", AuthToken: token, AuthTokenUpdateStrategy: "ROTATE", ApplyImmediately: true }));
      expect(out.ReplicationGroup).toMatchObject({ Status: "modifying", PendingModifiedValues: { AuthTokenStatus: "SETTING" }, AuthTokenEnabled: false });
      expect(fake.calls.at(-1)!.input).toEqual({
        Action: "ModifyReplicationGroup",
        Version: "2015-02-02",
        ReplicationGroupId: "mod",
        AuthToken: token,
        AuthTokenUpdateStrategy: "ROTATE",
        ApplyImmediately: "true",
      });
      expect(await describeGroup("mod")).toMatchObject({ Status: "modifying", AuthTokenEnabled: false });
      const done = await describeGroup("mod");
      expect(done).toMatchObject({ Status: "available", AuthTokenEnabled: true });
      expect(done.PendingModifiedValues?.AuthTokenStatus).toBeUndefined();
      expect(done.AuthTokenLastModifiedDate).toBeInstanceOf(Date);
      expect(fake.group("mod").tokens).toEqual([token]);
      // ROTATE on a group with a token keeps the old one too; SET keeps only the new one.
      fake.modifyTakesDescribes = 0;
      await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: "mod", AuthToken: "B".repeat(20), AuthTokenUpdateStrategy: "ROTATE", ApplyImmediately: true }));
      expect(fake.group("mod").tokens).toEqual([token, "B".repeat(20)]);
      await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: "mod", AuthToken: "B".repeat(20), AuthTokenUpdateStrategy: "SET", ApplyImmediately: true }));
      expect(fake.group("mod").tokens).toEqual(["B".repeat(20)]);
    } finally {
      fake.modifyTakesDescribes = 1;
    }
  });

  it("errors become the SDK's exception classes", async () => {
    const notFound = await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: "nope" })).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(ReplicationGroupNotFoundFault);
    expect((notFound as Error).name).toBe("ReplicationGroupNotFoundFault");
    expect((notFound as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(404);

    fake.addGroup("busy");
    fake.busyFor("busy", 2);
    expect((await describeGroup("busy")).Status).toBe("modifying");
    const invalid = await ec
      .send(new ModifyReplicationGroupCommand({ ReplicationGroupId: "busy", AuthToken: "C".repeat(20), ApplyImmediately: true }))
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidReplicationGroupStateFault);
    expect((invalid as Error).message).toMatch(/not in available state \(currently modifying\)/);
    expect((await describeGroup("busy")).Status).toBe("modifying");
    expect((await describeGroup("busy")).Status).toBe("available");

    fake.failNext("DescribeReplicationGroups", faults.internal());
    const internal = await describeGroup("busy").catch((e: unknown) => e);
    expect((internal as Error).name).toBe("InternalFailure");
    expect((await describeGroup("busy")).Status).toBe("available");

    fake.addGroup("plain", { transitEncryptionEnabled: false });
    const combo = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: "plain", AuthToken: "D".repeat(20) })).catch((e: unknown) => e);
    expect((combo as Error).name).toBe("InvalidParameterCombinationException");
    const bad = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: "busy", AuthToken: "has a space in it ok" })).catch((e: unknown) => e);
    expect((bad as Error).name).toBe("InvalidParameterValueException");
  });
});
