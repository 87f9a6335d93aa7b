/**
 * Baseline rules from ../shared/POLICY-RULES.md, asserted over EVERY resource of EVERY stack
 * `pnpm synth` writes (not one layer at a time), so a new log group, function, queue, topic or
 * secret anywhere in the platform cannot quietly miss its encryption, retention or tracing.
 * Each rule names the public IDs it mirrors; the layer tests assert the exact values.
 */
import { afterAll, describe, expect, it } from "vitest";
import { buildApp } from "../stacks/app.js";
import { synthJson, type SynthOutput } from "./support/hcl-gate.js";
import { synthesizedOf, type Json, type Synthesized } from "./support/synth.js";

const out: SynthOutput = synthJson(buildApp);
afterAll(() => out.cleanup());
const stacks: [string, Synthesized][] = Object.entries(out.stacks).map(([name, f]) => [name, synthesizedOf(JSON.parse(f.text) as Json)]);

/** Every resource of `type` in every stack, as `<stack>/<logical name>` → config. */
function everywhere(type: string): [string, Json][] {
  return stacks.flatMap(([stack, s]) => s.resources(type).map(([name, r]) => [`${stack}/${name}`, r] as [string, Json]));
}

/** The offenders of `rule` among `resources` (empty when all comply). */
const offenders = (resources: [string, Json][], rule: (r: Json) => boolean) => resources.filter(([, r]) => !rule(r)).map(([name]) => name);
const isRef = (v: unknown) => typeof v === "string" && v.startsWith("${");

describe("baseline rules over every stack of the app", () => {
  it("synthesizes the ten stacks", () => {
    expect(stacks.map(([n]) => n).sort()).toEqual(["account-us-east-1", "bootstrap", "nonprod", "nonprod-certificate", "nonprod-dns", "nonprod-dns-validation", "prod", "prod-certificate", "sandbox", "sandbox-certificate"]);
  });

  it("CKV_AWS_158/66: every log group has a KMS key and a retention", () => {
    const groups = everywhere("aws_cloudwatch_log_group");
    expect(groups.length).toBeGreaterThan(20);
    expect(offenders(groups, (g) => isRef(g.kms_key_id) && Number.isInteger(g.retention_in_days) && g.retention_in_days > 0)).toEqual([]);
  });

  it("CKV_AWS_363/50/173/115, L1: every function runs nodejs22.x on arm64, with X-Ray active, a CMK for its environment and reserved concurrency", () => {
    const functions = everywhere("aws_lambda_function");
    // db-bootstrap, the Open WebUI upgrade gate and the canary in each env, and sandbox's producer, worker and reconciler.
    expect(functions.length).toBe(12);
    expect(
      offenders(
        functions,
        (f) => f.runtime === "nodejs22.x" && JSON.stringify(f.architectures) === '["arm64"]' && f.tracing_config?.mode === "Active" && isRef(f.kms_key_arn) && Number.isInteger(f.reserved_concurrent_executions),
      ),
    ).toEqual([]);
  });

  it("CKV_AWS_301: every Lambda permission names a service principal and a source ARN", () => {
    const permissions = everywhere("aws_lambda_permission");
    expect(permissions.length).toBeGreaterThan(0);
    expect(offenders(permissions, (p) => typeof p.principal === "string" && p.principal.endsWith(".amazonaws.com") && isRef(p.source_arn))).toEqual([]);
  });

  it("CKV_AWS_27, SQS.1: every queue is encrypted with a customer-managed key", () => {
    const queues = everywhere("aws_sqs_queue");
    expect(queues.length).toBeGreaterThan(0);
    expect(offenders(queues, (q) => isRef(q.kms_master_key_id))).toEqual([]);
  });

  it("CKV_AWS_26, SNS.1: every topic is encrypted with a customer-managed key", () => {
    const topics = everywhere("aws_sns_topic");
    expect(topics.length).toBe(3);
    expect(offenders(topics, (t) => isRef(t.kms_master_key_id))).toEqual([]);
  });

  it("CKV_AWS_149: every secret is encrypted with a customer-managed key", () => {
    const secrets = everywhere("aws_secretsmanager_secret");
    expect(secrets.length).toBeGreaterThan(20);
    expect(offenders(secrets, (s) => isRef(s.kms_key_id))).toEqual([]);
  });

  it("no secret version carries a literal value (only references to what AWS generated)", () => {
    const versions = everywhere("aws_secretsmanager_secret_version");
    expect(versions.length).toBeGreaterThan(0);
    expect(offenders(versions, (v) => v.secret_string === undefined || /^\$\{[^{}]+\}$/.test(v.secret_string))).toEqual([]);
  });

  it("Cognito: every user pool enforces threat protection, deletion protection and a 12-character policy with upper, number and symbol", () => {
    const pools = everywhere("aws_cognito_user_pool");
    expect(pools.map(([n]) => n.split("/")[0])).toEqual(["sandbox"]);
    expect(
      offenders(pools, (p) => {
        const policy = p.password_policy;
        return p.user_pool_add_ons?.advanced_security_mode === "ENFORCED" && p.deletion_protection === "ACTIVE" && policy.minimum_length >= 12 && policy.require_uppercase && policy.require_numbers && policy.require_symbols;
      }),
    ).toEqual([]);
  });
});
