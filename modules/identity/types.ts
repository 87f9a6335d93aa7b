/**
 * Typed outputs of the identity layer that other layers (services, provisioning) consume. Only these
 * cross the module boundary.
 */
import type { SecretSource, ContainerSpec } from "../compute/index.js";
import type { SecretRef } from "../../lib/refs.js";

/** Cognito triggers the platform attaches. */
export type CognitoTrigger = "PreSignUp" | "PostConfirmation";

/** A Cognito user pool with its hosted domain and the platform's app client. */
export interface UserPoolOutputs {
  readonly userPoolId: string;
  readonly userPoolArn: string;
  /** `https://cognito-idp.<region>.amazonaws.com/<pool id>`: the OIDC issuer. */
  readonly issuerUrl: string;
  /** `<prefix>.auth.<region>.amazoncognito.com`: the hosted domain (no scheme). */
  readonly domainHost: string;
  /** The authorization-code app client's id. */
  readonly clientId: string;
  /** Secrets Manager secret holding the app client's secret (plain string). */
  readonly clientSecret: SecretRef;
  /**
   * Attaches a Lambda trigger to the pool (and the `lambda_permission` Cognito needs, with
   * `source_arn` = the pool). One function per trigger; a second call for the same trigger throws.
   */
  addTrigger(trigger: CognitoTrigger, fn: { readonly functionArn: string; readonly functionName: string }): void;
}

/** What Open WebUI's task needs for the env's auth mode (merged into its service spec by the services layer). */
export interface OpenWebUiAuth {
  /** Plain auth settings of the Open WebUI container (already checked by the guardrails). */
  readonly environment: Readonly<Record<string, string>>;
  /** Secret auth settings of the Open WebUI container (OAuth client secret, SCIM token). */
  readonly secrets: Readonly<Record<string, SecretSource>>;
  /** Containers to add to the task (the oauth2-proxy sidecar), or none. */
  readonly sidecars: readonly ContainerSpec[];
  /** The port the ALB must target (4180 behind oauth2-proxy), or undefined for Open WebUI's own port. */
  readonly targetPort?: number;
  /** ALB health-check path when `targetPort` is set (`/ping`). */
  readonly healthCheckPath?: string;
}

/** Open WebUI's SCIM 2.0 API, when on. */
export interface ScimOutputs {
  /** Secret holding `SCIM_TOKEN` (the bearer token SCIM clients send). */
  readonly token: SecretRef;
}
