/**
 * GitHub Actions → AWS without stored keys: GitHub's OIDC provider, a plan role and a deploy role
 * carrying the CI/CD policy documents of ci-policy.ts, each trusting exactly the `sub` claims
 * GitHub issues to this repository's pull-request jobs (plan) or to jobs in the listed GitHub
 * environments (deploy). The workflows that assume them are in .github/workflows (README "Deploy
 * pipeline").
 *
 * The `sub` claim, with GitHub's default subject template
 * (https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims):
 *   - a job in a GitHub environment:   `repo:<owner>/<repo>:environment:<name>` (whatever the event)
 *   - a pull_request job (no environment): `repo:<owner>/<repo>:pull_request`
 *   - a push job (no environment):     `repo:<owner>/<repo>:ref:refs/heads/<branch>`
 * Pull requests from forks get no OIDC token and no secrets under `pull_request`; the workflow
 * also refuses them by name.
 */
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import type { AwsContext } from "../../lib/context.js";
import { ConfigError, ConfigErrors } from "../../lib/errors.js";
import { policyDocument, type PolicyStatement } from "../../lib/policy.js";

/** GitHub's OIDC issuer (host and path of `iss`). */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience configure-aws-credentials asks GitHub for (its `audience` input's default). */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

export interface GithubCiInput {
  /** `<owner>/<repo>` exactly as GitHub spells it, e.g. `"oremuslabs/open-webui-aws"`. Required. */
  readonly repository: string;
  /**
   * GitHub environments whose jobs may assume the deploy role, one per apply job of
   * .github/workflows/deploy.yml (`account` and every env). Give each required reviewers and the
   * `main` branch as its only deployment branch in the repository's settings. Required.
   */
  readonly deployEnvironments: readonly string[];
  /**
   * Create GitHub's OIDC provider. An account holds one provider per issuer URL: set false when
   * another stack already created it (the roles then trust the existing one by its ARN). @default true
   */
  readonly createOidcProvider?: boolean;
}

export interface GithubCiConfig {
  readonly repository: string;
  readonly deployEnvironments: readonly string[];
  readonly createOidcProvider: boolean;
}

// GitHub: owner (user/org) 1–39 alphanumerics or single inner hyphens; repository 1–100 of
// letters, digits, `.`, `-`, `_` (not "." or ".."). No wildcard can pass either pattern.
const OWNER_RE = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPO_RE = /^[A-Za-z0-9._-]{1,100}$/;
// Environment names go verbatim into the `sub` claim: no `:` (the claim's separator), and no `*`/`?`.
const ENVIRONMENT_RE = /^[A-Za-z0-9._-]{1,255}$/;

/** Validates the bootstrap's `github` section; throws {@link ConfigErrors} naming each bad value and its fix. */
export function defineGithubCi(raw: GithubCiInput): GithubCiConfig {
  const errors: ConfigError[] = [];
  const fail = (path: string, problem: string, fix: string) => errors.push(new ConfigError(`bootstrap: github.${path}`, problem, fix));
  const [owner, repo, ...rest] = String(raw.repository ?? "").split("/");
  if (rest.length > 0 || !owner || !repo || !OWNER_RE.test(owner) || !REPO_RE.test(repo) || repo === "." || repo === "..") {
    fail(
      "repository",
      `${JSON.stringify(raw.repository)} is not a GitHub repository as <owner>/<repo> (wildcards are refused: the roles' trust would reach other repositories)`,
      'write the owner and name as GitHub shows them, e.g. "oremuslabs/open-webui-aws"',
    );
  }
  const envs = raw.deployEnvironments ?? [];
  if (envs.length === 0) fail("deployEnvironments", "is empty, so no job could assume the deploy role", 'list the GitHub environments of the apply jobs, e.g. ["account", "sandbox", "nonprod", "prod"]');
  envs.forEach((name, i) => {
    if (!ENVIRONMENT_RE.test(name)) {
      fail(`deployEnvironments[${i}]`, `${JSON.stringify(name)} is not usable as a GitHub environment in the OIDC subject`, "use 1–255 letters, digits, '.', '-' or '_' (no ':' and no wildcard)");
    }
    const twin = envs.findIndex((e) => e.toLowerCase() === name.toLowerCase());
    if (twin < i) fail(`deployEnvironments[${i}]`, `${JSON.stringify(name)} repeats deployEnvironments[${twin}] (GitHub environment names are case-insensitive)`, "list each environment once");
  });
  if (errors.length > 0) throw new ConfigErrors(errors);
  return { repository: raw.repository, deployEnvironments: [...envs], createOidcProvider: raw.createOidcProvider ?? true };
}

/** The `sub` values each role trusts (exact, compared with StringEquals). */
export function githubSubjects(config: Pick<GithubCiConfig, "repository" | "deployEnvironments">): { plan: string[]; deploy: string[] } {
  return {
    plan: [`repo:${config.repository}:pull_request`],
    deploy: config.deployEnvironments.map((e) => `repo:${config.repository}:environment:${e}`),
  };
}

export interface GithubCiRolesProps {
  readonly aws: AwsContext;
  readonly config: GithubCiConfig;
  /** Role and policy names start with this; it must not match the deploy policy's own role pattern. */
  readonly namePrefix: string;
  /** Policy documents (JSON) for the plan role. */
  readonly planPolicies: Record<string, string>;
  /** Policy documents (JSON) for the deploy role. */
  readonly deployPolicies: Record<string, string>;
}

/** The OIDC provider (unless it exists) and the two roles, each with its policies attached as managed policies. */
export class GithubCiRoles extends Construct {
  readonly providerArn: string;
  readonly planRole: IamRole;
  readonly deployRole: IamRole;

  constructor(scope: Construct, id: string, props: GithubCiRolesProps) {
    super(scope, id);
    const { aws, config } = props;
    this.providerArn = config.createOidcProvider
      ? new IamOpenidConnectProvider(this, "oidc-provider", { url: `https://${GITHUB_OIDC_HOST}`, clientIdList: [GITHUB_OIDC_AUDIENCE] }).arn
      : `arn:${aws.partition}:iam::${aws.accountId}:oidc-provider/${GITHUB_OIDC_HOST}`;
    const subjects = githubSubjects(config);
    const role = (kind: "plan" | "deploy", subs: string[], policies: Record<string, string>, description: string) => {
      const trust: PolicyStatement = {
        sid: kind === "plan" ? "GithubPullRequests" : "GithubDeployEnvironments",
        actions: ["sts:AssumeRoleWithWebIdentity"],
        principals: [{ type: "Federated", identifiers: [this.providerArn] }],
        conditions: [
          { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:aud`, values: [GITHUB_OIDC_AUDIENCE] },
          { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:sub`, values: subs },
        ],
      };
      const r = new IamRole(this, `${kind}-role`, {
        name: `${props.namePrefix}${kind}`,
        description,
        assumeRolePolicy: policyDocument(this, `${kind}-trust`, [trust]).json,
        maxSessionDuration: 3600,
      });
      for (const [name, json] of Object.entries(policies)) {
        const policy = new IamPolicy(this, `${kind}-${name}`, { name: `${props.namePrefix}${kind}-${name}`, policy: json });
        new IamRolePolicyAttachment(this, `${kind}-${name}-attachment`, { role: r.name, policyArn: policy.arn });
      }
      return r;
    };
    this.planRole = role("plan", subjects.plan, props.planPolicies, `GitHub Actions plan jobs of ${config.repository} (pull requests): read-only`);
    this.deployRole = role("deploy", subjects.deploy, props.deployPolicies, `GitHub Actions apply jobs of ${config.repository} in environments ${config.deployEnvironments.join(", ")}`);
  }
}
