/**
 * The issue's scenarios as steps against a running world; each mode's test file (mode-*.test.ts)
 * runs the ones that apply to it. Every step asserts what a person (or an attacker) would see.
 */
import { request as httpsRequest } from "node:https";
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { api, newPerson, signIn, type Person } from "./world/browser.js";
import { ALB_IP, type World } from "./world/world.js";
import type { OidcUser } from "./standins/oidc.js";
import { checkBedrockInvoke, checkLiteLlmReadiness } from "../functions/canary/src/checks.js";

export interface Account extends OidcUser {}

let counter = 0;
/** A fresh person the IdP knows (Entra users get the env's user app role unless `roles` says otherwise). */
export function newAccount(world: World, over: Partial<OidcUser> = {}): OidcUser {
  counter += 1;
  const id = `${Date.now().toString(36)}${counter}`;
  const auth = world.env.auth;
  const roles = auth.idp === "entra" && auth.entra.roles ? [auth.entra.roles.allowed[0]!] : undefined;
  const user: OidcUser = { sub: `sub-${id}`, email: `user-${id}@oremuslabs.app`, name: `User ${id}`, password: `pw-${id}-Aa1!`, ...(roles ? { roles } : {}), ...over };
  world.idp.addUser(user);
  return user;
}

/** The configured administrator as an IdP account (with the Entra admin app role where roles are mapped). */
export function adminAccount(world: World): OidcUser {
  const existing = world.idp.listUsers().find((u) => u.email === world.adminEmail);
  if (existing) return existing;
  const auth = world.env.auth;
  const roles = auth.idp === "entra" && auth.entra.roles ? [auth.entra.roles.admin[0]!] : undefined;
  const user: OidcUser = { sub: "sub-admin", email: world.adminEmail, name: "Platform Admin", password: "pw-admin-Aa1!", ...(roles ? { roles } : {}) };
  world.idp.addUser(user);
  return user;
}

export interface SignedIn {
  readonly person: Person;
  readonly user: OidcUser;
  /** Open WebUI's view of the session (`GET /api/v1/auths/`). */
  readonly me: { id: string; email: string; role: string; name: string };
}

/** A person opens the app, signs in at the IdP and lands in the chat UI. */
export async function signInAs(world: World, user: OidcUser): Promise<SignedIn> {
  const person = await newPerson(world);
  try {
    await signIn(world, person.page, user);
    const me = await api<{ id: string; email: string; role: string; name: string }>(person.page, "/api/v1/auths/");
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    return { person, user, me: me.body };
  } catch (e) {
    await person.page.screenshot({ path: `/tmp/owui-e2e-failure-${Date.now()}.png` }).catch(() => undefined);
    await person.close();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: a new user signs in, is a `user`, sees every catalog model, chats with streaming.
// ---------------------------------------------------------------------------------------------

export async function scenario1NewUserChats(world: World): Promise<void> {
  const s = await signInAs(world, newAccount(world));
  try {
    expect(s.me.role).toBe("user");
    expect(s.me.email).toBe(s.user.email);
    const models = await api<{ data: { id: string }[] }>(s.person.page, "/api/models");
    expect(models.status).toBe(200);
    const ids = models.body.data.map((m) => m.id);
    for (const m of world.env.services.litellm.models) expect(ids, `catalog model ${m.name}`).toContain(m.name);

    // Chat through the UI: the first catalog model is selected for a new user; type and send.
    const page = s.person.page;
    const question = `What is e2e question ${Date.now()}?`;
    const input = page.locator("#chat-input");
    await input.waitFor({ timeout: 60_000 });
    await input.click();
    await page.keyboard.type(question);
    const before = world.bedrock.requests.length;
    await page.keyboard.press("Enter");
    // The reply is the Bedrock stand-in's echo, streamed by LiteLLM into the page.
    await page.waitForFunction((q) => document.body.innerText.includes(`: ${q}`), question, { timeout: 120_000 });
    const calls = world.bedrock.requests.slice(before).filter((r) => r.operation === "ConverseStream" || r.operation === "InvokeModelWithResponseStream");
    expect(calls.length, "a streaming Bedrock call").toBeGreaterThan(0);
    const modelIds = world.env.services.litellm.models.map((m) => m.modelId);
    expect(modelIds).toContain(calls[0]!.modelId);
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain(world.bedrock.echo(calls[0]!.modelId!, question));
  } finally {
    await s.person.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: provisioned before the first visit (the real worker), then signs in: same user.
// ---------------------------------------------------------------------------------------------

async function usersByEmail(world: World, email: string): Promise<{ id: string; role: string }[]> {
  const admin = await signInAs(world, adminAccount(world));
  try {
    const all = await api<{ users: { id: string; email: string; role: string }[] } | { id: string; email: string; role: string }[]>(admin.person.page, `/api/v1/users/?query=${encodeURIComponent(email)}`);
    expect(all.status).toBe(200);
    const list = Array.isArray(all.body) ? all.body : all.body.users;
    return list.filter((u) => u.email === email);
  } finally {
    await admin.person.close();
  }
}

export async function scenario2ProvisionedUserSignsIn(world: World): Promise<void> {
  const p = world.provisioning;
  if (!p) throw new Error(`${world.env.name} has no provisioning pipeline`);
  // Provisioned first, then visits.
  const early = newAccount(world);
  const run = await p.signUp({ email: early.email, name: early.name, sub: early.sub });
  expect(run.batchItemFailures, run.logs).toEqual([]);
  const before = await usersByEmail(world, early.email);
  expect(before, "the worker created the user in Open WebUI").toHaveLength(1);
  const s = await signInAs(world, early);
  try {
    expect(s.me.id).toBe(before[0]!.id);
    expect(s.me.role).toBe("user");
  } finally {
    await s.person.close();
  }
  expect(await usersByEmail(world, early.email)).toHaveLength(1);

  // Visits first, then the worker runs: nothing duplicated, nothing fails.
  const late = newAccount(world);
  const v = await signInAs(world, late);
  await v.person.close();
  const again = await p.signUp({ email: late.email, name: late.name, sub: late.sub });
  expect(again.batchItemFailures, again.logs).toEqual([]);
  const after = await usersByEmail(world, late.email);
  expect(after).toHaveLength(1);
  expect(after[0]!.id).toBe(v.me.id);
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: the configured admin is admin; nobody else, in particular not the first sign-in.
// ---------------------------------------------------------------------------------------------

export async function scenario3AdminIsDefined(world: World): Promise<void> {
  // The first person ever to sign in (this world's first browser session) is an ordinary user.
  const first = await signInAs(world, newAccount(world));
  await first.person.close();
  expect(first.me.role).toBe("user");
  const admin = await signInAs(world, adminAccount(world));
  try {
    expect(admin.me.email).toBe(world.adminEmail);
    expect(admin.me.role).toBe("admin");
    const all = await api<{ users: { email: string; role: string }[] } | { email: string; role: string }[]>(admin.person.page, "/api/v1/users/");
    const list = Array.isArray(all.body) ? all.body : all.body.users;
    expect(list.filter((u) => u.role === "admin").map((u) => u.email)).toEqual([world.adminEmail]);
  } finally {
    await admin.person.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 4 (Entra roles): no allowed role → refused; the admin role → admin.
// ---------------------------------------------------------------------------------------------

export async function scenario4EntraRoles(world: World): Promise<void> {
  const auth = world.env.auth;
  if (auth.idp !== "entra" || !auth.entra.roles) throw new Error("scenario 4 needs Entra app roles");
  const outsider = newAccount(world, { roles: ["some-other-app-role"] });
  const person = await newPerson(world);
  try {
    await person.page.goto(world.appUrl, { waitUntil: "domcontentloaded" });
    const button = person.page.locator("button, a").filter({ hasText: /Continue with|Microsoft/i }).first();
    await button.click();
    const { submitIdpLogin } = await import("./world/browser.js");
    await submitIdpLogin(person.page, outsider);
    await person.page.waitForLoadState("networkidle").catch(() => undefined);
    const token = await person.page.evaluate(() => localStorage.getItem("token"));
    expect(token, "no session for a user without an allowed role").toBeNull();
  } finally {
    await person.close();
  }
  const promoted = newAccount(world, { roles: [auth.entra.roles.admin[0]!] });
  const s = await signInAs(world, promoted);
  await s.person.close();
  expect(s.me.role).toBe("admin");
}

// ---------------------------------------------------------------------------------------------
// Scenario 5: forged identity headers through the ALB never authenticate.
// ---------------------------------------------------------------------------------------------

/** One HTTPS request to the ALB stand-in for the app's hostname (as the internet would send it). */
export async function throughAlb(world: World, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return await new Promise((ok, fail) => {
    const req = httpsRequest(
      { host: ALB_IP, port: 443, servername: world.env.hostname, path, method: init.method ?? "GET", headers: { host: world.env.hostname, ...(init.headers ?? {}) }, ca: world.ca.caCert },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", fail);
    req.end(init.body);
  });
}

export async function scenario5ForgedHeaders(world: World): Promise<void> {
  const victim = adminAccount(world);
  const forged = {
    "X-Forwarded-Email": victim.email,
    "X-Forwarded-User": victim.sub,
    "X-Forwarded-Preferred-Username": victim.email,
    "X-Forwarded-Groups": "admins",
    "X-Auth-Request-Email": victim.email,
    "X-Webui-Role": "admin",
    "X-User-Role": "admin",
    "content-type": "application/json",
  };
  const signin = await throughAlb(world, "/api/v1/auths/signin", { method: "POST", headers: forged, body: JSON.stringify({ email: victim.email, password: "" }) });
  expect(signin.body).not.toMatch(/"token"\s*:/);
  expect([200, 201]).not.toContain(signin.status);
  const me = await throughAlb(world, "/api/v1/auths/", { headers: forged });
  expect(me.body).not.toContain(victim.email);
  expect([200, 201]).not.toContain(me.status);
  const users = await throughAlb(world, "/api/v1/users/", { headers: forged });
  expect([200, 201]).not.toContain(users.status);
}

// ---------------------------------------------------------------------------------------------
// Scenario 6: sign-out ends the session at the proxy and at the IdP; the next visit asks again.
// ---------------------------------------------------------------------------------------------

export async function scenario6SignOut(world: World): Promise<void> {
  const s = await signInAs(world, newAccount(world));
  try {
    const page = s.person.page;
    const signout = await api<{ redirect_url?: string; status?: boolean }>(page, "/api/v1/auths/signout", { method: "POST" });
    expect(signout.status).toBe(200);
    // The UI follows Open WebUI's answer: a redirect URL when one is configured, else its /auth page.
    const next = signout.body.redirect_url ?? "/auth";
    await page.evaluate(() => localStorage.removeItem("token"));
    await page.goto(new URL(next, world.appUrl).toString(), { waitUntil: "domcontentloaded" });
    await page.waitForLoadState("networkidle").catch(() => undefined);
    // Whatever page the chain ends on, a new visit to the app must end at the IdP's sign-in form.
    await page.goto(world.appUrl, { waitUntil: "domcontentloaded" });
    if (world.mode !== "P") {
      const button = page.locator("button, a").filter({ hasText: /Continue with|Microsoft|SSO|OIDC|Cognito/i }).first();
      await button.waitFor({ timeout: 60_000 });
      await button.click();
    }
    await page.waitForSelector("#username", { timeout: 60_000 });
    expect(await page.evaluate(() => localStorage.getItem("token"))).toBeNull();
  } finally {
    await s.person.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 7: a `user` sees the mcpo tools and calls one.
// ---------------------------------------------------------------------------------------------

export async function scenario7UserCallsTool(world: World): Promise<void> {
  const s = await signInAs(world, newAccount(world));
  try {
    const tools = await api<{ id: string; name: string }[]>(s.person.page, "/api/v1/tools/");
    expect(tools.status).toBe(200);
    const servers = Object.keys(world.env.services.mcpo.servers);
    for (const name of servers) expect(tools.body.map((t) => t.id), `tool server ${name}`).toContain(`server:${name}`);
    // Call one through Open WebUI's own tool-server client path: the server's OpenAPI spec is
    // fetched with the user's session, and the tool executes at mcpo with the configured key.
    const server = servers[0]!;
    const mcpoUrl = `${world.mcpo.containers.mcpo!.url}/${server}`;
    const key = world.secretValues[`owui/${world.env.name}/mcpo/api-key`]!;
    const spec = await fetch(`${mcpoUrl}/openapi.json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>);
    const path = Object.keys(spec.paths)[0]!;
    const denied = await fetch(`${mcpoUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ timezone: "UTC" }) });
    expect(denied.status, "mcpo refuses a call without its key").toBe(401);
    const called = await fetch(`${mcpoUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ timezone: "UTC" }) });
    expect(called.status).toBe(200);

    // A chat with the tool on, as the UI sends it (a new chat: `parent_id: null`, the user message
    // and the assistant message's id), runs Open WebUI's whole native tool loop: 0.10.2 offers the
    // tool to the model (Converse toolConfig through LiteLLM, `tool_<operation>` names), LiteLLM
    // turns the model's toolUse into an OpenAI tool call, Open WebUI executes it at mcpo with the
    // configured key, sends the result back to the model, and stores the final answer in the chat.
    // (Without a socket `session_id` the request runs synchronously; with one, the same
    // `process_chat` runs as a background task. The tool loop is the same code.)
    const tool = path.replace(/^\//, "");
    const toolResults: string[] = [];
    world.bedrock.setResponder((ctx) => {
      const result = toolResultOf(ctx.body);
      if (result !== undefined) {
        toolResults.push(result);
        return `The tool answered: ${result}`;
      }
      const offered = ctx.tools.find((t) => t.includes(tool));
      return offered ? { toolUse: { name: offered, input: { timezone: "UTC" } } } : undefined;
    });
    const requestsBefore = world.bedrock.requests.length;
    try {
      const model = world.env.services.litellm.models[0]!.name;
      const userMessageId = randomUUID();
      const assistantMessageId = randomUUID();
      const question = "What time is it in UTC right now?";
      const startedAt = new Date();
      const answer = await api(s.person.page, "/api/chat/completions", {
        method: "POST",
        body: {
          model,
          stream: true,
          tool_ids: [`server:${server}`],
          parent_id: null,
          id: assistantMessageId,
          user_message: { id: userMessageId, parentId: null, childrenIds: [], role: "user", content: question, models: [model], timestamp: Math.floor(startedAt.getTime() / 1000) },
          messages: [{ role: "user", content: question }],
        },
      });
      expect(answer.status, JSON.stringify(answer.body).slice(0, 400)).toBe(200);
      const sent = world.bedrock.requests.slice(requestsBefore).map((r) => JSON.stringify(r.body));
      expect(sent.some((b) => b.includes(`"name":"tool_${tool}`)), "the mcpo tool was offered to the model (Converse toolConfig)").toBe(true);

      // mcpo's real time server answered Open WebUI's call, and the answer reached the model.
      expect(toolResults, "the tool result came back to the model in a second Converse request").toHaveLength(1);
      const result = JSON.parse(toolResults[0]!) as { timezone?: string; datetime?: string };
      expect(result.timezone).toBe("UTC");
      const toolTime = Date.parse(result.datetime ?? "");
      expect(Math.abs(toolTime - startedAt.getTime()), `the tool's time ${result.datetime} is the time of the call`).toBeLessThan(120_000);

      // The chat holds the model's final answer, built on the tool's output.
      const chats = await api<{ id: string }[]>(s.person.page, "/api/v1/chats/");
      expect(chats.status).toBe(200);
      expect(chats.body, "the new chat was stored for this user").toHaveLength(1);
      type OutputItem = { type: string; name?: string; call_id?: string; arguments?: string; output?: { text?: string }[]; content?: { type: string; text?: string }[] };
      const chat = await api<{ chat: { history: { messages: Record<string, { role: string; done?: boolean; output?: OutputItem[] }> } } }>(s.person.page, `/api/v1/chats/${chats.body[0]!.id}`);
      expect(chat.status).toBe(200);
      // 0.10.2 stores the turn as output items (function_call, function_call_output, message);
      // `content` stays empty and the UI renders the items.
      const stored = chat.body.chat.history.messages[assistantMessageId];
      expect(stored?.role).toBe("assistant");
      expect(stored?.done).toBe(true);
      const items = stored?.output ?? [];
      expect(items.map((i) => i.type)).toEqual(["function_call", "function_call_output", "message"]);
      const [call, output, message] = items as [OutputItem, OutputItem, OutputItem];
      expect(call.name).toMatch(new RegExp(`^tool_${tool}`));
      expect(JSON.parse(call.arguments ?? "")).toEqual({ timezone: "UTC" });
      expect(output.call_id).toBe(call.call_id);
      expect(output.output?.map((o) => o.text).join("\n")).toBe(toolResults[0]);
      expect(message.content?.map((c) => c.text).join("")).toBe(`The tool answered: ${toolResults[0]!}`);
    } finally {
      world.bedrock.setResponder(undefined);
    }
  } finally {
    await s.person.close();
  }
}

/** The text of the toolResult blocks in a Converse request's last user message, if it carries any. */
function toolResultOf(body: unknown): string | undefined {
  const messages = (body as { messages?: { role: string; content?: unknown[] }[] } | undefined)?.messages ?? [];
  const last = messages[messages.length - 1];
  if (last?.role !== "user" || !Array.isArray(last.content)) return undefined;
  const results = last.content.flatMap((b) => {
    const r = (b as { toolResult?: { content?: { text?: string; json?: unknown }[] } }).toolResult;
    return r ? (r.content ?? []).map((c) => c.text ?? JSON.stringify(c.json)) : [];
  });
  return results.length > 0 ? results.join("\n") : undefined;
}

// ---------------------------------------------------------------------------------------------
// Scenario 8: an Open WebUI API key works where the mode allows it; behind the proxy it cannot.
// ---------------------------------------------------------------------------------------------

export async function scenario8ApiKey(world: World): Promise<{ status: number }> {
  const s = await signInAs(world, newAccount(world));
  let key: string | undefined;
  try {
    const created = await api<{ api_key?: string; detail?: string }>(s.person.page, "/api/v1/auths/api_key", { method: "POST" });
    key = created.body.api_key;
    if (world.mode !== "P") expect(created.status, JSON.stringify(created.body)).toBe(200);
  } finally {
    await s.person.close();
  }
  if (world.mode === "P") {
    // Behind oauth2-proxy every request needs the proxy's cookie: an API client is sent to sign in.
    const r = await throughAlb(world, "/api/models", { headers: { authorization: `Bearer ${key ?? "sk-anything"}`, accept: "application/json" } });
    expect([302, 401, 403]).toContain(r.status);
    expect(r.body).not.toMatch(/"data"\s*:/);
    return { status: r.status };
  }
  expect(key).toMatch(/^sk-/);
  const r = await throughAlb(world, "/api/models", { headers: { authorization: `Bearer ${key}` } });
  expect(r.status, r.body.slice(0, 300)).toBe(200);
  const ids = (JSON.parse(r.body) as { data: { id: string }[] }).data.map((m) => m.id);
  for (const m of world.env.services.litellm.models) expect(ids).toContain(m.name);
  return { status: r.status };
}

// ---------------------------------------------------------------------------------------------
// Scenario 9: each container's health check, run as ECS runs it: passes when the process can
// serve, fails when it cannot, and ignores a shared dependency that is briefly down.
// ---------------------------------------------------------------------------------------------

export async function scenario9HealthChecks(world: World): Promise<void> {
  const tasks = [world.openwebui[0]!, world.litellm, world.mcpo];
  const checked: string[] = [];
  for (const task of tasks) {
    for (const c of Object.values(task.containers)) {
      if (!c.def.healthCheck) continue;
      checked.push(c.name);
      expect(await c.healthCheckNow(), `${c.name} healthy while serving`).toBe(true);
    }
  }
  expect(checked.sort()).toEqual(["litellm", "mcpo", "openwebui"]);

  // A shared dependency down: the liveness checks must not fail (ECS would replace every task).
  // Aurora unreachable (a failover) and, where the env has it, Redis down.
  await world.postgres.pause();
  if (world.redis) await world.redis.pause();
  try {
    for (const task of tasks) for (const c of Object.values(task.containers)) if (c.def.healthCheck) expect(await c.healthCheckNow(), `${c.name} with Aurora${world.redis ? " and Redis" : ""} down`).toBe(true);
  } finally {
    await world.postgres.resume();
    if (world.redis) await world.redis.resume();
  }

  // The process cannot serve: the check fails.
  for (const task of [world.litellm, world.mcpo]) {
    const c = Object.values(task.containers).find((x) => x.def.healthCheck)!;
    await c.stop();
    expect(await c.healthCheckNow(), `${c.name} stopped`).toBe(false);
    await c.restart();
    await c.waitHealthy(180_000);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 10: two Open WebUI replicas with the prod config (one PostgreSQL with pgvector, Redis).
// ---------------------------------------------------------------------------------------------

/** Open WebUI's API on one replica directly (its task address), with a user's JWT. */
async function onReplica<T>(world: World, replica: number, token: string, path: string, init: { method?: string; body?: unknown; form?: FormData } = {}): Promise<{ status: number; body: T }> {
  const task = world.openwebui[replica]!;
  const res = await fetch(`${task.containers.openwebui!.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.form ? { body: init.form } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: body as T };
}

/**
 * The page's socket goes to one replica and its API calls to the other: the ALB routes `/ws/*` to
 * replica B (a test-only listener rule; a real ALB may put any request on any replica), everything
 * else to replica A. The reply streams back over the socket only if Redis carries the events.
 */
export async function scenario10SocketAcrossReplicas(world: World): Promise<void> {
  if (world.openwebui.length < 2) throw new Error("scenario 10 needs two Open WebUI replicas");
  const [a, b] = world.openwebui;
  const listener = world.synth.resources("aws_lb_target_group")[0]![0];
  const port = world.openwebui[0]!.containers.openwebui!.port!;
  world.alb.setTarget("e2e-replica-b", { host: b!.ip, port });
  world.alb.setTarget(listener, { host: a!.ip, port });
  world.alb.setRules([{ priority: 1, conditions: { pathPattern: ["/ws/*"] }, action: { type: "forward", targetGroup: "e2e-replica-b" } }]);
  try {
    const s = await signInAs(world, newAccount(world));
    try {
      const page = s.person.page;
      const question = `Across replicas ${Date.now()}?`;
      const input = page.locator("#chat-input");
      await input.waitFor({ timeout: 60_000 });
      await input.click();
      await page.keyboard.type(question);
      await page.keyboard.press("Enter");
      await page.waitForFunction((q) => document.body.innerText.includes(`: ${q}`), question, { timeout: 120_000 });
      const socketRequests = world.alb.log.filter((e) => e.path.startsWith("/ws/") && e.targetGroup === "e2e-replica-b");
      expect(socketRequests.length, "the page's socket went to replica B").toBeGreaterThan(0);

      // The chat written through replica A is read back from replica B.
      const token = (await page.evaluate(() => localStorage.getItem("token")))!;
      const chats = await onReplica<{ id: string; title: string }[]>(world, 1, token, "/api/v1/chats/");
      expect(chats.status).toBe(200);
      expect(chats.body.length, "replica B sees the chat replica A stored").toBeGreaterThan(0);
      const chat = await onReplica<{ chat: { messages?: { content: string }[]; history?: { messages: Record<string, { content: string }> } } }>(world, 1, token, `/api/v1/chats/${chats.body[0]!.id}`);
      expect(JSON.stringify(chat.body)).toContain(question);
    } finally {
      await s.person.close();
    }
  } finally {
    world.alb.setRules(world.listenerRules);
  }
}

/** A file uploaded through replica A is embedded (Bedrock through LiteLLM) into pgvector and found from replica B. */
export async function scenario10RetrievalAcrossReplicas(world: World): Promise<void> {
  expect(world.env.services.openwebui.retrieval.vectorDb).toBe("pgvector");
  const s = await signInAs(world, newAccount(world));
  try {
    const token = (await s.person.page.evaluate(() => localStorage.getItem("token")))!;
    const marker = `zephyr-${Date.now()}`;
    const form = new FormData();
    form.append("file", new Blob([`Project ${marker}: the launch code is seven four one. Other text about gardens and tea.`], { type: "text/plain" }), `${marker}.txt`);
    const embedsBefore = world.bedrock.requests.filter((r) => r.modelId?.includes("embed")).length;
    const uploaded = await onReplica<{ id: string }>(world, 0, token, "/api/v1/files/?process=true&process_in_background=false", { method: "POST", form });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(200);
    const embeds = world.bedrock.requests.filter((r) => r.modelId?.includes("embed")).length - embedsBefore;
    expect(embeds, "the document was embedded by the Bedrock embedding model through LiteLLM").toBeGreaterThan(0);
    const rows = world.postgres.psql("SELECT count(*) FROM document_chunk", "openwebui");
    expect(Number(rows), "vectors are rows in Aurora's pgvector table").toBeGreaterThan(0);
    const found = await onReplica<{ documents: string[][] }>(world, 1, token, "/api/v1/retrieval/query/doc", { method: "POST", body: { collection_name: `file-${uploaded.body.id}`, query: "What is the launch code?", k: 2 } });
    expect(found.status, JSON.stringify(found.body).slice(0, 300)).toBe(200);
    expect(JSON.stringify(found.body.documents)).toContain(marker);
  } finally {
    await s.person.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The hand-written Open WebUI fake (test/fakes/openwebui-scim.ts) against the real Open WebUI.
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  /** The body fields the provisioning worker reads (functions/provisioning/src/scim.ts, trusted-header.ts). */
  fields: Record<string, unknown>;
}

async function ask(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown }): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? "GET",
    redirect: "manual",
    headers: { ...(init.body !== undefined ? { "content-type": "application/scim+json" } : {}), ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { html: text.trimStart().toLowerCase().startsWith("<!doctype html") };
  }
  const fields: Record<string, unknown> = {};
  if (typeof json.detail === "string") fields.detail = json.detail;
  if ("totalResults" in json) fields.totalResults = json.totalResults;
  if ("userName" in json) fields.userName = json.userName;
  if ("id" in json) fields.hasId = typeof json.id === "string" && (json.id as string).length > 0;
  if (Array.isArray(json.emails)) fields.email = (json.emails as { value: string }[])[0]?.value;
  if ("active" in json) fields.active = json.active;
  if ("html" in json) fields.html = json.html;
  if (Array.isArray(json.detail)) fields.detailIsValidationList = true;
  return { status: res.status, fields };
}

/**
 * Every request the provisioning worker's tests send to the fake, sent to the fake and to the real
 * Open WebUI of this world (configured as the stack configures it): same status, same fields read.
 */
export async function crossCheckScimFake(world: World): Promise<void> {
  const { startOpenWebUiScimFake } = await import("../test/fakes/openwebui-scim.js");
  const token = world.secretValues[`owui/${world.env.name}/openwebui/scim-token`]!;
  const env = Object.fromEntries(world.openwebui[0]!.containers.openwebui!.def.environment.map((e) => [e.name, e.value]));
  const fake = await startOpenWebUiScimFake({
    token,
    enabled: env.ENABLE_SCIM === "true",
    ...(env.WEBUI_AUTH_TRUSTED_EMAIL_HEADER ? { trustedEmailHeader: env.WEBUI_AUTH_TRUSTED_EMAIL_HEADER } : {}),
    passwordAuth: env.ENABLE_PASSWORD_AUTH !== "false",
    defaultUserRole: (env.DEFAULT_USER_ROLE as "user" | "pending") ?? "pending",
  });
  try {
    const real = world.openwebui[0]!.containers.openwebui!.url!;
    const email = `cross-${Date.now()}@oremuslabs.app`;
    const user = (e: string, active = true) => ({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: e, displayName: "Cross Check", emails: [{ value: e, primary: true }], active, name: { formatted: "Cross Check" } });
    const bearer = { authorization: `Bearer ${token}` };
    const requests: [string, string, { method?: string; headers?: Record<string, string>; body?: unknown }][] = [
      ["create", "/api/v1/scim/v2/Users", { method: "POST", headers: bearer, body: user(email) }],
      ["duplicate", "/api/v1/scim/v2/Users", { method: "POST", headers: bearer, body: user(email) }],
      ["lookup found", `/api/v1/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`, { headers: bearer }],
      ["lookup absent", `/api/v1/scim/v2/Users?filter=${encodeURIComponent('userName eq "nobody-here@oremuslabs.app"')}`, { headers: bearer }],
      ["wrong token", "/api/v1/scim/v2/Users", { method: "POST", headers: { authorization: "Bearer not-the-token" }, body: user(`other-${email}`) }],
      ["no token", "/api/v1/scim/v2/Users", { method: "POST", body: user(`other2-${email}`) }],
      ["inactive", "/api/v1/scim/v2/Users", { method: "POST", headers: bearer, body: user(`pending-${email}`, false) }],
      ["invalid body", "/api/v1/scim/v2/Users", { method: "POST", headers: bearer, body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], displayName: "no userName" } }],
      ["trusted-header sign-in", "/api/v1/auths/signin", { method: "POST", headers: { "content-type": "application/json", "X-Forwarded-Email": `third-${email}` }, body: { email: `third-${email}`, password: "" } }],
    ];
    for (const [what, path, init] of requests) {
      const [r, f] = [await ask(real, path, init), await ask(fake.origin, path, init)];
      expect({ what, ...f }, `the fake answers "${what}" as Open WebUI ${world.manifest.components.openwebui.version} does`).toEqual({ what, ...r });
    }
  } finally {
    await fake.close();
  }
}

/**
 * The upgrade from the previous pin: the old replicas serve the old release on the schema its own
 * migration task made; the migration task at the new image runs only after the last old replica
 * stopped, no new replica starts before it finished, the schema ends at the new release's Alembic
 * heads, and a person then signs in and chats on the upgraded replicas.
 */
export async function scenario10UpgradeFromPreviousPin(world: World): Promise<void> {
  const old = world.openwebui[0]!.containers.openwebui!;
  const oldVersion = await fetch(`${old.url}/api/version`).then((r) => r.json() as Promise<{ version: string }>);
  expect(old.def.image.endsWith(`:v${oldVersion.version}`), `the old replicas run ${old.def.image}`).toBe(true);
  expect(oldVersion.version).not.toBe(world.manifest.components.openwebui.version);
  const before = world.postgres.psql("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version", "openwebui");
  const up = await world.upgradeOpenWebUi();
  expect(up.verdict.migration).toBe("ok");
  expect(up.verdict.current).toEqual(up.verdict.heads);
  expect(up.verdict.current.join(",")).not.toBe(before);
  expect(world.postgres.psql("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version", "openwebui")).toBe([...up.verdict.heads].sort().join(","));
  expect(up.migrationStartedAt, "no old replica serves while the schema changes").toBeGreaterThanOrEqual(up.lastOldStoppedAt);
  expect(up.firstNewStartedAt, "no new replica serves an unmigrated schema").toBeGreaterThanOrEqual(up.migrationEndedAt);
  for (const t of world.openwebui) {
    const v = await fetch(`${t.containers.openwebui!.url}/api/version`).then((r) => r.json() as Promise<{ version: string }>);
    expect(v.version).toBe(world.manifest.components.openwebui.version);
  }
  await scenario1NewUserChats(world);
}

// ---------------------------------------------------------------------------------------------
// Scenario 11: the canary's LiteLLM checks, against the real LiteLLM the stack configures.
// ---------------------------------------------------------------------------------------------

/**
 * The canary (functions/canary) checks LiteLLM's `/health/readiness` over its internal name and,
 * when `canary.invokeModel` is on, one tiny chat through LiteLLM to Bedrock. Both are run here, with
 * the canary's own check code, against the real LiteLLM of the world (and the Bedrock stand-in),
 * so a LiteLLM upgrade that changes either answer fails here first.
 */
export async function scenario11CanaryChecksLiteLlm(world: World): Promise<void> {
  const base = world.litellm.containers.litellm!.url!;
  const ready = await checkLiteLlmReadiness(base);
  expect(ready.ok, ready.detail).toBe(true);
  // LiteLLM runs here without its database (e2e README, "omit"): readiness says so, and still passes.
  expect(ready.detail).toContain("db Not connected");

  const key = world.secretValues[`owui/${world.env.name}/litellm/master-key`]!;
  const model = world.env.services.litellm.models[0]!.name;
  const before = world.bedrock.requests.length;
  const invoked = await checkBedrockInvoke(base, model, key);
  expect(invoked.ok, invoked.detail).toBe(true);
  expect(world.bedrock.requests.length, "the invocation reached Bedrock").toBeGreaterThan(before);

  const denied = await checkBedrockInvoke(base, model, "sk-not-the-master-key");
  expect(denied.ok, "a wrong key is reported as a failure").toBe(false);
  // Without its database (see "omit") LiteLLM 1.80.0 looks any key that is not the master key up
  // in the database and answers 400 "No connected db."; with it, an unknown key gets 401.
  expect(denied.detail).toMatch(/answered 400: No connected db/);
}
