import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { bootstrap } from "../envs/bootstrap.js";
import { defineBootstrap } from "../envs/schema.js";
import { ConfigErrors } from "../lib/errors.js";
import { defineGithubCi, type GithubCiInput } from "../modules/bootstrap/github.js";
import { BootstrapStack } from "../stacks/bootstrap-stack.js";
import { policyOf, synthStack, type Json, type Synthesized } from "./support/synth.js";

const github = defineGithubCi({ repository: "acme/owui-infra", deployEnvironments: ["account", "sandbox", "prod"] });
const synth = (g = github) => synthStack(new BootstrapStack(Testing.app(), "bootstrap", { ...defineBootstrap({ stateBucketName: "acme-owui-tfstate" }), github: g }));
const s = synth();

const role = (x: Synthesized, kind: "plan" | "deploy") => x.resource("aws_iam_role", `${kind}-role`);
const trustOf = (x: Synthesized, kind: "plan" | "deploy") => policyOf(x, role(x, kind).assume_role_policy);
const ref = (x: Json) => String(x).replace(/^\$\{|\}$/g, "");

describe("GitHub OIDC provider", () => {
  it("is GitHub's issuer with the STS audience", () => {
    expect(s.resource("aws_iam_openid_connect_provider")).toEqual({ url: "https://token.actions.githubusercontent.com", client_id_list: ["sts.amazonaws.com"] });
  });

  it("is referenced by ARN, not created, when the account already has one", () => {
    const x = synth({ ...github, createOidcProvider: false });
    expect(x.resources("aws_iam_openid_connect_provider")).toEqual([]);
    expect(trustOf(x, "plan").statement[0].principals).toEqual([{ type: "Federated", identifiers: ["arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"] }]);
  });
});

describe.each([
  ["plan", ["repo:acme/owui-infra:pull_request"]],
  ["deploy", ["repo:acme/owui-infra:environment:account", "repo:acme/owui-infra:environment:sandbox", "repo:acme/owui-infra:environment:prod"]],
] as const)("the %s role's trust", (kind, subjects) => {
  it("admits only web identities of GitHub's provider, with exactly the audience and these subjects", () => {
    const statements = trustOf(s, kind).statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toEqual({
      sid: kind === "plan" ? "GithubPullRequests" : "GithubDeployEnvironments",
      effect: "Allow",
      actions: ["sts:AssumeRoleWithWebIdentity"],
      principals: [{ type: "Federated", identifiers: [expect.stringMatching(/^\$\{aws_iam_openid_connect_provider\.bootstrap_github_oidc-provider_\w+\.arn\}$/)] }],
      condition: [
        { test: "StringEquals", variable: "token.actions.githubusercontent.com:aud", values: ["sts.amazonaws.com"] },
        { test: "StringEquals", variable: "token.actions.githubusercontent.com:sub", values: [...subjects] },
      ],
    });
  });

  it("has no wildcard in any subject, and no StringLike", () => {
    const conditions = trustOf(s, kind).statement[0].condition as Json[];
    expect(conditions.map((c) => c.test)).not.toContain("StringLike");
    for (const c of conditions) for (const v of c.values) expect(v).not.toMatch(/[*?]/);
  });
});

describe("the roles' names and policies", () => {
  it("are outside the deploy policy's own role pattern (owui-*), so the deploy role cannot edit itself", () => {
    expect(role(s, "plan").name).toBe("github-owui-plan");
    expect(role(s, "deploy").name).toBe("github-owui-deploy");
    for (const [, r] of s.resources("aws_iam_role")) expect(r.name).not.toMatch(/^owui-/);
  });

  it("give the plan role the state and read policies, and the deploy role those plus every write part", () => {
    const policies = Object.fromEntries(s.resources("aws_iam_policy").map(([id, p]) => [`aws_iam_policy.${id}.arn`, p]));
    const attached = (kind: string) =>
      s.resources("aws_iam_role_policy_attachment")
        .filter(([, a]) => ref(a.role) === `aws_iam_role.${Object.entries(Object.fromEntries(s.resources("aws_iam_role"))).find(([id]) => id.includes(`${kind}-role`))![0]}.name`)
        .map(([, a]) => policies[ref(a.policy_arn)]!.policy as string)
        .map((p) => p.replace(/^\$\{data\.aws_iam_policy_document\.bootstrap_([\w-]+?)_\w+\.json\}$/, "$1"))
        .sort();
    const parts = s.data("aws_iam_policy_document").map(([id]) => id).filter((id) => id.includes("ci-deploy-policy-part-")).length;
    expect(parts).toBeGreaterThan(0);
    expect(attached("plan")).toEqual(["ci-plan-policy", "ci-state-policy"]);
    expect(attached("deploy")).toEqual([...Array.from({ length: parts }, (_, i) => `ci-deploy-policy-part-${i + 1}`), "ci-plan-policy", "ci-state-policy"].sort());
    // The whole deploy document is over IAM's managed-policy size: only its parts are attached.
    expect(attached("deploy")).not.toContain("ci-deploy-policy");
  });

  it("outputs the role ARNs the workflows read from repository variables", () => {
    expect(s.output("ci_plan_role_arn")?.value).toMatch(/aws_iam_role\.bootstrap_github_plan-role_\w+\.arn/);
    expect(s.output("ci_deploy_role_arn")?.value).toMatch(/aws_iam_role\.bootstrap_github_deploy-role_\w+\.arn/);
  });

  it("are absent without a github section", () => {
    const x = synthStack(new BootstrapStack(Testing.app(), "bootstrap", defineBootstrap({ stateBucketName: "acme-owui-tfstate" })));
    expect(x.resources("aws_iam_role")).toEqual([]);
    expect(x.resources("aws_iam_openid_connect_provider")).toEqual([]);
  });
});

describe("the github config refuses", () => {
  const refusal = (input: Partial<GithubCiInput>) => {
    try {
      defineGithubCi({ repository: "acme/owui-infra", deployEnvironments: ["prod"], ...input });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigErrors);
      return (e as Error).message;
    }
    throw new Error("accepted");
  };

  it.each(["acme/*", "*/*", "acme", "acme/owui/x", "acme/", "-acme/repo", "ac me/repo", "acme/..", "acme/re:po"])("repository %j, naming the path, the value and the fix", (repository) => {
    const message = refusal({ repository });
    expect(message).toContain(`bootstrap: github.repository: ${JSON.stringify(repository)} is not a GitHub repository as <owner>/<repo>`);
    expect(message).toContain("Fix: write the owner and name as GitHub shows them");
  });

  it.each(["prod*", "pr:od", "", "a b"])("deploy environment %j", (name) => {
    expect(refusal({ deployEnvironments: ["nonprod", name] })).toContain(`bootstrap: github.deployEnvironments[1]: ${JSON.stringify(name)} is not usable as a GitHub environment`);
  });

  it("no deploy environment, and a repeated one (case-insensitive)", () => {
    expect(refusal({ deployEnvironments: [] })).toContain("bootstrap: github.deployEnvironments: is empty");
    expect(refusal({ deployEnvironments: ["prod", "Prod"] })).toContain(`bootstrap: github.deployEnvironments[1]: "Prod" repeats deployEnvironments[0]`);
  });
});

describe("envs/bootstrap.ts", () => {
  it("names one repository and a deploy environment per apply job of deploy.yml (test/workflows.test.ts checks the jobs)", () => {
    expect(bootstrap.github?.repository).toMatch(/^[\w.-]+\/[\w.-]+$/);
    expect(bootstrap.github?.deployEnvironments).toEqual(["account", "sandbox", "nonprod", "prod"]);
  });
});
