/**
 * Black-box tests of the BUNDLED handler (what Lambda runs) against a real PostgreSQL server and
 * the local Secrets Manager fake. The "master" is a non-superuser role with CREATEDB and
 * CREATEROLE, like Aurora's rds_superuser master, logging in with a real scram-sha-256 password.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bundleFunction } from "../../../lib/bundle.js";
import { FAKE_AWS_ENV } from "../../../test/fakes/aws-json.js";
import { faults, QueryError, startElastiCacheFake, type ElastiCacheFake } from "../../../test/fakes/elasticache.js";
import { startSecretsManagerFake, type SecretsManagerFake } from "../../../test/fakes/secrets-manager.js";
import { acquirePgServer, asSuperuser, dropCreated } from "./helpers/pg-server.js";

const server = acquirePgServer();

type Handler = (
  event: unknown,
  context?: { getRemainingTimeInMillis(): number },
) => Promise<{ services: Array<{ service: string; database: string; role: string; password: string; extensions?: Record<string, string> }>; redis?: string }>;
interface StoredSecret {
  engine: string;
  host: string;
  port: number;
  dbname: string;
  username: string;
  password: string;
  url: string;
}

// Unique per run, so a shared PG_TEST_URL server can be reused across runs.
const TAG = `t${randomBytes(4).toString("hex")}`;
const MASTER = `${TAG}_master`;
const MASTER_PASSWORD = randomBytes(24).toString("base64url");

describe.skipIf(!server)("db-bootstrap bundled handler against PostgreSQL", () => {
  const srv = server!;
  let sm: SecretsManagerFake;
  let ec: ElastiCacheFake;
  let handler: Handler;
  let masterSecretArn: string;
  let bundleBytes = 0;
  const created = { databases: [] as string[], roles: [] as string[] };

  const superuser = <T>(fn: (c: pg.Client) => Promise<T>) => asSuperuser(srv, undefined, fn);
  /** Runs `fn` as the superuser connected to `database`. */
  const inDatabase = <T>(database: string, fn: (c: pg.Client) => Promise<T>) => asSuperuser(srv, database, fn);

  /** Logs in as user/password to database; resolves the client or rejects with the pg error. */
  async function login(user: string, password: string, database: string): Promise<pg.Client> {
    const c = new pg.Client({ host: srv.host, port: srv.port, user, password, database, ssl: false });
    await c.connect();
    return c;
  }

  async function loginError(user: string, password: string, database: string): Promise<{ code?: string; message: string }> {
    try {
      const c = await login(user, password, database);
      await c.end();
    } catch (e) {
      return e as { code?: string; message: string };
    }
    throw new Error(`${user} unexpectedly logged in to ${database}`);
  }

  /** A fresh pair of services (openwebui, litellm) with empty secrets, names prefixed by `p`. */
  function services(p: string) {
    const list = ["openwebui", "litellm"].map((name) => ({
      name,
      database: `${TAG}_${p}_${name}`,
      role: `${TAG}_${p}_${name}_app`,
      secretArn: sm.put(`${TAG}/${p}/${name}/db`),
    }));
    for (const s of list) {
      created.databases.push(s.database);
      created.roles.push(s.role);
    }
    return list;
  }

  const event = (svc: ReturnType<typeof services>, master = masterSecretArn) => ({ masterSecretArn: master, host: srv.host, port: srv.port, services: svc });
  const secretOf = (arn: string): StoredSecret => JSON.parse(sm.value(arn)!) as StoredSecret;
  const puts = () => sm.calls.filter((c) => c.operation === "PutSecretValue").length;
  const verifier = (role: string) =>
    superuser(async (c) => (await c.query<{ v: string }>("SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1", [role])).rows[0]?.v);

  beforeAll(async () => {
    // The handler logs one JSON line per step; keep the test output readable (the log test
    // installs its own capture).
    vi.spyOn(console, "log").mockImplementation(() => {});
    sm = await startSecretsManagerFake();
    ec = await startElastiCacheFake();
    Object.assign(process.env, FAKE_AWS_ENV, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      AWS_ENDPOINT_URL_ELASTICACHE: ec.url,
      DB_SSL_MODE: "disable",
      DB_MASTER_DATABASE: "postgres",
      REDIS_WAIT_SECONDS: "5",
      REDIS_POLL_SECONDS: "0.02",
    });
    await superuser((c) => c.query(`CREATE ROLE "${MASTER}" WITH LOGIN CREATEDB CREATEROLE PASSWORD '${MASTER_PASSWORD}'`));
    created.roles.push(MASTER);
    masterSecretArn = sm.put(`${TAG}/rds-master`, JSON.stringify({ username: MASTER, password: MASTER_PASSWORD }));
    const bundle = bundleFunction({ pkg: "db-bootstrap", entry: "src/index.ts" });
    bundleBytes = bundle.bytes;
    handler = ((await import(bundle.file)) as { handler: Handler }).handler;
  });

  afterAll(async () => {
    try {
      // Only matters when PG_TEST_URL is a shared server; a server we started is deleted anyway.
      if (process.env.PG_TEST_URL) {
        await dropCreated(srv, created);
      }
    } finally {
      await sm?.close();
      await ec?.close();
      await srv.release();
    }
  });

  it("bundles to a single ESM file that loads without pg-native", () => {
    expect(bundleBytes).toBeGreaterThan(0);
    expect(bundleBytes).toBeLessThan(2_000_000);
  });

  it("first run: creates both roles and databases, stores working URLs, isolates the services", async () => {
    const svc = services("first");
    const result = await handler(event(svc));
    expect(result).toEqual({
      services: [
        { service: "openwebui", database: "created", role: "created", password: "stored" },
        { service: "litellm", database: "created", role: "created", password: "stored" },
      ],
    });
    const [owui, llm] = svc as [(typeof svc)[0], (typeof svc)[0]];
    const s1 = secretOf(owui.secretArn);
    const s2 = secretOf(llm.secretArn);
    expect(s1).toEqual({
      engine: "postgres",
      host: srv.host,
      port: srv.port,
      dbname: owui.database,
      username: owui.role,
      password: expect.stringMatching(/^[A-Za-z0-9_-]{32,}$/),
      url: `postgresql://${owui.role}:${s1.password}@${srv.host}:${srv.port}/${owui.database}?sslmode=require`,
    });
    expect(s2.password).not.toBe(s1.password);
    expect(encodeURIComponent(s1.password)).toBe(s1.password);

    for (const [s, mine, other] of [
      [s1, owui, llm],
      [s2, llm, owui],
    ] as const) {
      // The URL as stored works with the pg client (the test server has no TLS, so sslmode=require
      // is swapped for disable; everything else is used verbatim).
      expect(s.url).toMatch(/\?sslmode=require$/);
      const c = new pg.Client({ connectionString: s.url.replace("sslmode=require", "sslmode=disable") });
      await c.connect();
      const who = await c.query("SELECT current_user AS u, current_database() AS d");
      expect(who.rows[0]).toEqual({ u: mine.role, d: mine.database });
      // It owns public and can migrate there.
      await c.query("CREATE TABLE public.migrations (id int)");
      const owner = await c.query("SELECT pg_get_userbyid(nspowner) AS o FROM pg_namespace WHERE nspname = 'public'");
      expect(owner.rows[0].o).toBe(mine.role);
      await c.end();
      // It cannot connect to the other service's database.
      const err = await loginError(mine.role, s.password, other.database);
      expect(err.code).toBe("42501");
      expect(err.message).toMatch(/permission denied for database/);
      // A wrong password is really checked (scram-sha-256).
      expect((await loginError(mine.role, "not-the-password", mine.database)).code).toBe("28P01");
    }

    await superuser(async (c) => {
      const roles = await c.query(
        "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname",
        [[owui.role, llm.role]],
      );
      for (const r of roles.rows) expect(r).toMatchObject({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true, scram: true });
      const dbs = await c.query(
        "SELECT datname, pg_get_userbyid(datdba) AS owner, has_database_privilege('public', oid, 'CONNECT') AS pc, has_database_privilege('public', oid, 'TEMP') AS pt FROM pg_database WHERE datname = ANY($1) ORDER BY datname",
        [[owui.database, llm.database]],
      );
      expect(dbs.rows).toEqual([
        { datname: llm.database, owner: llm.role, pc: false, pt: false },
        { datname: owui.database, owner: owui.role, pc: false, pt: false },
      ]);
    });
  });

  it("re-run: a no-op (no PutSecretValue, no password change)", async () => {
    const svc = services("rerun");
    await handler(event(svc));
    const before = svc.map((s) => sm.value(s.secretArn));
    const verifiers = await Promise.all(svc.map((s) => verifier(s.role)));
    const putsBefore = puts();

    const again = await handler(event(svc));
    expect(again.services).toEqual([
      { service: "openwebui", database: "exists", role: "exists", password: "unchanged" },
      { service: "litellm", database: "exists", role: "exists", password: "unchanged" },
    ]);
    expect(puts()).toBe(putsBefore);
    expect(svc.map((s) => sm.value(s.secretArn))).toEqual(before);
    // The SCRAM verifier has a random salt: an identical verifier means no ALTER ROLE … PASSWORD.
    expect(await Promise.all(svc.map((s) => verifier(s.role)))).toEqual(verifiers);
  });

  it("a role that already exists (unknown password, NOLOGIN, CREATEDB): password set and stored, attributes fixed", async () => {
    const svc = services("prerole");
    const owui = svc[0]!;
    await superuser((c) => c.query(`CREATE ROLE "${owui.role}" WITH NOLOGIN CREATEDB PASSWORD 'unknown-to-everyone-123'`));
    const result = await handler(event(svc));
    expect(result.services).toEqual([
      { service: "openwebui", database: "created", role: "exists", password: "stored" },
      { service: "litellm", database: "created", role: "created", password: "stored" },
    ]);
    const s = secretOf(owui.secretArn);
    const c = await login(owui.role, s.password, owui.database);
    await c.end();
    expect((await loginError(owui.role, "unknown-to-everyone-123", owui.database)).code).toBe("28P01");
    const attrs = await superuser(async (c2) => (await c2.query("SELECT rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = $1", [owui.role])).rows[0]);
    expect(attrs).toEqual({ rolcanlogin: true, rolcreatedb: false });
  });

  it("a stored password that no longer logs in is rotated", async () => {
    const svc = services("rotate");
    await handler(event(svc));
    const owui = svc[0]!;
    const good = secretOf(owui.secretArn);
    // Someone changed the role's password behind our back.
    await superuser((c) => c.query(`ALTER ROLE "${owui.role}" PASSWORD 'changed-behind-our-back-1'`));
    const putsBefore = puts();

    const result = await handler(event(svc));
    expect(result.services).toEqual([
      { service: "openwebui", database: "exists", role: "exists", password: "rotated" },
      { service: "litellm", database: "exists", role: "exists", password: "unchanged" },
    ]);
    expect(puts()).toBe(putsBefore + 1);
    const now = secretOf(owui.secretArn);
    expect(now.password).not.toBe(good.password);
    expect(now.url).toContain(`:${now.password}@`);
    const c = await login(owui.role, now.password, owui.database);
    await c.end();
  });

  it("a stored secret that is not ours (garbage) is replaced", async () => {
    const svc = services("garbage");
    const owui = svc[0]!;
    await handler(event(svc));
    const putsBefore = puts();
    // Overwrite with something that is not our JSON.
    const { PutSecretValueCommand, SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
    const client = new SecretsManagerClient({ endpoint: sm.url, region: FAKE_AWS_ENV.AWS_REGION, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    await client.send(new PutSecretValueCommand({ SecretId: owui.secretArn, SecretString: "not json" }));
    const result = await handler(event(svc));
    expect(result.services[0]).toEqual({ service: "openwebui", database: "exists", role: "exists", password: "rotated" });
    expect(puts()).toBe(putsBefore + 2);
    const c = await login(owui.role, secretOf(owui.secretArn).password, owui.database);
    await c.end();
  });

  it.skipIf(!server?.ca)("DB_SSL_MODE=verify-full: verified TLS with DB_SSL_CA_FILE, refused without the CA; the url works over TLS", async () => {
    const svc = services("tls");
    const env = process.env;
    try {
      Object.assign(env, { DB_SSL_MODE: "verify-full", DB_SSL_CA_FILE: "" });
      // The test CA is not trusted by default: certificate verification must fail.
      await expect(handler(event(svc))).rejects.toThrow(/cannot connect to .*DB_SSL_MODE=verify-full.*(self[- ]signed|unable to verify|certificate)/i);
      env.DB_SSL_CA_FILE = srv.ca!;
      const result = await handler(event(svc));
      expect(result.services.map((s) => s.password)).toEqual(["stored", "stored"]);
    } finally {
      Object.assign(env, { DB_SSL_MODE: "disable", DB_SSL_CA_FILE: "" });
    }
    // The stored url verbatim over TLS, with libpq's sslmode=require semantics (encrypted, not
    // verified), which is what the services' drivers apply; node-postgres needs uselibpqcompat for it.
    const s = secretOf(svc[0]!.secretArn);
    const c = new pg.Client({ connectionString: `${s.url}&uselibpqcompat=true` });
    await c.connect();
    const r = await c.query("SELECT ssl, current_user AS u FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    expect(r.rows[0]).toEqual({ ssl: true, u: svc[0]!.role });
    await c.end();
  });

  it("works with a superuser master too (no GRANT needed)", async () => {
    const svc = services("su");
    const suSecret = sm.put(`${TAG}/su-master`, JSON.stringify({ username: new URL(srv.url).username || "postgres", password: "trust-auth-ignores-this" }));
    const result = await handler(event(svc, suSecret));
    expect(result.services.map((s) => [s.database, s.role, s.password])).toEqual([
      ["created", "created", "stored"],
      ["created", "created", "stored"],
    ]);
    expect((await handler(event(svc, suSecret))).services.every((s) => s.password === "unchanged")).toBe(true);
  });

  it("refuses to hand an existing superuser role to a service", async () => {
    const svc = services("superrole");
    await superuser((c) => c.query(`CREATE ROLE "${svc[1]!.role}" WITH SUPERUSER LOGIN`));
    await expect(handler(event(svc))).rejects.toThrow(/service litellm .*role "[a-z0-9_]+" exists and is a superuser/);
  });

  describe("extensions", () => {
    /** Extensions installed in `database`: name → schema and owner. */
    const installed = (database: string) =>
      inDatabase(database, async (c) => {
        const r = await c.query<{ extname: string; schema: string; owner: string }>(
          "SELECT e.extname, n.nspname AS schema, pg_get_userbyid(e.extowner) AS owner FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1",
        );
        return Object.fromEntries(r.rows.map((x) => [x.extname, { schema: x.schema, owner: x.owner }]));
      });

    it("trusted ones (pg_trgm, pgcrypto): created by the Aurora-like master in that service's database only, `exists` on a re-run, usable by the service role", async () => {
      const [owui, llm] = services("ext") as [ReturnType<typeof services>[0], ReturnType<typeof services>[0]];
      const svc = [owui, { ...llm, extensions: ["pg_trgm", "pgcrypto"] }];
      const result = await handler(event(svc));
      expect(result.services).toEqual([
        { service: "openwebui", database: "created", role: "created", password: "stored" },
        { service: "litellm", database: "created", role: "created", password: "stored", extensions: { pg_trgm: "created", pgcrypto: "created" } },
      ]);
      // In the litellm database, in public, created by the master (a non-superuser: pg_trgm and
      // pgcrypto are trusted, so CREATE on the database, which it has as a member of the owner, suffices).
      expect(await installed(llm.database)).toEqual({ pg_trgm: { schema: "public", owner: MASTER }, pgcrypto: { schema: "public", owner: MASTER } });
      expect(await installed(owui.database)).toEqual({});
      expect(await installed("postgres")).toEqual({});

      const putsBefore = puts();
      const again = await handler(event(svc));
      expect(again.services[1]).toEqual({ service: "litellm", database: "exists", role: "exists", password: "unchanged", extensions: { pg_trgm: "exists", pgcrypto: "exists" } });
      expect(puts()).toBe(putsBefore);

      const c = new pg.Client({ connectionString: secretOf(llm.secretArn).url.replace("sslmode=require", "sslmode=disable") });
      await c.connect();
      try {
        await c.query("CREATE TABLE names (n text)");
        await c.query("CREATE INDEX names_trgm ON names USING gin (n gin_trgm_ops)");
        await c.query("INSERT INTO names VALUES ('open webui'), ('litellm')");
        const r = await c.query("SELECT n, similarity(n, 'open-webui') > 0.5 AS close, encode(digest(n, 'sha256'), 'hex') AS h FROM names ORDER BY n <-> 'open-webui' LIMIT 1");
        expect(r.rows[0]).toEqual({ n: "open webui", close: true, h: expect.stringMatching(/^[0-9a-f]{64}$/) });
      } finally {
        await c.end();
      }
    });

    it("a server without pgvector (Debian's PostgreSQL): fails naming the service, its database and the extension, and which Aurora versions ship it", async (ctx) => {
      const has = await superuser(async (c) => (await c.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).rowCount);
      if (has) ctx.skip("this server has pgvector; the missing-extension case needs one without it (Debian's postgresql package has none)");
      const [owui, llm] = services("novector") as [ReturnType<typeof services>[0], ReturnType<typeof services>[0]];
      const svc = [{ ...owui, extensions: ["vector"] }, llm];
      const version = await superuser(async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v);
      const err = await handler(event(svc)).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toBe(
        `service openwebui (database "${owui.database}", role "${owui.role}"): extension "vector" is not available on this server ` +
          `(PostgreSQL ${version}: no vector.control in its extension directory). Fix: Aurora PostgreSQL ships pgvector (extension \`vector\`) ` +
          "in 15.3, 14.8, 13.11, 12.15 and higher (AWS What's New, 13 July 2023), so in every 16.x and later: raise data.aurora.engineVersion",
      );
      // What PostgreSQL itself says: the failure we report is that one, found before running it.
      const direct = await inDatabase(owui.database, (c) => c.query("CREATE EXTENSION vector").then(() => "created", (e: Error) => e.message));
      expect(direct).toMatch(/could not open extension control file ".*vector\.control"|extension "vector" is not available/);
      expect(await installed(owui.database)).toEqual({});
      // The database part of the failing service was done (and its secret stored); the next
      // service never ran.
      expect(secretOf(owui.secretArn).dbname).toBe(owui.database);
      expect(sm.value(llm.secretArn)).toBeUndefined();
    });
  });

  it("malformed events fail with a message naming the field", async () => {
    const svc = [{ name: "openwebui", database: "openwebui", role: "openwebui", secretArn: "arn:x" }];
    const base = { masterSecretArn: masterSecretArn, host: srv.host, port: srv.port, services: svc };
    const cases: Array<[unknown, RegExp]> = [
      [null, /invalid event: event must be a JSON object/],
      [{ ...base, masterSecretArn: undefined }, /invalid event: masterSecretArn must be a non-empty string \(missing\)/],
      [{ ...base, host: "" }, /invalid event: host must be a non-empty string/],
      [{ ...base, port: "5432" }, /invalid event: port must be an integer from 1 to 65535 \(got "5432"\)/],
      [{ ...base, port: 70000 }, /invalid event: port must be an integer/],
      [{ ...base, services: [] }, /invalid event: services must be a non-empty array/],
      [{ ...base, services: [{ ...svc[0], role: 'x"; DROP ROLE postgres; --' }] }, /invalid event: services\[0\]\.role must match/],
      [{ ...base, services: [{ ...svc[0], database: "Open-WebUI" }] }, /invalid event: services\[0\]\.database must match .* \(got "Open-WebUI"\)/],
      [{ ...base, services: [{ ...svc[0], secretArn: 42 }] }, /invalid event: services\[0\]\.secretArn must be a non-empty string \(got 42\)/],
      [{ ...base, services: [svc[0], { ...svc[0], name: "litellm", role: "litellm" }] }, /invalid event: services\[1\]\.database duplicates services\[0\]\.database/],
      [{ ...base, services: [{ ...svc[0], extensions: ["vector", "adminpack"] }] }, /invalid event: services\[0\]\.extensions\[1\] must be one of the extensions db-bootstrap creates: vector, pg_trgm, pgcrypto \(got "adminpack"\)/],
      [{ ...base, services: [{ ...svc[0], extensions: "vector" }] }, /invalid event: services\[0\]\.extensions must be an array/],
    ];
    const putsBefore = puts();
    for (const [ev, message] of cases) await expect(handler(ev), JSON.stringify(ev)).rejects.toThrow(message);
    expect(puts()).toBe(putsBefore);
  });

  it("a missing master secret fails clearly, before touching the database", async () => {
    const svc = services("nomaster");
    const missing = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${TAG}/does-not-exist-AbCdEf`;
    await expect(handler(event(svc, missing))).rejects.toThrow(/master secret \(masterSecretArn .*does-not-exist.*\): .*ResourceNotFoundException/);
    const empty = sm.put(`${TAG}/empty-master`);
    await expect(handler(event(svc, empty))).rejects.toThrow(/master secret .* has no value/);
    const wrong = sm.put(`${TAG}/wrong-master`, JSON.stringify({ username: MASTER, password: "nope-nope-nope" }));
    await expect(handler(event(svc, wrong))).rejects.toThrow(new RegExp(`cannot connect to .* as the master user "${MASTER}".*password authentication failed`));
    const exists = await superuser(async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1", [svc[0]!.role])).rows[0].n);
    expect(exists).toBe(0);
  });

  it("never logs a password", async () => {
    const svc = services("logs");
    const lines: string[] = [];
    const seen: string[] = [MASTER_PASSWORD];
    const orig = { log: console.log, error: console.error, warn: console.warn, info: console.info };
    const capture = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
    Object.assign(console, { log: capture, error: capture, warn: capture, info: capture });
    try {
      await handler(event(svc));
      for (const s of svc) seen.push(secretOf(s.secretArn).password);
      await superuser((c) => c.query(`ALTER ROLE "${svc[0]!.role}" PASSWORD 'changed-behind-our-back-2'`));
      await handler(event(svc));
    } finally {
      Object.assign(console, orig);
    }
    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join("\n");
    for (const s of svc) seen.push(secretOf(s.secretArn).password);
    expect(new Set(seen).size).toBe(4); // master, two first passwords, one rotated
    for (const pw of seen) expect(all).not.toContain(pw);
  });

  describe("redis: the cache's AUTH token", () => {
    interface RedisSecret {
      host: string;
      port: number;
      authToken: string;
      url: string;
    }
    let svc: ReturnType<typeof services>;
    let n = 0;

    beforeAll(async () => {
      // One pair of services for all cache tests: after the first run the database part is a no-op.
      svc = services("redis");
      await handler(event(svc));
    });

    /** A fresh replication group (available, TLS, no token unless told) and its secret (empty unless told). */
    function cache(opts: Parameters<ElastiCacheFake["addGroup"]>[1] = {}, secretValue?: (g: { host: string }) => string) {
      const g = ec.addGroup(`${TAG}-r${++n}`, opts);
      const secretArn = sm.put(`${TAG}/redis/${n}`, secretValue?.(g));
      return { group: g, secretArn, redis: { replicationGroupId: g.id, secretArn, host: g.host, port: g.port } };
    }
    /** The tokens the group accepts once its pending modification (if any) has completed. */
    const tokensOnceApplied = (g: { tokens: string[] }) => {
      ec.completeModifications();
      return g.tokens;
    };
    const withRedis = (redis: unknown) => ({ ...event(svc), redis });
    const redisSecret = (arn: string) => JSON.parse(sm.value(arn)!) as RedisSecret;
    const putsTo = (arn: string) => sm.calls.filter((c) => c.operation === "PutSecretValue" && c.input.SecretId === arn).length;
    const ecCalls = (id: string, operation?: string) => ec.calls.filter((c) => c.input.ReplicationGroupId === id && (!operation || c.operation === operation));

    it("first run stores the token, then sets it with ROTATE; a re-run changes nothing", async () => {
      const c = cache();
      const result = await handler(withRedis(c.redis));
      expect(result.redis).toBe("stored");
      expect(result.services.map((s) => s.password)).toEqual(["unchanged", "unchanged"]);
      const s = redisSecret(c.secretArn);
      expect(JSON.stringify(s)).toBe(
        JSON.stringify({ host: c.group.host, port: 6379, authToken: s.authToken, url: `rediss://:${s.authToken}@${c.group.host}:6379/0` }),
      );
      expect(s.authToken).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(putsTo(c.secretArn)).toBe(1);
      const modifies = ecCalls(c.group.id, "ModifyReplicationGroup");
      expect(modifies.map((m) => m.input)).toEqual([
        {
          Action: "ModifyReplicationGroup",
          Version: "2015-02-02",
          ReplicationGroupId: c.group.id,
          AuthToken: s.authToken,
          AuthTokenUpdateStrategy: "ROTATE",
          ApplyImmediately: "true",
        },
      ]);
      expect(tokensOnceApplied(c.group)).toEqual([s.authToken]);

      const callsBefore = ecCalls(c.group.id).length;
      const again = await handler(withRedis(c.redis));
      expect(again.redis).toBe("unchanged");
      expect(putsTo(c.secretArn)).toBe(1);
      expect(ecCalls(c.group.id, "ModifyReplicationGroup")).toHaveLength(1);
      expect(ecCalls(c.group.id).slice(callsBefore).map((x) => x.operation)).toEqual(["DescribeReplicationGroups"]);
      expect(redisSecret(c.secretArn)).toEqual(s);
    });

    it("an event without redis leaves ElastiCache alone and reports no redis", async () => {
      const before = ec.calls.length;
      const result = await handler(event(svc));
      expect(result).not.toHaveProperty("redis");
      expect(ec.calls.length).toBe(before);
    });

    it("a group that is modifying: waits until it is available, then modifies", async () => {
      const c = cache();
      ec.busyFor(c.group.id, 3);
      const lines: string[] = [];
      vi.mocked(console.log).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
      let result;
      try {
        result = await handler(withRedis(c.redis));
      } finally {
        vi.mocked(console.log).mockImplementation(() => {});
      }
      expect(result.redis).toBe("stored");
      expect(ecCalls(c.group.id).map((x) => x.operation)).toEqual([
        "DescribeReplicationGroups", // modifying (1/3)
        "DescribeReplicationGroups", // modifying (2/3)
        "DescribeReplicationGroups", // modifying (3/3)
        "DescribeReplicationGroups", // available
        "ModifyReplicationGroup",
      ]);
      expect(lines.filter((l) => l.includes('"redis waiting"'))).toHaveLength(3);
      expect(tokensOnceApplied(c.group)).toEqual([redisSecret(c.secretArn).authToken]);
    });

    it("a group that never becomes available: a clear error, the secret holds the token, and the next run sets that same token", async () => {
      const c = cache();
      ec.setStatus(c.group.id, "modifying");
      process.env.REDIS_WAIT_SECONDS = "0.3";
      const started = Date.now();
      try {
        await expect(handler(withRedis(c.redis))).rejects.toThrow(
          new RegExp(
            `^redis \\(replication group "${c.group.id}"\\): replication group "${c.group.id}" is still "modifying" after waiting 0 s \\(REDIS_WAIT_SECONDS=0\\.3\\); ` +
              "the AUTH token was not set on it\\. The secret \\(redis\\.secretArn\\) already holds the token",
          ),
        );
      } finally {
        process.env.REDIS_WAIT_SECONDS = "5";
      }
      expect(Date.now() - started).toBeLessThan(3000);
      expect(ecCalls(c.group.id, "ModifyReplicationGroup")).toHaveLength(0);
      const s = redisSecret(c.secretArn);
      expect(s.authToken).toMatch(/^[A-Za-z0-9_-]{64}$/);

      ec.setStatus(c.group.id, "available");
      const result = await handler(withRedis(c.redis));
      expect(result.redis).toBe("stored");
      expect(putsTo(c.secretArn)).toBe(1); // no new token
      expect(ecCalls(c.group.id, "ModifyReplicationGroup").map((m) => m.input.AuthToken)).toEqual([s.authToken]);
      expect(tokensOnceApplied(c.group)).toEqual([s.authToken]);
    });

    it("AuthTokenEnabled false with our secret stored (a crash after PutSecretValue): modifies again with the stored token", async () => {
      const token = `${"S".repeat(48)}stored-token-xyz`;
      const c = cache({}, (g) => JSON.stringify({ host: g.host, port: 6379, authToken: token, url: `rediss://:${token}@${g.host}:6379/0` }));
      const result = await handler(withRedis(c.redis));
      expect(result.redis).toBe("stored");
      expect(putsTo(c.secretArn)).toBe(0);
      expect(ecCalls(c.group.id, "ModifyReplicationGroup").map((m) => m.input.AuthToken)).toEqual([token]);
      expect(tokensOnceApplied(c.group)).toEqual([token]);
      expect((await handler(withRedis(c.redis))).redis).toBe("unchanged");
    });

    it("a pending modification of an earlier run that completes while we wait: no second modify", async () => {
      const token = `${"P".repeat(48)}pending-token-xy`;
      const c = cache({}, (g) => JSON.stringify({ host: g.host, port: 6379, authToken: token, url: `rediss://:${token}@${g.host}:6379/0` }));
      // The earlier run's ModifyReplicationGroup went through, then the function died.
      ec.modifyTakesDescribes = 3;
      try {
        c.group.pending = { tokens: [token], authTokenStatus: "SETTING", describesLeft: 3 };
        c.group.status = "modifying";
        const result = await handler(withRedis(c.redis));
        expect(result.redis).toBe("unchanged");
      } finally {
        ec.modifyTakesDescribes = 1;
      }
      expect(putsTo(c.secretArn)).toBe(0);
      expect(ecCalls(c.group.id, "ModifyReplicationGroup")).toHaveLength(0);
      expect(tokensOnceApplied(c.group)).toEqual([token]);
    });

    it("a group that already has a token but an unusable secret: a new token, ROTATE keeps the old one valid (rotated)", async () => {
      const old = "O".repeat(64);
      for (const value of [undefined, () => "not json", (g: { host: string }) => JSON.stringify({ host: `${g.host}.old`, port: 6379, authToken: old, url: "x" })]) {
        const c = cache({ tokens: [old] }, value);
        const result = await handler(withRedis(c.redis));
        expect(result.redis).toBe("rotated");
        const s = redisSecret(c.secretArn);
        expect(s.authToken).not.toBe(old);
        expect(s.host).toBe(c.group.host);
        expect(tokensOnceApplied(c.group)).toEqual([old, s.authToken]);
        expect(ecCalls(c.group.id, "ModifyReplicationGroup").map((m) => m.input.AuthTokenUpdateStrategy)).toEqual(["ROTATE"]);
      }
    });

    it("the group turns busy between describe and modify (InvalidReplicationGroupState): waits and retries", async () => {
      const c = cache();
      ec.failNext("ModifyReplicationGroup", faults.invalidState(c.group.id, "modifying"));
      const result = await handler(withRedis(c.redis));
      expect(result.redis).toBe("stored");
      expect(ecCalls(c.group.id).map((x) => x.operation)).toEqual([
        "DescribeReplicationGroups",
        "ModifyReplicationGroup", // refused
        "DescribeReplicationGroups",
        "ModifyReplicationGroup",
      ]);
      const tokens = ecCalls(c.group.id, "ModifyReplicationGroup").map((m) => m.input.AuthToken);
      expect(tokens[0]).toBe(tokens[1]);
      expect(tokensOnceApplied(c.group)).toEqual([redisSecret(c.secretArn).authToken]);
    });

    it("stops waiting before the Lambda timeout (context.getRemainingTimeInMillis)", async () => {
      const c = cache();
      ec.setStatus(c.group.id, "modifying");
      const started = Date.now();
      await expect(handler(withRedis(c.redis), { getRemainingTimeInMillis: () => 15_010 })).rejects.toThrow(
        /still "modifying" after waiting 0 s \(the function's timeout is near\)/,
      );
      expect(Date.now() - started).toBeLessThan(3000);
      expect(ecCalls(c.group.id, "ModifyReplicationGroup")).toHaveLength(0);
    });

    it("clear errors: group not found, transit encryption off, deleting, ModifyReplicationGroup refused", async () => {
      const missing = { ...cache().redis, replicationGroupId: `${TAG}-missing` };
      await expect(handler(withRedis(missing))).rejects.toThrow(/^redis \(replication group "[a-z0-9-]+-missing"\): replication group "[a-z0-9-]+-missing" not found \(redis\.replicationGroupId\)/);
      expect(sm.value(missing.secretArn)).toBeUndefined();

      const plain = cache({ transitEncryptionEnabled: false });
      await expect(handler(withRedis(plain.redis))).rejects.toThrow(/has transit encryption off; ElastiCache accepts an AUTH token only with TLS/);
      expect(sm.value(plain.secretArn)).toBeUndefined(); // refused before storing anything

      const gone = cache({ status: "deleting" });
      await expect(handler(withRedis(gone.redis))).rejects.toThrow(/is "deleting"; the AUTH token was not set on it/);

      const denied = cache();
      ec.failNext("ModifyReplicationGroup", new QueryError("AccessDenied", "User is not authorized to perform: elasticache:ModifyReplicationGroup", 403));
      await expect(handler(withRedis(denied.redis))).rejects.toThrow(/ModifyReplicationGroup failed: AccessDenied: User is not authorized/);
      expect(redisSecret(denied.secretArn).authToken).toMatch(/^[A-Za-z0-9_-]{64}$/);
    });

    it("a malformed redis field fails naming the field, before any AWS or database call", async () => {
      const ok = cache().redis;
      const cases: Array<[unknown, RegExp]> = [
        ["owui-redis", /invalid event: redis must be an object/],
        [{ ...ok, replicationGroupId: "Owui--redis" }, /invalid event: redis\.replicationGroupId must be an ElastiCache replication group id .*\(got "Owui--redis"\)/],
        [{ ...ok, secretArn: undefined }, /invalid event: redis\.secretArn must be a non-empty string \(missing\)/],
        [{ ...ok, host: "rediss://h:6379" }, /invalid event: redis\.host must be a bare host name/],
        [{ ...ok, port: "6379" }, /invalid event: redis\.port must be an integer from 1 to 65535 \(got "6379"\)/],
      ];
      const before = { sm: sm.calls.length, ec: ec.calls.length };
      for (const [redis, message] of cases) await expect(handler(withRedis(redis)), JSON.stringify(redis)).rejects.toThrow(message);
      expect({ sm: sm.calls.length, ec: ec.calls.length }).toEqual(before);
    });

    it("never logs or returns the token, not even in an error", async () => {
      const lines: string[] = [];
      const orig = { log: console.log, error: console.error, warn: console.warn, info: console.info };
      const capture = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
      Object.assign(console, { log: capture, error: capture, warn: capture, info: capture });
      const c = cache();
      const d = cache();
      const outputs: string[] = [];
      try {
        outputs.push(JSON.stringify(await handler(withRedis(c.redis))));
        outputs.push(JSON.stringify(await handler(withRedis(c.redis))));
        ec.setStatus(d.group.id, "modifying");
        process.env.REDIS_WAIT_SECONDS = "0.1";
        outputs.push(String(await handler(withRedis(d.redis)).catch((e: Error) => `${e.name}: ${e.message}`)));
      } finally {
        process.env.REDIS_WAIT_SECONDS = "5";
        Object.assign(console, orig);
      }
      expect(lines.some((l) => l.includes('"redis ready"'))).toBe(true);
      const all = [...lines, ...outputs].join("\n");
      for (const arn of [c.secretArn, d.secretArn]) expect(all).not.toContain(redisSecret(arn).authToken);
    });
  });
});
