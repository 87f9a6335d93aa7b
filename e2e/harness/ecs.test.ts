import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ENVS, synthPlatform } from "../../test/support/synth.js";
import { composeArgv, conditionMet, healthCheckArgv, HealthMonitor, localCommand, runProbe, startOrder } from "./ecs.js";
import { ExecNotFound, factsFor, IMAGES, resolveProgram } from "./images.js";
import { FAKE_MANIFEST, fakeSubstitutions } from "./fixtures.js";
import { launchEnvOf, substituteArgv } from "./substitute.js";
import { taskDefinitionsOf } from "./taskdefs.js";

const MCPO = IMAGES["ghcr.io/open-webui/mcpo"]!;
const OWUI = IMAGES["ghcr.io/open-webui/open-webui"]!;
const LITELLM = IMAGES["ghcr.io/berriai/litellm"]!;
const PROXY = IMAGES["quay.io/oauth2-proxy/oauth2-proxy"]!;
const SCRIPT = `printf '%s' "$MCPO_CONFIG_JSON" > /tmp/mcpo.json && exec mcpo --host 0.0.0.0 --port 8000 --api-key "$MCPO_API_KEY" --config /tmp/mcpo.json`;
const ctx = (env: Record<string, string> = {}) => ({ manifest: FAKE_MANIFEST, env, cwd: "/tmp/x/app", taskIp: "127.0.1.7" });

describe("composeArgv (Docker/ECS: entryPoint overrides ENTRYPOINT, command overrides CMD)", () => {
  it("image defaults: ENTRYPOINT ++ CMD", () => {
    expect(composeArgv(MCPO, {})).toEqual(["mcpo", "--help"]);
    expect(composeArgv(OWUI, {})).toEqual(["bash", "start.sh"]);
    expect(composeArgv(LITELLM, {})).toEqual(["docker/prod_entrypoint.sh", "--port", "4000"]);
    expect(composeArgv(PROXY, {})).toEqual(["/bin/oauth2-proxy"]);
  });

  it("command replaces CMD and is appended to the image's ENTRYPOINT: the old mcpo definition runs `mcpo sh -c …`", () => {
    expect(composeArgv(MCPO, { command: ["sh", "-c", SCRIPT] })).toEqual(["mcpo", "sh", "-c", SCRIPT]);
    expect(composeArgv(OWUI, { command: ["open-webui", "serve"] })).toEqual(["open-webui", "serve"]);
  });

  it("entryPoint replaces ENTRYPOINT and drops the image's CMD", () => {
    expect(composeArgv(MCPO, { entryPoint: ["sh", "-c"], command: [SCRIPT] })).toEqual(["sh", "-c", SCRIPT]);
    expect(composeArgv(LITELLM, { entryPoint: ["litellm"] })).toEqual(["litellm"]);
  });

  it("maps `mcpo sh -c …` to the local mcpo, faithfully (mcpo reads -c as --config and fails), bound to the task's address", () => {
    const c = localCommand(MCPO, composeArgv(MCPO, { command: ["sh", "-c", SCRIPT] }), ctx());
    expect(c.file).toBe("/opt/fake/mcpo/bin/mcpo");
    expect(c.args).toEqual(["--host", "127.0.1.7", "sh", "-c", SCRIPT]);
  });

  it("maps `sh -c <script>` to the host shell; the script's `exec mcpo` finds the local mcpo on PATH", () => {
    const c = localCommand(MCPO, ["sh", "-c", SCRIPT], ctx());
    expect([c.file, ...c.args]).toEqual(["/bin/sh", "-c", SCRIPT]);
  });

  it("reproduces Open WebUI's start.sh: the venv's uvicorn with start.sh's arguments", () => {
    const dir = mkdtempSync(join(tmpdir(), "owui-startsh-"));
    try {
      const c = localCommand(OWUI, ["bash", "start.sh"], { ...ctx({ PORT: "8080", UVICORN_WORKERS: "1", WEBUI_SECRET_KEY: "k" }), cwd: dir });
      expect(c.file).toBe("/opt/fake/owui/bin/python");
      expect(c.args).toEqual(["-m", "uvicorn", "open_webui.main:app", "--host", "127.0.1.7", "--port", "8080", "--forwarded-allow-ips", "*", "--workers", "1"]);
      expect(c.env).toEqual({});
      // No key in the environment: start.sh generates .webui_secret_key in its directory and uses it.
      const generated = localCommand(OWUI, ["bash", "start.sh"], { ...ctx({ WEBUI_SECRET_KEY: "" }), cwd: dir });
      expect(generated.env.WEBUI_SECRET_KEY).toMatch(/^[A-Za-z0-9+/=]{16}$/);
      expect(localCommand(OWUI, ["bash", "start.sh"], { ...ctx({}), cwd: dir }).env.WEBUI_SECRET_KEY).toBe(generated.env.WEBUI_SECRET_KEY);
      expect(() => localCommand(OWUI, ["bash", "start.sh"], { ...ctx({ WEBUI_SECRET_KEY: "k", USE_OLLAMA_DOCKER: "true" }), cwd: dir })).toThrow(/not reproduced/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reproduces LiteLLM's prod_entrypoint.sh and oauth2-proxy's binary", () => {
    const l = localCommand(LITELLM, composeArgv(LITELLM, {}), ctx());
    expect([l.file, ...l.args]).toEqual(["/opt/fake/litellm/bin/litellm", "--host", "127.0.1.7", "--port", "4000"]);
    const p = localCommand(PROXY, composeArgv(PROXY, {}), ctx());
    expect([p.file, ...p.args]).toEqual(["/opt/fake/oauth2-proxy/oauth2-proxy"]);
  });

  it("fails like the runtime when the image has no such program (distroless: no shell)", () => {
    expect(() => resolveProgram(PROXY, ["sh", "-c", "true"])).toThrow(ExecNotFound);
    expect(() => healthCheckArgv({ command: ["CMD-SHELL", "true"] }, PROXY)).toThrow(/executable file not found/);
  });

  it("composes every container of every env to a local program (and the synthesized mcpo runs sh -c)", () => {
    for (const [name, env] of Object.entries(ENVS)) {
      const tasks = taskDefinitionsOf(synthPlatform(env));
      for (const defs of Object.values(tasks)) {
        for (const def of defs) {
          const { facts } = factsFor(def.image);
          const subs = fakeSubstitutions(name, defs);
          const argv = substituteArgv(composeArgv(facts, def), def, subs, facts);
          const c = localCommand(facts, argv, { manifest: FAKE_MANIFEST, env: launchEnvOf(def, subs), cwd: "/tmp/none", taskIp: subs.taskIp });
          expect(c.file).toMatch(/^\//);
          if (def.name === "mcpo") {
            expect(argv.slice(0, 2)).toEqual(["sh", "-c"]);
            expect(argv[2]).toContain(`--host ${subs.taskIp} --port 8000`);
            expect(argv[2]).toContain(`> ${subs.taskDir}/mcpo/tmp/mcpo.json`);
          }
        }
      }
    }
  });
});

describe("health checks (ECS HealthCheck semantics)", () => {
  const dir = mkdtempSync(join(tmpdir(), "owui-health-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const flag = (n: string) => join(dir, n);
  /** A CMD-SHELL probe that passes while the flag file exists. */
  const probeFor = (file: string, extra = "") => () => runProbe({ argv: healthCheckArgv({ command: ["CMD-SHELL", `${extra}test -f ${file}`] })!, env: { PATH: "/usr/bin:/bin" }, timeoutSeconds: 0.5 });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("CMD-SHELL runs /bin/sh -c, CMD runs argv, NONE disables", () => {
    expect(healthCheckArgv({ command: ["CMD-SHELL", "curl x || exit 1"] })).toEqual(["/bin/sh", "-c", "curl x || exit 1"]);
    expect(healthCheckArgv({ command: ["CMD", "/bin/true", "a"] })).toEqual(["/bin/true", "a"]);
    expect(healthCheckArgv({ command: ["NONE"] })).toBeNull();
    expect(() => healthCheckArgv({ command: ["curl"] })).toThrow(/CMD, CMD-SHELL or NONE/);
  });

  it("a probe fails on non-zero exit and on timeout (the probe's group is killed)", async () => {
    const ok = await runProbe({ argv: ["/bin/sh", "-c", "exit 0"], env: {}, timeoutSeconds: 1 });
    expect(ok).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
    const bad = await runProbe({ argv: ["/bin/sh", "-c", "echo nope; exit 3"], env: {}, timeoutSeconds: 1 });
    expect(bad).toMatchObject({ ok: false, exitCode: 3 });
    expect(bad.output).toContain("nope");
    const slow = await runProbe({ argv: ["/bin/sh", "-c", "sleep 5"], env: {}, timeoutSeconds: 0.3 });
    expect(slow.ok).toBe(false);
    expect(slow.timedOut).toBe(true);
    expect(slow.durationMs).toBeLessThan(2000);
  });

  it("first probe one interval after start; UNKNOWN until then", async () => {
    writeFileSync(flag("a"), "");
    const m = new HealthMonitor({ interval: 0.4, timeout: 0.5, retries: 2, startPeriod: 0 }, probeFor(flag("a")));
    m.start();
    await sleep(200);
    expect(m.status).toBe("UNKNOWN");
    expect(m.events).toHaveLength(0);
    await m.waitFor("HEALTHY", 2000);
    m.stop();
  });

  it("failures inside startPeriod do not count; after it, `retries` consecutive failures make UNHEALTHY", async () => {
    const m = new HealthMonitor({ interval: 0.1, timeout: 0.5, retries: 2, startPeriod: 0.8 }, probeFor(flag("never")));
    const t0 = Date.now();
    m.start(t0);
    await sleep(600);
    expect(m.status).toBe("UNKNOWN");
    expect(m.events.length).toBeGreaterThanOrEqual(2);
    expect(m.events.every((e) => e.ignored)).toBe(true);
    await m.waitFor("UNHEALTHY", 3000);
    const counted = m.events.filter((e) => !e.ignored);
    expect(counted).toHaveLength(2);
    expect(counted[0]!.at - t0).toBeGreaterThanOrEqual(800);
    m.stop();
  });

  it("a success inside startPeriod makes HEALTHY at once, and later failures count even inside it", async () => {
    writeFileSync(flag("b"), "");
    const m = new HealthMonitor({ interval: 0.1, timeout: 0.5, retries: 2, startPeriod: 30 }, probeFor(flag("b")));
    m.start();
    await m.waitFor("HEALTHY", 2000);
    rmSync(flag("b"));
    await m.waitFor("UNHEALTHY", 2000);
    expect(m.events.filter((e) => !e.result.ok && !e.ignored).length).toBe(2);
    // One success resets the count and the status.
    writeFileSync(flag("b"), "");
    await m.waitFor("HEALTHY", 2000);
    m.stop();
  });

  it("a timed-out probe counts as a failure", async () => {
    const m = new HealthMonitor({ interval: 0.1, timeout: 0.2, retries: 1, startPeriod: 0 }, () => runProbe({ argv: ["/bin/sh", "-c", "sleep 3"], env: {}, timeoutSeconds: 0.2 }));
    m.start();
    await m.waitFor("UNHEALTHY", 3000);
    expect(m.events[0]!.result.timedOut).toBe(true);
    m.stop();
  });

  it("probeNow runs one probe on demand without changing the status", async () => {
    writeFileSync(flag("c"), "");
    const m = new HealthMonitor({ interval: 60, timeout: 1, retries: 3, startPeriod: 0 }, probeFor(flag("c")));
    m.start();
    expect((await m.probeNow()).ok).toBe(true);
    rmSync(flag("c"));
    expect((await m.probeNow()).ok).toBe(false);
    expect(m.status).toBe("UNKNOWN");
    m.stop();
  });
});

describe("dependsOn", () => {
  it("orders dependencies first and refuses cycles and unknown names", () => {
    expect(startOrder([{ name: "proxy", dependsOn: [{ containerName: "app", condition: "HEALTHY" }] }, { name: "app" }])).toEqual(["app", "proxy"]);
    expect(() => startOrder([{ name: "a", dependsOn: [{ containerName: "b", condition: "START" }] }, { name: "b", dependsOn: [{ containerName: "a", condition: "START" }] }])).toThrow(/cycle/);
    expect(() => startOrder([{ name: "a", dependsOn: [{ containerName: "zz", condition: "START" }] }])).toThrow(/not a container/);
  });

  it("START, HEALTHY, COMPLETE, SUCCESS", () => {
    const running = { started: true, exited: false, exitCode: undefined, health: "UNKNOWN" as const };
    expect(conditionMet("START", running)).toBe(true);
    expect(conditionMet("START", { ...running, started: false })).toBe(false);
    expect(conditionMet("HEALTHY", running)).toBe(false);
    expect(conditionMet("HEALTHY", { ...running, health: "HEALTHY" })).toBe(true);
    expect(conditionMet("HEALTHY", { ...running, health: "UNHEALTHY" })).toBe("never");
    expect(conditionMet("HEALTHY", { ...running, exited: true, exitCode: 1 })).toBe("never");
    expect(conditionMet("COMPLETE", running)).toBe(false);
    expect(conditionMet("COMPLETE", { ...running, exited: true, exitCode: 1 })).toBe(true);
    expect(conditionMet("SUCCESS", { ...running, exited: true, exitCode: 0 })).toBe(true);
    expect(conditionMet("SUCCESS", { ...running, exited: true, exitCode: 2 })).toBe("never");
  });
});
