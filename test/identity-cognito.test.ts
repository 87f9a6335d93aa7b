/**
 * The identity layer's Cognito user pool: pool security settings, MFA, the hosted domain, the app
 * client (both callback paths), the client secret as a reference, Google federation, the PreSignUp
 * allow-list, addTrigger, synth-time refusals, and the HCL gate on a pool using every option.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import type { CognitoConfig } from "../envs/auth.js";
import type { EnvConfig } from "../envs/schema.js";
import { CognitoUserPool, type CognitoUserPoolProps } from "../modules/identity/cognito.js";
import { gateApp } from "./support/hcl-gate.js";
import { envWith, foundationFixture, synthStack, type Json, type Synthesized } from "./support/synth.js";

const GOOGLE = { clientId: "123456789-abc123.apps.googleusercontent.com", clientSecretSecret: "owui/test/google-client-secret" };
const PRODUCER = { functionArn: "arn:aws:lambda:us-east-1:111122223333:function:owui-test-producer", functionName: "owui-test-producer" };

/** A test env whose auth is oauth2-proxy + Cognito with this `cognito` section (parsed, defaults applied). */
function cognitoEnv(cognito: Record<string, unknown>, name?: string): EnvConfig {
  return envWith((raw) => {
    if (name) raw.name = name;
    raw.auth = { mode: "oauth2-proxy", idp: "cognito", cognito, admin: { email: "owui-admins@example.com" } };
  });
}

function cognitoOf(env: EnvConfig): CognitoConfig {
  if (env.auth.idp !== "cognito") throw new Error("not a Cognito env");
  return env.auth.cognito;
}

interface Built {
  readonly s: Synthesized;
  readonly pool: CognitoUserPool;
  /** The typed outputs, as the synthesized JSON shows them. */
  readonly out: Json;
  /** `aws_<type>.<logical name>` of the one resource of a type whose logical name contains `name`. */
  address(type: string, name: string): string;
}

function build(cognito: Record<string, unknown>, over: Partial<CognitoUserPoolProps> = {}, after?: (pool: CognitoUserPool) => void): Built {
  const env = cognitoEnv(cognito);
  const { stack, aws, security } = foundationFixture(env);
  const pool = new CognitoUserPool(stack, "cognito", {
    envName: env.name,
    aws,
    hostname: env.hostname,
    config: cognitoOf(env),
    callbackPath: "/oauth2/callback",
    kmsKey: security.workloadKey,
    logRetentionDays: env.logRetentionDays,
    ...over,
  });
  after?.(pool);
  const { userPoolId, userPoolArn, issuerUrl, domainHost, clientId, clientSecret, logoutUrl, callbackUrl } = pool;
  new TerraformOutput(stack, "pool", { value: { userPoolId, userPoolArn, issuerUrl, domainHost, clientId, clientSecret, logoutUrl, callbackUrl } });
  const s = synthStack(stack);
  const address = (type: string, name: string) => {
    const hits = s.resources(type).filter(([n]) => n.includes(name));
    if (hits.length !== 1) throw new Error(`expected one ${type} matching ${name}`);
    return `${type}.${hits[0]![0]}`;
  };
  return { s, pool, out: s.output("pool")!.value, address };
}

const ANY = { emailDomains: ["*"] };
const LISTED = { emailDomains: ["example.com", "example.org"] };

describe("user pool", () => {
  const { s, out, address } = build(ANY);
  const pool = s.resource("aws_cognito_user_pool");

  it("is owui-<env> with the email as a case-insensitive, auto-verified username", () => {
    expect(pool.name).toBe("owui-test");
    expect(pool.username_attributes).toEqual(["email"]);
    expect(pool.auto_verified_attributes).toEqual(["email"]);
    expect(pool.username_configuration).toEqual({ case_sensitive: false });
    expect(pool.user_attribute_update_settings).toEqual({ attributes_require_verification_before_update: ["email"] });
  });

  it("requires 12+ characters with upper, lower, number and symbol; temporary passwords last 3 days", () => {
    expect(pool.password_policy).toEqual({
      minimum_length: 12,
      require_uppercase: true,
      require_lowercase: true,
      require_numbers: true,
      require_symbols: true,
      temporary_password_validity_days: 3,
      password_history_size: 5,
    });
  });

  it("enforces threat protection on the Plus tier, which it requires, and protects the pool from deletion", () => {
    expect(pool.user_pool_add_ons).toEqual({ advanced_security_mode: "ENFORCED" });
    expect(pool.user_pool_tier).toBe("PLUS");
    expect(pool.deletion_protection).toBe("ACTIVE");
  });

  it("recovers accounts by verified email only, and lets users sign up by default", () => {
    expect(pool.account_recovery_setting).toEqual({ recovery_mechanism: [{ name: "verified_email", priority: 1 }] });
    expect(pool.admin_create_user_config).toEqual({ allow_admin_create_user_only: false });
  });

  it("has no triggers when any address may sign up", () => {
    expect(pool.lambda_config).toBeUndefined();
    expect(s.resources("aws_lambda_function")).toEqual([]);
    expect(s.resources("aws_lambda_permission")).toEqual([]);
  });

  it("exposes the pool id/ARN and the OIDC issuer built from the pool id", () => {
    expect(out.userPoolId).toBe(`\${${address("aws_cognito_user_pool", "cognito_pool")}.id}`);
    expect(out.userPoolArn).toBe(`\${${address("aws_cognito_user_pool", "cognito_pool")}.arn}`);
    expect(out.issuerUrl).toBe(`https://cognito-idp.us-east-1.amazonaws.com/\${${address("aws_cognito_user_pool", "cognito_pool")}.id}`);
  });

  it("lets only administrators create users when self sign-up is off", () => {
    expect(build({ ...ANY, selfSignUp: false }).s.resource("aws_cognito_user_pool").admin_create_user_config).toEqual({ allow_admin_create_user_only: true });
  });
});

describe("MFA", () => {
  it.each([
    ["default (OPTIONAL)", {}, "OPTIONAL", { enabled: true }],
    ["ON", { mfa: "ON" }, "ON", { enabled: true }],
    ["OFF", { mfa: "OFF" }, "OFF", undefined],
  ])("%s: mfa_configuration and TOTP", (_what, mfa, expected, totp) => {
    const pool = build({ ...ANY, ...mfa }).s.resource("aws_cognito_user_pool");
    expect(pool.mfa_configuration).toBe(expected);
    expect(pool.software_token_mfa_configuration).toEqual(totp);
  });
});

describe("hosted domain", () => {
  it("defaults its prefix to owui-<env>-<account id> and exposes <prefix>.auth.<region>.amazoncognito.com", () => {
    const { s, out, address } = build(ANY);
    const domain = s.resource("aws_cognito_user_pool_domain");
    expect(domain.domain).toBe("owui-test-${data.aws_caller_identity.current.account_id}");
    expect(domain.user_pool_id).toBe(`\${${address("aws_cognito_user_pool", "cognito_pool")}.id}`);
    expect(out.domainHost).toBe(`\${${address("aws_cognito_user_pool_domain", "domain")}.domain}.auth.us-east-1.amazoncognito.com`);
  });

  it("uses the configured prefix", () => {
    expect(build({ ...ANY, domainPrefix: "owui-login" }).s.resource("aws_cognito_user_pool_domain").domain).toBe("owui-login");
  });
});

describe("app client", () => {
  const { s, out, address } = build(ANY);
  const client = s.resource("aws_cognito_user_pool_client");

  it("does the authorization-code flow only, with openid/email/profile", () => {
    expect(client.allowed_oauth_flows).toEqual(["code"]);
    expect(client.allowed_oauth_flows_user_pool_client).toBe(true);
    expect(client.allowed_oauth_scopes).toEqual(["openid", "email", "profile"]);
    expect(client.supported_identity_providers).toEqual(["COGNITO"]);
    expect(client.depends_on).toBeUndefined();
  });

  it("is a confidential client that hides user existence and can revoke tokens", () => {
    expect(client.name).toBe("owui-test-openwebui");
    expect(client.generate_secret).toBe(true);
    expect(client.prevent_user_existence_errors).toBe("ENABLED");
    expect(client.enable_token_revocation).toBe(true);
    expect(client.explicit_auth_flows).toEqual(["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]);
    expect(client.read_attributes).toEqual(["email", "email_verified", "name"]);
  });

  it("issues 1-hour access and ID tokens and 24-hour refresh tokens by default", () => {
    expect([client.access_token_validity, client.id_token_validity, client.refresh_token_validity]).toEqual([60, 60, 24]);
    expect(client.token_validity_units).toEqual([{ access_token: "minutes", id_token: "minutes", refresh_token: "hours" }]);
    expect(client.auth_session_validity).toBe(3);
    const longer = build(ANY, { refreshTokenValidityHours: 720 }).s.resource("aws_cognito_user_pool_client");
    expect(longer.refresh_token_validity).toBe(720);
  });

  it.each([
    ["/oauth2/callback", "https://owui-test.example.com/oauth2/callback"],
    ["/oauth/oidc/callback", "https://owui-test.example.com/oauth/oidc/callback"],
  ] as const)("callback path %s: exactly one callback URL and the app root as the one sign-out URL", (callbackPath, url) => {
    const built = build(ANY, { callbackPath });
    const c = built.s.resource("aws_cognito_user_pool_client");
    expect(c.callback_urls).toEqual([url]);
    expect(c.logout_urls).toEqual(["https://owui-test.example.com/"]);
    expect(built.pool.logoutUrl).toBe("https://owui-test.example.com/");
    expect(built.out.callbackUrl).toBe(url);
  });

  it("exposes its id", () => {
    expect(out.clientId).toBe(`\${${address("aws_cognito_user_pool_client", "client")}.id}`);
  });
});

describe("client secret", () => {
  const { s, out, address } = build(ANY);

  it("lives in a KMS-encrypted secret whose version is a reference to the client's client_secret, never a literal", () => {
    const secret = s.resource("aws_secretsmanager_secret", "client-secret");
    expect(secret.name).toBe("owui/test/cognito/client-secret");
    expect(secret.kms_key_id).toMatch(/^\$\{aws_kms_key\.security_workload-key_[0-9A-F]{8}\.arn\}$/);
    const versions = s.resources("aws_secretsmanager_secret_version");
    expect(versions).toHaveLength(1);
    const [, version] = versions[0]!;
    expect(version).toEqual({
      secret_id: `\${${address("aws_secretsmanager_secret", "client-secret")}.id}`,
      secret_string: `\${${address("aws_cognito_user_pool_client", "client")}.client_secret}`,
    });
  });

  it("is what clientSecret names", () => {
    const ref = address("aws_secretsmanager_secret", "client-secret");
    expect(out.clientSecret).toEqual({ secretArn: `\${${ref}.arn}`, secretName: `\${${ref}.name}` });
  });
});

describe("Google federation", () => {
  it("is absent unless configured", () => {
    const { s } = build(ANY);
    expect(s.resources("aws_cognito_identity_provider")).toEqual([]);
    expect(s.data("aws_secretsmanager_secret_version")).toEqual([]);
  });

  describe("when configured", () => {
    const { s, address } = build({ ...ANY, google: GOOGLE });
    const idp = s.resource("aws_cognito_identity_provider");
    const [dataName, data] = s.data("aws_secretsmanager_secret_version")[0]!;

    it("reads Google's client secret through a data source, by reference", () => {
      expect(s.data("aws_secretsmanager_secret_version")).toHaveLength(1);
      expect(data).toEqual({ secret_id: "owui/test/google-client-secret" });
      expect(idp.provider_details).toEqual({
        client_id: GOOGLE.clientId,
        client_secret: `\${data.aws_secretsmanager_secret_version.${dataName}.secret_string}`,
        authorize_scopes: "openid email profile",
      });
    });

    it("is the Google provider of the pool, mapping email, email_verified, name and username=sub", () => {
      expect(idp).toMatchObject({ provider_name: "Google", provider_type: "Google", user_pool_id: `\${${address("aws_cognito_user_pool", "cognito_pool")}.id}` });
      expect(idp.attribute_mapping).toEqual({ email: "email", email_verified: "email_verified", name: "name", username: "sub" });
    });

    it("ignores only the endpoints Cognito fills in itself", () => {
      expect(idp.lifecycle.ignore_changes).toEqual(
        ["attributes_url", "attributes_url_add_attributes", "authorize_url", "oidc_issuer", "token_request_method", "token_url"].map((k) => `provider_details["${k}"]`),
      );
    });

    it("is offered by the client, which waits for it", () => {
      const client = s.resource("aws_cognito_user_pool_client");
      expect(client.supported_identity_providers).toEqual(["COGNITO", "Google"]);
      expect(client.depends_on).toEqual([address("aws_cognito_identity_provider", "google")]);
    });
  });
});

describe("email-domain allow-list", () => {
  const { s, address } = build(LISTED, { logRetentionDays: 30 });
  const fn = s.resource("aws_lambda_function");
  const fnAddress = address("aws_lambda_function", "pre-signup");

  it("deploys the PreSignUp function with the list", () => {
    expect(fn.function_name).toBe("owui-test-pre-signup");
    expect(fn.environment).toEqual({ variables: { ALLOWED_EMAIL_DOMAINS: "example.com,example.org" } });
    expect(fn.handler).toBe("index.handler");
    expect(fn.filename).toMatch(/\/pre-signup\.zip$/);
  });

  it("runs it as the project's functions run: nodejs22.x arm64, X-Ray, KMS environment and logs, reserved concurrency, no VPC", () => {
    expect(fn).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], tracing_config: { mode: "Active" }, timeout: 5, memory_size: 128, reserved_concurrent_executions: 5 });
    expect(fn.kms_key_arn).toMatch(/^\$\{aws_kms_key\.security_workload-key_[0-9A-F]{8}\.arn\}$/);
    expect(fn.vpc_config).toBeUndefined();
    const logs = s.resource("aws_cloudwatch_log_group", "pre-signup");
    expect(logs).toMatchObject({ name: "/aws/lambda/owui-test-pre-signup", retention_in_days: 30, kms_key_id: fn.kms_key_arn });
  });

  it("is the pool's pre_sign_up trigger, invocable by this pool only", () => {
    expect(s.resource("aws_cognito_user_pool").lambda_config).toEqual({ pre_sign_up: `\${${fnAddress}.arn}` });
    expect(s.resource("aws_lambda_permission")).toEqual({
      action: "lambda:InvokeFunction",
      function_name: `\${${fnAddress}.function_name}`,
      principal: "cognito-idp.amazonaws.com",
      source_arn: `\${${address("aws_cognito_user_pool", "cognito_pool")}.arn}`,
      source_account: "${data.aws_caller_identity.current.account_id}",
    });
  });

  it("is not deployed for [\"*\"]", () => {
    const any = build(ANY).s;
    expect(any.resources("aws_lambda_function")).toEqual([]);
    // The security layer of the fixture logs its WAF; the identity layer adds no log group.
    expect(any.resources("aws_cloudwatch_log_group").filter(([n]) => !n.startsWith("security_"))).toEqual([]);
  });
});

describe("addTrigger", () => {
  it("keeps one lambda_config for every trigger and adds a permission per trigger", () => {
    const { s, address } = build(LISTED, {}, (pool) => pool.addTrigger("PostConfirmation", PRODUCER));
    const poolArn = `\${${address("aws_cognito_user_pool", "cognito_pool")}.arn}`;
    expect(s.resource("aws_cognito_user_pool").lambda_config).toEqual({
      pre_sign_up: `\${${address("aws_lambda_function", "pre-signup")}.arn}`,
      post_confirmation: PRODUCER.functionArn,
    });
    expect(s.resource("aws_lambda_permission", "post-confirmation")).toEqual({
      action: "lambda:InvokeFunction",
      function_name: PRODUCER.functionName,
      principal: "cognito-idp.amazonaws.com",
      source_arn: poolArn,
      source_account: "${data.aws_caller_identity.current.account_id}",
    });
    expect(s.resources("aws_lambda_permission")).toHaveLength(2);
  });

  it("works on a pool without the allow-list", () => {
    const { s } = build(ANY, {}, (pool) => pool.addTrigger("PostConfirmation", PRODUCER));
    expect(s.resource("aws_cognito_user_pool").lambda_config).toEqual({ post_confirmation: PRODUCER.functionArn });
  });

  it("throws when the same trigger is attached twice", () => {
    expect(() =>
      build(ANY, {}, (pool) => {
        pool.addTrigger("PostConfirmation", PRODUCER);
        pool.addTrigger("PostConfirmation", PRODUCER);
      }),
    ).toThrow(/the PostConfirmation trigger is already attached\. Fix: attach one function per trigger/);
  });

  it("says why PreSignUp is taken when the allow-list holds it", () => {
    expect(() => build(LISTED, {}, (pool) => pool.addTrigger("PreSignUp", PRODUCER))).toThrow(
      /the PreSignUp trigger is already attached \(this pool attaches its own PreSignUp for the email-domain allow-list\)/,
    );
  });
});

describe("refusals at synth", () => {
  it('refuses "*" mixed with domains', () => {
    expect(() => build({ emailDomains: ["*", "example.com"] })).toThrow(/mixes "\*" \(any address\) with domains.*Fix: use \["\*"\] alone/);
  });

  it("refuses a default domain prefix holding a word Cognito reserves, and accepts an explicit prefix", () => {
    const env = cognitoEnv(ANY, "aws-dev");
    const props = (config: CognitoConfig) => {
      const { stack, aws, security } = foundationFixture(env);
      return () => new CognitoUserPool(stack, "cognito", { envName: env.name, aws, hostname: env.hostname, config, callbackPath: "/oauth2/callback", kmsKey: security.workloadKey, logRetentionDays: 7 });
    };
    expect(props(cognitoOf(env))).toThrow(/default domain prefix "owui-aws-dev-<account id>" contains a word Cognito reserves.*Fix: set auth.cognito.domainPrefix/);
    expect(props({ ...cognitoOf(env), domainPrefix: "owui-dev-login" })).not.toThrow();
  });

  it.each([0, 1.5, 87_601])("refuses refreshTokenValidityHours %s", (hours) => {
    expect(() => build(ANY, { refreshTokenValidityHours: hours })).toThrow(/refreshTokenValidityHours is .*Fix: a whole number of hours from 1 to 87600/);
  });
});

describe("HCL", () => {
  it("with every option on (Google, allow-list, a second trigger), cdk.tf decodes to exactly the JSON synth", async () => {
    const env = cognitoEnv({ ...LISTED, google: GOOGLE, mfa: "ON", selfSignUp: false });
    const factory = ({ outdir, hclOutput }: { outdir?: string; hclOutput?: boolean }) => {
      const app = new App({ outdir, hclOutput, skipValidation: true });
      const stack = new TerraformStack(app, "cognito");
      new AwsProvider(stack, "aws", { region: env.region });
      const aws = { region: env.region, accountId: new DataAwsCallerIdentity(stack, "current").accountId, partition: "aws" };
      const key = new KmsKey(stack, "key", { description: "test key", enableKeyRotation: true });
      const pool = new CognitoUserPool(stack, "cognito", {
        envName: env.name,
        aws,
        hostname: env.hostname,
        config: cognitoOf(env),
        callbackPath: "/oauth/oidc/callback",
        kmsKey: { keyArn: key.arn, keyId: key.keyId, aliasName: "alias/test" },
        logRetentionDays: 7,
      });
      pool.addTrigger("PostConfirmation", PRODUCER);
      return app;
    };
    expect(await gateApp(factory)).toEqual({ cognito: [] });
  });
});
