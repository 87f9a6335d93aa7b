/**
 * Destroy and rename do not lose data (issue 12, item 8): prevent_destroy on the stateful resources
 * from `protection.preventDestroy`; a final Aurora snapshot whose key outlives the destroy and whose
 * name never collides; no create_before_destroy with a fixed name in any stack; the state key
 * written out in each env and pinned to its name.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../envs/index.js";
import { certificateStateKey, parseEnv } from "../envs/schema.js";
import { ConfigErrors } from "../lib/errors.js";
import { STATEFUL_TYPES } from "../lib/protection.js";
import { buildApp } from "../stacks/app.js";
import { baseEnvInput, ENVS, envWith, synthEnvApp, synthPlatform, type Json, type Synthesized } from "./support/synth.js";

/** Every resource of a type in STATEFUL_TYPES, as `type.name` → its lifecycle. */
function statefulLifecycles(s: Synthesized): [string, Json | undefined][] {
  return STATEFUL_TYPES.flatMap((type) => s.resources(type).map(([n, r]) => [`${type}.${n}`, r.lifecycle] as [string, Json | undefined]));
}

function refusal(patch: (raw: any) => void): string {
  const raw = structuredClone(baseEnvInput()) as any;
  patch(raw);
  try {
    parseEnv(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return (err as Error).message;
  }
  throw new Error("config was accepted but should have been refused");
}

describe("prevent_destroy", () => {
  it.each([["nonprod", ENVS.nonprod], ["prod", ENVS.prod]] as const)("is on every stateful resource of %s (the default)", (_name, env) => {
    const s = synthPlatform(env);
    const found = statefulLifecycles(s);
    // The cluster, each instance, the file system and the three keys (workload, user-id HMAC, user data).
    expect(found.map(([a]) => a.split(".")[0]).sort()).toEqual(
      ["aws_efs_file_system", "aws_kms_key", "aws_kms_key", "aws_kms_key", "aws_rds_cluster", ...Array(env.data.aurora.instances).fill("aws_rds_cluster_instance")].sort(),
    );
    for (const [address, lifecycle] of found) expect(lifecycle?.prevent_destroy, address).toBe(true);
  });

  it("keeps the rest of a resource's lifecycle (the cluster's ignore_changes)", () => {
    expect(synthPlatform(ENVS.prod).resource("aws_rds_cluster").lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ["final_snapshot_identifier"] });
  });

  it("is on nothing else", () => {
    const s = synthPlatform(ENVS.prod);
    for (const [type, byName] of Object.entries(s.json.resource as Record<string, Record<string, Json>>)) {
      if (STATEFUL_TYPES.includes(type)) continue;
      for (const [name, r] of Object.entries(byName)) expect(r.lifecycle?.prevent_destroy, `${type}.${name}`).toBeUndefined();
    }
  });

  it("is absent when sandbox switches it off (no final snapshot, so no key must outlive a destroy)", () => {
    expect(ENVS.sandbox.protection.preventDestroy).toBe(false);
    expect(ENVS.sandbox.data.aurora.finalSnapshot).toBe(false);
    const found = statefulLifecycles(synthPlatform(ENVS.sandbox));
    expect(found.length).toBeGreaterThan(0);
    for (const [address, lifecycle] of found) expect(lifecycle?.prevent_destroy, address).toBeUndefined();
  });

  it("stays on the keys when switched off with a final snapshot: the snapshot's key outlives the destroy", () => {
    const s = synthPlatform(envWith((r) => ((r.protection = { preventDestroy: false, reason: "rebuilt every quarter from the snapshot" }), (r.data = { aurora: { finalSnapshot: true } }))));
    for (const [address, lifecycle] of statefulLifecycles(s)) expect(lifecycle?.prevent_destroy, address).toBe(address.startsWith("aws_kms_key.") ? true : undefined);
  });

  it("can be switched off only with a reason of at least 10 characters", () => {
    expect(refusal((r) => (r.protection = { preventDestroy: false }))).toMatch(
      /test: protection\.reason: is missing, but preventDestroy is false: a destroy would delete Aurora, EFS and the keys of this env\. Fix: say why this env may lose its data/,
    );
    expect(refusal((r) => (r.protection = { preventDestroy: false, reason: "test env" }))).toMatch(/test: protection\.reason: "test env" is shorter than 10 characters, but preventDestroy is false/);
    expect(refusal((r) => (r.protection = { reason: "nothing to say here" }))).toMatch(/test: protection\.reason: is set while preventDestroy is true, so it explains nothing\. Fix: remove it, or set preventDestroy to false/);
  });
});

describe("the final Aurora snapshot", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s: named at the cluster's creation, so a second destroy never reuses the first one's name", (name, env) => {
    const cluster = synthPlatform(env).resource("aws_rds_cluster");
    // Terraform evaluates timestamp() at apply; ignore_changes keeps the creation-time value in state, which destroy reads.
    expect(cluster.final_snapshot_identifier).toBe(`owui-${name}-aurora-final-\${formatdate("YYYYMMDDhhmmss", timestamp())}`);
    expect(cluster.lifecycle.ignore_changes).toEqual(["final_snapshot_identifier"]);
    expect(cluster.skip_final_snapshot).toBe(!env.data.aurora.finalSnapshot);
  });

  it("prod takes one, encrypted with the workload key, which no destroy may delete", () => {
    const s = synthPlatform(ENVS.prod);
    const cluster = s.resource("aws_rds_cluster");
    expect(cluster.skip_final_snapshot).toBe(false);
    expect(cluster.kms_key_id).toMatch(/^\$\{aws_kms_key\.security_workload-key_\w+\.arn\}$/);
    expect(s.resource("aws_kms_key", "workload-key").lifecycle).toEqual({ prevent_destroy: true });
  });
});

describe("create_before_destroy is never combined with a fixed name", () => {
  const outdir = mkdtempSync(join(tmpdir(), "cbd-"));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  buildApp({ outdir, hclOutput: false }).synth();
  const stacks = readdirSync(join(outdir, "stacks")).map((id) => [id, JSON.parse(readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8")) as Json] as const);
  /** Attributes that name a resource uniquely in its account and region. */
  const FIXED_NAMES = ["name", "identifier", "cluster_identifier", "replication_group_id", "bucket", "function_name", "creation_token", "domain"];

  it("synthesizes every stack: bootstrap, the account stack, and each env with its certificate (and its DNS stacks when it has Cloudflare)", () => {
    expect(stacks.map(([id]) => id).sort()).toEqual(["account-us-east-1", "bootstrap", ...ENVIRONMENTS.flatMap((e) => [e.name, `${e.name}-certificate`, ...(e.dns?.cloudflare ? [`${e.name}-dns-validation`, `${e.name}-dns`] : [])])].sort());
  });

  it("no resource of any stack has create_before_destroy and a fixed name (a replacement would collide with the old one)", () => {
    const offenders: string[] = [];
    let replaceable = 0;
    for (const [id, json] of stacks) {
      for (const [type, byName] of Object.entries((json.resource ?? {}) as Record<string, Record<string, Json>>)) {
        for (const [name, r] of Object.entries(byName)) {
          if (!r.lifecycle?.create_before_destroy) continue;
          replaceable++;
          for (const field of FIXED_NAMES) if (typeof r[field] === "string") offenders.push(`${id}: ${type}.${name}.${field} = ${r[field]}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(replaceable).toBeGreaterThan(0);
  });

  it("names the groups that create_before_destroy replaces by prefix: every security group, the cluster parameter group", () => {
    const [, prod] = stacks.find(([id]) => id === "prod")!;
    // The network's endpoint group keeps its name: it has no create_before_destroy.
    const groups = Object.values(prod.resource.aws_security_group as Record<string, Json>).filter((g) => g.lifecycle?.create_before_destroy);
    expect(groups.map((g) => g.name_prefix).sort()).toEqual(
      ["alb", "canary", "database", "db-bootstrap", "efs", "litellm", "mcpo", "openwebui", "redis"].map((n) => `owui-prod-${n}-`),
    );
    for (const g of groups) expect(g.tags.Name).toBe(g.name_prefix.replace(/-$/, ""));
    const [parameters] = Object.values(prod.resource.aws_rds_cluster_parameter_group as Record<string, Json>);
    expect(parameters).toMatchObject({ name_prefix: "owui-prod-aurora-pg16-", lifecycle: { create_before_destroy: true } });
  });
});

describe("the state key", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s writes its key out, and its stacks keep their state there and beside it", (name, env) => {
    expect(env.state.key).toBe(`open-webui/aws/${name}.tfstate`);
    const { platform, certificate } = synthEnvApp(env);
    expect(platform.json.terraform.backend.s3.key).toBe(env.state.key);
    expect(certificate.json.terraform.backend.s3.key).toBe(certificateStateKey(env));
    expect(certificateStateKey(env)).toBe(`open-webui/aws/${name}-certificate.tfstate`);
  });

  it("is required: a key derived from the name would move with a rename", () => {
    expect(refusal((r) => delete r.state)).toMatch(/test: state: expected object, got nothing/);
    expect(refusal((r) => (r.state = {}))).toMatch(/test: state\.key: expected string, got nothing \(the field is missing\)\. Fix: e\.g\. "open-webui\/aws\/<env name>\.tfstate"/);
    expect(refusal((r) => (r.state = { key: "/open-webui/aws/test.tfstate" }))).toMatch(/test: state\.key: must be a slash-separated object key ending in \.tfstate/);
    expect(refusal((r) => (r.state = { key: "x/y/test.tfstate", keyPrefix: "x/y" }))).toMatch(/test: state: unknown key "keyPrefix"/);
  });

  it("stays where it was under a rename, and the rename is refused at synth", () => {
    // The env file of "test", with only its name changed.
    expect(refusal((r) => (r.name = "renamed"))).toMatch(
      /renamed: state\.key: "open-webui\/aws\/test\.tfstate" is the state of an env named "test", but this env is named "renamed"\. Renaming an env moves neither its state nor its resources.*Fix: keep name "test"; to rename on purpose, follow README "Remote state" \(copy the state, then set state\.key to "open-webui\/aws\/renamed\.tfstate"\)/,
    );
  });

  it("moves only with the deliberate, two-field edit (after the state was copied)", () => {
    const env = envWith((r) => ((r.name = "renamed"), (r.state = { key: "open-webui/aws/renamed.tfstate" })));
    expect(env.stateKey).toBe("open-webui/aws/renamed.tfstate");
    expect(envWith((r) => (r.state = { key: "other/prefix/test.tfstate" })).stateKey).toBe("other/prefix/test.tfstate");
  });
});
