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
import { startSecretsManagerFake, type SecretsManagerFake } from "../../../test/fakes/secrets-manager.js";
import { acquirePgServer } from "./helpers/pg-server.js";

const server = acquirePgServer();

type Handler = (event: unknown) => Promise<{ services: Array<{ service: string; database: string; role: string; password: string }> }>;
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
  let handler: Handler;
  let masterSecretArn: string;
  let bundleBytes = 0;
  const created = { databases: [] as string[], roles: [] as string[] };

  async function superuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: srv.url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

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
    Object.assign(process.env, FAKE_AWS_ENV, { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url, DB_SSL_MODE: "disable", DB_MASTER_DATABASE: "postgres" });
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
        await superuser(async (c) => {
          for (const d of created.databases) await c.query(`DROP DATABASE IF EXISTS "${d}"`);
          for (const r of created.roles.reverse()) {
            await c.query(`DROP OWNED BY "${r}"`).catch(() => {});
            await c.query(`DROP ROLE IF EXISTS "${r}"`);
          }
        });
      }
    } finally {
      await sm?.close();
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
});
