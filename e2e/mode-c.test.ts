/**
 * Mode C: Open WebUI's native OIDC against the Cognito pool (sandbox's pool, provisioning and admin,
 * with `auth.mode: "oidc"`). One world for the file.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import * as S from "./scenarios.js";
import { startWorld, type World } from "./world/world.js";

describe("mode C: native OIDC + Cognito", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ mode: "C" });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("3: the configured admin is admin; the first person to sign in is not", async () => S.scenario3AdminIsDefined(world));
  it("1: a new user signs in, sees every catalog model and chats (streamed from Bedrock through LiteLLM)", async () => S.scenario1NewUserChats(world));
  it("2: a user provisioned through SCIM before the first visit signs in as the same user; a visit first is fine too", async () => S.scenario2ProvisionedUserSignsIn(world));
  it("5: forged identity headers through the ALB never authenticate", async () => S.scenario5ForgedHeaders(world));
  it("6: sign-out ends Open WebUI's and the IdP's sessions; the next visit asks for a login", async () => S.scenario6SignOut(world));
  it("7: a user sees the mcpo tools and calls one", async () => S.scenario7UserCallsTool(world));
  it("8: an Open WebUI API key works through the ALB", async () => void (await S.scenario8ApiKey(world)));
  it("the hand-written Open WebUI fake of the provisioning tests answers every request they send as the real Open WebUI does", async () => S.crossCheckScimFake(world));
});
