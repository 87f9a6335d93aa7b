import { describe, expect, it } from "vitest";
import { ENVS, synthPlatform } from "../../test/support/synth.js";
import { factsFor } from "./images.js";
import { fakeSubstitutions } from "./fixtures.js";
import { diff, launchEnvOf, parseValueFrom, secretValue, substituteValue, SUBSTITUTION_TABLE, unresolvedIn } from "./substitute.js";
import { PLACEHOLDER_RE, taskDefinitionsOf, type ContainerDefinition } from "./taskdefs.js";

describe.each(Object.entries(ENVS))("launch environments of %s", (name, env) => {
  const tasks = taskDefinitionsOf(synthPlatform(env));

  it("every container's launched environment differs from its definition only by documented substitutions", () => {
    for (const defs of Object.values(tasks)) {
      for (const def of defs) {
        const subs = fakeSubstitutions(name, defs);
        const launched = launchEnvOf(def, subs);
        expect(diff(launched, def, subs), `${def.name}`).toEqual([]);
        expect(unresolvedIn(launched)).toEqual({});
        // Every variable of the definition is there.
        for (const e of [...def.environment, ...def.secrets]) expect(launched).toHaveProperty(e.name);
      }
    }
  });

  it("maps service discovery, bind addresses and container paths", () => {
    const ow = tasks.openwebui!.find((d) => d.name === "openwebui")!;
    const subs = fakeSubstitutions(name, tasks.openwebui!);
    const launched = launchEnvOf(ow, subs);
    expect(launched.OPENAI_API_BASE_URLS).toBe("http://127.0.1.11:4000/v1");
    expect(launched.DATA_DIR).toBe(`${subs.taskDir}/openwebui/app/backend/data`);
    expect(launched.HF_HOME).toBe(`${subs.taskDir}/openwebui/app/backend/data/cache/embedding/models`);
    expect(launched.HOME).toBe(`${subs.taskDir}/openwebui/root`);
    expect(launched.PATH).toBe("/opt/fake/owui/bin:/usr/bin:/bin");
    expect(launched.DATABASE_URL).toBe("secret-DATABASE_URL");
    expect(launched.SSL_CERT_FILE).toBe("/tmp/owui-e2e-test/ca.pem");
    const proxy = tasks.openwebui!.find((d) => d.name === "oauth2-proxy");
    if (proxy) {
      const p = launchEnvOf(proxy, subs);
      expect(p.OAUTH2_PROXY_HTTP_ADDRESS).toBe("127.0.1.10:4180");
      expect(p.OAUTH2_PROXY_UPSTREAMS).toBe("http://127.0.1.10:8080");
      expect(p.OAUTH2_PROXY_OIDC_ISSUER_URL).toMatch(/^https:\/\/127\.0\.0\.1:9443\/cognito\/ref-/);
    }
  });
});

describe("diff", () => {
  const tasks = taskDefinitionsOf(synthPlatform(ENVS.sandbox));
  const ow = tasks.openwebui!.find((d) => d.name === "openwebui")!;
  const subs = fakeSubstitutions("sandbox", tasks.openwebui!);
  const launched = launchEnvOf(ow, subs);

  it("reports a changed variable (with the definition's value)", () => {
    const d = diff({ ...launched, ENABLE_SIGNUP: "true" }, ow, subs);
    expect(d).toEqual([{ name: "ENABLE_SIGNUP", kind: "changed", expected: "false", actual: "true", defined: "false" }]);
  });

  it("reports an added and a removed variable", () => {
    const { WEBUI_AUTH: _gone, ...rest } = launched;
    const d = diff({ ...rest, ENABLE_OAUTH_SIGNUP: "true" }, ow, subs);
    expect(d.map((x) => `${x.kind} ${x.name}`)).toEqual(["added ENABLE_OAUTH_SIGNUP", "removed WEBUI_AUTH"]);
  });

  it("reports a secret that is not the fixture's, a path not mapped, and an unresolved reference", () => {
    const noRefs = { ...subs, references: {} };
    const d = diff({ ...launched, WEBUI_SECRET_KEY: "other", DATA_DIR: "/app/backend/data" }, ow, noRefs);
    expect(d.map((x) => x.name)).toEqual(expect.arrayContaining(["WEBUI_SECRET_KEY", "DATA_DIR"]));
    // The sidecar's definition holds Terraform references (the Cognito issuer, client id): one left
    // unresolved is reported. (Open WebUI's own variables hold none in sandbox.)
    const proxy = tasks.openwebui!.find((c) => c.name === "oauth2-proxy")!;
    const ref = proxy.environment.find((e) => new RegExp(PLACEHOLDER_RE.source).test(e.value));
    expect(ref, "the sidecar's definition has a variable holding a Terraform reference").toBeDefined();
    const unresolved = diff({ ...launchEnvOf(proxy, subs), [ref!.name]: ref!.value }, proxy, noRefs);
    expect(unresolved.map((x) => x.name)).toContain(ref!.name);
  });

  it("does not report documented substitutions (addresses, paths, secrets, extras, image env)", () => {
    expect(diff(launched, ow, subs)).toEqual([]);
    expect(launched.OPENAI_API_BASE_URLS).not.toBe(ow.environment.find((e) => e.name === "OPENAI_API_BASE_URLS")!.value);
  });

  it("refuses an extra variable that would override the definition", () => {
    expect(() => launchEnvOf(ow, { ...subs, extraEnv: [{ name: "ENABLE_SIGNUP", value: "true", reason: "sneaky" }] })).toThrow(/override the task definition/);
    expect(() => launchEnvOf(ow, { ...subs, extraEnv: [{ name: "X", value: "1", reason: " " }] })).toThrow(/no reason/);
  });

  it("documents each kind of substitution", () => {
    expect(SUBSTITUTION_TABLE.map((r) => r.kind)).toEqual(["reference", "discovery", "endpoint", "bind", "secret", "path", "program", "omit", "extra"]);
  });

  it("leaves out an omitted variable only with a reason, and only for the containers named", () => {
    const name = ow.secrets[0]?.name ?? ow.environment[0]!.name;
    const omitted = launchEnvOf(ow, { ...subs, omitEnv: [{ name, reason: "a dependency that cannot run here", containers: [ow.name] }] });
    expect(omitted[name]).toBeUndefined();
    expect(diff(omitted, ow, { ...subs, omitEnv: [{ name, reason: "a dependency that cannot run here" }] })).toEqual([]);
    // The same launch judged without the omission: the variable is reported missing.
    expect(diff(omitted, ow, subs).map((d) => [d.name, d.kind])).toContainEqual([name, "removed"]);
    expect(launchEnvOf(ow, { ...subs, omitEnv: [{ name, reason: "elsewhere only", containers: ["another-container"] }] })[name]).toBeDefined();
    expect(() => launchEnvOf(ow, { ...subs, omitEnv: [{ name, reason: " " }] })).toThrow(/no reason/);
  });
});

describe("secrets and values", () => {
  const def: ContainerDefinition = {
    name: "app",
    image: "ghcr.io/open-webui/mcpo:v0.0.20",
    essential: true,
    environment: [{ name: "BIND", value: "0.0.0.0:8000" }],
    secrets: [],
    portMappings: [],
    readonlyRootFilesystem: false,
    mountPoints: [{ sourceVolume: "s", containerPath: "/data", readOnly: false }],
  };
  const subs = fakeSubstitutions("sandbox", [def], { secrets: { "<aws_secretsmanager_secret.db.arn>": JSON.stringify({ url: "postgresql://u:p@127.0.0.1:5432/db", port: 5432 }), "<aws_secretsmanager_secret.tools.arn>": "[{\"url\":\"http://mcpo.owui-sandbox.internal:8000/time\"}]" } });

  it("parses valueFrom with and without a JSON key", () => {
    expect(parseValueFrom("<aws_secretsmanager_secret.db.arn>:url::")).toEqual({ arn: "<aws_secretsmanager_secret.db.arn>", jsonKey: "url" });
    expect(parseValueFrom("arn:aws:secretsmanager:us-east-1:1:secret:db-AbC:url:AWSCURRENT:")).toEqual({ arn: "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC", jsonKey: "url", versionStage: "AWSCURRENT" });
    expect(parseValueFrom("arn:aws:ssm:us-east-1:1:parameter/a/b")).toEqual({ arn: "arn:aws:ssm:us-east-1:1:parameter/a/b" });
  });

  it("picks JSON keys as ECS does, keeps 127.0.0.1 in fixtures, maps discovery names in them", () => {
    expect(secretValue("<aws_secretsmanager_secret.db.arn>:url::", subs)).toBe("postgresql://u:p@127.0.0.1:5432/db");
    expect(secretValue("<aws_secretsmanager_secret.db.arn>:port::", subs)).toBe("5432");
    expect(() => secretValue("<aws_secretsmanager_secret.db.arn>:nope::", subs)).toThrow(/no JSON key "nope"/);
    expect(() => secretValue("<aws_secretsmanager_secret.tools.arn>:url::", subs)).toThrow(/not JSON|no JSON key/);
    expect(secretValue("<aws_secretsmanager_secret.tools.arn>", subs)).toBe("[{\"url\":\"http://127.0.1.12:8000/time\"}]");
    expect(() => secretValue("<aws_secretsmanager_secret.missing.arn>", subs)).toThrow(/no fixture value/);
  });

  it("maps container paths only at path boundaries, and bind addresses only as whole addresses", () => {
    const facts = factsFor(def.image).facts;
    const v = (t: string) => substituteValue(t, def, subs, facts);
    expect(v("/data")).toBe(`${subs.taskDir}/app/data`);
    expect(v("--config=/data/x.json")).toBe(`--config=${subs.taskDir}/app/data/x.json`);
    expect(v("/database")).toBe("/database");
    expect(v("http://example.com/data")).toBe("http://example.com/data");
    expect(v("0.0.0.0:8000 127.0.0.1 10.0.0.0 127.0.0.10 http://localhost:80/x")).toBe("127.0.1.10:8000 127.0.1.10 10.0.0.0 127.0.0.10 http://127.0.1.10:80/x");
    expect(() => v("http://nosuch.owui-sandbox.internal:1")).toThrow(/no local task for service "nosuch"/);
  });
});
