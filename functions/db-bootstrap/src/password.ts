/**
 * Passwords: generation, and the SCRAM-SHA-256 verifier PostgreSQL stores, so that the plaintext
 * never travels in a SQL statement (statement logs, pg_stat_statements) — only the verifier does.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

/**
 * A random password of `bytes` random bytes, base64url-encoded without padding: only
 * `A-Z a-z 0-9 - _`, which never need escaping in a URL. 32 bytes → 43 characters, 256 bits.
 */
export function generatePassword(bytes = 32): string {
  if (bytes < 24) throw new Error("generatePassword: at least 24 bytes");
  return randomBytes(bytes).toString("base64url");
}

/** Characters a generated password may contain (also what a stored one must look like to be reused). */
export const URL_SAFE_PASSWORD = /^[A-Za-z0-9_-]{32,}$/;

/**
 * PostgreSQL's SCRAM-SHA-256 secret for `password` (RFC 5802/7677), in the form `CREATE ROLE …
 * PASSWORD '…'` accepts as already hashed: `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`.
 * The password must be ASCII without control characters (SASLprep is then the identity), which
 * holds for generated passwords.
 */
export function scramSha256Verifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  if (!/^[\x20-\x7e]+$/.test(password)) throw new Error("scramSha256Verifier: password must be printable ASCII");
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
