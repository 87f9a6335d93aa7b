/**
 * The auth guardrails (modules/policy/auth): for every rule, refused configs (the message and the
 * config path asserted) and accepted ones, each built from an env `auth` section and wired by the
 * identity layer's pure wiring (so what is checked is exactly what the task would run). Overrides are
 * applied before the rules and named as the culprit; there is no other way to change an auth variable.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { ConfigErrors } from "../lib/errors.js";
import { wireAuth, type AuthRefs } from "../modules/identity/wiring.js";
import { AUTH_RULES, auditAuth, escapesPrefix, skipRoutes, type AuthView } from "../modules/policy/index.js";
import { CertificateStack } from "../stacks/certificate-stack.js";
import { PlatformStack } from "../stacks/platform-stack.js";
import { Testing } from "cdktf";
import { ENVS, withAuth } from "./support/synth.js";

const COGNITO = { emailDomains: ["example.com"] };
const PROXY = { mode: "oauth2-proxy", idp: "cognito", cognito: COGNITO, admin: { email: "owui-admins@example.com" } };
const ENTRA = { mode: "oidc", idp: "entra", entra: { tenantId: "11111111-2222-4333-8444-555555555555", clientId: "66666666-7777-4888-9999-000000000000" }, admin: { email: "owui-admins@example.com" } };
const OIDC_COGNITO = { mode: "oidc", idp: "cognito", cognito: COGNITO, admin: { email: "owui-admins@example.com" } };
const reason = "a reasoned change for this test";

/** References as the identity layer would hand them (plain strings: the wiring is pure). */
const REFS: Omit<AuthRefs, "envName" | "hostname"> = {
  alb: { subnetCidrs: ["10.0.0.0/24", "10.0.1.0/24"], idleTimeoutSeconds: 300 },
  userPool: { issuerUrl: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc", domainHost: "owui-test.auth.us-east-1.amazoncognito.com", clientId: "client-id", clientSecret: { secretArn: "arn:client-secret", secretName: "client-secret" } },
  entra: { tenantId: "11111111-2222-4333-8444-555555555555", clientId: "66666666-7777-4888-9999-000000000000", clientSecret: { secretArn: "arn:entra-secret", secretName: "entra-secret" } },
  scimToken: { secretArn: "arn:scim", secretName: "scim" },
  cookieSecret: { secretArn: "arn:cookie", secretName: "cookie" },
  adminPassword: { secretArn: "arn:admin-password", secretName: "admin-password" },
  signOutUrl: "/oauth2/sign_out?rd=x",
};

const envOf = (auth: object): EnvConfig => withAuth(ENVS.nonprod, auth);
const wire = (env: EnvConfig) => wireAuth(env.auth, { ...REFS, envName: env.name, hostname: env.hostname });

/** The refusal `wire(auth)` throws (fails the test when it is accepted). */
function refusal(auth: object): ConfigErrors {
  try {
    wire(envOf(auth));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigErrors);
    return e as ConfigErrors;
  }
  throw new Error("expected the auth config to be refused, but it was accepted");
}

/** The one error of rule `id` in a refusal. */
function errorOf(err: ConfigErrors, id: string) {
  const hits = err.errors.filter((e) => e.problem.startsWith(`${id}: `));
  expect(hits, `${id} in:\n${err.message}`).toHaveLength(1);
  return hits[0]!;
}

const withOverrides = (base: object, ...overrides: { container: string; name: string; value: string }[]) => ({ ...base, overrides: overrides.map((o) => ({ ...o, reason })) });
const owui = (name: string, value: string) => ({ container: "openwebui", name, value });
const proxy = (name: string, value: string) => ({ container: "oauth2-proxy", name, value });

interface RuleCases {
  readonly refused: readonly { readonly title: string; readonly auth: object; readonly path: string; readonly message: RegExp; readonly fix: RegExp }[];
  readonly accepted: readonly { readonly title: string; readonly auth: object }[];
}

const AT_OVERRIDE = "nonprod: auth.overrides[0]";
const AT_AUTH = "nonprod: auth";

const CASES: Record<string, RuleCases> = {
  "OWUI-AUTH-1": {
    refused: [
      { title: "WEBUI_AUTH=false (native OIDC)", auth: withOverrides(ENTRA, owui("WEBUI_AUTH", "false")), path: AT_OVERRIDE, message: /^OWUI-AUTH-1: WEBUI_AUTH is "false", Open WebUI's single-user mode: every visitor becomes the one admin/, fix: /leave WEBUI_AUTH unset or "true"/ },
      { title: "WEBUI_AUTH=no behind the proxy (Open WebUI reads anything but true as false)", auth: withOverrides(PROXY, owui("WEBUI_AUTH", "no")), path: AT_OVERRIDE, message: /^OWUI-AUTH-1: WEBUI_AUTH is "no".*EXISTING_USERS/, fix: /"true"/ },
    ],
    accepted: [
      { title: "the default (WEBUI_AUTH=true)", auth: ENTRA },
      { title: "WEBUI_AUTH=True (any case)", auth: withOverrides(PROXY, owui("WEBUI_AUTH", "True")) },
    ],
  },
  "OWUI-AUTH-2": {
    refused: [
      { title: "PREFER_EMAIL_TO_USER=true while trusting X-Forwarded-Email", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PREFER_EMAIL_TO_USER", "true")), path: AT_OVERRIDE, message: /^OWUI-AUTH-2: OAUTH2_PROXY_PREFER_EMAIL_TO_USER is true while Open WebUI trusts X-Forwarded-Email \(WEBUI_AUTH_TRUSTED_EMAIL_HEADER, WEBUI_AUTH_TRUSTED_NAME_HEADER\): .*neither sends nor strips X-Forwarded-Email, so a client's own copy reaches Open WebUI/, fix: /keep OAUTH2_PROXY_PREFER_EMAIL_TO_USER false/ },
      { title: "PREFER_EMAIL_TO_USER=1 (Go's ParseBool true)", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PREFER_EMAIL_TO_USER", "1")), path: AT_OVERRIDE, message: /^OWUI-AUTH-2: /, fix: /false/ },
    ],
    accepted: [
      { title: "the default (false)", auth: PROXY },
      { title: "true while Open WebUI trusts X-Forwarded-User (which then carries the email, stripped)", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PREFER_EMAIL_TO_USER", "true"), owui("WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "X-Forwarded-User"), owui("WEBUI_AUTH_TRUSTED_NAME_HEADER", "X-Forwarded-User")) },
    ],
  },
  "OWUI-AUTH-3": {
    refused: [{ title: "PASS_AUTHORIZATION_HEADER=true", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER", "true")), path: AT_OVERRIDE, message: /^OWUI-AUTH-3: .*overwrites every request's Authorization header .*Open WebUI's own JWTs, its sk- API keys and the SCIM bearer token never arrive/, fix: /keep OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER false/ }],
    accepted: [{ title: "explicitly false", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER", "false")) }],
  },
  "OWUI-AUTH-4": {
    refused: [{ title: "trusting X-Auth-Request-Email behind the proxy", auth: withOverrides(PROXY, owui("WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "X-Auth-Request-Email")), path: AT_OVERRIDE, message: /^OWUI-AUTH-4: WEBUI_AUTH_TRUSTED_EMAIL_HEADER trusts "X-Auth-Request-Email", an nginx auth_request response header: .*the only value Open WebUI sees is one a client sent/, fix: /trust X-Forwarded-Email/ }],
    accepted: [{ title: "trusting X-Forwarded-Email", auth: PROXY }],
  },
  "OWUI-AUTH-5": {
    refused: [{ title: "ENABLE_PASSWORD_AUTH=false with trusted headers", auth: withOverrides(PROXY, owui("ENABLE_PASSWORD_AUTH", "false")), path: AT_OVERRIDE, message: /^OWUI-AUTH-5: ENABLE_PASSWORD_AUTH is "false" while WEBUI_AUTH_TRUSTED_EMAIL_HEADER is set: .*signin then answers 403 .*nobody can sign in/, fix: /leave ENABLE_PASSWORD_AUTH true/ }],
    accepted: [{ title: "ENABLE_PASSWORD_AUTH=false with native OIDC (no trusted header: the default there)", auth: ENTRA }],
  },
  "OWUI-AUTH-6": {
    refused: [
      { title: "an unanchored route", auth: { ...PROXY, proxy: { skipAuthRoutes: ["/api/v1/scim/v2/"] } }, path: AT_AUTH, message: /^OWUI-AUTH-6: skip-auth entry "\/api\/v1\/scim\/v2\/" in OAUTH2_PROXY_SKIP_AUTH_ROUTES is not anchored with \^/, fix: /anchored paths outside \/api\/v1\/auths\// },
      { title: "a negated route", auth: { ...PROXY, proxy: { skipAuthRoutes: ["GET!=^/api/v1/scim/v2/"] } }, path: AT_AUTH, message: /^OWUI-AUTH-6: skip-auth entry "GET!=\^\/api\/v1\/scim\/v2\/" .*is negated \(!=\): oauth2-proxy then skips auth for every path that does NOT match/, fix: /anchored/ },
      { title: "a route reaching the signup route", auth: { ...PROXY, proxy: { skipAuthRoutes: ["POST=^/api/v1/auths/signup$"] } }, path: AT_AUTH, message: /^OWUI-AUTH-6: .*matches \/api\/v1\/auths\/signup: .*an open signup on an empty database makes that caller admin/, fix: /outside \/api\/v1\/auths\// },
      { title: "a wide anchored route that also covers /api/v1/auths/", auth: { ...PROXY, proxy: { skipAuthRoutes: ["^/api/(v1|v2)/"] } }, path: AT_AUTH, message: /^OWUI-AUTH-6: skip-auth entry "\^\/api\/\(v1\|v2\)\/" .*matches \/api\/v1\/auths\//, fix: /anchored/ },
      { title: "a route that does not compile", auth: { ...PROXY, proxy: { skipAuthRoutes: ["^/api/v1/scim/v2/(?i)users"] } }, path: AT_AUTH, message: /^OWUI-AUTH-6: .*cannot be checked \(the regex does not compile\)/, fix: /anchored/ },
    ],
    accepted: [
      { title: "the SCIM prefix and anchored narrowings of it (backslashes and $)", auth: { ...PROXY, scim: { exposeThroughProxy: true }, proxy: { skipAuthRoutes: ["POST=^/api/v1/scim/v2/Users$", "GET=^/api/v1/scim/v2/Users/[\\w-]+$"] } } },
      { title: "no route at all", auth: PROXY },
    ],
  },
  "OWUI-AUTH-7": {
    refused: [
      { title: "a trusted email header with native OIDC (Entra)", auth: withOverrides(ENTRA, owui("WEBUI_AUTH_TRUSTED_EMAIL_HEADER", "X-Forwarded-Email")), path: AT_OVERRIDE, message: /^OWUI-AUTH-7: WEBUI_AUTH_TRUSTED_EMAIL_HEADER is set \("X-Forwarded-Email"\) in mode "oidc", which has no proxy .*anyone who reaches the ALB can send that header and sign in as any user/, fix: /use mode "oauth2-proxy"/ },
      { title: "a trusted groups header with native OIDC (Cognito)", auth: withOverrides(OIDC_COGNITO, owui("WEBUI_AUTH_TRUSTED_GROUPS_HEADER", "X-Forwarded-Groups")), path: AT_OVERRIDE, message: /^OWUI-AUTH-7: WEBUI_AUTH_TRUSTED_GROUPS_HEADER is set/, fix: /remove the trusted-header override/ },
    ],
    accepted: [{ title: "trusted headers behind the proxy", auth: PROXY }],
  },
  "OWUI-AUTH-8": {
    refused: [
      { title: "another host", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_UPSTREAMS", "http://10.0.1.5:8080")), path: AT_OVERRIDE, message: /^OWUI-AUTH-8: OAUTH2_PROXY_UPSTREAMS is "http:\/\/10\.0\.1\.5:8080", not the task's own Open WebUI \(http:\/\/127\.0\.0\.1:8080\)/, fix: /exactly http:\/\/127\.0\.0\.1:8080/ },
      { title: "the loopback plus a second upstream", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_UPSTREAMS", "http://127.0.0.1:8080,http://litellm.owui-nonprod.internal:4000")), path: AT_OVERRIDE, message: /^OWUI-AUTH-8: .*\(or to several\)/, fix: /exactly/ },
    ],
    accepted: [{ title: "the loopback with a trailing slash", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_UPSTREAMS", "http://127.0.0.1:8080/")) }],
  },
  "OWUI-AUTH-9": {
    refused: [{ title: "PASS_USER_HEADERS=false while trusting X-Forwarded-Email", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PASS_USER_HEADERS", "false")), path: AT_OVERRIDE, message: /^OWUI-AUTH-9: OAUTH2_PROXY_PASS_USER_HEADERS is "false" while Open WebUI trusts X-Forwarded-Email \(WEBUI_AUTH_TRUSTED_EMAIL_HEADER\), X-Forwarded-Email \(WEBUI_AUTH_TRUSTED_NAME_HEADER\): oauth2-proxy then neither sets nor strips those headers/, fix: /keep OAUTH2_PROXY_PASS_USER_HEADERS true/ }],
    accepted: [{ title: "PASS_USER_HEADERS=1 (Go's ParseBool true)", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_PASS_USER_HEADERS", "1")) }],
  },
  "OWUI-AUTH-10": {
    refused: [{ title: "COOKIE_SECURE=false", auth: withOverrides(PROXY, proxy("OAUTH2_PROXY_COOKIE_SECURE", "false")), path: AT_OVERRIDE, message: /^OWUI-AUTH-10: OAUTH2_PROXY_COOKIE_SECURE is "false": the session cookie would also be sent over plain HTTP/, fix: /keep OAUTH2_PROXY_COOKIE_SECURE true/ }],
    accepted: [{ title: "the default (true)", auth: PROXY }],
  },
  "OWUI-AUTH-11": {
    refused: [
      { title: "the SCIM prefix while SCIM is off", auth: { ...PROXY, provisioning: { enabled: false }, proxy: { skipAuthRoutes: ["^/api/v1/scim/v2/"] } }, path: AT_AUTH, message: /^OWUI-AUTH-11: skip-auth entry "\^\/api\/v1\/scim\/v2\/" in OAUTH2_PROXY_SKIP_AUTH_ROUTES opens a route while SCIM is off/, fix: /auth\.scim\.exposeThroughProxy \(with SCIM on\)/ },
      { title: "an anchored route outside SCIM", auth: { ...PROXY, proxy: { skipAuthRoutes: ["GET=^/api/v1/models$"] } }, path: AT_AUTH, message: /^OWUI-AUTH-11: skip-auth entry "GET=\^\/api\/v1\/models\$" .*is not the SCIM prefix \^\/api\/v1\/scim\/v2\/ or a narrowing of it/, fix: /"POST=\^\/api\/v1\/scim\/v2\/Users\$"/ },
      { title: "the SCIM prefix with a top-level alternation that escapes it", auth: { ...PROXY, proxy: { skipAuthRoutes: ["^/api/v1/scim/v2/Users$|^/api/v1/chats/"] } }, path: AT_AUTH, message: /^OWUI-AUTH-11: .*no top-level \|/, fix: /narrow/ },
      { title: "a method oauth2-proxy would match that SCIM has no use for", auth: { ...PROXY, proxy: { skipAuthRoutes: ["OPTIONS=^/api/v1/scim/v2/"] } }, path: AT_AUTH, message: /^OWUI-AUTH-11: .*is not a plain method \(OPTIONS\) plus path/, fix: /exposeThroughProxy/ },
    ],
    accepted: [
      { title: "exposeThroughProxy with SCIM on", auth: { ...PROXY, scim: { exposeThroughProxy: true } } },
      { title: "narrowed entries with a group alternation inside the prefix", auth: { ...PROXY, proxy: { skipAuthRoutes: ["^/api/v1/scim/v2/(Users|Groups)$", "PATCH=^/api/v1/scim/v2/Users/[\\w-]+$"] } } },
    ],
  },
  "OWUI-AUTH-12": {
    refused: [{ title: "REVERSE_PROXY=true with the SCIM route", auth: withOverrides({ ...PROXY, scim: { exposeThroughProxy: true } }, proxy("OAUTH2_PROXY_REVERSE_PROXY", "true")), path: AT_OVERRIDE, message: /^OWUI-AUTH-12: skip-auth routes are set while OAUTH2_PROXY_REVERSE_PROXY is true: oauth2-proxy then matches them against the X-Forwarded-Uri header, which the ALB passes through/, fix: /set OAUTH2_PROXY_REVERSE_PROXY to false whenever a route skips auth/ }],
    accepted: [
      { title: "the SCIM route (the wiring turns REVERSE_PROXY off)", auth: { ...PROXY, scim: { exposeThroughProxy: true } } },
      { title: "REVERSE_PROXY=true without routes (the default)", auth: PROXY },
    ],
  },
};

describe("the rule list", () => {
  it("has 12 rules with the IDs OWUI-AUTH-1 … 12, in order, each with a title", () => {
    expect(AUTH_RULES.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => `OWUI-AUTH-${i + 1}`));
    for (const r of AUTH_RULES) expect(r.title.length).toBeGreaterThan(10);
  });

  it("has refused and accepted cases here for every rule", () => {
    expect(Object.keys(CASES).sort()).toEqual(AUTH_RULES.map((r) => r.id).sort());
    for (const c of Object.values(CASES)) {
      expect(c.refused.length).toBeGreaterThan(0);
      expect(c.accepted.length).toBeGreaterThan(0);
    }
  });

  it("is documented: the README's RULES table has a row for every ID", () => {
    const readme = readFileSync(new URL("../modules/policy/README.md", import.meta.url), "utf8");
    for (const r of AUTH_RULES) expect(readme).toMatch(new RegExp(`^\\| ${r.id} \\|`, "m"));
  });
});

describe.each(Object.entries(CASES))("%s", (id, cases) => {
  const rule = AUTH_RULES.find((r) => r.id === id)!;

  describe.each(cases.refused.map((c, i) => [`Noncompliance ${i + 1}: ${c.title}`, c] as const))("%s", (_t, c) => {
    it("is refused with the rule's message, the config path and the fix", () => {
      const err = refusal(c.auth);
      const e = errorOf(err, id);
      expect(e.path).toBe(c.path);
      expect(e.problem).toMatch(c.message);
      expect(e.fix).toMatch(c.fix);
      expect(err.message).toContain(`${c.path}: ${id}: `);
    });
  });

  describe.each(cases.accepted.map((c, i) => [`Compliance ${i + 1}: ${c.title}`, c] as const))("%s", (_t, c) => {
    it(`passes ${id}`, () => {
      const { view } = wire(envOf(c.auth));
      expect(rule.check(view)).toEqual([]);
    });

    it("passes every other rule too (a whole accepted config)", () => {
      expect(() => wire(envOf(c.auth))).not.toThrow();
    });
  });
});

describe("overrides", () => {
  it("are applied before the rules: the refused value is the override's, and it is named by its index", () => {
    const err = refusal(withOverrides(PROXY, owui("ENABLE_API_KEYS", "true"), proxy("OAUTH2_PROXY_COOKIE_SECURE", "false")));
    expect(err.errors.map((e) => [e.path, e.problem.split(":")[0]])).toEqual([["nonprod: auth.overrides[1]", "OWUI-AUTH-10"]]);
  });

  it("change the final environment the task runs (the accepted ones too)", () => {
    const { openwebui, view } = wire(envOf(withOverrides(PROXY, owui("ENABLE_API_KEYS", "true"), proxy("OAUTH2_PROXY_COOKIE_SAMESITE", "strict"))));
    expect(openwebui.environment.ENABLE_API_KEYS).toBe("true");
    expect(openwebui.sidecars[0]!.environment!.OAUTH2_PROXY_COOKIE_SAMESITE).toBe("strict");
    expect(view.proxy!.OAUTH2_PROXY_COOKIE_SAMESITE).toBe("strict");
  });

  it("name every responsible override when several rules fire, and list every problem in one refusal", () => {
    const err = refusal(withOverrides(PROXY, proxy("OAUTH2_PROXY_PASS_AUTHORIZATION_HEADER", "true"), owui("WEBUI_AUTH", "false")));
    expect(err.errors.map((e) => `${e.path} ${e.problem.split(":")[0]}`)).toEqual(["nonprod: auth.overrides[1] OWUI-AUTH-1", "nonprod: auth.overrides[0] OWUI-AUTH-3"]);
    expect(err.message).toMatch(/^invalid configuration \(2 problems\):/);
  });

  it("for the other container are refused: at parse (oauth2-proxy in mode oidc) …", () => {
    expect(() => envOf(withOverrides(ENTRA, proxy("OAUTH2_PROXY_COOKIE_SECURE", "false")))).toThrow(/nonprod: auth\.overrides\[0\]\.container: "oauth2-proxy" is not part of mode "oidc"/);
  });

  it("… and by the wiring itself, should a config reach it unchecked", () => {
    const env = envOf(ENTRA);
    const auth = { ...env.auth, overrides: [{ container: "oauth2-proxy", name: "OAUTH2_PROXY_COOKIE_SECURE", value: "false", reason }] } as EnvConfig["auth"];
    expect(() => wireAuth(auth, { ...REFS, envName: env.name, hostname: env.hostname })).toThrow(/nonprod: auth\.overrides\[0\]\.container: "oauth2-proxy" is not a container of this auth mode/);
  });
});

describe("values that would change meaning in a comma-separated list", () => {
  it("refuse a skip-auth route holding a comma (OAUTH2_PROXY_SKIP_AUTH_ROUTES separates entries by comma)", () => {
    const err = refusal({ ...PROXY, proxy: { skipAuthRoutes: ["GET=^/api/v1/scim/v2/Users/[0-9a-f]{8,64}$"] } });
    expect(err.errors.map((e) => e.path)).toEqual(["nonprod: auth.proxy.skipAuthRoutes[0]"]);
    expect(err.message).toMatch(/contains a comma, which separates entries in OAUTH2_PROXY_SKIP_AUTH_ROUTES, so it would become two routes\. Fix: write the regex without a comma/);
  });

  it("refuse an Entra role value holding a comma (Open WebUI's OAUTH_ROLES_SEPARATOR)", () => {
    const err = refusal({ ...ENTRA, entra: { ...ENTRA.entra, roles: { allowed: ["users,admins"], admin: ["admins"] } } });
    expect(err.errors.map((e) => e.path)).toEqual(["nonprod: auth.entra.roles.allowed[0]"]);
    expect(err.message).toMatch(/"users,admins" contains a comma, Open WebUI's OAUTH_ROLES_SEPARATOR/);
  });
});

describe("the environments", () => {
  it.each([
    ["nonprod", ENVS.nonprod],
    ["prod", ENVS.prod],
    ["sandbox", ENVS.sandbox],
  ] as const)("%s passes every guardrail", (_n, env) => {
    expect(auditAuth(wire(env).view, env.auth.overrides, { envName: env.name })).toEqual([]);
  });

  it("a refused config stops the platform stack's synth, naming the env and the override", () => {
    const env = withAuth(ENVS.sandbox, withOverrides(PROXY, proxy("OAUTH2_PROXY_PREFER_EMAIL_TO_USER", "true")));
    const app = Testing.app();
    const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
    expect(() => new PlatformStack(app, env.name, { env, certificate })).toThrow(/sandbox: auth\.overrides\[0\]: OWUI-AUTH-2: /);
  });
});

describe("the rules' readers", () => {
  const view = (proxyEnv: Record<string, string>): AuthView => ({ mode: "oauth2-proxy", openwebui: {}, proxy: proxyEnv, scimEnabled: true, openwebuiPort: 8080 });

  it("split SKIP_AUTH_ROUTES as oauth2-proxy does: by comma, then at the first = or != ", () => {
    expect(skipRoutes(view({ OAUTH2_PROXY_SKIP_AUTH_ROUTES: "get=^/a$,!=^/b,^/c=d,x=y!=z" }))).toEqual([
      { entry: "get=^/a$", variable: "OAUTH2_PROXY_SKIP_AUTH_ROUTES", method: "GET", negate: false, path: "^/a$" },
      { entry: "!=^/b", variable: "OAUTH2_PROXY_SKIP_AUTH_ROUTES", method: "", negate: true, path: "^/b" },
      { entry: "^/c=d", variable: "OAUTH2_PROXY_SKIP_AUTH_ROUTES", method: "^/C", negate: false, path: "d" },
      { entry: "x=y!=z", variable: "OAUTH2_PROXY_SKIP_AUTH_ROUTES", method: "X", negate: true, path: "y!=z" },
    ]);
  });

  it("read the deprecated SKIP_AUTH_REGEX too (refused like a route)", () => {
    const findings = auditAuth(view({ OAUTH2_PROXY_UPSTREAMS: "http://127.0.0.1:8080", OAUTH2_PROXY_SKIP_AUTH_REGEX: "/api/v1/auths/" }), []);
    expect(findings.map((f) => f.ruleId)).toEqual(["OWUI-AUTH-6", "OWUI-AUTH-11"]);
  });

  it("find a regex escaping a prefix only through a top-level | or an unopened )", () => {
    expect(escapesPrefix("^/p/(a|b)$")).toBe(false);
    expect(escapesPrefix("^/p/[|)]x")).toBe(false);
    expect(escapesPrefix("^/p/\\|x")).toBe(false);
    expect(escapesPrefix("^/p/a|^/q")).toBe(true);
    expect(escapesPrefix("^/p/a)|(^/q")).toBe(true);
  });
});
