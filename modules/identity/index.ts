/**
 * Identity layer: who signs users in and how Open WebUI learns who they are (`auth` in the env).
 * Creates the Cognito user pool when the IdP is Cognito, the placeholder secrets the mode needs
 * (SCIM token, Entra client secret, oauth2-proxy cookie secret), takes the Entra ids from the
 * integrations layer (which publishes them, or reads an operator's parameter), wires Open WebUI's task for the mode (modules/identity/wiring.ts) and runs
 * the auth guardrails (modules/policy) on the result. Other layers take only its typed outputs.
 */
import { TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import type { AuthConfig } from "../../envs/auth.js";
import type { EnvConfig } from "../../envs/schema.js";
import type { AwsContext } from "../../lib/context.js";
import { placeholderSecret, type PlaceholderInfo } from "../../lib/placeholder-secret.js";
import type { SecretRef } from "../../lib/refs.js";
import type { IntegrationsOutputs } from "../integrations/index.js";
import type { SecurityOutputs } from "../security/index.js";
import { CognitoUserPool } from "./cognito.js";
import type { OpenWebUiAuth, ScimOutputs, UserPoolOutputs } from "./types.js";
import { OIDC_CALLBACK_PATH, PROXY_CALLBACK_PATH, signOutUrlExpression, wireAuth, type AuthRefs } from "./wiring.js";

export * from "./types.js";
export { CognitoUserPool } from "./cognito.js";
export * from "./wiring.js";

export interface IdentityProps {
  /** The parsed env: `auth` (mode, IdP, SCIM, overrides), `name`, `hostname`. */
  readonly env: EnvConfig;
  /** Region, account and partition (SSM parameter ARNs, the Cognito domain prefix). */
  readonly aws: AwsContext;
  /** The workload CMK: placeholder secrets, the Cognito client secret, the pool's trigger logs. */
  readonly security: Pick<SecurityOutputs, "workloadKey">;
  /** Retention of the identity layer's log groups (the Cognito PreSignUp function). */
  readonly logRetentionDays: number;
  /** The ALB's view of the network, for the oauth2-proxy sidecar (mode `oauth2-proxy`). */
  readonly alb: AlbFacts;
  /**
   * The Entra tenant and client ids (the integrations layer publishes them, or reads the parameter an
   * operator publishes). Required when `auth.idp` is `entra`.
   * @default - none (fine for Cognito)
   */
  readonly integrations?: Pick<IntegrationsOutputs, "entra">;
}

/** What the oauth2-proxy sidecar must know of the ALB in front of it. */
export interface AlbFacts {
  /** CIDRs of the subnets the ALB's nodes sit in: the only sources whose `X-Forwarded-*` the proxy trusts. */
  readonly subnetCidrs: readonly string[];
  /** The ALB's idle timeout: the proxy waits as long for Open WebUI's response headers. */
  readonly idleTimeoutSeconds: number;
}

/** What other layers may use of the identity layer. */
export interface IdentityOutputs {
  /** `auth.mode`. */
  readonly mode: AuthConfig["mode"];
  /** `auth.idp`. */
  readonly idp: AuthConfig["idp"];
  /** The Cognito user pool, when `idp` is `cognito`. */
  readonly userPool?: UserPoolOutputs;
  /** Open WebUI's SCIM API, when `auth.scim.enabled`. */
  readonly scim?: ScimOutputs;
  /** Open WebUI's auth wiring: environment, secrets, sidecar, target port, health path. */
  readonly openwebui: OpenWebUiAuth;
  /** The secrets of this layer an operator fills after apply. */
  readonly placeholders: readonly PlaceholderInfo[];
  /** `WEBUI_AUTH_SIGNOUT_REDIRECT_URL` (a Terraform local), in mode `oauth2-proxy`. */
  readonly signOutUrl?: string;
}

/** The cookie-secret command (32 random bytes as URL-safe raw base64, which oauth2-proxy accepts). */
export const COOKIE_SECRET_COMMAND = "openssl rand -base64 32 | tr -- '+/' '-_' | tr -d '='";

export class Identity extends Construct implements IdentityOutputs {
  readonly mode: AuthConfig["mode"];
  readonly idp: AuthConfig["idp"];
  readonly userPool?: CognitoUserPool;
  readonly scim?: ScimOutputs;
  readonly openwebui: OpenWebUiAuth;
  readonly signOutUrl?: string;
  private readonly placeholderList: PlaceholderInfo[] = [];
  private readonly kmsKeyArn: string;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const { env, aws, security } = props;
    const { auth } = env;
    this.mode = auth.mode;
    this.idp = auth.idp;
    this.kmsKeyArn = security.workloadKey.keyArn;
    const refs: { -readonly [K in keyof AuthRefs]: AuthRefs[K] } = { envName: env.name, hostname: env.hostname, alb: props.alb };

    if (auth.idp === "cognito") {
      this.userPool = new CognitoUserPool(this, "cognito", {
        envName: env.name,
        aws,
        hostname: env.hostname,
        config: auth.cognito,
        callbackPath: auth.mode === "oauth2-proxy" ? PROXY_CALLBACK_PATH : OIDC_CALLBACK_PATH,
        kmsKey: security.workloadKey,
        logRetentionDays: props.logRetentionDays,
        // Behind oauth2-proxy the session refreshes with the pool's refresh token: let it outlive the cookie.
        refreshTokenValidityHours: auth.mode === "oauth2-proxy" ? Math.max(24, auth.proxy.cookieExpireHours) : undefined,
      });
      refs.userPool = this.userPool;
    }

    if (auth.scim.enabled) {
      const token = this.placeholder("scim-token", `owui/${env.name}/openwebui/scim-token`, "a random string, e.g. \"$(openssl rand -hex 32)\". Open WebUI's SCIM_TOKEN: SCIM clients (the provisioning worker, Entra) send it as \"Authorization: Bearer <token>\"");
      this.scim = { token };
      refs.scimToken = token;
    }

    if (auth.admin) {
      refs.adminPassword = this.placeholder(
        "admin-password",
        `owui/${env.name}/openwebui/admin-password`,
        `a random password, e.g. "$(openssl rand -base64 24)". WEBUI_ADMIN_PASSWORD of the first administrator (${auth.admin.email}), created at Open WebUI's first start; nobody types it (the administrator signs in through the IdP with that address)`,
      );
    }

    if (auth.idp === "entra") {
      const ids = props.integrations?.entra;
      if (!ids) throw new Error(`Identity ${this.node.path}: auth.idp is "entra" but no Entra ids were given. Fix: pass the integrations layer's outputs as props.integrations`);
      refs.entra = {
        // A literal, or the operator parameter's value read at plan (builds OPENID_PROVIDER_URL).
        tenantId: ids.tenantId,
        // A literal, or the operator's parameter, which ECS reads at task start.
        clientId: ids.clientId,
        clientSecret: this.placeholder(
          "entra-client-secret",
          `owui/${env.name}/openwebui/oauth-client-secret`,
          `the client secret VALUE (not its id) of the Entra app registration, plain string: Entra admin center → App registrations → the app → Certificates & secrets → New client secret. Open WebUI's OAUTH_CLIENT_SECRET; the app's redirect URI must be https://${env.hostname}${OIDC_CALLBACK_PATH}`,
        ),
      };
    }

    if (auth.mode === "oauth2-proxy") {
      refs.cookieSecret = this.placeholder(
        "oauth2-proxy-cookie-secret",
        `owui/${env.name}/oauth2-proxy/cookie-secret`,
        `32 random bytes as URL-safe base64 without padding (43 characters), exactly: ${COOKIE_SECRET_COMMAND}. oauth2-proxy's OAUTH2_PROXY_COOKIE_SECRET (standard base64 with + or / is refused)`,
      );
      const pool = this.userPool!;
      // A local, so the HCL shows the sign-out URL once, readable, and the task definition refers to it.
      const local = new TerraformLocal(this, "signout-url", signOutUrlExpression(pool, pool.logoutUrl));
      local.overrideLogicalId("openwebui_signout_redirect_url");
      this.signOutUrl = local.asString;
      refs.signOutUrl = this.signOutUrl;
    }

    this.openwebui = wireAuth(auth, refs).openwebui;
  }

  /** Every placeholder secret of this layer, in creation order. */
  get placeholders(): readonly PlaceholderInfo[] {
    return this.placeholderList;
  }

  private placeholder(id: string, secretName: string, format: string): SecretRef {
    this.placeholderList.push({ name: id, secretName, format });
    return placeholderSecret(this, id, { name: secretName, description: `Fill after apply. Format: ${format}`, kmsKeyArn: this.kmsKeyArn });
  }
}
