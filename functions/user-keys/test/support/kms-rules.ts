/**
 * The KMS rules moto 5.2.5 does not model, as a small HTTP proxy in front of moto's KMS: every
 * request goes to moto; the proxy adds only what is cited below. Point `AWS_ENDPOINT_URL_KMS` at it.
 *
 * 1. DescribeKey of an HMAC key returns `KeyMetadata.MacAlgorithms` (moto omits it). KMS API
 *    Reference, KeyMetadata: "MacAlgorithms — The message authentication code (MAC) algorithm that
 *    the HMAC KMS key supports. This value is present only when the KeyUsage of the KMS key is
 *    GENERATE_VERIFY_MAC." https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html
 * 2. Each HMAC key spec supports exactly one algorithm (HMAC_224 → HMAC_SHA_224 … HMAC_512 →
 *    HMAC_SHA_512). KMS Developer Guide, "HMAC keys in AWS KMS" / "Key spec reference":
 *    https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html. GenerateMac/VerifyMac with
 *    another algorithm answer InvalidKeyUsageException (API Reference, GenerateMac, Errors:
 *    "InvalidKeyUsageException … The request was rejected for one of the following reasons: … The
 *    encryption algorithm or signing algorithm specified for the operation is incompatible with the
 *    type of key material in the KMS key (KeySpec)."; moto accepts any of the four algorithms).
 *
 * The error body follows the awsJson1_1 protocol (`{"__type": …, "message": …}`, HTTP 400).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAC_ALGORITHM_OF_KEY_SPEC } from "../../src/index.js";

export interface KmsRules {
  readonly url: string;
  /** Operations seen (X-Amz-Target without the prefix), in order. */
  readonly operations: string[];
  /** Requests refused by rule 2. */
  readonly refused: string[];
  stop(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function forward(target: URL, method: string, path: string, headers: IncomingMessage["headers"], body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method, path, headers: { ...headers, host: target.host, "content-length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function reply(res: ServerResponse, status: number, headers: Upstream["headers"], body: Buffer): void {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== "content-length" && k !== "transfer-encoding" && k !== "connection") h[k] = v;
  res.writeHead(status, { ...h, "content-length": String(body.length) });
  res.end(body);
}

export async function startKmsRules(motoUrl: string): Promise<KmsRules> {
  const upstream = new URL(motoUrl);
  const operations: string[] = [];
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const body = Buffer.concat(chunks);
        const op = String(req.headers["x-amz-target"] ?? "").replace(/^TrentService\./, "");
        operations.push(op);
        if (op === "GenerateMac" || op === "VerifyMac") {
          const input = JSON.parse(body.toString("utf8")) as { KeyId: string; MacAlgorithm: string };
          const described = await forward(upstream, "POST", "/", { ...req.headers, "x-amz-target": "TrentService.DescribeKey" }, Buffer.from(JSON.stringify({ KeyId: input.KeyId })));
          if (described.status === 200) {
            const spec = (JSON.parse(described.body.toString("utf8")) as { KeyMetadata: { KeySpec?: string } }).KeyMetadata.KeySpec ?? "";
            const allowed = MAC_ALGORITHM_OF_KEY_SPEC[spec];
            if (allowed && input.MacAlgorithm !== allowed) {
              refused.push(`${op} ${input.MacAlgorithm} on ${spec}`);
              const err = Buffer.from(JSON.stringify({ __type: "InvalidKeyUsageException", message: `MacAlgorithm ${input.MacAlgorithm} is not valid for KeySpec ${spec}; it supports ${allowed}.` }));
              return reply(res, 400, { "content-type": "application/x-amz-json-1.1" }, err);
            }
          }
        }
        const up = await forward(upstream, req.method ?? "POST", req.url ?? "/", req.headers, body);
        if (op === "DescribeKey" && up.status === 200) {
          const json = JSON.parse(up.body.toString("utf8")) as { KeyMetadata: Record<string, unknown> };
          const allowed = MAC_ALGORITHM_OF_KEY_SPEC[String(json.KeyMetadata.KeySpec)];
          if (allowed && json.KeyMetadata.KeyUsage === "GENERATE_VERIFY_MAC") json.KeyMetadata.MacAlgorithms ??= [allowed];
          return reply(res, 200, up.headers, Buffer.from(JSON.stringify(json)));
        }
        return reply(res, up.status, up.headers, up.body);
      } catch (err) {
        reply(res, 500, { "content-type": "application/x-amz-json-1.1" }, Buffer.from(JSON.stringify({ __type: "InternalFailure", message: String(err) })));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    operations,
    refused,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
