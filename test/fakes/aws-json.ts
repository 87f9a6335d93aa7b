/**
 * A local HTTP fake of the AWS JSON protocols (JSON 1.0 / 1.1), which Secrets Manager, SQS (since
 * 2023), Cognito user pools and KMS speak: `POST /` with `X-Amz-Target: <Service>.<Operation>` and
 * a JSON body. Point an SDK v3 client at it with `AWS_ENDPOINT_URL_<SERVICE>` (or `endpoint`) and
 * any static credentials; signatures are not checked.
 *
 * Each service fake (secrets-manager.ts, sqs.ts, ...) supplies a map of operation → handler.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A service error, answered as AWS does: HTTP 400 and `{"__type", "message"}`. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type OperationHandler = (input: Record<string, unknown>) => unknown | Promise<unknown>;

export interface RecordedCall {
  readonly target: string;
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export interface AwsJsonFake {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_<SERVICE>` or a client's `endpoint`. */
  readonly url: string;
  /** Every call received, in order. */
  readonly calls: RecordedCall[];
  /** Makes the next `count` calls of `operation` fail with `error` (fault injection). */
  failNext(operation: string, error: AwsError, count?: number): void;
  /** Holds the next `count` calls of `operation` for `ms` before answering (a slow or hung service). */
  stallNext(operation: string, ms: number, count?: number): void;
  /** Drops every injected fault and stall. */
  clearFaults(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a fake on 127.0.0.1 and an ephemeral port. */
export async function startAwsJsonFake(handlers: Record<string, OperationHandler>): Promise<AwsJsonFake> {
  const calls: RecordedCall[] = [];
  const injected = new Map<string, { error: AwsError; remaining: number }>();
  const stalls = new Map<string, { ms: number; remaining: number }>();
  const stallTimers = new Set<NodeJS.Timeout>();

  const server: Server = createServer(async (req, res) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.slice(target.lastIndexOf(".") + 1);
    const contentType = String(req.headers["content-type"] ?? "application/x-amz-json-1.1");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": contentType });
      res.end(JSON.stringify(body ?? {}));
    };
    try {
      const raw = await readBody(req);
      const input = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      calls.push({ target, operation, input });
      const stall = stalls.get(operation);
      if (stall && stall.remaining > 0) {
        stall.remaining -= 1;
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            stallTimers.delete(t);
            resolve();
          }, stall.ms);
          stallTimers.add(t);
        });
        if (res.destroyed || res.writableEnded) return;
      }
      const fault = injected.get(operation);
      if (fault && fault.remaining > 0) {
        fault.remaining -= 1;
        throw fault.error;
      }
      const handler = handlers[operation];
      if (!handler) throw new AwsError("UnknownOperationException", `fake does not implement ${target}`);
      reply(200, await handler(input));
    } catch (err) {
      if (err instanceof AwsError) {
        res.setHeader("x-amzn-errortype", err.type);
        reply(err.status, { __type: err.type, message: err.message });
      } else {
        reply(500, { __type: "InternalFailure", message: String(err) });
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(operation, error, count = 1) {
      injected.set(operation, { error, remaining: count });
    },
    stallNext(operation, ms, count = 1) {
      stalls.set(operation, { ms, remaining: count });
    },
    clearFaults() {
      injected.clear();
      stalls.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of stallTimers) clearTimeout(t);
        stallTimers.clear();
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** Static credentials and region for SDK clients pointed at fakes. */
export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKE",
  AWS_SECRET_ACCESS_KEY: "fake-secret-for-local-fakes-only",
  AWS_REGION: "us-east-1",
} as const;
