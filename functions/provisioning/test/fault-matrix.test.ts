/**
 * The fault matrix: each row is a fault injected into the black-box world (bundled producer and
 * worker, SQS/Secrets Manager/Open WebUI fakes; the SCIM path, or the trusted-header path) and the
 * outcome it must lead to. Every row also
 * checks the invariant: each message ever put on the queue either became an Open WebUI user or
 * sits in the DLQ — zero lost — and malformed ones end in the DLQ with their reason logged.
 */
import { describe, expect, it } from "vitest";
import { AwsError } from "../../../test/fakes/aws-json.js";
import type { Capture } from "./support/harness.js";
import type { SqsHandler } from "./support/sqs-loop.js";
import { EMAIL_HEADER, worldPerTest, type ProvisioningPathName, type World } from "./support/world.js";

interface Row {
  readonly name: string;
  /** `OPENWEBUI_PROVISIONING` of the world. @default "scim" */
  readonly path?: ProvisioningPathName;
  /** Sign-ups through the producer. */
  readonly signUps?: readonly (string | Record<string, string>)[];
  /** Raw bodies put straight on the queue. */
  readonly raw?: readonly string[];
  readonly env?: Record<string, string>;
  /** Faults to inject before the loop runs. */
  arrange?(w: World): Promise<void> | void;
  /** Wraps the worker, e.g. to heal a fault after N invocations. */
  wrap?(w: World, handler: SqsHandler): SqsHandler;
  readonly expect: {
    /** Emails that must exist in Open WebUI afterwards. */
    readonly provisioned: readonly string[];
    readonly dlq: number;
    /** Each DLQ'd message must have an error log line matching this. */
    readonly dlqLog?: RegExp;
    /** Users in Open WebUI afterwards. @default provisioned.length */
    readonly users?: number;
    /** Upper bound on POST calls to Open WebUI (SCIM /Users, or sign-ins). */
    readonly maxPosts?: number;
    /** Max ApproximateReceiveCount seen by the worker for provisioned messages. */
    readonly receives?: number;
    readonly check?: (w: World, logs: Capture) => void | Promise<void>;
  };
}

const afterInvocations = (n: number, heal: (w: World) => Promise<void> | void) => (w: World, h: SqsHandler): SqsHandler => {
  let calls = 0;
  return async (e, c) => {
    calls += 1;
    if (calls === n + 1) await heal(w);
    return h(e, c);
  };
};

const ROWS: Row[] = [
  { name: "Open WebUI answers 201", signUps: ["a1@example.com", "a2@example.com", "A3@Example.COM"], expect: { provisioned: ["a1@example.com", "a2@example.com", "a3@example.com"], dlq: 0, maxPosts: 3, receives: 1 } },
  {
    name: "409: the user already exists (idempotent success)",
    signUps: ["exists@example.com"],
    arrange: (w) => void w.owui.seed("exists@example.com", "Pre Existing"),
    expect: { provisioned: ["exists@example.com"], dlq: 0, maxPosts: 1, receives: 1, check: (w) => expect(w.owui.users.get("exists@example.com")?.name).toBe("Pre Existing") },
  },
  {
    name: "401 after token rotation: re-read the secret once, retry, 201",
    signUps: ["warm@example.com"],
    async arrange(w) {
      // Warm the worker's token cache with the old token, then rotate both sides.
      await w.drain();
      w.owui.token = "scim-token-2";
      await w.putSecret("scim-token-2");
      await w.signUp(["rotated@example.com"]);
    },
    expect: {
      provisioned: ["warm@example.com", "rotated@example.com"],
      dlq: 0,
      receives: 1,
      check: (w) => {
        expect(w.sm.calls.filter((c) => c.operation === "GetSecretValue")).toHaveLength(2);
        expect(w.owui.calls.filter((c) => c.method === "POST").map((c) => c.outcome)).toEqual([201, 401, 201]);
      },
    },
  },
  {
    name: "401 forever (the secret does not match Open WebUI's SCIM_TOKEN)",
    signUps: ["badtoken@example.com"],
    arrange: (w) => w.putSecret("not-the-token"),
    expect: { provisioned: [], dlq: 1, dlqLog: /SCIM token rejected \(401\)/, maxPosts: 5 },
  },
  {
    name: "SCIM off in Open WebUI (router not mounted: POST falls through to the web app, 405)",
    signUps: ["disabled@example.com"],
    arrange: (w) => void (w.owui.enabled = false),
    expect: { provisioned: [], dlq: 1, dlqLog: /no SCIM route at SCIM_BASE_URL \(HTTP 405\): SCIM is off/, maxPosts: 5 },
  },
  {
    name: "403: SCIM disabled at runtime (get_scim_auth)",
    signUps: ["disabled403@example.com"],
    arrange: (w) => w.owui.mode(403),
    expect: { provisioned: [], dlq: 1, dlqLog: /SCIM is disabled/, maxPosts: 5 },
  },
  {
    name: "SCIM off until an operator enables it (after 2 deliveries)",
    signUps: ["enabled-later@example.com"],
    arrange: (w) => void (w.owui.enabled = false),
    wrap: afterInvocations(2, (w) => void (w.owui.enabled = true)),
    expect: { provisioned: ["enabled-later@example.com"], dlq: 0, receives: 3 },
  },
  {
    name: "SCIM: an HTML page with 200 (the web app, not the API) is never success",
    signUps: ["spa@example.com"],
    arrange: (w) => w.owui.mode("html"),
    expect: { provisioned: [], dlq: 1, dlqLog: /not Open WebUI's API: HTTP 200 answered text\/html/, maxPosts: 5 },
  },
  {
    name: "SCIM: a redirect (the proxy's login) is never followed nor success",
    signUps: ["redirected@example.com"],
    arrange: (w) => w.owui.mode("redirect"),
    expect: { provisioned: [], dlq: 1, dlqLog: /redirect \(HTTP 302 to http:\/\/127\.0\.0\.1:\d+\/oauth2\/start\): SCIM_BASE_URL points at the proxy/, maxPosts: 5 },
  },
  {
    name: "500 for 3 attempts, then recovery",
    signUps: ["flaky@example.com"],
    arrange: (w) => w.owui.script(500, 500, 500),
    expect: { provisioned: ["flaky@example.com"], dlq: 0, maxPosts: 4, receives: 4 },
  },
  {
    name: "500 forever",
    signUps: ["down@example.com"],
    arrange: (w) => w.owui.mode(500),
    expect: { provisioned: [], dlq: 1, dlqLog: /unavailable: HTTP 500/, maxPosts: 5 },
  },
  {
    name: "hang (no response): per-request timeout, then recovery",
    signUps: ["slow@example.com"],
    // Each hung request waits out the timeout: 500 ms (not the world's 1000) halves the row's wall
    // time, and still leaves the one answered request 100× what the local fake needs.
    env: { REQUEST_TIMEOUT_MS: "500" },
    arrange: (w) => w.owui.script("hang", "hang"),
    expect: { provisioned: ["slow@example.com"], dlq: 0, receives: 3 },
  },
  {
    name: "hang forever",
    signUps: ["hung@example.com"],
    // Every request hangs, so every delivery waits out the timeout: 300 ms instead of 1000.
    env: { REQUEST_TIMEOUT_MS: "300" },
    arrange: (w) => w.owui.mode("hang"),
    expect: { provisioned: [], dlq: 1, dlqLog: /unavailable: timeout/, maxPosts: 5 },
  },
  {
    name: "connection refused while Open WebUI redeploys, then back",
    signUps: ["redeploy@example.com", "redeploy2@example.com"],
    arrange: (w) => w.owui.refuse(),
    wrap: afterInvocations(3, (w) => w.owui.accept()),
    expect: { provisioned: ["redeploy@example.com", "redeploy2@example.com"], dlq: 0, receives: 4 },
  },
  {
    name: "connection refused forever",
    signUps: ["gone@example.com"],
    arrange: (w) => w.owui.refuse(),
    expect: { provisioned: [], dlq: 1, dlqLog: /connection refused/, maxPosts: 0 },
  },
  {
    name: "connection reset mid-request, then recovery",
    signUps: ["reset@example.com"],
    arrange: (w) => w.owui.script("reset"),
    expect: { provisioned: ["reset@example.com"], dlq: 0, receives: 2 },
  },
  {
    name: "Secrets Manager failing for the first deliveries",
    signUps: ["sm-flaky@example.com"],
    // AWS_MAX_ATTEMPTS=2: two failing calls per delivery, so 4 failures = 2 failed deliveries.
    arrange: (w) => w.sm.failNext("GetSecretValue", new AwsError("InternalServiceError", "boom", 500), 4),
    expect: { provisioned: ["sm-flaky@example.com"], dlq: 0, receives: 3, maxPosts: 1 },
  },
  {
    name: "Secrets Manager: the secret is an empty placeholder",
    signUps: ["no-secret@example.com"],
    async arrange(w) {
      w.sm.failNext("GetSecretValue", new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"), Infinity);
    },
    expect: { provisioned: [], dlq: 1, dlqLog: /SCIM token unavailable|could not read the SCIM token/, maxPosts: 0 },
  },
  {
    name: "422: Open WebUI rejects the body",
    signUps: ["rejected@example.com"],
    arrange: (w) => w.owui.mode(422),
    expect: { provisioned: [], dlq: 1, dlqLog: /rejected the request \(HTTP 422\)/, maxPosts: 5 },
  },
  {
    name: "malformed messages next to good ones (partial batch failure)",
    signUps: ["good1@example.com", "good2@example.com"],
    raw: ["this is not json", JSON.stringify({ name: "No Email" }), JSON.stringify({ email: "not-an-address" }), "[1,2,3]", JSON.stringify({ v: 2, email: "future@example.com" })],
    expect: {
      provisioned: ["good1@example.com", "good2@example.com"],
      dlq: 5,
      dlqLog: /malformed message rejected: (body is not JSON|email is missing|email is not a valid address|body is not a JSON object|unsupported message version)/,
      maxPosts: 2,
      check: (_w, logs) => {
        for (const reason of ["body is not JSON", "email is missing", "email is not a valid address", "body is not a JSON object", "unsupported message version 2"]) {
          expect(logs.find((l) => l.reason === reason), reason).toBeDefined();
        }
      },
    },
  },
  {
    name: "duplicate deliveries of the same user (same batch and across batches)",
    signUps: ["dup@example.com", "DUP@example.com", "dup@example.com"],
    raw: [JSON.stringify({ v: 1, email: "dup@example.com", name: "Dup", source: "manual", confirmedAt: "2025-01-01T00:00:00Z" })],
    async arrange(w) {
      // And one more copy arriving after the first batch is done.
      await w.drain();
      await w.sendRaw(JSON.stringify({ email: "dup@example.com" }));
    },
    expect: {
      provisioned: ["dup@example.com"],
      dlq: 0,
      maxPosts: 2,
      check: (w) => expect([...w.owui.users.keys()]).toEqual(["dup@example.com"]),
    },
  },
  {
    name: "25 sign-ups, Open WebUI 503 for the first 12 calls",
    signUps: Array.from({ length: 25 }, (_, i) => `bulk${i}@example.com`),
    arrange: (w) => w.owui.script(...Array.from({ length: 12 }, () => 503 as const)),
    expect: { provisioned: Array.from({ length: 25 }, (_, i) => `bulk${i}@example.com`), dlq: 0, maxPosts: 37 },
  },
  // --- trusted-header path (the oauth2-proxy mode) ---------------------------------------------
  {
    name: "trusted-header: 200 creates users who can then sign in through the proxy",
    path: "trusted-header",
    signUps: ["t1@example.com", "T2@Example.COM"],
    // The platform's headless admin (WEBUI_ADMIN_EMAIL), created at Open WebUI's first start; without
    // it the first user a sign-in creates becomes admin (signup_handler).
    arrange: (w) => void w.owui.seed("admin@example.com", "Admin"),
    expect: {
      provisioned: ["t1@example.com", "t2@example.com"],
      users: 3,
      dlq: 0,
      maxPosts: 2,
      receives: 1,
      async check(w, logs) {
        const posts = w.owui.calls.filter((c) => c.method === "POST");
        expect(posts.map((c) => c.path)).toEqual(["/api/v1/auths/signin", "/api/v1/auths/signin"]);
        expect(posts.every((c) => c.authorization === undefined)).toBe(true);
        expect(posts.map((c) => c.headers[EMAIL_HEADER.toLowerCase()])).toEqual(["t1@example.com", "t2@example.com"]);
        expect(posts.map((c) => c.body)).toEqual([{ email: "t1@example.com", password: "" }, { email: "t2@example.com", password: "" }]);
        for (const email of ["t1@example.com", "t2@example.com"]) {
          const u = w.owui.users.get(email)!;
          expect(u).toMatchObject({ role: "user", hasAuth: true, name: email });
          // The first visit through the proxy finds the same user.
          expect(await w.owui.proxySignIn(email)).toMatchObject({ status: 200, body: { id: u.id, email } });
        }
        expect(logs.emf("UsersEnsured").reduce((n, l) => n + Number(l.UsersEnsured), 0)).toBe(2);
        expect(logs.emf("UsersCreated").reduce((n, l) => n + Number(l.UsersCreated), 0)).toBe(0);
      },
    },
  },
  {
    name: "trusted-header: a user who visited first is ensured, unchanged (idempotent)",
    path: "trusted-header",
    signUps: ["visited@example.com"],
    arrange: (w) => void w.owui.seed("visited@example.com", "visited@example.com"),
    expect: { provisioned: ["visited@example.com"], dlq: 0, maxPosts: 1, receives: 1, check: (w) => expect(w.owui.users.get("visited@example.com")?.createdBy).toBe("seed") },
  },
  {
    name: "trusted-header: Open WebUI trusts another header name (400 INVALID_TRUSTED_HEADER)",
    path: "trusted-header",
    signUps: ["mismatch@example.com"],
    arrange: (w) => void (w.owui.trustedEmailHeader = "X-Auth-Request-Email"),
    expect: { provisioned: [], dlq: 1, dlqLog: /INVALID_TRUSTED_HEADER\): its WEBUI_AUTH_TRUSTED_EMAIL_HEADER is not "X-Forwarded-Email"/, maxPosts: 5 },
  },
  {
    name: "trusted-header: ENABLE_PASSWORD_AUTH=false (403)",
    path: "trusted-header",
    signUps: ["nopassword@example.com"],
    arrange: (w) => void (w.owui.passwordAuth = false),
    expect: { provisioned: [], dlq: 1, dlqLog: /password sign-in is off in Open WebUI \(403\).*ENABLE_PASSWORD_AUTH=true/, maxPosts: 5 },
  },
  {
    name: "trusted-header: a user created through SCIM earlier is locked out (400 INVALID_CRED), named in the log",
    path: "trusted-header",
    signUps: ["scimmed@example.com"],
    arrange: (w) => void w.owui.seed("scimmed@example.com", "Scimmed", { via: "scim" }),
    // The user row exists but cannot sign in: not provisioned by this path's definition.
    expect: { provisioned: [], users: 1, dlq: 1, dlqLog: /without a password record \(created through SCIM/, maxPosts: 5 },
  },
  {
    name: "trusted-header: the web app's HTML with 200 is never success",
    path: "trusted-header",
    signUps: ["th-spa@example.com"],
    arrange: (w) => w.owui.mode("html"),
    expect: { provisioned: [], dlq: 1, dlqLog: /not Open WebUI's API/, maxPosts: 5 },
  },
  {
    name: "trusted-header: a redirect (OPENWEBUI_URL at the proxy or the ALB)",
    path: "trusted-header",
    signUps: ["th-redirect@example.com"],
    arrange: (w) => w.owui.mode("redirect"),
    expect: { provisioned: [], dlq: 1, dlqLog: /redirect \(HTTP 302 .*\): OPENWEBUI_URL points at the proxy or the ALB, not Open WebUI's port 8080/, maxPosts: 5 },
  },
  {
    name: "trusted-header: 500 and a hang, then recovery",
    path: "trusted-header",
    signUps: ["th-flaky@example.com"],
    arrange: (w) => w.owui.script(500, "hang", 503),
    expect: { provisioned: ["th-flaky@example.com"], dlq: 0, receives: 4 },
  },
  {
    name: "trusted-header: connection refused while Open WebUI redeploys, then back",
    path: "trusted-header",
    signUps: ["th-redeploy@example.com"],
    arrange: (w) => w.owui.refuse(),
    wrap: afterInvocations(2, (w) => w.owui.accept()),
    expect: { provisioned: ["th-redeploy@example.com"], dlq: 0, receives: 3 },
  },
  {
    name: "trusted-header: 500 forever",
    path: "trusted-header",
    signUps: ["th-down@example.com"],
    arrange: (w) => w.owui.mode(500),
    expect: { provisioned: [], dlq: 1, dlqLog: /unavailable: HTTP 500/, maxPosts: 5 },
  },
];

describe("provisioning fault matrix (bundled producer + worker against local fakes)", () => {
  const setup = worldPerTest();

  it.each(ROWS.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    const { w, logs } = await setup(row.env, { path: row.path ?? "scim" });
    await w.signUp(row.signUps ?? []);
    for (const body of row.raw ?? []) await w.sendRaw(body);
    await row.arrange?.(w);
    const worker = await w.worker();
    const stats = await w.drain(row.wrap ? row.wrap(w, worker.handler) : worker.handler);

    const inv = w.invariant();
    expect(inv.lost, "messages neither provisioned nor in the DLQ").toEqual([]);
    expect(inv.stillQueued).toBe(0);
    expect(inv.dlq).toHaveLength(row.expect.dlq);
    for (const email of row.expect.provisioned) expect(w.path === "trusted-header" ? w.owui.canSignIn(email) : w.owui.has(email), email).toBe(true);
    expect(w.owui.users.size).toBe(row.expect.users ?? row.expect.provisioned.length);
    for (const m of inv.dlq) {
      expect(m.receiveCount).toBe(5);
      const errors = logs.lines.filter((l) => l.level === "error" && l.messageId === m.messageId);
      expect(errors.length, `error log for DLQ'd ${m.body}`).toBeGreaterThan(0);
      if (row.expect.dlqLog) expect(errors.some((l) => row.expect.dlqLog!.test(String(l.msg))), String(errors[0]?.msg)).toBe(true);
    }
    if (row.expect.maxPosts !== undefined) expect(w.owui.count("POST")).toBeLessThanOrEqual(row.expect.maxPosts);
    if (row.expect.receives !== undefined) {
      const done = logs.lines.filter((l) => l.outcome === "created" || l.outcome === "exists" || l.outcome === "ensured");
      expect(Math.max(0, ...done.map((l) => Number(l.receiveCount)))).toBe(row.expect.receives);
    }
    // Never log the token.
    const text = JSON.stringify(logs.lines);
    expect(text).not.toContain("scim-token-1");
    expect(text).not.toContain("scim-token-2");
    // One EMF summary per invocation (arrange() may have run the loop once already).
    expect(logs.emf("ProvisionFailed").length).toBeGreaterThanOrEqual(stats.invocations);
    expect(logs.emf("ProvisionFailed").reduce((n, l) => n + Number(l.ProvisionFailed), 0)).toBeGreaterThanOrEqual(stats.failedItems);
    // Trusted-header: the header carries the lowercased email; a session token never reaches the logs.
    if (w.path === "trusted-header") expect(text).not.toMatch(/jwt-/);
    await row.expect.check?.(w, logs);
  });
});
