/**
 * Application Load Balancer stand-in: a Node HTTPS listener that evaluates listener rules the way an
 * ALB does and forwards to local targets.
 *
 * Follows the Elastic Load Balancing "Application Load Balancers" user guide:
 * - "Listener rules for your Application Load Balancer"
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html) and
 *   "Rule condition types" (rule-condition-types.html): rules are evaluated in priority order, lowest
 *   value first, the default action last; all conditions of a rule must match (AND), any value of one
 *   condition may match (OR). `path-pattern`: case-sensitive, matched against the path only (not the
 *   query string), wildcards `*` (0+ characters) and `?` (exactly 1). `host-header`: not
 *   case-sensitive, same wildcards. `http-header`: header name not case-sensitive, values compared
 *   case-insensitively with wildcards. `http-request-method`: case-sensitive exact match.
 *   `query-string`: key/value pairs, case-insensitive, wildcards.
 * - "Rule action types" (rule-action-types.html): `forward`, `fixed-response` (status 2XX/4XX/5XX,
 *   content type, body up to 1024 bytes), `redirect` (`protocol`, `host`, `port`, `path`, `query`
 *   with the reserved keywords `#{protocol}`, `#{host}`, `#{port}`, `#{path}` (no leading "/"),
 *   `#{query}`; defaults keep the original; status HTTP_301 or HTTP_302).
 * - "HTTP headers and Application Load Balancers" (x-forwarded-headers.html): X-Forwarded-For in the
 *   default `append` mode appends the client IP to any value the client sent (`preserve` and `remove`
 *   are offered too); X-Forwarded-Proto and X-Forwarded-Port are set to the listener's; other client
 *   headers — including `X-Forwarded-Email`, `X-Forwarded-User`, `X-Forwarded-Groups` — pass through
 *   unchanged (an ALB does not strip them). Host: with "preserve host header" off (default), the
 *   listener port is appended when it is not 80/443 and the client did not include a port.
 * - "Request tracing for your Application Load Balancer" (load-balancer-request-tracing.html):
 *   `X-Amzn-Trace-Id: Root=1-<8 hex epoch seconds>-<24 hex>` added when absent; when the client sent
 *   one with a Root, a `Self=` field is added/updated.
 * - "Configure the idle connection timeout" (in "Edit attributes of your Application Load
 *   Balancer"): default 60 s, applied to client and target connections; a target that sends nothing
 *   within it answers 504. "Troubleshoot your Application Load Balancers" (HTTP 502: target refused /
 *   reset; HTTP 503: no registered targets; HTTP 504: idle timeout) — error bodies as ALB's HTML,
 *   with `Server: awselb/2.0`.
 * - WebSockets: "Application Load Balancers … provide native support for WebSockets" (listener
 *   docs): the HTTP Upgrade is forwarded and the connection then tunnelled.
 * - HTTP → HTTPS: the usual HTTP:80 listener whose default action is a redirect to HTTPS:443
 *   (`httpRedirect`), per "Rule action types" redirect example.
 *
 * Not modelled: HTTP/2 and gRPC from clients, authenticate-oidc/cognito actions, weighted target
 * groups, stickiness, health checks, desync mitigation, `drop_invalid_header_fields`, mTLS, access logs.
 */
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface Conditions {
  /** up to 5 values, OR-ed; case-sensitive; `*`/`?` wildcards; path only. */
  readonly pathPattern?: readonly string[];
  /** OR-ed; case-insensitive; wildcards; compared without the port. */
  readonly hostHeader?: readonly string[];
  /** each entry is one condition (AND); its values are OR-ed, case-insensitive, wildcards. */
  readonly httpHeader?: readonly { readonly name: string; readonly values: readonly string[] }[];
  /** OR-ed; exact, case-sensitive (GET, POST, …). */
  readonly httpRequestMethod?: readonly string[];
  /** OR-ed pairs; key optional; case-insensitive; wildcards. */
  readonly queryString?: readonly { readonly key?: string; readonly value: string }[];
}

export type Action =
  | { readonly type: "forward"; readonly targetGroup: string }
  | { readonly type: "fixed-response"; readonly statusCode: number | string; readonly contentType?: string; readonly body?: string }
  | {
      readonly type: "redirect";
      readonly protocol?: string;
      readonly host?: string;
      readonly port?: string | number;
      readonly path?: string;
      readonly query?: string;
      readonly statusCode: "HTTP_301" | "HTTP_302";
    };

export interface Rule {
  readonly priority: number;
  readonly conditions: Conditions;
  readonly action: Action;
}

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface AlbOptions {
  readonly tls: { readonly key: string; readonly cert: string };
  readonly listenerRules: readonly Rule[];
  /** target group logical id → the one registered target. */
  readonly targets: Readonly<Record<string, Target>>;
  /** default action: a target group id (forward) or any action. */
  readonly defaultTarget: string | Action;
  /** HTTPS listener port (default ephemeral). */
  readonly port?: number;
  readonly host?: string;
  /** idle timeout in seconds (default 60). */
  readonly idleTimeoutSeconds?: number;
  /** also open an HTTP listener whose default action redirects to this HTTPS listener (301). */
  readonly httpRedirect?: boolean | { readonly port?: number };
  /** routing.http.preserve_host_header.enabled (default false). */
  readonly preserveHostHeader?: boolean;
  /** routing.http.xff_header_processing.mode (default "append"). */
  readonly xffMode?: "append" | "preserve" | "remove";
}

export interface AlbLogEntry {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly clientIp: string;
  /** matching rule's priority, or "default". */
  readonly rule: number | "default";
  readonly action: Action["type"];
  readonly targetGroup?: string;
  readonly upgrade: boolean;
  status?: number;
}

export interface AlbStandIn {
  /** https://127.0.0.1:<port> (use `urlFor(host)` for a name in the certificate). */
  readonly url: string;
  readonly port: number;
  readonly httpUrl?: string;
  readonly httpPort?: number;
  readonly log: AlbLogEntry[];
  urlFor(hostname: string): string;
  setTarget(targetGroup: string, target: Target): void;
  setRules(rules: readonly Rule[]): void;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization"]);

function wildcard(pattern: string, flags: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, flags);
}

function statusText(code: number): string {
  return ({ 200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out" } as Record<number, string>)[code] ?? "Error";
}

function albErrorBody(code: number): string {
  const t = `${code} ${statusText(code)}`;
  return `<html>\r\n<head><title>${t}</title></head>\r\n<body>\r\n<center><h1>${t}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

function clientIpOf(socket: Socket): string {
  return (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

function hostWithoutPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const i = host.lastIndexOf(":");
  return i >= 0 ? host.slice(0, i) : host;
}

function traceId(existing: string | undefined): string {
  const self = `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, "0")}-${randomBytes(12).toString("hex")}`;
  if (existing && /Root=/.test(existing)) {
    return /Self=[^;]*/.test(existing) ? existing.replace(/Self=[^;]*/, `Self=${self}`) : `Self=${self};${existing}`;
  }
  return `Root=${self}`;
}

/** Whether a request satisfies all of a rule's conditions. */
export function matches(conditions: Conditions, req: { method: string; host: string; path: string; query: URLSearchParams; headers: IncomingMessage["headers"] }): boolean {
  const c = conditions;
  if (c.pathPattern && !c.pathPattern.some((p) => wildcard(p, "").test(req.path))) return false;
  const host = hostWithoutPort(req.host);
  if (c.hostHeader && !c.hostHeader.some((h) => wildcard(hostWithoutPort(h), "i").test(host))) return false;
  for (const h of c.httpHeader ?? []) {
    const raw = req.headers[h.name.toLowerCase()];
    if (raw === undefined) return false;
    const values = Array.isArray(raw) ? raw : [raw];
    if (!h.values.some((p) => values.some((v) => wildcard(p, "i").test(v)))) return false;
  }
  if (c.httpRequestMethod && !c.httpRequestMethod.includes(req.method)) return false;
  if (c.queryString) {
    const pairs = [...req.query.entries()];
    const ok = c.queryString.some((q) => pairs.some(([k, v]) => (q.key === undefined || wildcard(q.key, "i").test(k)) && wildcard(q.value, "i").test(v)));
    if (!ok) return false;
  }
  return true;
}

export async function start(opts: AlbOptions): Promise<AlbStandIn> {
  const host = opts.host ?? "127.0.0.1";
  const idleMs = Math.round((opts.idleTimeoutSeconds ?? 60) * 1000);
  const xffMode = opts.xffMode ?? "append";
  const targets = new Map(Object.entries(opts.targets));
  let rules = [...opts.listenerRules].sort((a, b) => a.priority - b.priority);
  const defaultAction: Action = typeof opts.defaultTarget === "string" ? { type: "forward", targetGroup: opts.defaultTarget } : opts.defaultTarget;
  const log: AlbLogEntry[] = [];
  const sockets = new Set<Socket | Duplex>();
  let listenerPort = 0;

  const decide = (req: IncomingMessage): { rule: number | "default"; action: Action; url: URL } => {
    const url = new URL(req.url ?? "/", "http://x");
    const ctx = { method: req.method ?? "GET", host: req.headers.host ?? "", path: url.pathname, query: url.searchParams, headers: req.headers };
    for (const r of rules) if (matches(r.conditions, ctx)) return { rule: r.priority, action: r.action, url };
    return { rule: "default", action: defaultAction, url };
  };

  const upstreamHeaders = (req: IncomingMessage, upgrade: boolean): OutgoingHttpHeaders => {
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) && !(upgrade && (lower === "upgrade" || lower === "connection"))) continue;
      if (["x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-amzn-trace-id"].includes(lower)) continue;
      const prev = out[lower];
      const value = req.rawHeaders[i + 1]!;
      out[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
    }
    const ip = clientIpOf(req.socket);
    const xff = req.headers["x-forwarded-for"];
    if (xffMode === "append") out["x-forwarded-for"] = xff ? `${xff}, ${ip}` : ip;
    else if (xffMode === "preserve" && xff) out["x-forwarded-for"] = xff;
    out["x-forwarded-proto"] = "https";
    out["x-forwarded-port"] = String(listenerPort);
    out["x-amzn-trace-id"] = traceId(req.headers["x-amzn-trace-id"] as string | undefined);
    const h = req.headers.host;
    if (h && !opts.preserveHostHeader && listenerPort !== 443 && !/:\d+$/.test(h)) out.host = `${h}:${listenerPort}`;
    if (upgrade) {
      out.connection = "Upgrade";
      out.upgrade = req.headers.upgrade;
    }
    return out;
  };

  const redirectLocation = (a: Extract<Action, { type: "redirect" }>, req: IncomingMessage, url: URL, protocol: string, port: number): string => {
    const origHost = hostWithoutPort(req.headers.host ?? host);
    const sub = (s: string) =>
      s
        .replace(/#\{protocol\}/g, protocol)
        .replace(/#\{host\}/g, origHost)
        .replace(/#\{port\}/g, String(port))
        .replace(/#\{path\}/g, url.pathname.replace(/^\//, ""))
        .replace(/#\{query\}/g, url.search.replace(/^\?/, ""));
    const proto = sub(a.protocol ?? "#{protocol}").toLowerCase();
    const rhost = sub(a.host ?? "#{host}");
    const rport = sub(String(a.port ?? "#{port}"));
    const path = sub(a.path ?? "/#{path}");
    const query = sub(a.query ?? "#{query}");
    const defaultPort = (proto === "https" && rport === "443") || (proto === "http" && rport === "80");
    return `${proto}://${rhost}${defaultPort ? "" : `:${rport}`}${path}${query ? `?${query}` : ""}`;
  };

  /** Sends a locally generated response (fixed-response, redirect, errors) to an HTTP response or a raw upgrade socket. */
  const respondLocal = (sink: ServerResponse | Duplex, status: number, headers: Record<string, string>, body: string, entry: AlbLogEntry) => {
    entry.status = status;
    const all = { server: "awselb/2.0", date: new Date().toUTCString(), "content-length": String(Buffer.byteLength(body)), ...headers };
    if ("writeHead" in sink) {
      sink.writeHead(status, all);
      sink.end(body);
      return;
    }
    const head = [`HTTP/1.1 ${status} ${statusText(status)}`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`), "connection: close", "", ""].join("\r\n");
    sink.end(head + body);
  };

  const runAction = (req: IncomingMessage, sink: ServerResponse | Duplex, entry: AlbLogEntry, action: Action, url: URL): Target | undefined => {
    if (action.type === "fixed-response") {
      const body = action.body ?? "";
      if (Buffer.byteLength(body) > 1024) throw new Error("fixed-response body is limited to 1024 bytes");
      respondLocal(sink, Number(action.statusCode), { "content-type": action.contentType ?? "text/plain; charset=utf-8" }, body, entry);
      return undefined;
    }
    if (action.type === "redirect") {
      const code = action.statusCode === "HTTP_301" ? 301 : 302;
      respondLocal(sink, code, { location: redirectLocation(action, req, url, "https", listenerPort), "content-type": "text/html" }, albErrorBody(code), entry);
      return undefined;
    }
    const target = targets.get(action.targetGroup);
    if (!target) {
      respondLocal(sink, 503, { "content-type": "text/html" }, albErrorBody(503), entry);
      return undefined;
    }
    return target;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const { rule, action, url } = decide(req);
    const entry: AlbLogEntry = {
      method: req.method ?? "GET",
      host: req.headers.host ?? "",
      path: url.pathname,
      clientIp: clientIpOf(req.socket),
      rule,
      action: action.type,
      ...(action.type === "forward" ? { targetGroup: action.targetGroup } : {}),
      upgrade: false,
    };
    log.push(entry);
    let target: Target | undefined;
    try {
      target = runAction(req, res, entry, action, url);
    } catch (e) {
      respondLocal(res, 500, { "content-type": "text/plain" }, String(e), entry);
      return;
    }
    if (!target) {
      req.resume();
      return;
    }
    const preq = httpRequest({ host: target.host, port: target.port, method: req.method, path: req.url, headers: upstreamHeaders(req, false) });
    let answered = false;
    // idle target (no bytes for idleMs), before or during the response: 504, or both sides closed
    preq.setTimeout(idleMs, () => {
      if (!answered && !res.headersSent) respondLocal(res, 504, { "content-type": "text/html" }, albErrorBody(504), entry);
      else res.destroy();
      preq.destroy();
    });
    preq.on("error", () => {
      if (!res.headersSent) respondLocal(res, 502, { "content-type": "text/html" }, albErrorBody(502), entry);
      else res.destroy();
    });
    preq.on("response", (pres) => {
      answered = true;
      entry.status = pres.statusCode;
      const headers: OutgoingHttpHeaders = {};
      for (let i = 0; i < pres.rawHeaders.length; i += 2) {
        const lower = pres.rawHeaders[i]!.toLowerCase();
        if (HOP_BY_HOP.has(lower)) continue;
        const prev = headers[lower];
        const value = pres.rawHeaders[i + 1]!;
        headers[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
      }
      res.writeHead(pres.statusCode ?? 502, headers);
      res.flushHeaders();
      pres.on("data", (chunk: Buffer) => {
        if (!res.write(chunk)) {
          pres.pause();
          res.once("drain", () => pres.resume());
        }
      });
      pres.on("end", () => res.end());
      pres.on("error", () => res.destroy());
    });
    res.on("close", () => {
      if (!res.writableFinished) preq.destroy();
    });
    req.pipe(preq);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { rule, action, url } = decide(req);
    const entry: AlbLogEntry = {
      method: req.method ?? "GET",
      host: req.headers.host ?? "",
      path: url.pathname,
      clientIp: clientIpOf(req.socket),
      rule,
      action: action.type,
      ...(action.type === "forward" ? { targetGroup: action.targetGroup } : {}),
      upgrade: true,
    };
    log.push(entry);
    socket.on("error", () => socket.destroy());
    const target = runAction(req, socket, entry, action, url);
    if (!target) return;
    const preq = httpRequest({ host: target.host, port: target.port, method: req.method, path: req.url, headers: upstreamHeaders(req, true) });
    preq.on("error", () => respondLocal(socket, 502, { "content-type": "text/html" }, albErrorBody(502), entry));
    preq.setTimeout(idleMs, () => {
      respondLocal(socket, 504, { "content-type": "text/html" }, albErrorBody(504), entry);
      preq.destroy();
    });
    preq.on("response", (pres) => {
      // the target declined the upgrade: relay its answer and close
      entry.status = pres.statusCode;
      const lines = [`HTTP/1.1 ${pres.statusCode} ${pres.statusMessage}`];
      for (let i = 0; i < pres.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(pres.rawHeaders[i]!.toLowerCase())) lines.push(`${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}`);
      const chunks: Buffer[] = [];
      pres.on("data", (c: Buffer) => chunks.push(c));
      pres.on("end", () => {
        const body = Buffer.concat(chunks);
        lines.push(`content-length: ${body.length}`, "connection: close", "", "");
        socket.end(Buffer.concat([Buffer.from(lines.join("\r\n")), body]));
      });
    });
    preq.on("upgrade", (pres, psocket, phead) => {
      entry.status = pres.statusCode;
      preq.setTimeout(0);
      const lines = [`HTTP/1.1 ${pres.statusCode} ${pres.statusMessage}`];
      for (let i = 0; i < pres.rawHeaders.length; i += 2) lines.push(`${pres.rawHeaders[i]}: ${pres.rawHeaders[i + 1]}`);
      socket.write(lines.join("\r\n") + "\r\n\r\n");
      if (phead.length) socket.write(phead);
      if (head.length) psocket.write(head);
      sockets.add(psocket);
      psocket.on("close", () => sockets.delete(psocket));
      for (const s of [socket, psocket] as Duplex[]) {
        (s as Socket).setTimeout?.(idleMs, () => {
          socket.destroy();
          psocket.destroy();
        });
      }
      psocket.on("error", () => socket.destroy());
      socket.on("error", () => psocket.destroy());
      psocket.on("close", () => socket.destroy());
      socket.on("close", () => psocket.destroy());
      psocket.pipe(socket);
      socket.pipe(psocket);
    });
    preq.end();
  };

  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };

  const https: HttpsServer = createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert, requestTimeout: 0, keepAliveTimeout: idleMs }, onRequest);
  https.on("upgrade", onUpgrade);
  https.on("secureConnection", track);
  await new Promise<void>((resolve, reject) => {
    https.once("error", reject);
    https.listen(opts.port ?? 0, host, () => resolve());
  });
  listenerPort = (https.address() as AddressInfo).port;

  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  if (opts.httpRedirect) {
    const redirect: Extract<Action, { type: "redirect" }> = { type: "redirect", protocol: "HTTPS", port: listenerPort, statusCode: "HTTP_301" };
    http = createHttpServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const entry: AlbLogEntry = { method: req.method ?? "GET", host: req.headers.host ?? "", path: url.pathname, clientIp: clientIpOf(req.socket), rule: "default", action: "redirect", upgrade: false };
      log.push(entry);
      req.resume();
      respondLocal(res, 301, { location: redirectLocation(redirect, req, url, "http", httpPort!), "content-type": "text/html" }, albErrorBody(301), entry);
    });
    http.on("connection", track);
    const wanted = typeof opts.httpRedirect === "object" ? (opts.httpRedirect.port ?? 0) : 0;
    await new Promise<void>((resolve, reject) => {
      http!.once("error", reject);
      http!.listen(wanted, host, () => resolve());
    });
    httpPort = (http.address() as AddressInfo).port;
  }

  const closeServer = (s: HttpServer | HttpsServer) => new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    url: `https://${host}:${listenerPort}`,
    port: listenerPort,
    ...(httpPort !== undefined ? { httpUrl: `http://${host}:${httpPort}`, httpPort } : {}),
    log,
    urlFor: (hostname) => `https://${hostname}:${listenerPort}`,
    setTarget: (id, t) => {
      targets.set(id, t);
    },
    setRules: (r) => {
      rules = [...r].sort((a, b) => a.priority - b.priority);
    },
    stop: async () => {
      const closing = [closeServer(https), ...(http ? [closeServer(http)] : [])];
      for (const s of sockets) s.destroy();
      await Promise.all(closing);
    },
  };
}
