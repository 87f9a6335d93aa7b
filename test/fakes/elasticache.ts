/**
 * A local HTTP fake of ElastiCache's replication-group API in the AWS **Query** protocol (what
 * SDK v3's ElastiCacheClient speaks): `POST /` with a form-encoded body
 * (`Action=<Operation>&Version=2015-02-02&...`), XML responses
 * (`<OpResponse><OpResult>…</OpResult><ResponseMetadata/></OpResponse>`) and XML errors
 * (`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`). Point a
 * client at it with `AWS_ENDPOINT_URL_ELASTICACHE` (or `endpoint`) and any static credentials;
 * signatures are not checked.
 *
 * Operations: DescribeReplicationGroups and ModifyReplicationGroup (AuthToken with ROTATE/SET,
 * ApplyImmediately). Element names follow the ElastiCache API reference and the SDK's schema
 * (node_modules/@aws-sdk/client-elasticache/dist-es/schemas/schemas_0.js).
 *
 * Group states: `available` or anything else (`modifying`, `creating`, ...). A modification moves
 * the group to `modifying` with `PendingModifiedValues.AuthTokenStatus` (`SETTING`/`ROTATING`); it
 * completes (token applied, `AuthTokenEnabled` true, back to `available`) after
 * `modifyTakesDescribes` further DescribeReplicationGroups calls (default 1: the next describe
 * already sees it done; 2: the next one still sees `modifying`), or on `completeModifications()`. Modifying a group that is not available
 * fails with InvalidReplicationGroupState, as the real service does.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const XMLNS = "http://elasticache.amazonaws.com/doc/2015-02-02/";

/** A service error as the Query protocol answers it. `code` is the wire code (the SDK maps it to its exception name). */
export class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: "Sender" | "Receiver" = "Sender",
  ) {
    super(message);
  }
}

/** The wire codes of the faults the callers care about (InvalidReplicationGroupStateFault is "InvalidReplicationGroupState" on the wire). */
export const faults = {
  notFound: (id: string) => new QueryError("ReplicationGroupNotFoundFault", `ReplicationGroup ${id} not found.`, 404),
  invalidState: (id: string, status: string) =>
    new QueryError("InvalidReplicationGroupState", `Replication group ${id} is not in available state (currently ${status}).`, 400),
  throttling: () => new QueryError("Throttling", "Rate exceeded", 400),
  internal: () => new QueryError("InternalFailure", "An internal error occurred.", 500, "Receiver"),
};

export interface FakeReplicationGroup {
  readonly id: string;
  status: string;
  transitEncryptionEnabled: boolean;
  /** Tokens Redis would accept (at most two: ROTATE keeps the previous one). */
  tokens: string[];
  /** The modification in flight, if any. */
  pending?: { tokens: string[]; authTokenStatus: "SETTING" | "ROTATING"; describesLeft: number };
  /** The next `describesLeft` describes report `status` instead of the group's own. */
  busy?: { status: string; describesLeft: number };
  readonly host: string;
  readonly port: number;
  readonly arn: string;
  authTokenLastModified?: Date;
}

export interface RecordedQueryCall {
  readonly operation: string;
  /** The form parameters as sent (including Action and Version). */
  readonly input: Record<string, string>;
}

export interface ElastiCacheFake {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_ELASTICACHE` or a client's `endpoint`. */
  readonly url: string;
  readonly calls: RecordedQueryCall[];
  /** Adds a group, `available`, transit encryption on, no token, unless told otherwise. */
  addGroup(id: string, opts?: { status?: string; transitEncryptionEnabled?: boolean; tokens?: string[] }): FakeReplicationGroup;
  group(id: string): FakeReplicationGroup;
  /** Sets the status for good (e.g. `modifying` forever, or back to `available`). */
  setStatus(id: string, status: string): void;
  /** The next `describes` DescribeReplicationGroups calls report `status`; after that the group is `available`. */
  busyFor(id: string, describes: number, status?: string): void;
  /** How many describes a modification takes to complete (default 1; Infinity = until completeModifications). */
  modifyTakesDescribes: number;
  /** Applies every pending modification now. */
  completeModifications(): void;
  /** Makes the next `count` calls of `operation` fail with `error`. */
  failNext(operation: string, error: QueryError, count?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

/** ElastiCache's AUTH token rule: 16-128 printable ASCII, not space, `@`, `"` or `/`. */
const AUTH_TOKEN = /^(?!.*[@"/])[\x21-\x7e]{16,128}$/;

function groupXml(g: FakeReplicationGroup): string {
  const status = g.busy ? g.busy.status : g.status;
  const pending = g.pending ? `<PendingModifiedValues><AuthTokenStatus>${g.pending.authTokenStatus}</AuthTokenStatus></PendingModifiedValues>` : "<PendingModifiedValues/>";
  const endpoint = `<Address>${esc(g.host)}</Address><Port>${g.port}</Port>`;
  return (
    "<ReplicationGroup>" +
    `<ReplicationGroupId>${esc(g.id)}</ReplicationGroupId>` +
    `<Description>fake ${esc(g.id)}</Description>` +
    `<Status>${esc(status)}</Status>` +
    pending +
    `<MemberClusters><ClusterId>${esc(g.id)}-001</ClusterId></MemberClusters>` +
    "<NodeGroups><NodeGroup>" +
    `<NodeGroupId>0001</NodeGroupId><Status>${esc(status)}</Status>` +
    `<PrimaryEndpoint>${endpoint}</PrimaryEndpoint><ReaderEndpoint>${endpoint}</ReaderEndpoint>` +
    `<NodeGroupMembers><NodeGroupMember><CacheClusterId>${esc(g.id)}-001</CacheClusterId><CacheNodeId>0001</CacheNodeId>` +
    `<ReadEndpoint>${endpoint}</ReadEndpoint><PreferredAvailabilityZone>us-east-1a</PreferredAvailabilityZone><CurrentRole>primary</CurrentRole></NodeGroupMember></NodeGroupMembers>` +
    "</NodeGroup></NodeGroups>" +
    "<AutomaticFailover>disabled</AutomaticFailover><MultiAZ>disabled</MultiAZ>" +
    "<SnapshotRetentionLimit>7</SnapshotRetentionLimit><ClusterEnabled>false</ClusterEnabled>" +
    "<CacheNodeType>cache.t4g.micro</CacheNodeType>" +
    `<AuthTokenEnabled>${g.tokens.length > 0}</AuthTokenEnabled>` +
    (g.authTokenLastModified ? `<AuthTokenLastModifiedDate>${g.authTokenLastModified.toISOString()}</AuthTokenLastModifiedDate>` : "") +
    `<TransitEncryptionEnabled>${g.transitEncryptionEnabled}</TransitEncryptionEnabled>` +
    (g.transitEncryptionEnabled ? "<TransitEncryptionMode>required</TransitEncryptionMode>" : "") +
    "<AtRestEncryptionEnabled>true</AtRestEncryptionEnabled>" +
    `<ARN>${esc(g.arn)}</ARN>` +
    "<Engine>valkey</Engine>" +
    "</ReplicationGroup>"
  );
}

const envelope = (operation: string, result: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${XMLNS}"><${operation}Result>${result}</${operation}Result>` +
  `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`;

const errorXml = (e: QueryError) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.type}</Type><Code>${esc(e.code)}</Code>` +
  `<Message>${esc(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startElastiCacheFake(region = "us-east-1", account = "123456789012"): Promise<ElastiCacheFake> {
  const groups = new Map<string, FakeReplicationGroup>();
  const calls: RecordedQueryCall[] = [];
  const injected = new Map<string, { error: QueryError; remaining: number }>();

  const find = (id: string | undefined): FakeReplicationGroup => {
    const g = id === undefined ? undefined : groups.get(id.toLowerCase());
    if (!g) throw faults.notFound(String(id));
    return g;
  };
  const apply = (g: FakeReplicationGroup) => {
    if (!g.pending) return;
    g.tokens = g.pending.tokens;
    g.authTokenLastModified = new Date();
    g.pending = undefined;
    g.status = "available";
  };
  /** Time passes before each describe: pending modifications and busy periods advance. */
  const tick = (g: FakeReplicationGroup) => {
    if (g.pending && --g.pending.describesLeft <= 0) apply(g);
    if (g.busy && g.busy.describesLeft-- <= 0) g.busy = undefined;
  };

  const fake: Omit<ElastiCacheFake, "url" | "close"> = {
    calls,
    modifyTakesDescribes: 1,
    addGroup(id, opts = {}) {
      const g: FakeReplicationGroup = {
        id: id.toLowerCase(),
        status: opts.status ?? "available",
        transitEncryptionEnabled: opts.transitEncryptionEnabled ?? true,
        tokens: [...(opts.tokens ?? [])],
        host: `master.${id.toLowerCase()}.abc123.use1.cache.amazonaws.com`,
        port: 6379,
        arn: `arn:aws:elasticache:${region}:${account}:replicationgroup:${id.toLowerCase()}`,
      };
      groups.set(g.id, g);
      return g;
    },
    group: (id) => find(id),
    setStatus(id, status) {
      const g = find(id);
      g.status = status;
      g.busy = undefined;
    },
    busyFor(id, describes, status = "modifying") {
      find(id).busy = { status, describesLeft: describes };
    },
    completeModifications() {
      for (const g of groups.values()) apply(g);
    },
    failNext(operation, error, count = 1) {
      injected.set(operation, { error, remaining: count });
    },
    clearFaults() {
      injected.clear();
    },
  };

  const handlers: Record<string, (p: Record<string, string>) => string> = {
    DescribeReplicationGroups(p) {
      const list = p.ReplicationGroupId !== undefined ? [find(p.ReplicationGroupId)] : [...groups.values()];
      for (const g of list) tick(g);
      return `<ReplicationGroups>${list.map(groupXml).join("")}</ReplicationGroups>`;
    },
    ModifyReplicationGroup(p) {
      const g = find(p.ReplicationGroupId);
      const status = g.busy ? g.busy.status : g.status;
      if (status !== "available") throw faults.invalidState(g.id, status);
      const token = p.AuthToken;
      const strategy = p.AuthTokenUpdateStrategy ?? (token !== undefined ? "ROTATE" : undefined);
      if (token !== undefined) {
        if (!g.transitEncryptionEnabled) {
          throw new QueryError("InvalidParameterCombination", "Encryption feature is not enabled: AuthToken requires TransitEncryptionEnabled.");
        }
        if (!AUTH_TOKEN.test(token)) throw new QueryError("InvalidParameterValue", "Invalid AuthToken provided.");
        if (strategy !== "ROTATE" && strategy !== "SET") throw new QueryError("InvalidParameterValue", `Invalid AuthTokenUpdateStrategy ${strategy}.`);
        if (strategy === "SET" && g.tokens.length === 0) throw new QueryError("InvalidParameterCombination", "SET is allowed only on a group with an AUTH token.");
        const tokens = strategy === "SET" ? [token] : [...g.tokens.slice(-1), token];
        const describesLeft = fake.modifyTakesDescribes;
        g.pending = { tokens, authTokenStatus: g.tokens.length > 0 ? "ROTATING" : "SETTING", describesLeft };
        if (describesLeft <= 0) apply(g);
        else g.status = "modifying";
      }
      return groupXml(g);
    },
  };

  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "text/xml" });
      res.end(body);
    };
    let operation = "";
    try {
      const raw = await readBody(req);
      const input = Object.fromEntries(new URLSearchParams(raw)) as Record<string, string>;
      operation = input.Action ?? "";
      calls.push({ operation, input });
      if (req.method !== "POST") throw new QueryError("InvalidAction", "POST only", 400);
      if (input.Version !== "2015-02-02") throw new QueryError("InvalidAction", `Unsupported Version ${input.Version}`, 400);
      const fault = injected.get(operation);
      if (fault && fault.remaining > 0) {
        fault.remaining -= 1;
        throw fault.error;
      }
      const handler = handlers[operation];
      if (!handler) throw new QueryError("InvalidAction", `fake does not implement ${operation}`, 400);
      const result = handler(input);
      reply(200, envelope(operation, result));
    } catch (err) {
      reply(err instanceof QueryError ? err.status : 500, errorXml(err instanceof QueryError ? err : new QueryError("InternalFailure", String(err), 500, "Receiver")));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  }) as ElastiCacheFake;
}
