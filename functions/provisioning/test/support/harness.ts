/**
 * Black-box harness: bundles the three handlers exactly as they ship (lib/bundle.ts with the
 * package's BUNDLES options, i.e. `@aws-sdk/*` external), imports fresh copies of the bundles (a
 * new module instance, so a new token cache and new SDK clients, per import), points them at the
 * local fakes through env vars, and captures their stdout log lines.
 *
 * Bundles go under functions/provisioning/.gen (git-ignored) so that the external `@aws-sdk/*`
 * imports resolve to this package's own pinned clients, standing in for the ones the nodejs22.x
 * runtime provides.
 */
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { bundleFunction, REPO_ROOT, type Bundle } from "../../../../lib/bundle.js";
import { BUNDLES, type HandlerName } from "../../src/config.js";
import { FAKE_AWS_ENV } from "../../../../test/fakes/aws-json.js";

/**
 * Per process: vitest runs test files in parallel forks, and bundleFunction empties its output
 * folder before building, so a shared folder would race. Removed when the process exits.
 */
export const OUT_ROOT = join(REPO_ROOT, "functions", "provisioning", ".gen", `p${process.pid}`);
process.once("exit", () => rmSync(OUT_ROOT, { recursive: true, force: true }));
// Test workers are often killed rather than exiting: sweep folders of processes that are gone.
for (const entry of (() => {
  try {
    return readdirSync(dirname(OUT_ROOT));
  } catch {
    return [];
  }
})()) {
  const pid = /^p(\d+)$/.exec(entry)?.[1];
  if (!pid || Number(pid) === process.pid) continue;
  try {
    process.kill(Number(pid), 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(dirname(OUT_ROOT), entry), { recursive: true, force: true });
  }
}

export function bundle(name: HandlerName): Bundle {
  return bundleFunction({ ...BUNDLES[name], outRoot: OUT_ROOT });
}

let importSeq = 0;
/** A fresh module instance of a bundle (cache-busting query). */
export async function importFresh<T = Record<string, unknown>>(file: string): Promise<T> {
  importSeq += 1;
  return (await import(/* @vite-ignore */ `${pathToFileURL(file).href}?instance=${importSeq}`)) as T;
}

/** Sets env vars (undefined deletes); returns a function restoring the previous values. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** What every black-box run needs: fake credentials, no profile/IMDS lookups, quick SDK retries. */
export const BASE_ENV: Record<string, string | undefined> = {
  ...FAKE_AWS_ENV,
  AWS_PROFILE: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_MAX_ATTEMPTS: "2",
  // Node 20 locally; the functions run on nodejs22.x.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

export type LogLine = Record<string, unknown> & { level?: string; msg?: string };

export interface Capture {
  readonly lines: LogLine[];
  /** Raw text that was not a JSON line. */
  readonly other: string[];
  restore(): void;
  find(pred: (l: LogLine) => boolean): LogLine | undefined;
  emf(metric: string): LogLine[];
}

/** Captures process.stdout.write (where the handlers' JSON logs and EMF lines go). */
export function captureStdout(passThrough = false): Capture {
  const original = process.stdout.write.bind(process.stdout);
  const lines: LogLine[] = [];
  const other: string[] = [];
  let buffer = "";
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const parsed = JSON.parse(line) as unknown;
        if (parsed && typeof parsed === "object") lines.push(parsed as LogLine);
        else other.push(line);
      } catch {
        other.push(line);
      }
    }
    if (passThrough) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  return {
    lines,
    other,
    restore: () => {
      process.stdout.write = original;
    },
    find: (pred) => lines.find(pred),
    emf: (metric) =>
      lines.filter((l) => {
        const aws = l._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } | undefined;
        return !!aws?.CloudWatchMetrics?.some((d) => d.Metrics?.some((m) => m.Name === metric)) && typeof l[metric] === "number";
      }),
  };
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: FAKE_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  });
}

let subSeq = 0;
export function postConfirmationEvent(
  attributes: Record<string, string>,
  triggerSource: string = "PostConfirmation_ConfirmSignUp",
): PostConfirmationTriggerEvent {
  subSeq += 1;
  const sub = attributes.sub ?? `11111111-2222-4333-8444-${String(subSeq).padStart(12, "0")}`;
  return {
    version: "1",
    region: "us-east-1",
    userPoolId: "us-east-1_FakePool1",
    userName: attributes.username ?? sub,
    callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "fakeclient" },
    triggerSource: triggerSource as PostConfirmationTriggerEvent["triggerSource"],
    request: { userAttributes: { sub, email_verified: "true", "cognito:user_status": "CONFIRMED", ...attributes } },
    response: {},
  };
}

export type ProducerModule = { handler: <E>(event: E) => Promise<E> };
export type WorkerModule = { handler: import("./sqs-loop.js").SqsHandler };
export type ReconcilerModule = {
  handler: (event?: unknown, context?: { getRemainingTimeInMillis(): number }) => Promise<import("../../src/reconciler.js").ReconcileResult>;
};
