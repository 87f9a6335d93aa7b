/**
 * Per-user chat encryption keys, done right (issue #14; the derivation is specified in ../README.md).
 *
 * - `userIdFor(email)`: KMS GenerateMac over the normalised email, hex. The MAC algorithm is read
 *   from the key (DescribeKey → `KeyMetadata.MacAlgorithms`, cached per client), never assumed.
 * - `newUserDek()`: GenerateDataKey AES_256 under the application CMK with the user-DEK context.
 * - `recoverDek(ciphertext)`: Decrypt with the same context, pinned to the application CMK.
 *
 * Runs on SDK defaults (credentials, region, `AWS_ENDPOINT_URL_KMS`). Errors are {@link UserKeysError}
 * with a `code`; throttling is retried here with capped exponential backoff and full jitter (the
 * client this module creates has the SDK's own retries off, so there is one retry policy).
 */
import type { MacAlgorithmSpec } from "@aws-sdk/client-kms";

/**
 * The SDK module, loaded on first use: importing it costs 200–400 ms, which would otherwise land
 * in the module init of every Lambda bundling this library (the canary's budget is 150 ms).
 */
let kmsModule: Promise<typeof import("@aws-sdk/client-kms")> | undefined;
const kms = () => (kmsModule ??= import("@aws-sdk/client-kms"));
type KmsOperation = "DescribeKey" | "GenerateMac" | "VerifyMac" | "GenerateDataKey" | "Decrypt";

/** The encryption context of every user DEK (REQUIREMENTS.md); the IAM conditions pin exactly this. */
export const USER_DEK_CONTEXT: Readonly<Record<"purpose" | "application", string>> = Object.freeze({ purpose: "user-dek-encryption", application: "open-webui" });

/** Characters trimmed from both ends of an email: ASCII whitespace only (README "Normalisation"). */
const TRIM = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;

/** The normalisation of README "Normalisation": trim ASCII whitespace, then Unicode default lower-casing. */
export function normaliseEmail(email: string): string {
  const n = email.replace(TRIM, "").toLowerCase();
  if (n.length === 0) throw new UserKeysError("InvalidInput", "the email is empty after trimming whitespace");
  return n;
}

/** The exact bytes MACed for an email: UTF-8 of {@link normaliseEmail}. */
export function macMessage(email: string): Uint8Array {
  return new TextEncoder().encode(normaliseEmail(email));
}

export type UserKeysErrorCode =
  /** The key's spec does not allow the algorithm (the memo's HMAC_SHA_256 on an HMAC_512 key). */
  | "MacAlgorithmMismatch"
  /** The key is not an HMAC key, or DescribeKey names no MAC algorithm. */
  | "NotAnHmacKey"
  /** Decrypt refused: wrong or missing encryption context, another key's ciphertext, or corrupt bytes. */
  | "DecryptRefused"
  /** The MAC did not verify. */
  | "MacInvalid"
  | "AccessDenied"
  | "KeyNotFound"
  /** Disabled, pending deletion or pending import. */
  | "KeyUnusable"
  /** Still throttled after every retry. */
  | "Throttled"
  | "InvalidInput"
  /** Anything else KMS or the network answered. */
  | "KmsError";

export class UserKeysError extends Error {
  override readonly name = "UserKeysError";
  constructor(
    readonly code: UserKeysErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RetryPolicy {
  /** Attempts in total, the first included. @default 5 */
  readonly attempts?: number;
  /** First backoff cap in ms; doubles per retry. @default 100 */
  readonly baseMs?: number;
  /** Largest backoff cap in ms. @default 2000 */
  readonly maxMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Just `send`: a KMSClient, or a test double. */
export interface KmsSender {
  send(command: unknown): Promise<any>;
}

export interface UserKeysOptions {
  /** Key id, ARN or alias of the HMAC key (`KMS_HMAC_KEY_ID`). */
  readonly hmacKeyId: string;
  /** Key id, ARN or alias of the application CMK (`KMS_APPLICATION_CMK_ID`). */
  readonly applicationKeyId: string;
  /** @default new KMSClient({ maxAttempts: 1 }) (SDK defaults otherwise), created on first use */
  readonly client?: KmsSender;
  readonly retry?: RetryPolicy;
}

export interface UserDek {
  /** The 32-byte AES-256 data key. Keep it in memory only. */
  readonly plaintext: Uint8Array;
  /** The KMS ciphertext blob (store it, e.g. as `kms_encrypted_dek`, base64). */
  readonly ciphertext: Uint8Array;
  /** ARN of the key that encrypted it. */
  readonly keyArn: string;
}

/** The documented rule (KMS Developer Guide, "HMAC keys in AWS KMS"): each HMAC key spec supports exactly one algorithm. */
export const MAC_ALGORITHM_OF_KEY_SPEC: Readonly<Record<string, MacAlgorithmSpec>> = {
  HMAC_224: "HMAC_SHA_224",
  HMAC_256: "HMAC_SHA_256",
  HMAC_384: "HMAC_SHA_384",
  HMAC_512: "HMAC_SHA_512",
};

const THROTTLING = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException"]);

export class UserKeys {
  private client?: KmsSender;
  private readonly retry: Required<RetryPolicy>;
  private macAlgorithm?: Promise<{ algorithm: MacAlgorithmSpec; keySpec: string }>;

  constructor(private readonly options: UserKeysOptions) {
    if (!options.hmacKeyId) throw new UserKeysError("InvalidInput", "hmacKeyId is empty. Fix: pass the HMAC key's id or ARN (KMS_HMAC_KEY_ID)");
    if (!options.applicationKeyId) throw new UserKeysError("InvalidInput", "applicationKeyId is empty. Fix: pass the application CMK's id or ARN (KMS_APPLICATION_CMK_ID)");
    const r = options.retry ?? {};
    this.retry = {
      attempts: r.attempts ?? 5,
      baseMs: r.baseMs ?? 100,
      maxMs: r.maxMs ?? 2000,
      sleep: r.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      random: r.random ?? Math.random,
    };
  }

  /** The HMAC key's MAC algorithm and spec, from DescribeKey (once per instance; a failure is not cached). */
  macAlgorithmOfKey(): Promise<{ algorithm: MacAlgorithmSpec; keySpec: string }> {
    this.macAlgorithm ??= this.call("DescribeKey", { KeyId: this.options.hmacKeyId }).then((out) => {
      const meta = out.KeyMetadata ?? {};
      const keySpec: string = meta.KeySpec ?? meta.CustomerMasterKeySpec ?? "unknown";
      const algorithms: MacAlgorithmSpec[] = meta.MacAlgorithms ?? [];
      if (meta.KeyUsage !== "GENERATE_VERIFY_MAC" || algorithms.length === 0) {
        throw new UserKeysError(
          "NotAnHmacKey",
          `key ${this.options.hmacKeyId} (spec ${keySpec}, usage ${meta.KeyUsage ?? "unknown"}) names no MAC algorithm in DescribeKey. Fix: point KMS_HMAC_KEY_ID at the HMAC_512 key (usage GENERATE_VERIFY_MAC)`,
        );
      }
      // Each HMAC spec supports exactly one algorithm; more than one would make the id ambiguous.
      if (algorithms.length > 1) throw new UserKeysError("NotAnHmacKey", `key ${this.options.hmacKeyId} (spec ${keySpec}) allows ${algorithms.join(", ")}; the user id needs exactly one`);
      return { algorithm: algorithms[0]!, keySpec };
    });
    this.macAlgorithm.catch(() => (this.macAlgorithm = undefined));
    return this.macAlgorithm;
  }

  /**
   * The user id of an email: GenerateMac(normalised email) with the key's algorithm, lower-case hex.
   * `expectAlgorithm`, when given (e.g. a caller's configured algorithm), must be the key's.
   */
  async userIdFor(email: string, expectAlgorithm?: string): Promise<string> {
    const message = macMessage(email);
    const { algorithm, keySpec } = await this.macAlgorithmOfKey();
    if (expectAlgorithm !== undefined && expectAlgorithm !== algorithm) throw mismatch(keySpec, algorithm, expectAlgorithm);
    const out = await this.call("GenerateMac", { KeyId: this.options.hmacKeyId, MacAlgorithm: algorithm, Message: message }, { keySpec, algorithm });
    return Buffer.from(out.Mac as Uint8Array).toString("hex");
  }

  /** VerifyMac of a user id (hex) for an email; true, or a {@link UserKeysError} `MacInvalid`. */
  async verifyUserId(email: string, userId: string): Promise<true> {
    const message = macMessage(email);
    if (!/^(?:[0-9a-f]{2})+$/.test(userId)) throw new UserKeysError("InvalidInput", `user id "${userId.slice(0, 16)}…" is not lower-case hex`);
    const { algorithm, keySpec } = await this.macAlgorithmOfKey();
    const out = await this.call("VerifyMac", { KeyId: this.options.hmacKeyId, MacAlgorithm: algorithm, Message: message, Mac: Buffer.from(userId, "hex") }, { keySpec, algorithm });
    if (out.MacValid !== true) throw new UserKeysError("MacInvalid", "VerifyMac answered MacValid=false");
    return true;
  }

  /** A new user DEK: GenerateDataKey AES_256 with {@link USER_DEK_CONTEXT}. */
  async newUserDek(): Promise<UserDek> {
    const out = await this.call("GenerateDataKey", { KeyId: this.options.applicationKeyId, KeySpec: "AES_256", EncryptionContext: { ...USER_DEK_CONTEXT } });
    return { plaintext: out.Plaintext as Uint8Array, ciphertext: out.CiphertextBlob as Uint8Array, keyArn: out.KeyId as string };
  }

  /** The DEK inside a stored ciphertext (bytes, or base64 as stored): Decrypt with the context, pinned to the application CMK. */
  async recoverDek(ciphertext: Uint8Array | string): Promise<Uint8Array> {
    const blob = typeof ciphertext === "string" ? fromBase64(ciphertext) : ciphertext;
    const out = await this.call("Decrypt", { KeyId: this.options.applicationKeyId, CiphertextBlob: blob, EncryptionContext: { ...USER_DEK_CONTEXT } });
    return out.Plaintext as Uint8Array;
  }

  /** Sends with retries on throttling; maps KMS errors to {@link UserKeysError}. */
  private async call(operation: KmsOperation, input: Record<string, unknown>, mac?: { keySpec: string; algorithm: string }): Promise<any> {
    const sdk = await kms();
    const client: KmsSender = (this.client ??= this.options.client ?? new sdk.KMSClient({ maxAttempts: 1 }));
    const Command = sdk[`${operation}Command`] as unknown as new (input: Record<string, unknown>) => unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.send(new Command(input));
      } catch (err) {
        const name = errorName(err);
        if (THROTTLING.has(name) && attempt < this.retry.attempts) {
          const cap = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempt - 1));
          await this.retry.sleep(Math.floor(this.retry.random() * cap));
          continue;
        }
        throw toUserKeysError(operation, name, err, attempt, mac);
      }
    }
  }
}

function mismatch(keySpec: string, allowed: string, asked: string): UserKeysError {
  return new UserKeysError("MacAlgorithmMismatch", `the HMAC key's spec ${keySpec} allows only ${allowed}, not ${asked}. Fix: use ${allowed} (read it from DescribeKey's MacAlgorithms, never hard-code it)`);
}

function errorName(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { name?: string; Code?: string; __type?: string };
    return e.name ?? e.Code ?? e.__type ?? "Error";
  }
  return "Error";
}

function toUserKeysError(operation: string, name: string, err: unknown, attempts: number, mac?: { keySpec: string; algorithm: string }): UserKeysError {
  const detail = err instanceof Error ? err.message : String(err);
  const at = `KMS ${operation}`;
  switch (name) {
    case "InvalidKeyUsageException":
      return mac
        ? new UserKeysError("MacAlgorithmMismatch", `${at} refused ${mac.algorithm}: the key's spec ${mac.keySpec} allows only ${MAC_ALGORITHM_OF_KEY_SPEC[mac.keySpec] ?? "its own algorithm"}. ${detail}`, { cause: err })
        : new UserKeysError("KmsError", `${at}: ${detail}`, { cause: err });
    case "InvalidCiphertextException":
    case "IncorrectKeyException":
      return new UserKeysError("DecryptRefused", `${at} refused the ciphertext (${name}): the encryption context must be exactly ${JSON.stringify(USER_DEK_CONTEXT)} and the blob must come from the application CMK. ${detail}`, { cause: err });
    case "KMSInvalidMacException":
      return new UserKeysError("MacInvalid", `${at}: the MAC does not verify`, { cause: err });
    case "AccessDeniedException":
      return new UserKeysError("AccessDenied", `${at}: access denied. Fix: the caller needs the user-key grants (modules/services userKeyStatements), with exactly the context ${JSON.stringify(USER_DEK_CONTEXT)}. ${detail}`, { cause: err });
    case "NotFoundException":
      return new UserKeysError("KeyNotFound", `${at}: key not found. ${detail}`, { cause: err });
    case "DisabledException":
    case "KMSInvalidStateException":
    case "KeyUnavailableException":
      return new UserKeysError("KeyUnusable", `${at}: the key cannot be used now (${name}). ${detail}`, { cause: err });
    case "ValidationException":
      return new UserKeysError("InvalidInput", `${at}: ${detail}`, { cause: err });
    default:
      if (THROTTLING.has(name)) return new UserKeysError("Throttled", `${at}: still throttled after ${attempts} attempts`, { cause: err });
      return new UserKeysError("KmsError", `${at} failed (${name}): ${detail}`, { cause: err });
  }
}

function fromBase64(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new UserKeysError("InvalidInput", "the ciphertext is not base64 (pass the stored kms_encrypted_dek as is)");
  return new Uint8Array(Buffer.from(trimmed, "base64"));
}

/** From the environment Open WebUI's task (or the canary) gets: `KMS_HMAC_KEY_ID`, `KMS_APPLICATION_CMK_ID`. */
export function userKeysFromEnv(env: NodeJS.ProcessEnv = process.env, extra: Omit<UserKeysOptions, "hmacKeyId" | "applicationKeyId"> = {}): UserKeys {
  return new UserKeys({ hmacKeyId: env.KMS_HMAC_KEY_ID ?? "", applicationKeyId: env.KMS_APPLICATION_CMK_ID ?? "", ...extra });
}
