/**
 * One provisioning "world" for black-box runs: the SQS, Secrets Manager, Cognito and Open WebUI
 * fakes on 127.0.0.1, the env the bundled handlers read, fresh instances of the bundles, and
 * the zero-lost invariant. Used by the fault matrix, the producer/reconciler tests and the bench.
 *
 * Two paths (`OPENWEBUI_PROVISIONING`): "scim" (the default, the native OIDC modes) and
 * "trusted-header" (the oauth2-proxy mode: Open WebUI trusts `X-Forwarded-Email` for email and name,
 * `DEFAULT_USER_ROLE=user`, as modules/identity/wiring.ts configures it).
 */
import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach } from "vitest";
import { FAKE_AWS_ENV } from "../../../../test/fakes/aws-json.js";
import { captureStdout, type Capture } from "./harness.js";
import { startCognitoFake, type CognitoFake } from "../../../../test/fakes/cognito.js";
import { startOpenWebUiScimFake, type OpenWebUiScimFake } from "../../../../test/fakes/openwebui-scim.js";
import { startSecretsManagerFake, type SecretsManagerFake } from "../../../../test/fakes/secrets-manager.js";
import { startSqsFake, type FakeSqsMessage, type SqsFake } from "../../../../test/fakes/sqs.js";
import {
  BASE_ENV,
  bundle,
  importFresh,
  postConfirmationEvent,
  setEnv,
  sqsClient,
  type ProducerModule,
  type ReconcilerModule,
  type WorkerModule,
} from "./harness.js";
import { runSqsLoop, type SqsHandler, type SqsLoopOptions, type SqsLoopStats } from "./sqs-loop.js";

export const QUEUE = "provisioning";
export const DLQ = "provisioning-dlq";
export const SECRET_NAME = "owui/scim-token";
/** modules/identity/wiring.ts TRUSTED_EMAIL_HEADER (also the name header there). */
export const EMAIL_HEADER = "X-Forwarded-Email";

export type ProvisioningPathName = "scim" | "trusted-header";

export interface World {
  readonly path: ProvisioningPathName;
  readonly sqs: SqsFake;
  readonly sm: SecretsManagerFake;
  readonly cognito: CognitoFake;
  readonly owui: OpenWebUiScimFake;
  readonly secretArn: string;
  readonly queueUrl: string;
  producer(): Promise<ProducerModule>;
  worker(): Promise<WorkerModule>;
  reconciler(): Promise<ReconcilerModule>;
  /** Signs users up through the bundled producer (one PostConfirmation event each). */
  signUp(users: readonly (string | Record<string, string>)[], producer?: ProducerModule): Promise<void>;
  /** Puts a raw body on the queue (malformed messages, duplicates). */
  sendRaw(body: string): Promise<void>;
  /** Rotates the SCIM token in Secrets Manager (Open WebUI's side is `owui.token`). */
  putSecret(value: string): Promise<void>;
  /** Runs the SQS → worker loop until the queue is drained. */
  drain(handler?: SqsHandler, options?: Partial<SqsLoopOptions>): Promise<SqsLoopStats>;
  /**
   * Checks that every message ever sent is either provisioned or in the DLQ; returns the DLQ.
   * Provisioned: exists in Open WebUI (SCIM), or can sign in through the proxy (trusted-header).
   */
  invariant(): { lost: FakeSqsMessage[]; dlq: readonly FakeSqsMessage[]; provisioned: number; stillQueued: number };
  close(): Promise<void>;
}

export async function startWorld(env: Record<string, string | undefined> = {}, options: { path?: ProvisioningPathName } = {}): Promise<World> {
  const path = options.path ?? "scim";
  const trusted = path === "trusted-header";
  const [sqs, sm, cognito, owui] = await Promise.all([
    startSqsFake(),
    startSecretsManagerFake(),
    startCognitoFake(),
    startOpenWebUiScimFake({
      token: "scim-token-1",
      ...(trusted ? { trustedEmailHeader: EMAIL_HEADER, trustedNameHeader: EMAIL_HEADER, defaultUserRole: "user" as const } : {}),
    }),
  ]);
  const secretArn = sm.put(SECRET_NAME, owui.token);
  const queueUrl = sqs.queueUrl(QUEUE);
  const pathEnv = trusted
    ? { OPENWEBUI_PROVISIONING: "trusted-header", OPENWEBUI_URL: owui.openWebUiUrl, TRUSTED_EMAIL_HEADER: EMAIL_HEADER, TRUSTED_NAME_HEADER: undefined, SCIM_BASE_URL: undefined, SCIM_TOKEN_SECRET_ARN: undefined }
    : { OPENWEBUI_PROVISIONING: undefined, OPENWEBUI_URL: undefined, TRUSTED_EMAIL_HEADER: undefined, TRUSTED_NAME_HEADER: undefined, SCIM_BASE_URL: owui.baseUrl, SCIM_TOKEN_SECRET_ARN: secretArn };
  const restoreEnv = setEnv({
    ...BASE_ENV,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.url,
    QUEUE_URL: queueUrl,
    ...pathEnv,
    USER_POOL_ID: cognito.userPoolId,
    // Short enough for the hang rows, long enough for a loaded CI machine (two cores, parallel forks).
    REQUEST_TIMEOUT_MS: "1000",
    ENQUEUE_BUDGET_MS: "1000",
    WEBHOOK_URL: undefined,
    ...env,
  });
  const client = sqsClient(sqs.url);
  const smClient = new SecretsManagerClient({
    endpoint: sm.url,
    region: FAKE_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  let producerInstance: ProducerModule | undefined;
  let workerInstance: WorkerModule | undefined;

  const world: World = {
    path,
    sqs,
    sm,
    cognito,
    owui,
    secretArn,
    queueUrl,
    producer: async () => (producerInstance ??= await importFresh<ProducerModule>(bundle("producer").file)),
    worker: async () => (workerInstance ??= await importFresh<WorkerModule>(bundle("worker").file)),
    reconciler: () => importFresh<ReconcilerModule>(bundle("reconciler").file),
    async signUp(users, producer) {
      const p = producer ?? (await world.producer());
      for (const u of users) {
        const attrs = typeof u === "string" ? { email: u } : u;
        const ev = postConfirmationEvent(attrs);
        const out = await p.handler(ev);
        if (out !== ev) throw new Error("producer did not return the event unchanged");
      }
    },
    async sendRaw(body) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
    async putSecret(value) {
      await smClient.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: value }));
    },
    async drain(handler, options = {}) {
      const h = handler ?? (await world.worker()).handler;
      return runSqsLoop({ sqs: client, queueUrl, queueArn: sqs.queueArn(QUEUE), handler: h, ...options });
    },
    invariant() {
      const dlq = sqs.messages(DLQ);
      const inDlq = new Set(dlq.map((m) => m.messageId));
      const queued = sqs.messages(QUEUE);
      const lost: FakeSqsMessage[] = [];
      let provisioned = 0;
      for (const m of sqs.sent(QUEUE)) {
        if (inDlq.has(m.messageId) || queued.some((q) => q.messageId === m.messageId)) continue;
        let email: unknown;
        try {
          email = (JSON.parse(m.body) as { email?: unknown }).email;
        } catch {
          email = undefined;
        }
        const ok = typeof email === "string" && (trusted ? owui.canSignIn(email.trim()) : owui.has(email.trim()));
        if (ok) provisioned += 1;
        else lost.push(m);
      }
      return { lost, dlq, provisioned, stillQueued: queued.length };
    },
    async close() {
      restoreEnv();
      client.destroy();
      smClient.destroy();
      await Promise.all([sqs.close(), sm.close(), cognito.close(), owui.close()]);
    },
  };
  return world;
}

/**
 * One fresh world and stdout capture per test, torn down after each: call in a describe (or file)
 * body, then `await setup(env)` inside each test.
 */
export function worldPerTest(): (env?: Record<string, string | undefined>, options?: { path?: ProvisioningPathName }) => Promise<{ w: World; logs: Capture }> {
  let world: World | undefined;
  let logs: Capture | undefined;
  afterEach(async () => {
    logs?.restore();
    logs = undefined;
    await world?.close();
    world = undefined;
  });
  return async (env = {}, options = {}) => {
    logs = captureStdout();
    world = await startWorld(env, options);
    return { w: world, logs };
  };
}
