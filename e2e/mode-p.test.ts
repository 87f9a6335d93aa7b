/**
 * Mode P, as in `sandbox`: Cognito behind the oauth2-proxy sidecar, the provisioning pipeline on.
 * One world (every process real, configured from the synthesized sandbox stack) for the file.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import * as S from "./scenarios.js";
import { startWorld, type World } from "./world/world.js";

describe("mode P: oauth2-proxy + Cognito (sandbox)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ mode: "P" });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("3: the configured admin is admin; the first person to sign in is not", async () => S.scenario3AdminIsDefined(world));
  it("1: a new user signs in, sees every catalog model and chats (streamed from Bedrock through LiteLLM)", async () => S.scenario1NewUserChats(world));
  it("2: a user provisioned by the worker before the first visit signs in as the same user; a visit first is fine too", async () => S.scenario2ProvisionedUserSignsIn(world));
  it("5: forged identity headers through the ALB never authenticate", async () => S.scenario5ForgedHeaders(world));
  it("6: sign-out ends the proxy's and the IdP's sessions; the next visit asks for a login", async () => S.scenario6SignOut(world));
  it("7: a user sees the mcpo tools and calls one", async () => S.scenario7UserCallsTool(world));
  it("8: an API key cannot pass the proxy (documented): the answer is a sign-in, never data", async () => void (await S.scenario8ApiKey(world)));
  it("9: each container's health check passes while serving, ignores Aurora down, fails when the process is gone", async () => S.scenario9HealthChecks(world));
});
