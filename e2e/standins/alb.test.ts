import { execFile, spawnSync } from "node:child_process";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { matches, start, type AlbStandIn, type Rule } from "./alb.js";
import { spkiSha256, testCa, type TestCa } from "./tls.js";

interface Seen {
  target: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

/** An upstream that answers with what it received. */
function echoServer(name: string, seen: Seen[]): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = { target: name, method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name });
      res.end(JSON.stringify(s));
    });
  });
}

interface Resp {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(url: string, ca: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const fn = u.protocol === "https:" ? httpsRequest : httpRequest;
    const req = fn(u, { method: init.method ?? "GET", headers: init.headers ?? {}, ca, ...(isIP(u.hostname) ? {} : { servername: u.hostname }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

const json = (r: Resp) => JSON.parse(r.body) as Seen;

describe("alb stand-in", () => {
  let ca: TestCa;
  let alb: AlbStandIn;
  const seen: Seen[] = [];
  const servers: Server[] = [];
  let wss: WebSocketServer;
  let wsHeaders: IncomingHttpHeaders | undefined;
  let sseAck: (() => void) | undefined;

  beforeAll(async () => {
    ca = await testCa({ names: ["owui.example.com"] });
    const a = echoServer("a", seen);
    const b = echoServer("b", seen);
    // SSE upstream: writes one event, then waits until the test has RECEIVED it before writing the next.
    const sse = createServer((req, res) => {
      if (req.url === "/hang") return; // never answers
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write("data: one\n\n");
      new Promise<void>((r) => (sseAck = r)).then(() => {
        res.write("data: two\n\n");
        res.end();
      });
    });
    wss = new WebSocketServer({ server: a });
    wss.on("connection", (ws, req) => {
      wsHeaders = req.headers;
      ws.on("message", (m) => ws.send(`echo:${m.toString()}`));
    });
    servers.push(a, b, sse);
    const [pa, pb, ps] = await Promise.all([listen(a), listen(b), listen(sse)]);
    const rules: Rule[] = [
      { priority: 10, conditions: { pathPattern: ["/api/*"] }, action: { type: "forward", targetGroup: "a" } },
      { priority: 5, conditions: { pathPattern: ["/api/special?"] }, action: { type: "fixed-response", statusCode: 418, contentType: "application/json", body: '{"teapot":true}' } },
      { priority: 20, conditions: { hostHeader: ["*.example.com"] }, action: { type: "forward", targetGroup: "b" } },
      { priority: 30, conditions: { httpHeader: [{ name: "X-Mode", values: ["beta*"] }], httpRequestMethod: ["POST"] }, action: { type: "forward", targetGroup: "b" } },
      { priority: 40, conditions: { pathPattern: ["/old/*"] }, action: { type: "redirect", path: "/moved/#{path}", statusCode: "HTTP_301" } },
      { priority: 50, conditions: { pathPattern: ["/events", "/hang"] }, action: { type: "forward", targetGroup: "sse" } },
      { priority: 60, conditions: { pathPattern: ["/missing"] }, action: { type: "forward", targetGroup: "unregistered" } },
      { priority: 70, conditions: { pathPattern: ["/refused"] }, action: { type: "forward", targetGroup: "dead" } },
    ];
    // a port nothing listens on
    const dead = createServer();
    const deadPort = await listen(dead);
    await new Promise<void>((r) => dead.close(() => r()));
    alb = await start({
      tls: { key: ca.key, cert: ca.cert },
      listenerRules: rules,
      targets: { a: { host: "127.0.0.1", port: pa }, b: { host: "127.0.0.1", port: pb }, sse: { host: "127.0.0.1", port: ps }, dead: { host: "127.0.0.1", port: deadPort } },
      defaultTarget: "a",
      idleTimeoutSeconds: 1,
      httpRedirect: true,
    });
  });

  afterAll(async () => {
    await alb?.stop();
    wss?.close();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await ca?.cleanup();
  });

  it("evaluates rules by ascending priority with case-sensitive path wildcards", async () => {
    const special = await call(`${alb.url}/api/special1`, ca.caCert);
    expect(special.status).toBe(418); // priority 5 beats priority 10 although listed later
    expect(special.headers["content-type"]).toBe("application/json");
    expect(special.body).toBe('{"teapot":true}');
    expect(alb.log.at(-1)).toMatchObject({ rule: 5, action: "fixed-response", status: 418 });
    // `?` is exactly one character
    expect(json(await call(`${alb.url}/api/special12`, ca.caCert)).target).toBe("a");
    expect(alb.log.at(-1)!.rule).toBe(10);
    // path is case-sensitive: /API/x falls to the default action; the query string is not part of the path
    expect((await call(`${alb.url}/API/x`, ca.caCert)).headers["x-upstream"]).toBe("a");
    expect(alb.log.at(-1)!.rule).toBe("default");
    expect(alb.log.at(-1)!.rule).not.toBe(10);
    await call(`${alb.url}/nothing?p=/api/x`, ca.caCert);
    expect(alb.log.at(-1)!.rule).toBe("default");
  });

  it("matches host headers case-insensitively, ignoring the port", async () => {
    const r = await call(`${alb.urlFor("localhost")}/x`, ca.caCert, { headers: { host: `OWUI.Example.COM:${alb.port}` } });
    expect(json(r).target).toBe("b");
    expect(alb.log.at(-1)).toMatchObject({ rule: 20, targetGroup: "b" });
    expect(json(r).headers.host).toBe(`OWUI.Example.COM:${alb.port}`);
    // the bare domain does not match *.example.com
    await call(`${alb.urlFor("localhost")}/x`, ca.caCert, { headers: { host: "example.com" } });
    expect(alb.log.at(-1)!.rule).toBe("default");
  });

  it("ANDs conditions across types (header wildcard + method)", async () => {
    expect(json(await call(`${alb.url}/h`, ca.caCert, { method: "POST", headers: { "x-mode": "BETA-2" }, body: "x" })).target).toBe("b");
    expect(json(await call(`${alb.url}/h`, ca.caCert, { method: "GET", headers: { "x-mode": "beta-2" } })).target).toBe("a");
    expect(json(await call(`${alb.url}/h`, ca.caCert, { method: "POST", headers: { "x-mode": "alpha" }, body: "x" })).target).toBe("a");
  });

  it("passes client headers through unchanged (forged identity headers too), appends X-Forwarded-For, sets proto/port/trace", async () => {
    const r = await call(`${alb.url}/api/echo?q=1`, ca.caCert, {
      method: "PUT",
      headers: {
        "content-type": "text/plain",
        "x-forwarded-email": "forged@evil.example",
        "x-forwarded-user": "forged-user",
        "x-forwarded-groups": "admins",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-proto": "http",
        "x-forwarded-port": "80",
        authorization: "Bearer client-token",
        cookie: "token=abc",
      },
      body: "payload-bytes",
    });
    const s = json(r);
    expect(s.method).toBe("PUT");
    expect(s.url).toBe("/api/echo?q=1");
    expect(s.body).toBe("payload-bytes");
    expect(s.headers["x-forwarded-email"]).toBe("forged@evil.example");
    expect(s.headers["x-forwarded-user"]).toBe("forged-user");
    expect(s.headers["x-forwarded-groups"]).toBe("admins");
    expect(s.headers.authorization).toBe("Bearer client-token");
    expect(s.headers.cookie).toBe("token=abc");
    expect(s.headers["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(s.headers["x-forwarded-proto"]).toBe("https");
    expect(s.headers["x-forwarded-port"]).toBe(String(alb.port));
    expect(s.headers["x-amzn-trace-id"]).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    // without a client XFF the ALB sets the client IP; an existing trace Root gets a Self field
    const plain = json(await call(`${alb.url}/api/echo`, ca.caCert, { headers: { "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678" } }));
    expect(plain.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(plain.headers["x-amzn-trace-id"]).toMatch(/^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678$/);
  });

  it("redirect actions substitute #{path}, #{query}, #{host}, #{port}", async () => {
    const r = await call(`${alb.url}/old/page?x=1`, ca.caCert);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`https://127.0.0.1:${alb.port}/moved/old/page?x=1`);
    expect(r.headers.server).toBe("awselb/2.0");
  });

  it("redirects the HTTP listener to HTTPS", async () => {
    const r = await call(`${alb.httpUrl}/some/path?a=b`, ca.caCert);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`https://127.0.0.1:${alb.port}/some/path?a=b`);
  });

  it("streams responses without buffering (SSE)", async () => {
    const received = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      const req = httpsRequest(`${alb.url}/events`, { ca: ca.caCert }, (res) => {
        expect(res.headers["content-type"]).toBe("text/event-stream");
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          got.push(d);
          // only once the first event arrived through the proxy does the upstream send the second
          if (got.join("").includes("data: one")) sseAck?.();
        });
        res.on("end", () => resolve(got));
      });
      req.on("error", reject);
      req.end();
    });
    expect(received.join("")).toBe("data: one\n\ndata: two\n\n");
    expect(received.length).toBeGreaterThanOrEqual(2);
  });

  it("tunnels websocket upgrades", async () => {
    const ws = new WebSocket(`wss://localhost:${alb.port}/ws`, { ca: ca.caCert, headers: { "x-forwarded-email": "forged@evil.example" } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on("open", () => ws.send("ping"));
      ws.on("message", (m) => resolve(m.toString()));
      ws.on("error", reject);
    });
    ws.close();
    expect(reply).toBe("echo:ping");
    expect(wsHeaders!["x-forwarded-email"]).toBe("forged@evil.example");
    expect(wsHeaders!["x-forwarded-for"]).toBe("127.0.0.1");
    expect(wsHeaders!["x-forwarded-proto"]).toBe("https");
    expect(alb.log.filter((l) => l.upgrade).at(-1)).toMatchObject({ status: 101, targetGroup: "a", rule: "default" });
  });

  it("answers 503 with no registered target, 502 when the target refuses, 504 after the idle timeout", async () => {
    const missing = await call(`${alb.url}/missing`, ca.caCert);
    expect(missing.status).toBe(503);
    expect(missing.body).toContain("503 Service Temporarily Unavailable");
    const refused = await call(`${alb.url}/refused`, ca.caCert);
    expect(refused.status).toBe(502);
    expect(refused.headers.server).toBe("awselb/2.0");
    const t0 = Date.now();
    const hang = await call(`${alb.url}/hang`, ca.caCert);
    expect(hang.status).toBe(504);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it("serves a certificate other runtimes accept: curl with the CA file, Python with VERIFY_X509_STRICT", async () => {
    expect(ca.spki).toBe(spkiSha256(ca.cert));
    expect(ca.chromiumArgs[0]).toBe(`--ignore-certificate-errors-spki-list=${ca.spki}`);
    expect(ca.env.NODE_EXTRA_CA_CERTS).toBe(ca.caCertPath);
    const run = promisify(execFile);
    if (spawnSync("curl", ["--version"], { stdio: "ignore" }).status === 0) {
      const { stdout } = await run("curl", ["-sS", "--cacert", ca.caCertPath, "-o", "/dev/null", "-w", "%{http_code}", `https://localhost:${alb.port}/api/x`]);
      expect(stdout).toBe("200");
    }
    const py = `
import ssl, urllib.request, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0x20)
print(urllib.request.urlopen(sys.argv[2], context=ctx).status)
`;
    const { stdout } = await run("python3", ["-c", py, ca.caCertPath, `https://localhost:${alb.port}/api/x`]);
    expect(stdout.trim()).toBe("200");
  });
});

describe("alb rule matching (unit)", () => {
  const req = (path: string, host = "a.example.com", headers: IncomingHttpHeaders = {}, method = "GET") => ({ method, host, path, query: new URLSearchParams("Mode=Beta"), headers });
  it("implements * and ? and OR-within / AND-across semantics", () => {
    expect(matches({ pathPattern: ["/img/*.png"] }, req("/img/a/b.png"))).toBe(true);
    expect(matches({ pathPattern: ["/img/*.png"] }, req("/img/a.PNG"))).toBe(false);
    expect(matches({ pathPattern: ["/a?c"] }, req("/abc"))).toBe(true);
    expect(matches({ pathPattern: ["/a?c"] }, req("/ac"))).toBe(false);
    expect(matches({ pathPattern: ["/x", "/y*"] }, req("/yz"))).toBe(true);
    expect(matches({ pathPattern: ["/y*"], hostHeader: ["b.*"] }, req("/yz"))).toBe(false);
    expect(matches({ hostHeader: ["A.EXAMPLE.com"] }, req("/", "a.example.com:8443"))).toBe(true);
    expect(matches({ queryString: [{ key: "mode", value: "beta" }] }, req("/"))).toBe(true);
    expect(matches({ httpHeader: [{ name: "X-A", values: ["1"] }, { name: "X-B", values: ["2"] }] }, req("/", "h", { "x-a": "1" }))).toBe(false);
    expect(matches({ httpRequestMethod: ["GET"] }, req("/", "h", {}, "get"))).toBe(false);
    expect(matches({ pathPattern: ["/a.b"] }, req("/aXb"))).toBe(false); // '.' is literal
  });
});
