/**
 * The oauth2-proxy mode's defect and its fix, against the Open WebUI fake configured as the sandbox
 * configures the real one (modules/identity/wiring.ts: `WEBUI_AUTH_TRUSTED_EMAIL_HEADER` and
 * `WEBUI_AUTH_TRUSTED_NAME_HEADER` = `X-Forwarded-Email`, `DEFAULT_USER_ROLE=user`, SCIM on):
 *  - a user created through SCIM before their first visit can never sign in through the proxy
 *    (v0.10.2 `routers/auths.py` signin → `Auths.authenticate_user_by_email` JOINs the auth row a
 *    SCIM-created user does not have: 400 INVALID_CRED);
 *  - a user created by the worker's trusted-header sign-in signs in, and is the same user.
 * Then the bundled worker on that path: the webhook, and a misconfiguration.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context, SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { ERROR_MESSAGES, startOpenWebUiScimFake, type OpenWebUiFake } from "../../../test/fakes/openwebui-scim.js";
import { ScimClient } from "../src/scim.js";
import { TrustedHeaderClient } from "../src/trusted-header.js";
import { captureStdout, type Capture } from "./support/harness.js";
import { EMAIL_HEADER, startWorld, type World } from "./support/world.js";

let owui: OpenWebUiFake | undefined;
let world: World | undefined;
let logs: Capture | undefined;
let hook: Server | undefined;
afterEach(async () => {
  logs?.restore();
  logs = undefined;
  await owui?.close();
  owui = undefined;
  await world?.close();
  world = undefined;
  if (hook) {
    hook.closeAllConnections();
    await new Promise((r) => hook!.close(r));
    hook = undefined;
  }
});

/** Open WebUI as the sandbox runs it, with its headless administrator already created. */
async function sandboxOpenWebUi(): Promise<OpenWebUiFake> {
  owui = await startOpenWebUiScimFake({ token: "scim-token-1", trustedEmailHeader: EMAIL_HEADER, trustedNameHeader: EMAIL_HEADER, defaultUserRole: "user" });
  owui.seed("admin@example.com", "Admin");
  return owui;
}

const tokens = { get: async () => "scim-token-1", invalidate: () => {} };
const event = (bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((b, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `rh-${i}`,
    body: JSON.stringify(b),
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:provisioning",
    awsRegion: "us-east-1",
  })),
});
const ctx = { getRemainingTimeInMillis: () => 30_000 } as Context;

describe("oauth2-proxy mode: SCIM locks users out, trusted-header sign-in does not (Open WebUI fake, v0.10.2 semantics)", () => {
  it("the defect: a SCIM-created user gets 400 INVALID_CRED at their first visit through the proxy, forever", async () => {
    const o = await sandboxOpenWebUi();
    const scim = new ScimClient({ baseUrl: o.baseUrl, timeoutMs: 2000, tokens });
    const created = await scim.create({ email: "ada@example.com", name: "Ada Lovelace" });
    expect(created).toMatchObject({ kind: "created", status: 201, id: expect.any(String) });
    for (let visit = 0; visit < 2; visit++) {
      expect(await o.proxySignIn("ada@example.com")).toEqual({ status: 400, body: { detail: ERROR_MESSAGES.INVALID_CRED } });
    }
    // …and the trusted-header path cannot repair it: the user row exists, so no sign-up happens.
    const th = new TrustedHeaderClient({ baseUrl: o.openWebUiUrl, emailHeader: EMAIL_HEADER, timeoutMs: 2000 });
    expect(await th.create({ email: "ada@example.com", name: "Ada Lovelace" })).toMatchObject({ kind: "rejected", status: 400 });
    expect(o.users.size).toBe(2);
  });

  it("the fix: a user created by a trusted-header sign-in signs in through the proxy as the same user", async () => {
    const o = await sandboxOpenWebUi();
    const th = new TrustedHeaderClient({ baseUrl: o.openWebUiUrl, emailHeader: EMAIL_HEADER, nameHeader: EMAIL_HEADER, timeoutMs: 2000 });
    const ensured = await th.create({ email: "ada@example.com", name: "Ada Lovelace" });
    expect(ensured).toMatchObject({ kind: "ensured", status: 200, id: expect.any(String) });
    const id = (ensured as { id: string }).id;
    const visit = await o.proxySignIn("ada@example.com");
    expect(visit).toMatchObject({ status: 200, body: { id, email: "ada@example.com", name: "ada@example.com", role: "user" } });
    // Idempotent: again, the same user.
    expect(await th.create({ email: "ada@example.com", name: "Ada Lovelace" })).toEqual({ kind: "ensured", status: 200, id });
    expect(o.users.size).toBe(2);
  });

  it("like any first sign-in, the first user ever becomes admin: the platform's headless admin must exist first", async () => {
    owui = await startOpenWebUiScimFake({ trustedEmailHeader: EMAIL_HEADER, defaultUserRole: "user" });
    const th = new TrustedHeaderClient({ baseUrl: owui.openWebUiUrl, emailHeader: EMAIL_HEADER, timeoutMs: 2000 });
    await th.create({ email: "first@example.com", name: "First" });
    await th.create({ email: "second@example.com", name: "Second" });
    expect(owui.users.get("first@example.com")!.role).toBe("admin");
    expect(owui.users.get("second@example.com")!.role).toBe("user");
  });

  it("bundled workers, one per path, against the same Open WebUI: only the trusted-header one leaves a user who can sign in", async () => {
    logs = captureStdout();
    world = await startWorld({}, { path: "scim" });
    world.owui.trustedEmailHeader = EMAIL_HEADER;
    world.owui.trustedNameHeader = EMAIL_HEADER;
    world.owui.defaultUserRole = "user";
    world.owui.seed("admin@example.com", "Admin");
    const scimWorker = await world.worker();
    expect(await scimWorker.handler(event([{ email: "scim@example.com", name: "Scim" }]), ctx)).toEqual({ batchItemFailures: [] });
    expect((await world.owui.proxySignIn("scim@example.com")).status).toBe(400);
    await world.close();

    world = await startWorld({}, { path: "trusted-header" });
    world.owui.seed("admin@example.com", "Admin");
    const thWorker = await world.worker();
    expect(await thWorker.handler(event([{ email: "th@example.com", name: "Th" }]), ctx)).toEqual({ batchItemFailures: [] });
    const user = world.owui.users.get("th@example.com")!;
    expect(await world.owui.proxySignIn("th@example.com")).toMatchObject({ status: 200, body: { id: user.id } });
    // No secret is read on this path.
    expect(world.sm.calls).toHaveLength(0);
    expect(logs.find((l) => l.msg === "user exists in Open WebUI (trusted-header sign-in)")).toMatchObject({ outcome: "ensured", status: 200, email: "th@example.com" });
    expect(logs.emf("UsersEnsured").at(-1)).toMatchObject({ UsersEnsured: 1, UsersCreated: 0, UsersExisted: 0, ProvisionFailed: 0, path: "trusted-header", openWebUiRequests: 1 });
  });

  it("trusted-header worker: fires the webhook once per queued sign-up, with Open WebUI's user id", async () => {
    logs = captureStdout();
    const received: unknown[] = [];
    hook = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => hook!.listen(0, "127.0.0.1", r));
    world = await startWorld({ WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` }, { path: "trusted-header" });
    world.owui.seed("admin@example.com", "Admin");
    const out = await (await world.worker()).handler(event([{ email: "hooked@example.com", name: "Hooked", sub: "s-1", source: "PostConfirmation_ConfirmSignUp" }, { email: "hooked@example.com" }]), ctx);
    expect(out).toEqual({ batchItemFailures: [] });
    expect(received).toEqual([{ event: "user.provisioned", email: "hooked@example.com", name: "Hooked", openWebUiUserId: world.owui.users.get("hooked@example.com")!.id, sub: "s-1", source: "PostConfirmation_ConfirmSignUp" }]);
  });

  it("trusted-header worker misconfigured: names the missing variable and hands every record back", async () => {
    logs = captureStdout();
    world = await startWorld({ TRUSTED_EMAIL_HEADER: undefined }, { path: "trusted-header" });
    const out = await (await world.worker()).handler(event([{ email: "x@example.com" }, { email: "y@example.com" }]), ctx);
    expect(out!.batchItemFailures).toHaveLength(2);
    expect(logs.find((l) => /TRUSTED_EMAIL_HEADER is required with OPENWEBUI_PROVISIONING=trusted-header/.test(String(l.errorMessage)))).toBeDefined();
    expect(world.owui.count()).toBe(0);
  });
});
