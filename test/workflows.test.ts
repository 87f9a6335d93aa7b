/**
 * The deploy pipeline's structure (.github/workflows): triggers, permissions, the fork guard,
 * environments, the order of jobs, pinned actions, and the stack lists .github/scripts/stacks.ts
 * derives from the synthesized manifest. actionlint lints the same files in .ci/run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { applyOrder, pipelineOf, stateProfileOf, type ManifestStack } from "../.github/scripts/stacks.js";
import { bootstrap } from "../envs/bootstrap.js";
import { ACCOUNT_STACKS, ENVIRONMENTS } from "../envs/index.js";

type Json = Record<string, any>;
const dir = join(import.meta.dirname, "..", ".github", "workflows");
const text = (file: string) => readFileSync(join(dir, file), "utf8");
const load = (file: string) => parse(text(file)) as Json;
const plan = load("plan.yml");
const deploy = load("deploy.yml");
const apply = load("apply.yml");
const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";
const APPLY_JOBS = ["account", "sandbox", "nonprod", "prod"];

/** Every job a job depends on, transitively. */
function ancestors(jobs: Json, name: string): Set<string> {
  const out = new Set<string>();
  const visit = (n: string) => {
    const needs = jobs[n]?.needs;
    for (const d of needs === undefined ? [] : Array.isArray(needs) ? needs : [needs]) {
      if (!out.has(d)) {
        out.add(d);
        visit(d);
      }
    }
  };
  visit(name);
  return out;
}
const runs = (job: Json) => (job.steps ?? []).map((s: Json) => s.run ?? "").join("\n");
const groupsArg = (job: Json) => /--groups (\S+)/.exec(runs(job))?.[1]?.split(",");

describe("triggers", () => {
  it("plan runs on pull requests to main only (never pull_request_target, which would run fork code with secrets)", () => {
    expect(Object.keys(plan.on)).toEqual(["pull_request"]);
    expect(plan.on.pull_request).toEqual({ branches: ["main"] });
    for (const w of [plan, deploy, apply]) expect(Object.keys(w.on)).not.toContain("pull_request_target");
  });

  it("deploy runs on pushes (merges) to main, or by hand; apply only when deploy calls it", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: {} });
    expect(Object.keys(apply.on)).toEqual(["workflow_call"]);
    expect(Object.keys(apply.on.workflow_call.inputs)).toEqual(["environment", "stacks"]);
  });

  it("deploys never overlap and are never cancelled mid-apply", () => {
    expect(deploy.concurrency).toEqual({ group: "deploy", "cancel-in-progress": false });
  });
});

describe("permissions", () => {
  it.each([
    ["plan.yml", plan],
    ["deploy.yml", deploy],
    ["apply.yml", apply],
  ])("%s is read-only at the top", (_, w) => {
    expect(w.permissions).toEqual({ "contents": "read" });
  });

  const idTokenJobs = (w: Json) => Object.entries(w.jobs as Json).filter(([, j]) => j.permissions?.["id-token"] !== undefined).map(([n, j]) => [n, j.permissions["id-token"]]);

  it("grants id-token: write only to the jobs that assume an AWS role", () => {
    expect(idTokenJobs(plan)).toEqual([["plan", "write"]]);
    expect(idTokenJobs(deploy)).toEqual(APPLY_JOBS.map((j) => [j, "write"]));
    expect(idTokenJobs(apply)).toEqual([["apply", "write"]]);
    // …and those are the only jobs that configure AWS credentials.
    for (const w of [plan, deploy, apply]) {
      for (const [name, job] of Object.entries(w.jobs as Json)) {
        const assumes = (job.steps ?? []).some((s: Json) => String(s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@"));
        if (assumes) expect(job.permissions?.["id-token"], name).toBe("write");
      }
    }
  });

  it("lets only the comment job write to the pull request, and no job write contents", () => {
    const writers = Object.entries(plan.jobs as Json).filter(([, j]) => j.permissions?.["pull-requests"] === "write").map(([n]) => n);
    expect(writers).toEqual(["comment"]);
    for (const w of [plan, deploy, apply]) for (const j of Object.values(w.jobs as Json)) expect(j.permissions?.contents ?? "read").toBe("read");
  });

  it("plans with the plan role and applies with the deploy role", () => {
    const roleOf = (job: Json) => job.steps.find((s: Json) => String(s.uses).startsWith("aws-actions/configure-aws-credentials@")).with["role-to-assume"];
    expect(roleOf(plan.jobs.plan)).toBe("${{ vars.AWS_PLAN_ROLE_ARN }}");
    expect(roleOf(apply.jobs.apply)).toBe("${{ vars.AWS_DEPLOY_ROLE_ARN }}");
  });
});

describe("the fork guard", () => {
  it("is on every pull-request job that touches credentials, the synthesized stacks or the pull request", () => {
    for (const name of ["synth", "plan", "comment"]) expect(plan.jobs[name].if, name).toContain(FORK_GUARD);
  });

  it("and the state store's credentials are read only by guarded jobs", () => {
    for (const [name, job] of Object.entries(plan.jobs as Json)) {
      if (JSON.stringify(job).includes("secrets.")) expect(job.if, name).toContain(FORK_GUARD);
    }
  });
});

describe("order of jobs", () => {
  it("runs pnpm typecheck and pnpm test:unit before any plan", () => {
    expect(runs(plan.jobs.unit)).toContain("pnpm typecheck");
    expect(runs(plan.jobs.unit)).toContain("pnpm test:unit");
    for (const name of ["synth", "plan", "comment"]) expect(ancestors(plan.jobs, name).has("unit"), name).toBe(true);
  });

  it("runs pnpm test:unit before any apply, then applies one GitHub environment at a time", () => {
    expect(runs(deploy.jobs.unit)).toContain("pnpm typecheck");
    expect(runs(deploy.jobs.unit)).toContain("pnpm test:unit");
    expect(Object.keys(deploy.jobs)).toEqual(["unit", "synth", ...APPLY_JOBS]);
    expect(deploy.jobs.synth.needs).toBe("unit");
    APPLY_JOBS.forEach((job, i) => {
      expect(ancestors(deploy.jobs, job).has("unit"), job).toBe(true);
      // Each apply job waits for the one before it: a chain, never two at once.
      expect(deploy.jobs[job].needs).toEqual(i === 0 ? "synth" : ["synth", APPLY_JOBS[i - 1]]);
    });
  });

  it("gives every apply job its own GitHub environment, and the deploy role trusts exactly those", () => {
    expect(apply.jobs.apply.environment).toBe("${{ inputs.environment }}");
    for (const job of APPLY_JOBS) {
      expect(deploy.jobs[job].uses).toBe("./.github/workflows/apply.yml");
      expect(deploy.jobs[job].with).toEqual({ environment: job, stacks: `\${{ toJSON(fromJSON(needs.synth.outputs.apply).${job}) }}` });
      expect(deploy.jobs[job].secrets).toBe("inherit");
    }
    expect(bootstrap.github?.deployEnvironments).toEqual(APPLY_JOBS);
  });

  it("has one apply job per env of envs/ (plus account), and the stack lists use the same groups", () => {
    expect(APPLY_JOBS.filter((j) => j !== "account").sort()).toEqual(ENVIRONMENTS.map((e) => e.name).sort());
    expect(groupsArg(deploy.jobs.synth)).toEqual(APPLY_JOBS);
    expect(groupsArg(plan.jobs.synth)).toEqual(APPLY_JOBS);
  });
});

describe("actions", () => {
  it("are pinned by full commit SHA with the version as a comment", () => {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".yml"))) {
      const uses = [...text(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].filter((m) => !m[1]!.startsWith("./"));
      expect(uses.length, file).toBeGreaterThan(0);
      for (const [line, ref, comment] of uses) {
        expect(ref, line).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(comment, line).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("use one SHA per action across the workflows", () => {
    const shas = new Map<string, Set<string>>();
    for (const file of readdirSync(dir)) {
      for (const m of text(file).matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40})/g)) shas.set(m[1]!, (shas.get(m[1]!) ?? new Set()).add(m[2]!));
    }
    for (const [action, set] of shas) expect(set.size, action).toBe(1);
  });
});

describe(".ci/run", () => {
  it("installs actionlint at a pinned version from the Go module proxy, runs it, and fails CI on its findings", () => {
    const ci = readFileSync(join(import.meta.dirname, "..", ".ci", "run"), "utf8");
    const version = /^actionlint_version=(v\d+\.\d+\.\d+)$/m.exec(ci)?.[1];
    expect(version).toBeDefined();
    expect(ci).toContain('go install "github.com/rhysd/actionlint/cmd/actionlint@${actionlint_version}"');
    expect(ci).toMatch(/"\$gobin\/actionlint" 2>&1 \| tee -a "\$log"\nactionlint_status=\$\{PIPESTATUS\[0\]\}/);
    expect(ci).toContain('[ "$actionlint_status" -eq 0 ] || status=1');
    // The closing line stays last: `N passed, N failed`, then the exit status.
    expect(ci.trimEnd().split("\n").slice(-2)).toEqual(['echo "${passed} passed, ${failed} failed"', '[ "$status" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]']);
  });
});

describe("the stack lists (.github/scripts/stacks.ts)", () => {
  const m = (name: string, ...dependencies: string[]): ManifestStack => ({ name, dependencies, workingDirectory: `stacks/${name}` });
  const stacks = [
    m("bootstrap"),
    m("account-us-east-1"),
    m("prod-certificate"),
    m("prod-dns", "prod"),
    m("prod-dns-validation", "prod-certificate"),
    m("prod", "prod-certificate"),
    m("sandbox", "sandbox-certificate"),
    m("sandbox-certificate"),
  ];

  it("plans every stack but bootstrap", () => {
    expect(pipelineOf(stacks, ["account", "sandbox", "prod"]).plan).toEqual(["account-us-east-1", "prod", "prod-certificate", "prod-dns", "prod-dns-validation", "sandbox", "sandbox-certificate"]);
  });

  it("applies certificate → DNS validation → env → DNS, even where the manifest leaves env and validation unordered", () => {
    expect(pipelineOf(stacks, ["account", "sandbox", "prod"]).apply).toEqual({
      account: ["account-us-east-1"],
      sandbox: ["sandbox-certificate", "sandbox"],
      prod: ["prod-certificate", "prod-dns-validation", "prod", "prod-dns"],
    });
  });

  it("follows the manifest's dependencies over the role order", () => {
    expect(applyOrder("x", [m("x-certificate", "x"), m("x")])).toEqual(["x", "x-certificate"]);
    expect(() => applyOrder("x", [m("x-certificate", "x"), m("x", "x-certificate")])).toThrow(/cycle/);
  });

  it("refuses a stack no apply job owns, a job with no stack, and a job that applies before its dependency", () => {
    expect(() => pipelineOf(stacks, ["account", "prod"])).toThrow(/stack "sandbox" belongs to no apply job[\s\S]*Fix: add a job for it to \.github\/workflows\/deploy\.yml/);
    expect(() => pipelineOf(stacks, ["account", "sandbox", "prod", "nonprod"])).toThrow(/group "nonprod" has no stack/);
    expect(() => pipelineOf([m("a-x", "b"), m("b")], ["a", "b"])).toThrow(/"a-x" depends on "b", which a later job applies/);
  });

  it("groups by the longest env name, so prod-eu's stacks are not prod's", () => {
    expect(pipelineOf([m("prod"), m("prod-eu"), m("prod-eu-certificate")], ["prod", "prod-eu"]).apply).toEqual({ prod: ["prod"], "prod-eu": ["prod-eu-certificate", "prod-eu"] });
  });

  it("fit today's envs: every env stack and account stack lands in a job", () => {
    const today = [
      m("bootstrap"),
      ...ACCOUNT_STACKS.map((a) => m(a.stackId)),
      ...ENVIRONMENTS.flatMap((e) => [m(`${e.name}-certificate`), m(e.name, `${e.name}-certificate`)]),
    ];
    const { apply: groups } = pipelineOf(today, APPLY_JOBS);
    expect(groups.account).toEqual(ACCOUNT_STACKS.map((a) => a.stackId));
    for (const e of ENVIRONMENTS) expect(groups[e.name]).toEqual([`${e.name}-certificate`, e.name]);
  });

  it("reads the state profile from a synthesized backend (HCL or JSON)", () => {
    const hcl = (extra: string) => `terraform {\n  backend "s3" {\n    bucket = "workspaces"\n    endpoints = {\n      s3 = "https://s3.example"\n    }\n${extra}  }\n\n}\n`;
    expect(stateProfileOf(hcl('    profile = "owui-state"\n'))).toBe("owui-state");
    expect(stateProfileOf(hcl(""))).toBeUndefined();
    expect(stateProfileOf(`terraform {\n  backend "local" {\n    path = "x"\n  }\n}\n`)).toBeNull();
    expect(stateProfileOf(JSON.stringify({ terraform: { backend: { s3: { profile: "p" } } } }))).toBe("p");
  });
});
