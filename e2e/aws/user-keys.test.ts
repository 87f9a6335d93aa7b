/**
 * functions/user-keys against moto (pinned, server mode, its own port), reached only through
 * `AWS_ENDPOINT_URL_KMS` (the library runs on SDK defaults). The two KMS rules moto lacks (an HMAC
 * key's MacAlgorithms in DescribeKey, and the key-spec/algorithm rule) come from the cited proxy in
 * functions/user-keys/test/support/kms-rules.ts; the "moto alone" cases pin what moto does without it.
 */
import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER_DEK_CONTEXT, UserKeys, UserKeysError } from "../../functions/user-keys/src/index.js";
import { startKmsRules, type KmsRules } from "../../functions/user-keys/test/support/kms-rules.js";
import { readManifest } from "../harness/manifest.js";
import { startMoto, type Moto } from "../world/infra.js";

const AWS = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };
let moto: Moto;
let rules: KmsRules;
let direct: KMSClient;
let hmacKeyId: string;
let hmac256KeyId: string;
let dekKeyId: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  moto = await startMoto(readManifest());
  rules = await startKmsRules(moto.url);
  for (const [k, v] of Object.entries({ ...AWS, AWS_ENDPOINT_URL_KMS: rules.url })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  direct = new KMSClient({ endpoint: moto.url, region: AWS.AWS_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  const create = async (KeySpec: "HMAC_512" | "HMAC_256" | "SYMMETRIC_DEFAULT") =>
    (await direct.send(new CreateKeyCommand({ KeySpec, KeyUsage: KeySpec.startsWith("HMAC") ? "GENERATE_VERIFY_MAC" : "ENCRYPT_DECRYPT" }))).KeyMetadata!.KeyId!;
  hmacKeyId = await create("HMAC_512");
  hmac256KeyId = await create("HMAC_256");
  dekKeyId = await create("SYMMETRIC_DEFAULT");
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  direct?.destroy();
  await rules?.stop();
  await moto?.stop();
});

const keys = () => new UserKeys({ hmacKeyId, applicationKeyId: dekKeyId });

describe("the key-spec/algorithm rule", () => {
  it("KMS (the rules proxy) refuses HMAC_SHA_256 on an HMAC_512 key; moto alone accepts it (the gap)", async () => {
    const viaRules = new KMSClient({});
    const memo = new GenerateMacCommand({ KeyId: hmacKeyId, MacAlgorithm: "HMAC_SHA_256", Message: Buffer.from("a@example.com") });
    await expect(viaRules.send(memo)).rejects.toMatchObject({ name: "InvalidKeyUsageException" });
    expect(rules.refused).toContain("GenerateMac HMAC_SHA_256 on HMAC_512");
    const motoAlone = await direct.send(new GenerateMacCommand({ KeyId: hmacKeyId, MacAlgorithm: "HMAC_SHA_256", Message: Buffer.from("a@example.com") }));
    expect(motoAlone.Mac).toHaveLength(32);
    viaRules.destroy();
  });

  it("the proxy passes the allowed algorithm through unchanged: same MAC as moto alone", async () => {
    const viaRules = new KMSClient({});
    const input = { KeyId: hmacKeyId, MacAlgorithm: "HMAC_SHA_512" as const, Message: Buffer.from("a@example.com") };
    const [a, b] = await Promise.all([viaRules.send(new GenerateMacCommand(input)), direct.send(new GenerateMacCommand(input))]);
    expect(Buffer.from(a.Mac!).equals(Buffer.from(b.Mac!))).toBe(true);
    viaRules.destroy();
  });

  it("the library reads the algorithm from the key and refuses the memo's mismatch, naming the spec and the allowed algorithm", async () => {
    const err = await keys().userIdFor("a@example.com", "HMAC_SHA_256").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserKeysError);
    expect(err).toMatchObject({ code: "MacAlgorithmMismatch", message: expect.stringMatching(/HMAC_512 allows only HMAC_SHA_512, not HMAC_SHA_256/) });
    // An HMAC_256 key gives 32-byte ids: the algorithm followed the key.
    expect(await new UserKeys({ hmacKeyId: hmac256KeyId, applicationKeyId: dekKeyId }).userIdFor("a@example.com")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("against moto alone (no MacAlgorithms in DescribeKey) the library refuses to guess", async () => {
    const lib = new UserKeys({ hmacKeyId, applicationKeyId: dekKeyId, client: direct });
    await expect(lib.userIdFor("a@example.com")).rejects.toMatchObject({ code: "NotAnHmacKey" });
  });
});

describe("user ids", () => {
  it("are deterministic per email, case- and whitespace-insensitive, 64-byte hex, and differ across emails", async () => {
    const k = keys();
    const a1 = await k.userIdFor("alice@example.com");
    const a2 = await keys().userIdFor("  ALICE@Example.COM\n");
    const b = await k.userIdFor("bob@example.com");
    expect(a1).toMatch(/^[0-9a-f]{128}$/);
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
    await expect(k.verifyUserId("Alice@example.com", a1)).resolves.toBe(true);
    await expect(k.verifyUserId("bob@example.com", a1)).rejects.toMatchObject({ code: "MacInvalid" });
  });

  it("went through AWS_ENDPOINT_URL_KMS (the proxy saw DescribeKey once per instance, then GenerateMac)", () => {
    expect(rules.operations).toContain("DescribeKey");
    expect(rules.operations.filter((o) => o === "GenerateMac").length).toBeGreaterThanOrEqual(3);
  });
});

describe("DEKs", () => {
  it("round-trip: GenerateDataKey AES_256 with the context, Decrypt with it (bytes and base64)", async () => {
    const k = keys();
    const dek = await k.newUserDek();
    expect(dek.plaintext).toHaveLength(32);
    expect(dek.keyArn).toContain(dekKeyId);
    expect(Buffer.from(await k.recoverDek(dek.ciphertext)).equals(Buffer.from(dek.plaintext))).toBe(true);
    expect(Buffer.from(await keys().recoverDek(Buffer.from(dek.ciphertext).toString("base64"))).equals(Buffer.from(dek.plaintext))).toBe(true);
  });

  it("Decrypt is refused with a wrong or a missing context", async () => {
    const { ciphertext: CiphertextBlob, plaintext } = await keys().newUserDek();
    // The same blob with the exact context decrypts: the refusals below are the context's doing.
    expect(Buffer.from((await direct.send(new DecryptCommand({ CiphertextBlob, KeyId: dekKeyId, EncryptionContext: { ...USER_DEK_CONTEXT } }))).Plaintext!).equals(Buffer.from(plaintext))).toBe(true);
    await expect(direct.send(new DecryptCommand({ CiphertextBlob, KeyId: dekKeyId }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    await expect(direct.send(new DecryptCommand({ CiphertextBlob, KeyId: dekKeyId, EncryptionContext: { ...USER_DEK_CONTEXT, application: "Open-WebUI" } }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    await expect(direct.send(new DecryptCommand({ CiphertextBlob, KeyId: dekKeyId, EncryptionContext: { purpose: USER_DEK_CONTEXT.purpose } }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
  });

  it("the library refuses a blob wrapped under another context with a typed DecryptRefused", async () => {
    const other = await direct.send(new GenerateDataKeyCommand({ KeyId: dekKeyId, KeySpec: "AES_256", EncryptionContext: { purpose: "something-else", application: "open-webui" } }));
    await expect(keys().recoverDek(other.CiphertextBlob!)).rejects.toMatchObject({ code: "DecryptRefused" });
    const none = await direct.send(new GenerateDataKeyCommand({ KeyId: dekKeyId, KeySpec: "AES_256" }));
    await expect(keys().recoverDek(none.CiphertextBlob!)).rejects.toMatchObject({ code: "DecryptRefused" });
  });
});
