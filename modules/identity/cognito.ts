/**
 * The Cognito user pool of the identity layer: the pool (email as username, strong passwords, MFA
 * from config, threat protection ENFORCED, deletion protection), its hosted domain, the platform's
 * one authorization-code app client, the client secret in Secrets Manager, optional Google
 * federation, and the email-domain allow-list (a PreSignUp trigger, only when the list is not `*`).
 *
 * Other layers attach their triggers with {@link CognitoUserPool.addTrigger} (the provisioning layer
 * attaches PostConfirmation); the pool keeps one `lambda_config` for all of them.
 */
import { CognitoIdentityProvider } from "@cdktf/provider-aws/lib/cognito-identity-provider";
import { CognitoUserPool as UserPoolResource, type CognitoUserPoolLambdaConfig } from "@cdktf/provider-aws/lib/cognito-user-pool";
import { CognitoUserPoolClient } from "@cdktf/provider-aws/lib/cognito-user-pool-client";
import { CognitoUserPoolDomain } from "@cdktf/provider-aws/lib/cognito-user-pool-domain";
import { DataAwsSecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Construct } from "constructs";
import type { CognitoConfig } from "../../envs/auth.js";
import { BUNDLES } from "../../functions/provisioning/src/config.js";
import { bundleFunction } from "../../lib/bundle.js";
import type { AwsContext } from "../../lib/context.js";
import { tfLiteral } from "../../lib/hcl.js";
import { resourceName } from "../../lib/naming.js";
import { NodeFunction } from "../../lib/node-function.js";
import type { SecretRef } from "../../lib/refs.js";
import type { KeyRef } from "../security/index.js";
import type { CognitoTrigger, UserPoolOutputs } from "./types.js";

/** Where the IdP sends the user back: oauth2-proxy's callback, or Open WebUI's native OIDC one. */
export type CallbackPath = "/oauth2/callback" | "/oauth/oidc/callback";

export interface CognitoUserPoolProps {
  /** Environment name; the pool is `owui-<env>`, the client `owui-<env>-openwebui`. */
  readonly envName: string;
  /** Account facts: the default domain prefix and the trigger permissions' `source_account`. */
  readonly aws: AwsContext;
  /** The env's public hostname, e.g. `owui-sandbox.oremuslabs.app` (no scheme). */
  readonly hostname: string;
  /** The env's `auth.cognito` section (envs/auth.ts). */
  readonly config: CognitoConfig;
  /** `/oauth2/callback` behind oauth2-proxy, `/oauth/oidc/callback` for Open WebUI's native OIDC. */
  readonly callbackPath: CallbackPath;
  /** The workload CMK: the client-secret secret, the PreSignUp function's environment and logs. */
  readonly kmsKey: KeyRef;
  /** Retention of the PreSignUp function's log group, in days. */
  readonly logRetentionDays: number;
  /**
   * Lifetime of the app client's refresh tokens, in hours (Cognito allows 1 hour to 10 years).
   * Behind oauth2-proxy keep it at least the session cookie's lifetime (`proxy.cookieExpireHours`),
   * or sessions end when the proxy's refresh fails.
   * @default 24
   */
  readonly refreshTokenValidityHours?: number;
}

/** The Terraform names of each trigger in the pool's `lambda_config`. */
const LAMBDA_CONFIG_KEY: Readonly<Record<CognitoTrigger, keyof CognitoUserPoolLambdaConfig>> = {
  PreSignUp: "preSignUp",
  PostConfirmation: "postConfirmation",
};

/** Cognito-filled Google endpoints in `provider_details`; without ignoring them every plan would strip them. */
const GOOGLE_COMPUTED_DETAILS = ["attributes_url", "attributes_url_add_attributes", "authorize_url", "oidc_issuer", "token_request_method", "token_url"];

/** A trigger function as `addTrigger` needs it. */
export interface TriggerFunction {
  readonly functionArn: string;
  readonly functionName: string;
}

export class CognitoUserPool extends Construct implements UserPoolOutputs {
  readonly pool: UserPoolResource;
  readonly domain: CognitoUserPoolDomain;
  readonly client: CognitoUserPoolClient;
  /** The Google identity provider, when `config.google` is set. */
  readonly google?: CognitoIdentityProvider;
  /** The email-domain allow-list function, when `config.emailDomains` is not `["*"]`. */
  readonly preSignUp?: NodeFunction;

  readonly userPoolId: string;
  readonly userPoolArn: string;
  readonly issuerUrl: string;
  readonly domainHost: string;
  readonly clientId: string;
  /**
   * The app client's secret, in a Secrets Manager secret (KMS: `kmsKey`) that Terraform fills with a
   * reference to `aws_cognito_user_pool_client.client_secret` (no value in code or HCL).
   *
   * Stated honestly: this secret's value IS in Terraform state, twice. Cognito generates it and
   * returns it only through the client resource, so `aws_cognito_user_pool_client` holds it in
   * state whatever we do, and the secret version holds the same value. The state bucket is
   * encrypted; rotating means replacing the client (`terraform apply -replace=<client>`).
   */
  readonly clientSecret: SecretRef;
  /** `https://<hostname><callbackPath>`: the client's only callback URL. */
  readonly callbackUrl: string;
  /** `https://<hostname>/`: the client's only sign-out URL; the sign-out chain passes exactly this as `logout_uri`. */
  readonly logoutUrl: string;

  private readonly aws: AwsContext;
  private readonly triggers = new Map<CognitoTrigger, TriggerFunction>();

  constructor(scope: Construct, id: string, props: CognitoUserPoolProps) {
    super(scope, id);
    const { envName, aws, config } = props;
    checkConfig(this.node.path, props);
    this.aws = aws;

    this.pool = new UserPoolResource(this, "pool", poolConfig(envName, config));
    this.userPoolId = this.pool.id;
    this.userPoolArn = this.pool.arn;
    this.issuerUrl = `https://cognito-idp.${aws.region}.amazonaws.com/${this.pool.id}`;

    this.domain = new CognitoUserPoolDomain(this, "domain", {
      domain: config.domainPrefix ?? `${resourceName(envName)}-${aws.accountId}`,
      userPoolId: this.pool.id,
    });
    this.domainHost = `${this.domain.domain}.auth.${aws.region}.amazoncognito.com`;

    this.google = config.google ? this.googleProvider(config.google) : undefined;
    this.callbackUrl = `https://${props.hostname}${props.callbackPath}`;
    this.logoutUrl = `https://${props.hostname}/`;
    this.client = this.appClient(envName, props.refreshTokenValidityHours ?? 24);
    this.clientId = this.client.id;
    this.clientSecret = this.clientSecretRef(envName, props.kmsKey);

    if (!isAnyDomain(config.emailDomains)) {
      this.preSignUp = this.allowListFunction(props);
      this.addTrigger("PreSignUp", this.preSignUp);
    }
  }

  /**
   * Attaches `fn` as the pool's `trigger` (one `lambda_config` for every trigger) and lets this pool,
   * and only it, invoke the function. Throws if the trigger is already attached: Cognito runs one
   * function per trigger.
   */
  addTrigger(trigger: CognitoTrigger, fn: TriggerFunction): void {
    if (this.triggers.has(trigger)) {
      const ours = trigger === "PreSignUp" && this.preSignUp !== undefined ? " (this pool attaches its own PreSignUp for the email-domain allow-list)" : "";
      throw new Error(`CognitoUserPool ${this.node.path}: the ${trigger} trigger is already attached${ours}. Fix: attach one function per trigger; combine the logic in that one function`);
    }
    this.triggers.set(trigger, fn);
    const lambdaConfig: Record<string, string> = {};
    for (const [t, f] of this.triggers) lambdaConfig[LAMBDA_CONFIG_KEY[t]] = f.functionArn;
    this.pool.putLambdaConfig(lambdaConfig);
    new LambdaPermission(this, `${kebab(trigger)}-invoke`, {
      functionName: fn.functionName,
      action: "lambda:InvokeFunction",
      principal: "cognito-idp.amazonaws.com",
      sourceArn: this.pool.arn,
      sourceAccount: this.aws.accountId,
    });
  }

  /**
   * Google federation. Cognito's API takes Google's client secret itself, so Terraform reads it from
   * the named Secrets Manager secret at plan time and it IS stored in Terraform state (the data
   * source and the provider both hold it; the state bucket is encrypted). Rotate it in Google if
   * state leaks.
   */
  private googleProvider(google: NonNullable<CognitoConfig["google"]>): CognitoIdentityProvider {
    const secret = new DataAwsSecretsmanagerSecretVersion(this, "google-client-secret", { secretId: tfLiteral(google.clientSecretSecret) });
    return new CognitoIdentityProvider(this, "google", {
      userPoolId: this.pool.id,
      providerName: "Google",
      providerType: "Google",
      providerDetails: { client_id: google.clientId, client_secret: secret.secretString, authorize_scopes: "openid email profile" },
      attributeMapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
      lifecycle: { ignoreChanges: GOOGLE_COMPUTED_DETAILS.map((k) => `provider_details["${k}"]`) },
    });
  }

  /** The one app client: a confidential client doing the authorization-code flow through the hosted domain. */
  private appClient(envName: string, refreshHours: number): CognitoUserPoolClient {
    return new CognitoUserPoolClient(this, "client", {
      name: resourceName(envName, "openwebui"),
      userPoolId: this.pool.id,
      generateSecret: true,
      allowedOauthFlowsUserPoolClient: true,
      allowedOauthFlows: ["code"],
      allowedOauthScopes: ["openid", "email", "profile"],
      callbackUrls: [this.callbackUrl],
      logoutUrls: [this.logoutUrl],
      supportedIdentityProviders: this.google ? ["COGNITO", "Google"] : ["COGNITO"],
      // SRP (the password never leaves the browser) and refresh; no plain-password or custom flows.
      explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
      preventUserExistenceErrors: "ENABLED",
      enableTokenRevocation: true,
      // What the relying party reads: oauth2-proxy needs email and email_verified, Open WebUI name.
      readAttributes: ["email", "email_verified", "name"],
      accessTokenValidity: 60,
      idTokenValidity: 60,
      refreshTokenValidity: refreshHours,
      tokenValidityUnits: [{ accessToken: "minutes", idToken: "minutes", refreshToken: "hours" }],
      authSessionValidity: 3,
      dependsOn: this.google ? [this.google] : undefined,
    });
  }

  /** The client secret in Secrets Manager: its value is a reference to the client's attribute. */
  private clientSecretRef(envName: string, key: KeyRef): SecretRef {
    const secret = new SecretsmanagerSecret(this, "client-secret", {
      name: `owui/${envName}/cognito/client-secret`,
      description:
        `Client secret of the Cognito app client ${resourceName(envName, "openwebui")} (plain string). Written by Terraform from the client's client_secret attribute, ` +
        "which Cognito generates and Terraform state already holds; rotate by replacing the client.",
      kmsKeyId: key.keyArn,
      recoveryWindowInDays: 7,
    });
    new SecretsmanagerSecretVersion(this, "client-secret-value", { secretId: secret.id, secretString: this.client.clientSecret });
    return { secretArn: secret.arn, secretName: secret.name };
  }

  /** The PreSignUp function refusing email domains outside `config.emailDomains` (functions/provisioning/src/pre-signup.ts). */
  private allowListFunction(props: CognitoUserPoolProps): NodeFunction {
    const name = resourceName(props.envName, "pre-signup");
    return new NodeFunction(this, "pre-signup", {
      name,
      description: `Cognito PreSignUp trigger of ${resourceName(props.envName)}: refuses email domains outside ALLOWED_EMAIL_DOMAINS`,
      aws: props.aws,
      bundle: bundleFunction({ ...BUNDLES["pre-signup"] }),
      environment: { ALLOWED_EMAIL_DOMAINS: props.config.emailDomains.join(",") },
      kmsKey: props.kmsKey,
      logRetentionDays: props.logRetentionDays,
      // Cognito waits at most 5 s for a trigger; the check takes microseconds.
      timeoutSeconds: 5,
      memoryMiB: 128,
      reservedConcurrency: 5,
      // No AWS calls: only the runtime's own logs, X-Ray and environment key.
      statements: [],
    });
  }
}

/** The `aws_cognito_user_pool` arguments (everything but `lambda_config`, which triggers fill). */
function poolConfig(envName: string, config: CognitoConfig): ConstructorParameters<typeof UserPoolResource>[2] {
  return {
    name: resourceName(envName),
    usernameAttributes: ["email"],
    autoVerifiedAttributes: ["email"],
    usernameConfiguration: { caseSensitive: false },
    // A changed email stays unverified (and the old one in use) until the user confirms the new one.
    userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdate: ["email"] },
    passwordPolicy: {
      minimumLength: 12,
      requireUppercase: true,
      requireLowercase: true,
      requireNumbers: true,
      requireSymbols: true,
      temporaryPasswordValidityDays: 3,
      passwordHistorySize: 5,
    },
    mfaConfiguration: config.mfa,
    softwareTokenMfaConfiguration: config.mfa === "OFF" ? undefined : { enabled: true },
    accountRecoverySetting: { recoveryMechanism: [{ name: "verified_email", priority: 1 }] },
    adminCreateUserConfig: { allowAdminCreateUserOnly: !config.selfSignUp },
    // Threat protection (formerly "advanced security features") is a Plus-plan feature: the
    // UserPoolAddOns API rejects ENFORCED on a pool below the Plus tier. Plus is billed per MAU.
    userPoolTier: "PLUS",
    userPoolAddOns: { advancedSecurityMode: "ENFORCED" },
    deletionProtection: "ACTIVE",
  };
}

/** `["*"]` means any address: no allow-list trigger. */
function isAnyDomain(domains: readonly string[]): boolean {
  return domains.length === 1 && domains[0] === "*";
}

/** Refusals the env schema cannot express on its own (they need the env name or mix list entries). */
function checkConfig(path: string, props: CognitoUserPoolProps): void {
  const { config, envName } = props;
  if (config.emailDomains.includes("*") && !isAnyDomain(config.emailDomains)) {
    throw new Error(
      `CognitoUserPool ${path}: auth.cognito.emailDomains ${JSON.stringify(config.emailDomains)} mixes "*" (any address) with domains, so the list would restrict nothing. Fix: use ["*"] alone, or list only domains`,
    );
  }
  const prefix = resourceName(envName);
  if (config.domainPrefix === undefined && /aws|amazon|cognito/.test(prefix)) {
    throw new Error(`CognitoUserPool ${path}: the default domain prefix "${prefix}-<account id>" contains a word Cognito reserves (aws, amazon or cognito). Fix: set auth.cognito.domainPrefix`);
  }
  const hours = props.refreshTokenValidityHours;
  if (hours !== undefined && (!Number.isInteger(hours) || hours < 1 || hours > 87_600)) {
    throw new Error(`CognitoUserPool ${path}: refreshTokenValidityHours is ${hours}. Fix: a whole number of hours from 1 to 87600 (10 years)`);
  }
}

/** `PostConfirmation` → `post-confirmation`. */
function kebab(s: string): string {
  return s.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
}
