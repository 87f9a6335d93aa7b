/**
 * An in-process KMS double for the library's unit tests: a `send(command)` that answers the five
 * operations the library uses, with local crypto and the rules of the KMS API Reference that the
 * library depends on (each cited where it is modelled). The moto-backed tests in e2e/aws check the
 * same library against a real emulator; this double exists for what needs control (key material of
 * the test vectors, throttling, call counts).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { MAC_ALGORITHM_OF_KEY_SPEC } from "../../src/index.js";

export interface LocalKey {
  readonly keySpec: "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" | "SYMMETRIC_DEFAULT";
  readonly material: Buffer;
}

class KmsError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

const canonicalContext = (ctx: Record<string, string> | undefined) => JSON.stringify(Object.entries(ctx ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));

export class LocalKms {
  readonly calls: string[] = [];
  /** Operations to fail with ThrottlingException, consumed in order. */
  throttle: string[] = [];
  /** Leaves MacAlgorithms out of DescribeKey (what moto 5.2.5 does). */
  omitMacAlgorithms = false;
  /** Reports this algorithm in DescribeKey instead of the key's own (to exercise KMS's refusal). */
  misreportMacAlgorithm?: string;

  constructor(readonly keys: Record<string, LocalKey>) {}

  async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, "");
    this.calls.push(op);
    if (this.throttle[0] === op) {
      this.throttle.shift();
      // KMS answers ThrottlingException when a request quota is exceeded (KMS Developer Guide, "Request quotas").
      throw new KmsError("ThrottlingException", "Rate exceeded");
    }
    const input = command.input;
    const key = this.keys[input.KeyId];
    if (!key) throw new KmsError("NotFoundException", `Key '${input.KeyId}' does not exist`);
    const hmacAlgorithm = MAC_ALGORITHM_OF_KEY_SPEC[key.keySpec];
    switch (op) {
      case "DescribeKey":
        // DescribeKey's KeyMetadata carries MacAlgorithms for HMAC keys (API Reference, KeyMetadata).
        return {
          KeyMetadata: {
            KeyId: input.KeyId,
            Arn: `arn:aws:kms:us-east-1:123456789012:key/${input.KeyId}`,
            KeySpec: key.keySpec,
            KeyUsage: hmacAlgorithm ? "GENERATE_VERIFY_MAC" : "ENCRYPT_DECRYPT",
            ...(hmacAlgorithm && !this.omitMacAlgorithms ? { MacAlgorithms: [this.misreportMacAlgorithm ?? hmacAlgorithm] } : {}),
          },
        };
      case "GenerateMac":
      case "VerifyMac": {
        // GenerateMac/VerifyMac: "InvalidKeyUsageException … The MacAlgorithm … is incompatible with the key spec".
        if (!hmacAlgorithm || input.MacAlgorithm !== hmacAlgorithm) throw new KmsError("InvalidKeyUsageException", `${input.MacAlgorithm} is not valid for ${key.keySpec}`);
        const mac = createHmac(input.MacAlgorithm.replace("HMAC_SHA_", "sha"), key.material).update(input.Message).digest();
        if (op === "GenerateMac") return { Mac: new Uint8Array(mac), MacAlgorithm: input.MacAlgorithm, KeyId: input.KeyId };
        if (!Buffer.from(input.Mac).equals(mac)) throw new KmsError("KMSInvalidMacException", "MAC verification failed");
        return { MacValid: true, KeyId: input.KeyId, MacAlgorithm: input.MacAlgorithm };
      }
      case "GenerateDataKey": {
        if (hmacAlgorithm) throw new KmsError("InvalidKeyUsageException", "not a symmetric encryption key");
        const dek = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv("aes-256-gcm", key.material, iv);
        // The encryption context is bound as additional authenticated data (KMS Developer Guide, "Encryption context").
        cipher.setAAD(Buffer.from(canonicalContext(input.EncryptionContext)));
        const body = Buffer.concat([cipher.update(dek), cipher.final()]);
        const blob = Buffer.concat([Buffer.from(input.KeyId.padEnd(36, " ")), iv, cipher.getAuthTag(), body]);
        return { Plaintext: new Uint8Array(dek), CiphertextBlob: new Uint8Array(blob), KeyId: `arn:aws:kms:us-east-1:123456789012:key/${input.KeyId}` };
      }
      case "Decrypt": {
        const blob = Buffer.from(input.CiphertextBlob);
        // Decrypt with a KeyId that did not encrypt the blob: IncorrectKeyException (API Reference, Decrypt).
        if (blob.subarray(0, 36).toString().trim() !== input.KeyId) throw new KmsError("IncorrectKeyException", "The key ID in the request does not identify a KMS key that can perform this operation.");
        try {
          const decipher = createDecipheriv("aes-256-gcm", key.material, blob.subarray(36, 48));
          decipher.setAuthTag(blob.subarray(48, 64));
          decipher.setAAD(Buffer.from(canonicalContext(input.EncryptionContext)));
          return { Plaintext: new Uint8Array(Buffer.concat([decipher.update(blob.subarray(64)), decipher.final()])), KeyId: input.KeyId };
        } catch {
          // A context that is not an exact match fails authentication: InvalidCiphertextException.
          throw new KmsError("InvalidCiphertextException", "");
        }
      }
      default:
        throw new KmsError("UnsupportedOperationException", op);
    }
  }
}
