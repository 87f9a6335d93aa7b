/**
 * The bundled reconciler against the Cognito and Open WebUI fakes: heals users whose event was
 * lost, pages through ListUsers, only takes enabled CONFIRMED / EXTERNAL_PROVIDER users, costs one
 * call to Open WebUI per user, is idempotent, and reports failures with an EMF metric; on the SCIM
 * path and on the trusted-header path.
 */
import { describe, expect, it } from "vitest";
import { AwsError } from "../../../test/fakes/aws-json.js";
import { worldPerTest, type World } from "./support/world.js";

const setup = worldPerTest();

const listCalls = (w: World) => w.cognito.calls.filter((c) => c.operation === "ListUsers");

describe("reconciler (bundled)", () => {
  it("heals a user whose sign-up event was dropped (SQS down at sign-up), and leaves existing users alone", async () => {
    const { w, logs } = await setup();
    // Ada went through the normal path; Bob's enqueue failed (SQS down), so only Cognito knows him.
    w.cognito.addUser({ email: "ada@example.com", name: "Ada" });
    w.cognito.addUser({ email: "Bob@Example.com", given_name: "Bob", family_name: "Builder" });
    w.sqs.failNext("SendMessage", new AwsError("InternalError", "down", 500), Infinity);
    await w.signUp([{ email: "bob@example.com" }]);
    w.owui.seed("ada@example.com", "Ada");
    expect(w.owui.has("bob@example.com")).toBe(false);

    const r = await (await w.reconciler()).handler({}, { getRemainingTimeInMillis: () => 300_000 });
    expect(r).toMatchObject({ seen: 2, created: 1, existed: 1, failed: 0, skipped: 0, complete: true, openWebUiRequests: 2, path: "scim" });
    expect(w.owui.users.get("bob@example.com")?.name).toBe("Bob Builder");
    const emf = logs.emf("ReconcileFailed");
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ ReconcileFailed: 0, ReconcileHealed: 1, UsersExisted: 1, Function: "reconciler" });
  });

  it("paginates (150 users = 3 ListUsers pages of ≤ 60), one SCIM call per user, and is idempotent on re-run", async () => {
    const { w } = await setup();
    for (let i = 0; i < 150; i++) w.cognito.addUser({ email: `user${i}@example.com` });
    const first = await (await w.reconciler()).handler();
    expect(first).toMatchObject({ seen: 150, created: 150, existed: 0, failed: 0, complete: true, openWebUiRequests: 150 });
    expect(listCalls(w)).toHaveLength(3);
    expect(listCalls(w).map((c) => c.input.Limit)).toEqual([60, 60, 60]);
    expect(listCalls(w)[0]!.input.PaginationToken).toBeUndefined();
    expect(listCalls(w)[1]!.input.PaginationToken).toEqual(expect.any(String));
    expect(w.owui.users.size).toBe(150);

    const second = await (await w.reconciler()).handler();
    expect(second).toMatchObject({ seen: 150, created: 0, existed: 150, failed: 0, openWebUiRequests: 150 });
    expect(w.owui.users.size).toBe(150);
    expect(w.owui.count("POST")).toBe(300);
  });

  it("only provisions enabled CONFIRMED or EXTERNAL_PROVIDER users with an email, once per email", async () => {
    const { w } = await setup();
    w.cognito.addUser({ email: "confirmed@example.com" });
    w.cognito.addUser({ email: "google@gmail.com", status: "EXTERNAL_PROVIDER", name: "G" });
    w.cognito.addUser({ email: "unconfirmed@example.com", status: "UNCONFIRMED" });
    w.cognito.addUser({ email: "invited@example.com", status: "FORCE_CHANGE_PASSWORD" });
    w.cognito.addUser({ email: "disabled@example.com", enabled: false });
    w.cognito.addUser({ status: "CONFIRMED", attributes: { phone_number: "+15555550100" } });
    w.cognito.addUser({ email: "GOOGLE@gmail.com", status: "CONFIRMED" }); // same person, native account
    const r = await (await w.reconciler()).handler();
    expect(r).toMatchObject({ seen: 7, created: 2, existed: 0, failed: 0, skipped: 5 });
    expect([...w.owui.users.keys()].sort()).toEqual(["confirmed@example.com", "google@gmail.com"]);
  });

  it("counts failures when Open WebUI is down and emits ReconcileFailed; the next run heals them", async () => {
    const { w, logs } = await setup({ RECONCILE_CONCURRENCY: "1" });
    for (let i = 0; i < 5; i++) w.cognito.addUser({ email: `r${i}@example.com` });
    w.owui.script(500, 500);
    const r = await (await w.reconciler()).handler();
    expect(r).toMatchObject({ seen: 5, created: 3, failed: 2 });
    expect(logs.emf("ReconcileFailed")[0]).toMatchObject({ ReconcileFailed: 2, level: "error" });
    const again = await (await w.reconciler()).handler();
    expect(again).toMatchObject({ created: 2, existed: 3, failed: 0 });
  });

  it("fails loudly (throws + metric) when Cognito cannot be listed", async () => {
    const { w, logs } = await setup({ AWS_MAX_ATTEMPTS: "1" });
    w.cognito.failNext("ListUsers", new AwsError("TooManyRequestsException", "Too many requests"), Infinity);
    await expect((await w.reconciler()).handler()).rejects.toMatchObject({ name: "TooManyRequestsException" });
    expect(logs.emf("ReconcileFailed")[0]).toMatchObject({ ReconcileFailed: 1, complete: false });
  });

  it("trusted-header: one sign-in per user; heals the missing, counts everyone as ensured, and is idempotent", async () => {
    const { w, logs } = await setup({}, { path: "trusted-header" });
    w.owui.seed("admin@example.com", "Admin"); // the platform's headless admin (WEBUI_ADMIN_EMAIL)
    w.cognito.addUser({ email: "ada@example.com", name: "Ada" });
    w.cognito.addUser({ email: "Bob@Example.com", given_name: "Bob" });
    const visited = w.owui.seed("ada@example.com", "ada@example.com"); // signed in through the proxy already
    const r = await (await w.reconciler()).handler({}, { getRemainingTimeInMillis: () => 300_000 });
    expect(r).toMatchObject({ seen: 2, created: 0, existed: 0, ensured: 2, failed: 0, complete: true, path: "trusted-header", openWebUiRequests: 2 });
    expect(w.owui.users.get("ada@example.com")!.id).toBe(visited.id);
    // Named and role'd exactly as a first visit through the proxy would: the email, DEFAULT_USER_ROLE.
    expect(w.owui.users.get("bob@example.com")).toMatchObject({ name: "bob@example.com", role: "user", hasAuth: true });
    expect(w.owui.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /api/v1/auths/signin", "POST /api/v1/auths/signin"]);
    expect(logs.emf("ReconcileFailed")[0]).toMatchObject({ ReconcileFailed: 0, ReconcileHealed: 0, UsersEnsured: 2, UsersExisted: 0 });
    const again = await (await w.reconciler()).handler();
    expect(again).toMatchObject({ ensured: 2, failed: 0 });
    expect(w.owui.users.size).toBe(3);
    expect(JSON.stringify(logs.lines)).not.toMatch(/jwt-/);
  });

  it("trusted-header: reports a user SCIM created (locked out) as failed on every run, naming the cause", async () => {
    const { w, logs } = await setup({}, { path: "trusted-header" });
    w.cognito.addUser({ email: "scimmed@example.com" });
    w.owui.seed("scimmed@example.com", "Scimmed", { via: "scim" });
    const r = await (await w.reconciler()).handler();
    expect(r).toMatchObject({ ensured: 0, failed: 1 });
    const line = logs.find((l) => l.level === "error" && l.email === "scimmed@example.com");
    expect(line).toMatchObject({ outcome: "rejected", status: 400, path: "trusted-header" });
    expect(String(line!.msg)).toMatch(/without a password record \(created through SCIM/);
    expect(logs.emf("ReconcileFailed")[0]).toMatchObject({ ReconcileFailed: 1 });
  });

  it("stops early, incomplete, when the function is about to time out", async () => {
    const { w } = await setup();
    w.cognito.addUser({ email: "late@example.com" });
    const r = await (await w.reconciler()).handler({}, { getRemainingTimeInMillis: () => 100 });
    expect(r).toMatchObject({ seen: 0, complete: false });
  });
});
