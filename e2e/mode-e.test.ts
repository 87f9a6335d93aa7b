/**
 * Mode E, as in `nonprod`/`prod`: Open WebUI's native OIDC against Entra ID, app roles mapped to
 * Open WebUI roles, SCIM on. One world (the nonprod stack) for the file.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import * as S from "./scenarios.js";
import { startWorld, type World } from "./world/world.js";

describe("mode E: native OIDC + Entra ID (nonprod)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ mode: "E" });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("3: the configured admin is admin; the first person to sign in is not", async () => S.scenario3AdminIsDefined(world));
  it("1: a new user signs in, sees every catalog model and chats (streamed from Bedrock through LiteLLM)", async () => S.scenario1NewUserChats(world));
  it("4: a user without an allowed app role is refused; the admin app role makes an admin", async () => S.scenario4EntraRoles(world));
  it("5: forged identity headers through the ALB never authenticate", async () => S.scenario5ForgedHeaders(world));
  it("6: sign-out ends Open WebUI's and the IdP's sessions; the next visit asks for a login", async () => S.scenario6SignOut(world));
  it("7: a user sees the mcpo tools and calls one", async () => S.scenario7UserCallsTool(world));
  it("11: the canary's LiteLLM checks (readiness, a tiny invocation) pass against the real LiteLLM; a wrong key fails", async () => S.scenario11CanaryChecksLiteLlm(world));
  it("8: an Open WebUI API key works through the ALB", async () => void (await S.scenario8ApiKey(world)));
  it("9: each container's health check passes while serving, ignores Aurora down, fails when the process is gone", async () => S.scenario9HealthChecks(world));
});
