/**
 * Integrations layer: the SSM parameters under `/owui/<env>/…` that Open WebUI, LiteLLM and
 * operators read, published from typed config: the Entra tenant id, client id and issuer URL, the
 * Entra group object ids under their role names, the LiteLLM team budgets, and (when per-user
 * encryption is on) the KMS key ids. None of them is a secret, so they are `String` parameters.
 *
 * An id the config names by `{ parameterName }` is published by someone else (the platform team);
 * this layer then reads it at plan (`data "aws_ssm_parameter"`) and publishes nothing under that name.
 * The identity layer takes the Entra ids from {@link IntegrationsOutputs.entra}.
 */
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { ConfigError } from "../../lib/errors.js";
import { tfLiteral } from "../../lib/hcl.js";
import type { ParameterRef } from "../../lib/refs.js";

/** A value given in config, or the name of an SSM parameter someone else publishes. */
export type LiteralOrParameter = string | { readonly parameterName: string };

export interface EntraIntegrationProps {
  /** The directory (tenant) id, or the parameter that holds it (`auth.entra.tenantId`). */
  readonly tenantId: LiteralOrParameter;
  /** The app registration's client id, or the parameter that holds it (`auth.entra.clientId`). */
  readonly clientId: LiteralOrParameter;
  /**
   * Group object ids under the role names they map to (`integrations.entra.groups`).
   * @default - none published
   */
  readonly groups?: Readonly<Record<string, string>>;
}

export interface IntegrationsProps {
  /** Names every parameter `/owui/<env>/…`. */
  readonly envName: string;
  /** Partition, region and account: the ARN of an operator-published parameter. */
  readonly aws: AwsContext;
  /**
   * Entra ID metadata, when `auth.idp` is `entra`.
   * @default - no Entra parameters
   */
  readonly entra?: EntraIntegrationProps;
  /**
   * Monthly budget per LiteLLM team in USD (`integrations.litellm.teamBudgetsUsd`). Published only:
   * nothing enforces it (README, "Team budgets").
   * @default - none published
   */
  readonly litellmTeamBudgetsUsd?: Readonly<Record<string, number>>;
  /**
   * The per-user encryption keys' ids, when the feature is on (`encryption.enabled`): published as
   * `/owui/<env>/kms-hmac-key-id` and `/owui/<env>/kms-application-key-id`.
   * @default - not published
   */
  readonly userKeys?: { readonly hmacKeyId: string; readonly applicationKeyId: string };
}

/** The Entra ids as the identity layer uses them. */
export interface EntraIds {
  /** The tenant id: the config's literal, or the operator parameter's value read at plan. */
  readonly tenantId: string;
  /** The client id: the config's literal, or (operator-published) the parameter ECS reads at task start. */
  readonly clientId: string | ParameterRef;
  /** `https://login.microsoftonline.com/<tenant>/v2.0`: the OIDC issuer. */
  readonly issuerUrl: string;
}

/** What other layers may use of the integrations layer. */
export interface IntegrationsOutputs {
  /** The Entra ids, when the props had `entra`. */
  readonly entra?: EntraIds;
  /**
   * Every parameter this layer publishes, by key (`entra-tenant-id`, `entra-client-id`,
   * `entra-issuer-url`, `entra-group/<role>`, `litellm-team-budget/<team>`, `kms-hmac-key-id`,
   * `kms-application-key-id`) → parameter name.
   */
  readonly parameterNames: Readonly<Record<string, string>>;
  /** The same parameters, by key → `ParameterRef` (for ECS `secrets` and IAM grants). */
  readonly parameters: Readonly<Record<string, ParameterRef>>;
}

/** `https://login.microsoftonline.com/<tenant>/v2.0`: Entra's v2.0 issuer of one tenant. */
export const entraIssuerUrl = (tenantId: string) => `https://login.microsoftonline.com/${tenantId}/v2.0`;

/** SSM's limit on one parameter name. */
const SSM_NAME_MAX = 1011;

export class Integrations extends Construct implements IntegrationsOutputs {
  readonly entra?: EntraIds;
  readonly parameterNames: Readonly<Record<string, string>>;
  readonly parameters: Readonly<Record<string, ParameterRef>>;
  private readonly names: Record<string, string> = {};
  private readonly refs: Record<string, ParameterRef> = {};
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: IntegrationsProps) {
    super(scope, id);
    this.prefix = `/owui/${props.envName}`;
    this.parameterNames = this.names;
    this.parameters = this.refs;

    if (props.entra) this.entra = this.publishEntra(props.entra, props.aws);

    for (const [team, usd] of Object.entries(props.litellmTeamBudgetsUsd ?? {})) {
      if (!Number.isFinite(usd) || usd < 0) {
        throw new ConfigError(`${props.envName}: integrations.litellm.teamBudgetsUsd.${team}`, `${usd} is not a monthly budget in USD`, "use a number of dollars, 0 or more, e.g. 500");
      }
      this.publish(`litellm-team-budget/${team}`, `litellm/team-budgets/${team}`, `Monthly LiteLLM budget of team ${team}, in USD (published only; not enforced)`, tfLiteral(String(usd)));
    }

    if (props.userKeys) {
      this.publish("kms-hmac-key-id", "kms-hmac-key-id", "Id of the KMS HMAC key that derives per-user ids (KMS_HMAC_KEY_ID)", props.userKeys.hmacKeyId);
      this.publish("kms-application-key-id", "kms-application-key-id", "Id of the KMS key that wraps per-user data keys (KMS_APPLICATION_CMK_ID)", props.userKeys.applicationKeyId);
    }
  }

  private publishEntra(entra: EntraIntegrationProps, aws: AwsContext): EntraIds {
    const external = (p: { readonly parameterName: string }): ParameterRef => ({
      parameterName: p.parameterName,
      parameterArn: `arn:${aws.partition}:ssm:${aws.region}:${aws.accountId}:parameter${p.parameterName}`,
    });
    // Literals are published; an operator's parameter is read instead. The tenant id is needed at
    // plan to build the issuer URL, so that parameter is read then (insecure_value: not secret).
    let tenantId: string;
    if (typeof entra.tenantId === "string") {
      tenantId = entra.tenantId;
      this.publish("entra-tenant-id", "entra/tenant-id", "Entra ID directory (tenant) id", tfLiteral(tenantId));
    } else {
      tenantId = new DataAwsSsmParameter(this, "entra-tenant-id", { name: entra.tenantId.parameterName }).insecureValue;
    }
    let clientId: string | ParameterRef;
    if (typeof entra.clientId === "string") {
      clientId = entra.clientId;
      this.publish("entra-client-id", "entra/client-id", "Client id of the Entra ID app registration Open WebUI signs in with", tfLiteral(clientId));
    } else {
      // ECS reads it from SSM at task start.
      clientId = external(entra.clientId);
    }
    const issuerUrl = entraIssuerUrl(tenantId);
    // A literal tenant is a GUID (nothing to escape); a parameter's tenant is a reference to evaluate.
    this.publish("entra-issuer-url", "entra/issuer-url", "OIDC issuer of the Entra ID tenant", issuerUrl);
    for (const [role, objectId] of Object.entries(entra.groups ?? {})) {
      this.publish(`entra-group/${role}`, `entra/groups/${role}`, `Object id of the Entra group whose members get the role ${role}`, tfLiteral(objectId));
    }
    return { tenantId, clientId, issuerUrl };
  }

  /** One `String` parameter `/owui/<env>/<path>`, recorded under `key`. `value` is a template (literal text through tfLiteral). */
  private publish(key: string, path: string, description: string, value: string): void {
    const name = `${this.prefix}/${path}`;
    if (name.length > SSM_NAME_MAX) throw new Error(`Integrations ${this.node.path}: parameter name ${name} is longer than SSM's ${SSM_NAME_MAX} characters. Fix: shorten the role or team name`);
    const parameter = new SsmParameter(this, key.replace(/\//g, "-"), { name, description: tfLiteral(description), type: "String", value });
    this.names[key] = name;
    this.refs[key] = { parameterName: name, parameterArn: parameter.arn };
  }
}
