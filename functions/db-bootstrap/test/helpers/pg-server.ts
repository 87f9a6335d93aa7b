/**
 * A PostgreSQL server for the tests: PG_TEST_URL (superuser URL; PG_TEST_CA when it has TLS) when set, otherwise one started
 * with scripts/pg-test-server.sh and stopped by `release()`. With no server available the tests
 * fail when CI=true and are skipped, loudly, otherwise.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
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

export function acquirePgServer(): PgServer | undefined {
  const given = process.env.PG_TEST_URL;
  if (given) return fromUrl(given, process.env.PG_TEST_CA, async () => {});
  let out: string;
  try {
    out = execFileSync(SCRIPT, ["start"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
  } catch (e) {
    const detail = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    const msg = `no PostgreSQL for the db-bootstrap tests: PG_TEST_URL is unset and ${SCRIPT} start failed:\n${detail}`;
    if (process.env.CI === "true") throw new Error(msg);
    console.warn(`\n${"!".repeat(100)}\n!! SKIPPING db-bootstrap PostgreSQL tests. ${msg}\n${"!".repeat(100)}\n`);
    return undefined;
  }
  const vars = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]!.replace(/^'(.*)'$/, "$1")]));
  const url = vars.PG_TEST_URL;
  const dir = vars.PG_TEST_DIR;
  if (!url || !dir) throw new Error(`${SCRIPT} start printed no PG_TEST_URL/PG_TEST_DIR:\n${out}`);
  return fromUrl(url, vars.PG_TEST_CA, async () => {
    execFileSync(SCRIPT, ["stop", dir], { stdio: "ignore", timeout: 60_000 });
  });
}
