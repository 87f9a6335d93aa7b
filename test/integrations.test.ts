/**
 * The integrations layer: the SSM parameters under `/owui/<env>/…` match the config exactly (names,
 * types, values); identity takes the Entra ids from it; an operator-published parameter is read,
 * not published; the per-user key ids are published when given; bad config is refused.
 */
import { TerraformOutput, TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { Integrations } from "../modules/integrations/index.js";
import { containerOf, ENVS, envOf, envWith, type Json, secretsOf, synthPlatform, synthStack } from "./support/synth.js";

const TENANT = "11111111-2222-4333-8444-555555555555";
const CLIENT = "66666666-7777-4888-9999-000000000000";
const ADMINS = "aaaaaaaa-0000-4000-8000-000000000001";
const USERS = "aaaaaaaa-0000-4000-8000-000000000002";

/** Every `aws_ssm_parameter` of the stack outside the services layer, by name → {type, value}. */
function parameters(s: { resources(type: string): [string, Json][] }): Record<string, { type: string; value: string }> {
  return Object.fromEntries(
    s
      .resources("aws_ssm_parameter")
      .filter(([n]) => n.startsWith("integrations_"))
      .map(([, c]) => [c.name, { type: c.type, value: c.value }]),
  );
}

describe("Entra with literal ids, groups and team budgets", () => {
  const env = envWith((raw) => {
    raw.auth.entra = { tenantId: TENANT, clientId: CLIENT, roles: { claim: "roles", allowed: ["owui-test-users", "owui-test-admins"], admin: ["owui-test-admins"] } };
    raw.integrations = { entra: { groups: { "owui-test-admins": ADMINS, "owui-test-users": USERS } }, litellm: { teamBudgetsUsd: { research: 500, "platform.team": 1250.5 } } };
  });
  const s = synthPlatform(env);

  it("publishes exactly the config's values as String parameters under /owui/<env>/", () => {
    expect(parameters(s)).toEqual({
      "/owui/test/entra/tenant-id": { type: "String", value: TENANT },
      "/owui/test/entra/client-id": { type: "String", value: CLIENT },
      "/owui/test/entra/issuer-url": { type: "String", value: `https://login.microsoftonline.com/${TENANT}/v2.0` },
      "/owui/test/entra/groups/owui-test-admins": { type: "String", value: ADMINS },
      "/owui/test/entra/groups/owui-test-users": { type: "String", value: USERS },
      "/owui/test/litellm/team-budgets/research": { type: "String", value: "500" },
      "/owui/test/litellm/team-budgets/platform.team": { type: "String", value: "1250.5" },
    });
  });

  it("describes every parameter, and reads none from SSM", () => {
    for (const [, p] of s.resources("aws_ssm_parameter").filter(([n]) => n.startsWith("integrations_"))) expect(p.description, p.name).toMatch(/\S{5}/);
    expect(s.data("aws_ssm_parameter")).toEqual([]);
  });

  it("identity wires the same ids into Open WebUI: the provider URL from the tenant, the client id as a value", () => {
    const e = envOf(containerOf(s, "openwebui"));
    expect(e.OPENID_PROVIDER_URL).toBe(`https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(e.OAUTH_CLIENT_ID).toBe(CLIENT);
  });

  it("outputs every published parameter's name by key", () => {
    const out = s.output("integration_parameter_names")!;
    expect(out.description).toMatch(/SSM parameters/);
    expect(out.value).toEqual({
      "entra-tenant-id": "/owui/test/entra/tenant-id",
      "entra-client-id": "/owui/test/entra/client-id",
      "entra-issuer-url": "/owui/test/entra/issuer-url",
      "entra-group/owui-test-admins": "/owui/test/entra/groups/owui-test-admins",
      "entra-group/owui-test-users": "/owui/test/entra/groups/owui-test-users",
      "litellm-team-budget/research": "/owui/test/litellm/team-budgets/research",
      "litellm-team-budget/platform.team": "/owui/test/litellm/team-budgets/platform.team",
    });
  });
});

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
] as const)("%s: Entra ids an operator publishes ({ parameterName })", (envName, env) => {
  const s = synthPlatform(env);
  const [tenantData] = s.data("aws_ssm_parameter").map(([n]) => n);

  it("reads the tenant id parameter at plan, in the integrations layer, and publishes neither id itself", () => {
    expect(s.data("aws_ssm_parameter").map(([n, d]) => [n.replace(/_[0-9A-F]{8}$/, ""), d.name])).toEqual([["integrations_entra-tenant-id", `/owui/${envName}/entra/tenant-id`]]);
    expect(Object.keys(parameters(s))).toEqual([`/owui/${envName}/entra/issuer-url`]);
  });

  it("publishes the issuer URL built from the parameter's value", () => {
    expect(parameters(s)[`/owui/${envName}/entra/issuer-url`]).toEqual({ type: "String", value: "https://login.microsoftonline.com/${data.aws_ssm_parameter." + tenantData + ".insecure_value}/v2.0" });
  });

  it("identity uses the parameter's value for the provider URL and passes the client id parameter to ECS", () => {
    const c = containerOf(s, "openwebui");
    expect(envOf(c).OPENID_PROVIDER_URL).toBe("https://login.microsoftonline.com/${data.aws_ssm_parameter." + tenantData + ".insecure_value}/v2.0/.well-known/openid-configuration");
    expect(secretsOf(c).OAUTH_CLIENT_ID).toMatch(new RegExp(`:parameter/owui/${envName}/entra/client-id$`));
  });
});

describe("Cognito envs", () => {
  it("sandbox publishes no Entra parameter and reads none", () => {
    const s = synthPlatform(ENVS.sandbox);
    expect(parameters(s)).toEqual({});
    expect(s.data("aws_ssm_parameter")).toEqual([]);
  });
});

describe("per-user key ids (userKeys)", () => {
  const build = (userKeys?: { hmacKeyId: string; applicationKeyId: string }) => {
    const stack = new TerraformStack(Testing.app(), "test");
    const integrations = new Integrations(stack, "integrations", { envName: "test", aws: { region: "us-east-1", accountId: "123456789012", partition: "aws" }, userKeys });
    new TerraformOutput(stack, "names", { value: integrations.parameterNames });
    return synthStack(stack);
  };

  it("publishes /owui/<env>/kms-hmac-key-id and /owui/<env>/kms-application-key-id with the given ids", () => {
    const s = build({ hmacKeyId: "${aws_kms_key.hmac.key_id}", applicationKeyId: "${aws_kms_key.dek.key_id}" });
    expect(parameters(s)).toEqual({
      "/owui/test/kms-hmac-key-id": { type: "String", value: "${aws_kms_key.hmac.key_id}" },
      "/owui/test/kms-application-key-id": { type: "String", value: "${aws_kms_key.dek.key_id}" },
    });
    expect(s.output("names")!.value).toEqual({ "kms-hmac-key-id": "/owui/test/kms-hmac-key-id", "kms-application-key-id": "/owui/test/kms-application-key-id" });
  });

  it("publishes nothing without them", () => {
    expect(build().resources("aws_ssm_parameter")).toEqual([]);
  });
});

describe("refusals", () => {
  it("refuses Entra groups when users do not sign in with Entra", () => {
    expect(() =>
      envWith((raw) => {
        raw.auth = { mode: "oauth2-proxy", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "a@example.com" } };
        raw.integrations = { entra: { groups: { "owui-test-admins": ADMINS } } };
      }),
    ).toThrow(/test: integrations\.entra\.groups: names "owui-test-admins", but auth\.idp is "cognito", so nothing reads Entra group ids\. Fix: remove integrations\.entra\.groups/);
  });

  it("refuses a group id that is not a GUID, naming it and where to copy it from", () => {
    expect(() => envWith((raw) => (raw.integrations = { entra: { groups: { "owui-test-admins": "Admins" } } }))).toThrow(
      /integrations\.entra\.groups\.owui-test-admins: "Admins" is not an Entra group object id \(a lower-case GUID\)\. Fix: copy it from Entra admin center/,
    );
  });

  it("refuses a role or team name an SSM parameter name cannot carry", () => {
    expect(() => envWith((raw) => (raw.integrations = { entra: { groups: { "owui admins": ADMINS } } }))).toThrow(/"owui admins" is not a role name an SSM parameter name can carry\. Fix:/);
    expect(() => envWith((raw) => (raw.integrations = { litellm: { teamBudgetsUsd: { "a/b": 5 } } }))).toThrow(/"a\/b" is not a team name an SSM parameter name can carry\. Fix:/);
  });

  it("refuses a negative budget", () => {
    expect(() => envWith((raw) => (raw.integrations = { litellm: { teamBudgetsUsd: { research: -5 } } }))).toThrow(
      /integrations\.litellm\.teamBudgetsUsd\.research: -5 is not a monthly budget in USD in 0–10000000\. Fix: use 0 to 10000000, e\.g\. 500/,
    );
  });
});
