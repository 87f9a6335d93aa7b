/**
 * `ops secrets`/`ops doctor` without AWS: the formats of generated values, the classification of
 * the stack's secrets (against the placeholders the layers declare), the tool-server connection
 * JSON (against the one the services layer describes), the template evaluator (against the
 * identity layer's sign-out URL), and doctor's comparison and rollout rules on fixed inputs.
 */
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { queryEscape } from "../lib/hcl-template.js";
import { cognitoLogoutUrl } from "../modules/identity/wiring.js";
import { TOOL_SERVER_ACCESS_GRANTS } from "../modules/services/index.js";
import { TemplateEvaluator } from "../ops/lib/ecs-template.js";
import { containerChecks, fixStuckCommand, isWatched, rolloutChecks, valueCheck } from "../ops/lib/doctor.js";
import type { LiveService } from "../ops/lib/ecs.js";
import { mcpoOf, operatorParameters, stackSecrets } from "../ops/lib/secrets.js";
import { GENERATORS, cookieSecret, toolServerConnectionsJson } from "../ops/lib/secrets-format.js";
import { stackOf } from "../ops/lib/stack.js";
import { CertificateStack } from "../stacks/certificate-stack.js";
import { PlatformStack } from "../stacks/platform-stack.js";
import { ENVS, synthPlatform } from "./support/synth.js";

const stackOfEnv = (name: keyof typeof ENVS) => stackOf(name, synthPlatform(ENVS[name]).json);

describe("generated values", () => {
  it("oauth2-proxy's cookie secret is 32 random bytes as URL-safe base64 without padding", () => {
    const values = Array.from({ length: 50 }, () => cookieSecret());
    for (const v of values) {
      expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(v, "base64url")).toHaveLength(32);
    }
    expect(new Set(values).size).toBe(50);
    expect(GENERATORS["oauth2-proxy-cookie-secret"].generate({})).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("LiteLLM's master key is sk- and 64 hex characters; the bearer keys are 64 hex characters", () => {
    expect(GENERATORS["litellm-master-key"].generate({})).toMatch(/^sk-[0-9a-f]{64}$/);
    for (const id of ["openwebui-secret-key", "mcpo-api-key", "scim-token"] as const) expect(GENERATORS[id].generate({})).toMatch(/^[0-9a-f]{64}$/);
    const password = GENERATORS["admin-password"].generate({});
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(password, "base64url")).toHaveLength(24);
  });

  it("the tool-server connections are exactly the JSON the services layer describes, with the mcpo key and grants for every user", () => {
    for (const name of ["sandbox", "nonprod"] as const) {
      const stack = stackOfEnv(name);
      const secrets = stackSecrets(stack);
      const mcpo = mcpoOf(stack, secrets);
      expect(mcpo.url).toBe(`http://mcpo.owui-${name}.internal:8000`);
      expect(mcpo.servers).toEqual(Object.keys(ENVS[name].services.mcpo.servers).sort());
      const key = GENERATORS["mcpo-api-key"].generate({});
      const json = GENERATORS["tool-server-connections"].generate({ mcpoKey: key, mcpoUrl: mcpo.url, mcpoServers: mcpo.servers });
      const description = secrets.find((s) => s.generator === "tool-server-connections")!.description;
      const described = description.slice(description.indexOf(": [") + 2).replaceAll("<mcpo api key>", key);
      expect(JSON.parse(json)).toEqual(JSON.parse(described));
      const entries = JSON.parse(json) as any[];
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e).toMatchObject({ type: "openapi", auth_type: "bearer", key, config: { enable: true, access_grants: [{ principal_type: "user", principal_id: "*", permission: "read" }] } });
        expect(e.url).toBe(`${mcpo.url}/${e.info.id}`);
      }
      expect(TOOL_SERVER_ACCESS_GRANTS).toEqual(entries[0].config.access_grants);
    }
  });

  it("refuses to build the connections without the mcpo key", () => {
    expect(() => GENERATORS["tool-server-connections"].generate({ mcpoUrl: "http://x", mcpoServers: ["a"] })).toThrow(/need the mcpo key/);
    expect(JSON.parse(toolServerConnectionsJson("http://m:8000", ["b", "a"], "k")).map((e: any) => e.url)).toEqual(["http://m:8000/a", "http://m:8000/b"]);
  });
});

describe("the stack's secrets", () => {
  it("the generated and operator secrets are exactly the placeholders the layers declare, per auth mode", () => {
    for (const name of ["sandbox", "nonprod", "prod"] as const) {
      const app = Testing.app();
      const env = ENVS[name];
      const platform = new PlatformStack(app, env.name, { env, certificate: new CertificateStack(app, `${env.name}-certificate`, env) });
      const declared = [...platform.identity.placeholders, ...platform.services.placeholders].map((p) => p.secretName).sort();
      const found = stackSecrets(stackOfEnv(name)).filter((s) => s.source === "generated" || s.source === "operator");
      expect(found.map((s) => s.name).sort()).toEqual(declared);
    }
  });

  it("sandbox (oauth2-proxy, Cognito): seven generated, none operator-only; the Cognito client secret is Terraform's, the database logins the platform's", () => {
    const secrets = stackSecrets(stackOfEnv("sandbox"));
    const by = (source: string) => secrets.filter((s) => s.source === source).map((s) => s.generator ?? s.name).sort();
    expect(by("generated")).toEqual(["admin-password", "litellm-master-key", "mcpo-api-key", "oauth2-proxy-cookie-secret", "openwebui-secret-key", "scim-token", "tool-server-connections"]);
    expect(by("operator")).toEqual([]);
    expect(by("terraform")).toEqual(["owui/sandbox/cognito/client-secret"]);
    expect(by("platform")).toEqual(["owui/sandbox/litellm/database", "owui/sandbox/openwebui/database"]);
    expect(secrets.find((s) => s.generator === "litellm-master-key")!.consumers.map((c) => c.variable).sort()).toEqual(["LITELLM_MASTER_KEY", "OPENAI_API_KEYS", "RAG_OPENAI_API_KEY"]);
    expect(operatorParameters(stackOfEnv("sandbox"))).toEqual([]);
  });

  it("nonprod (native OIDC, Entra): the client secret and the Entra id parameters are the operator's", () => {
    const stack = stackOfEnv("nonprod");
    const secrets = stackSecrets(stack);
    expect(secrets.filter((s) => s.source === "operator").map((s) => [s.name, s.consumers.map((c) => c.variable)])).toEqual([["owui/nonprod/openwebui/oauth-client-secret", ["OAUTH_CLIENT_SECRET"]]]);
    expect(secrets.some((s) => s.generator === "oauth2-proxy-cookie-secret")).toBe(false);
    expect(operatorParameters(stack).map((p) => [p.name, p.readAt])).toEqual([
      ["/owui/nonprod/entra/client-id", ["task start"]],
      ["/owui/nonprod/entra/tenant-id", ["plan"]],
    ]);
  });
});

describe("template evaluation", () => {
  it("evaluates the sign-out URL local (urlencode of references) as Terraform would", () => {
    const stack = stackOfEnv("sandbox");
    const ev = new TemplateEvaluator(stack, (a) => (a.startsWith("aws_cognito_user_pool_domain.") ? "owui-sandbox-auth" : a.startsWith("aws_cognito_user_pool_client.") ? "client123" : undefined));
    const value = ev.evaluate("${local.openwebui_signout_redirect_url}");
    const logout = cognitoLogoutUrl({ domainHost: "owui-sandbox-auth.auth.us-east-1.amazoncognito.com", clientId: "client123" }, `https://${ENVS.sandbox.hostname}/`);
    expect(value).toBe(`/oauth2/sign_out?rd=${queryEscape(logout)}`);
  });

  it("keeps unresolved references as holes and matches them as any text, the literal parts exactly", () => {
    const stack = stackOfEnv("sandbox");
    const ev = new TemplateEvaluator(stack);
    const expected = String(ev.evaluate("${local.openwebui_signout_redirect_url}"));
    expect(ev.holesIn(expected).sort()).toEqual([expect.stringMatching(/^aws_cognito_user_pool_client\..+\.id$/), expect.stringMatching(/^aws_cognito_user_pool_domain\..+\.domain$/)]);
    const live = `/oauth2/sign_out?rd=${queryEscape(cognitoLogoutUrl({ domainHost: "d-1.auth.us-east-1.amazoncognito.com", clientId: "abc" }, `https://${ENVS.sandbox.hostname}/`))}`;
    expect(ev.matches(expected, live)).toBe(true);
    expect(ev.matches(expected, live.replace("us-east-1", "eu-west-1"))).toBe(false);
    expect(ev.matches(expected, "/oauth2/sign_out")).toBe(false);
    expect(ev.show(expected)).toContain("${aws_cognito_user_pool_domain.");
  });

  it("decodes every synthesized task definition's containers", () => {
    const stack = stackOfEnv("sandbox");
    const ev = new TemplateEvaluator(stack);
    const openwebui = stack.resources("aws_ecs_task_definition").find(([, t]) => t.family === "owui-sandbox-openwebui")![1];
    const containers = ev.containers(openwebui);
    expect(containers.map((c) => c.name)).toEqual(["openwebui", "oauth2-proxy"]);
    expect(containers[0]!.environment).toContainEqual({ name: "WEBUI_AUTH", value: "true" });
  });
});

describe("doctor's rules", () => {
  const ev = new TemplateEvaluator(stackOfEnv("sandbox"));

  it("watches the settings that broke sign-ins, and not the rest", () => {
    for (const n of ["WEBUI_AUTH", "WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "WEBUI_AUTH_TRUSTED_NAME_HEADER", "WEBUI_AUTH_SIGNOUT_REDIRECT_URL", "ENABLE_SIGNUP", "DEFAULT_USER_ROLE", "OAUTH_ADMIN_ROLES", "OAUTH_ROLES_CLAIM", "OAUTH2_PROXY_COOKIE_EXPIRE"]) expect(isWatched(n), n).toBe(true);
    for (const n of ["DATA_DIR", "AWS_REGION", "VECTOR_DB", "WEBUI_AUTH_COOKIE_SECURE"]) expect(isWatched(n), n).toBe(false);
  });

  it("compares literal values exactly and reports both sides", () => {
    expect(valueCheck("x", "true", "true", ev)).toMatchObject({ ok: true, detail: '= "true"' });
    expect(valueCheck("x", "true", "false", ev)).toMatchObject({ ok: false, detail: 'live "false", synthesized "true"' });
    expect(valueCheck("x", undefined, "1", ev).ok).toBe(false);
    expect(valueCheck("x", "1", undefined, ev).ok).toBe(false);
  });

  it("finds drift in one container's image, watched variables, other variables and secrets", () => {
    const synth = { name: "c", image: "img:1", environment: [{ name: "WEBUI_AUTH", value: "true" }, { name: "DATA_DIR", value: "/d" }], secrets: [{ name: "K", valueFrom: "arn:k" }] };
    const same = containerChecks("svc", synth, { name: "c", image: "img:1", environment: { WEBUI_AUTH: "true", DATA_DIR: "/d" }, secrets: { K: "arn:k" } }, ev);
    expect(same.every((c) => c.ok)).toBe(true);
    const drift = containerChecks("svc", synth, { name: "c", image: "img:2", environment: { WEBUI_AUTH: "false", DATA_DIR: "/e", EXTRA: "1" }, secrets: {} }, ev);
    expect(Object.fromEntries(drift.map((c) => [c.name, c.ok]))).toEqual({ "svc/c image": false, "svc/c WEBUI_AUTH": false, "svc/c other environment": false, "svc/c secrets": false });
    expect(drift.find((c) => c.name === "svc/c other environment")!.detail).toBe("differ: DATA_DIR, EXTRA (only live)");
    expect(drift.find((c) => c.name === "svc/c secrets")!.detail).toBe("differ: K (missing live)");
  });

  const service = (deployments: LiveService["deployments"], running = 1): LiveService => ({ name: "s", status: "ACTIVE", taskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/f:2", desiredCount: 1, runningCount: running, pendingCount: 0, deployments });
  const dep = (id: string, status: string, rolloutState: string) => ({ id, status, taskDefinition: `arn:aws:ecs:us-east-1:1:task-definition/f:${id}`, desiredCount: 1, runningCount: 0, rolloutState });

  it("calls a deployment stuck when several are IN_PROGRESS or one FAILED, and prints the one fix", () => {
    const fix = fixStuckCommand("us-east-1", "c", "s", "arn:aws:ecs:us-east-1:1:task-definition/f:2");
    expect(fix).toBe("aws ecs update-service --region us-east-1 --cluster c --service s --task-definition arn:aws:ecs:us-east-1:1:task-definition/f:2 --force-new-deployment");
    const [counts, ok] = rolloutChecks("sandbox", "us-east-1", "c", service([dep("2", "PRIMARY", "COMPLETED")]), false);
    expect(counts!.ok && ok!.ok).toBe(true);
    const single = rolloutChecks("sandbox", "us-east-1", "c", service([dep("2", "PRIMARY", "IN_PROGRESS")]), false)[1]!;
    expect(single.ok).toBe(true);
    const two = rolloutChecks("sandbox", "us-east-1", "c", service([dep("2", "PRIMARY", "IN_PROGRESS"), dep("1", "ACTIVE", "IN_PROGRESS")]), false)[1]!;
    expect(two.ok).toBe(false);
    expect(two.detail).toContain(`2 deployments IN_PROGRESS`);
    expect(two.detail).toContain(`Fix: ${fix}`);
    const failed = rolloutChecks("sandbox", "us-east-1", "c", service([dep("2", "PRIMARY", "FAILED")]), false)[1]!;
    expect(failed.ok).toBe(false);
    expect(failed.detail).toContain("circuit breaker tripped");
    expect(failed.detail).toContain(fix);
    expect(rolloutChecks("sandbox", "us-east-1", "c", service([dep("2", "PRIMARY", "FAILED")]), true)[1]!.detail).toContain("pnpm exec cdktf deploy sandbox");
    const short = rolloutChecks("sandbox", "us-east-1", "c", service([dep("2", "PRIMARY", "COMPLETED")], 0), false)[0]!;
    expect(short).toMatchObject({ ok: false });
    expect(short.detail).toMatch(/^0 running of 1 desired/);
  });
});
