/**
 * Scenario 10, in prod's mode (E) with the prod config: two Open WebUI replicas on one PostgreSQL
 * (pgvector) and one Redis. The world starts at the previous pin (Open WebUI 0.6.41, what this
 * project deployed before 0.10.2) and is upgraded the way the upgrade gate does it; the other
 * checks then run on the upgraded replicas.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import * as S from "./scenarios.js";
import { envFor, startWorld, type World } from "./world/world.js";

/** The Open WebUI image this project pinned before v0.10.2 (e2e/lock/components.json "openwebui-previous"). */
const PREVIOUS_PIN = "ghcr.io/open-webui/open-webui:v0.6.41";

describe("scenario 10: two Open WebUI replicas with the prod config", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ mode: "E", env: envFor("E", "prod"), openwebuiReplicas: 2, openwebuiImage: PREVIOUS_PIN });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("the upgrade from the previous pin (0.6.41): old replicas stopped, the migration task run once to the new heads, then the new replicas, which serve a new user's chat", async () => S.scenario10UpgradeFromPreviousPin(world));
  it("a chat sent through replica A streams back over a socket held by replica B, and replica B reads the chat", async () => S.scenario10SocketAcrossReplicas(world));
  it("a file uploaded through replica A is embedded into pgvector and retrieved through replica B", async () => S.scenario10RetrievalAcrossReplicas(world));
});
