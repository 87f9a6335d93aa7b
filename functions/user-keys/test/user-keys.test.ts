/** The user-keys library against an in-process KMS double (the moto-backed round trips: e2e/aws/user-keys.test.ts). */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { macMessage, normaliseEmail, USER_DEK_CONTEXT, UserKeys, UserKeysError } from "../src/index.js";
import { LocalKms } from "./support/local-kms.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8")) as {
  algorithm: string;
  keySpec: string;
  testKeyHex: string;
  dekEncryptionContext: Record<string, string>;
  cases: { note: string; input: string; normalised: string; messageHex: string; hmacSha512Hex: string }[];
};

function world(hmacSpec: "HMAC_512" | "HMAC_256" = "HMAC_512") {
  const kms = new LocalKms({
    hmac: { keySpec: hmacSpec, material: Buffer.from(vectors.testKeyHex, "hex") },
    dek: { keySpec: "SYMMETRIC_DEFAULT", material: randomBytes(32) },
    other: { keySpec: "SYMMETRIC_DEFAULT", material: randomBytes(32) },
  });
  const sleeps: number[] = [];
  const keys = new UserKeys({ hmacKeyId: "hmac", applicationKeyId: "dek", client: kms, retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.999 } });
  return { kms, keys, sleeps };
}

describe("the committed test vectors", () => {
  it("pin the algorithm, key spec and the DEK context the library uses", () => {
    expect(vectors.algorithm).toBe("HMAC_SHA_512");
    expect(vectors.keySpec).toBe("HMAC_512");
    expect(vectors.dekEncryptionContext).toEqual(USER_DEK_CONTEXT);
  });

  it.each(vectors.cases.map((c) => [c.note, c] as const))("%s: normalisation, UTF-8 message bytes and the hex MAC", async (_note, c) => {
    expect(normaliseEmail(c.input)).toBe(c.normalised);
    expect(Buffer.from(macMessage(c.input)).toString("hex")).toBe(c.messageHex);
    const { keys } = world();
    expect(await keys.userIdFor(c.input)).toBe(c.hmacSha512Hex);
  });
});

describe("userIdFor", () => {
  it("takes the algorithm from DescribeKey, once per instance", async () => {
    const { kms, keys } = world("HMAC_256");
    const a = await keys.userIdFor("a@example.com");
    await keys.userIdFor("b@example.com");
    await keys.userIdFor("A@example.com ");
    expect(a).toHaveLength(64); // HMAC_SHA_256 on an HMAC_256 key: 32 bytes
    expect(kms.calls.filter((c) => c === "DescribeKey")).toHaveLength(1);
    expect(kms.calls.filter((c) => c === "GenerateMac")).toHaveLength(3);
  });

  it("refuses the memo's HMAC_SHA_256 on an HMAC_512 key, naming the spec and the allowed algorithm", async () => {
    const { keys, kms } = world();
    const err = await keys.userIdFor("a@example.com", "HMAC_SHA_256").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserKeysError);
    expect((err as UserKeysError).code).toBe("MacAlgorithmMismatch");
    expect((err as Error).message).toMatch(/spec HMAC_512 allows only HMAC_SHA_512, not HMAC_SHA_256/);
    expect(kms.calls).not.toContain("GenerateMac");
  });

  it("refuses a key whose DescribeKey names no MAC algorithm (not an HMAC key, or an emulator that omits it)", async () => {
    const { keys, kms } = world();
    kms.omitMacAlgorithms = true;
    await expect(keys.userIdFor("a@example.com")).rejects.toMatchObject({ code: "NotAnHmacKey" });
    const wrong = new UserKeys({ hmacKeyId: "dek", applicationKeyId: "dek", client: kms });
    await expect(wrong.userIdFor("a@example.com")).rejects.toMatchObject({ code: "NotAnHmacKey", message: expect.stringMatching(/spec SYMMETRIC_DEFAULT, usage ENCRYPT_DECRYPT/) });
  });

  it("maps KMS's own refusal of the algorithm (InvalidKeyUsageException) to MacAlgorithmMismatch, naming the spec and the allowed algorithm", async () => {
    const { keys, kms } = world();
    kms.misreportMacAlgorithm = "HMAC_SHA_256";
    await expect(keys.userIdFor("a@example.com")).rejects.toMatchObject({ code: "MacAlgorithmMismatch", message: expect.stringMatching(/refused HMAC_SHA_256: the key's spec HMAC_512 allows only HMAC_SHA_512/) });
  });

  it("verifies an id and refuses another email's id", async () => {
    const { keys } = world();
    const id = await keys.userIdFor("a@example.com");
    await expect(keys.verifyUserId(" A@EXAMPLE.com", id)).resolves.toBe(true);
    await expect(keys.verifyUserId("b@example.com", id)).rejects.toMatchObject({ code: "MacInvalid" });
  });

  it("refuses an email that is only whitespace", async () => {
    const { keys } = world();
    await expect(keys.userIdFor(" \t ")).rejects.toMatchObject({ code: "InvalidInput" });
  });
});

describe("DEKs", () => {
  it("round-trips a DEK (bytes and base64) with the context, pinned to the application CMK", async () => {
    const { keys } = world();
    const dek = await keys.newUserDek();
    expect(dek.plaintext).toHaveLength(32);
    expect(Buffer.from(await keys.recoverDek(dek.ciphertext)).equals(Buffer.from(dek.plaintext))).toBe(true);
    expect(Buffer.from(await keys.recoverDek(Buffer.from(dek.ciphertext).toString("base64"))).equals(Buffer.from(dek.plaintext))).toBe(true);
  });

  it("maps a refused Decrypt (other key's ciphertext) to DecryptRefused", async () => {
    const { kms, keys } = world();
    const foreign = await kms.send({ constructor: { name: "GenerateDataKeyCommand" }, input: { KeyId: "other", KeySpec: "AES_256", EncryptionContext: { ...USER_DEK_CONTEXT } } } as any);
    await expect(keys.recoverDek(foreign.CiphertextBlob)).rejects.toMatchObject({ code: "DecryptRefused" });
    await expect(keys.recoverDek("not base64!")).rejects.toMatchObject({ code: "InvalidInput" });
  });
});

describe("throttling", () => {
  it("retries with growing backoff caps, then succeeds", async () => {
    const { kms, keys, sleeps } = world();
    kms.throttle = ["GenerateDataKey", "GenerateDataKey", "GenerateDataKey"];
    await keys.newUserDek();
    expect(kms.calls.filter((c) => c === "GenerateDataKey")).toHaveLength(4);
    // full jitter under caps of 100, 200, 400 ms (random() = 0.999)
    expect(sleeps).toEqual([99, 199, 399]);
  });

  it("gives up after the last attempt with a typed Throttled error", async () => {
    const { kms, keys } = world();
    kms.throttle = Array(5).fill("Decrypt");
    await expect(keys.recoverDek(new Uint8Array(80))).rejects.toMatchObject({ code: "Throttled", message: expect.stringMatching(/after 5 attempts/) });
  });
});
