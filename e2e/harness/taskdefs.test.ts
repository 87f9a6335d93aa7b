import { describe, expect, it } from "vitest";
import { ENVS, synthPlatform } from "../../test/support/synth.js";
import { queryEscape } from "../../lib/hcl-template.js";
import { citationAt, factsFor } from "./images.js";
import { manifestPath, parseManifest, readManifest } from "./manifest.js";
import { FAKE_MANIFEST } from "./fixtures.js";
import { evaluateLocal, placeholdersOf, serviceOfTask, taskDefinitionsOf } from "./taskdefs.js";

describe.each(Object.entries(ENVS))("task definitions of %s", (name, env) => {
  const s = synthPlatform(env);
  const tasks = taskDefinitionsOf(s);

  it("decode for every service, every container typed", () => {
    // The three services, and the upgrade gate's one-off migration task of Open WebUI.
    expect(Object.keys(tasks).sort()).toEqual(["litellm", "mcpo", "openwebui", "openwebui-migrate"]);
    for (const defs of Object.values(tasks)) {
      for (const d of defs) {
        expect(d.name).toMatch(/^[a-z][a-z0-9-]*$/);
        expect(d.image).toMatch(/:/);
        expect(Array.isArray(d.environment)).toBe(true);
        expect(Array.isArray(d.secrets)).toBe(true);
        // Every image has a row in the table.
        expect(() => factsFor(d.image)).not.toThrow();
      }
    }
  });

  it("keeps references as <address> placeholders (none left as ${…})", () => {
    for (const defs of Object.values(tasks)) {
      const text = JSON.stringify(defs);
      expect(text).not.toContain("${");
      for (const d of defs) for (const p of placeholdersOf(d)) expect(text).toContain(`<${p}>`);
    }
    const ow = tasks.openwebui!.find((d) => d.name === "openwebui")!;
    expect(ow.secrets.find((x) => x.name === "DATABASE_URL")!.valueFrom).toMatch(/^<aws_secretsmanager_secret\.[^>]+\.arn>:url::$/);
  });

  it("has the health check, ports and mounts the compute layer writes", () => {
    const ow = tasks.openwebui!.find((d) => d.name === "openwebui")!;
    expect(ow.healthCheck).toEqual({ command: ["CMD-SHELL", expect.stringContaining("http://127.0.0.1:8080/health")], interval: 15, timeout: 5, retries: 3, startPeriod: 300 });
    expect(ow.portMappings[0]!.containerPort).toBe(8080);
    expect(ow.mountPoints.map((m) => m.containerPath)).toEqual(["/app/backend/data"]);
    const mcpo = tasks.mcpo![0]!;
    expect(mcpo.command?.at(-1)).toContain("exec mcpo --host 0.0.0.0 --port 8000");
    expect(tasks.litellm![0]!.portMappings[0]!.containerPort).toBe(4000);
  });

  it(`${name}: the oauth2-proxy sidecar (when present) waits for Open WebUI HEALTHY`, () => {
    const proxy = tasks.openwebui!.find((d) => d.name === "oauth2-proxy");
    if (env.auth.mode !== "oauth2-proxy") return expect(proxy).toBeUndefined();
    expect(proxy!.dependsOn).toEqual([{ containerName: "openwebui", condition: "HEALTHY" }]);
    expect(proxy!.readonlyRootFilesystem).toBe(true);
  });
});

describe("image facts", () => {
  it("cite the upstream files at the task definition's tag, and warn when it is not the tag checked", () => {
    const { facts, tag, warnings } = factsFor("ghcr.io/open-webui/mcpo:v0.0.20");
    expect(tag).toBe("v0.0.20");
    expect(warnings).toEqual([]);
    expect(citationAt(facts.entrypoint, tag)).toBe("https://github.com/open-webui/mcpo/blob/v0.0.20/Dockerfile#L39");
    expect(factsFor("quay.io/oauth2-proxy/oauth2-proxy:v9.9.9").warnings[0]).toMatch(/pins v9\.9\.9, the facts were checked at v7\.15\.3/);
    expect(() => factsFor("docker.io/library/nginx:1")).toThrow(/no image facts/);
  });
});

describe("task definition helpers", () => {
  it("names services from the compute construct path, else the family", () => {
    expect(serviceOfTask("compute_openwebui_task_1D9901E3")).toBe("openwebui");
    expect(serviceOfTask("x", "owui-prod-litellm")).toBe("litellm");
    expect(() => serviceOfTask("x")).toThrow(/cannot tell/);
  });

  it("evaluates the sign-out local (urlencode) from reference values", () => {
    const s = synthPlatform(ENVS.sandbox);
    const url = evaluateLocal(s, "openwebui_signout_redirect_url", (a) => (a.includes("domain") ? "owui-sandbox" : "client123"));
    const logout = "https://owui-sandbox.auth.us-east-1.amazoncognito.com/logout?client_id=client123&logout_uri=https%3A%2F%2Fowui-sandbox.oremuslabs.app%2F";
    expect(url).toBe(`/oauth2/sign_out?rd=${queryEscape(logout)}`);
  });
});

describe("manifest", () => {
  it("tells to run pnpm e2e:install when absent", () => {
    expect(() => readManifest("/nonexistent/owui-e2e/manifest.json")).toThrow(/pnpm e2e:install/);
    expect(manifestPath({ OWUI_E2E_CACHE: "/x" })).toBe("/x/manifest.json");
  });

  it("type-checks, naming each bad field", () => {
    expect(parseManifest(JSON.parse(JSON.stringify(FAKE_MANIFEST)))).toEqual(FAKE_MANIFEST);
    const bad = JSON.parse(JSON.stringify(FAKE_MANIFEST));
    bad.components.mcpo.bin.uvx = "relative/uvx";
    delete bad.components.redis;
    const error = (() => {
      try {
        parseManifest(bad, "m.json");
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    })();
    expect(error).toContain("components.mcpo.bin.uvx: must be an absolute path");
    expect(error).toContain("components.redis");
    expect(error).toContain("pnpm e2e:install");
  });
});
