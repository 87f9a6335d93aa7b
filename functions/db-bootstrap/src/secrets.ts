/**
 * Secrets Manager I/O and the JSON shapes of the master secret and the per-service secrets.
 */
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** What RDS keeps in the master secret when `manage_master_user_password = true`. */
export interface MasterCredentials {
  readonly username: string;
  readonly password: string;
}

/** The JSON stored in each service's secret. ECS tasks read `url` as a JSON-key secret reference. */
export interface ServiceSecret {
  readonly engine: "postgres";
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
  readonly username: string;
  readonly password: string;
  /** `postgresql://<user>:<pass>@<host>:<port>/<db>?sslmode=require` */
  readonly url: string;
}

export class SecretError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretError";
  }
}

const errName = (e: unknown) => (e as { name?: string })?.name ?? "Error";
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The secret's current SecretString, or undefined when the secret exists but has no value yet
 * (a placeholder Terraform created). A missing secret, or any other failure, throws.
 */
export async function readSecretString(sm: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    return out.SecretString;
  } catch (e) {
    // GetSecretValue answers ResourceNotFoundException both for "no such secret" and for "no
    // AWSCURRENT version"; the message tells them apart.
    if (errName(e) === "ResourceNotFoundException" && /staging label|version/i.test(errMessage(e))) return undefined;
    throw new SecretError(`cannot read secret ${secretId}: ${errName(e)}: ${errMessage(e)}`, { cause: e });
  }
}

export async function readMasterCredentials(sm: SecretsManagerClient, secretId: string): Promise<MasterCredentials> {
  let raw: string | undefined;
  try {
    raw = await readSecretString(sm, secretId);
  } catch (e) {
    throw new SecretError(`master secret (masterSecretArn ${secretId}): ${errMessage(e)}`, { cause: e });
  }
  if (raw === undefined) throw new SecretError(`master secret (masterSecretArn ${secretId}) has no value`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretError(`master secret (masterSecretArn ${secretId}) is not JSON`);
  }
  const { username, password } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || username === "" || typeof password !== "string" || password === "") {
    throw new SecretError(`master secret (masterSecretArn ${secretId}) must be JSON with string "username" and "password"`);
  }
  return { username, password };
}

export function connectionUrl(s: { host: string; port: number; dbname: string; username: string; password: string }): string {
  const enc = encodeURIComponent;
  return `postgresql://${enc(s.username)}:${enc(s.password)}@${s.host}:${s.port}/${enc(s.dbname)}?sslmode=require`;
}

export function buildServiceSecret(p: { host: string; port: number; dbname: string; username: string; password: string }): ServiceSecret {
  return { engine: "postgres", host: p.host, port: p.port, dbname: p.dbname, username: p.username, password: p.password, url: connectionUrl(p) };
}

/**
 * Parses a stored service secret; undefined when it is not a complete secret of our format
 * (then the caller sets a new password).
 */
export function parseServiceSecret(raw: string | undefined): ServiceSecret | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === "string" && o[k] !== "";
  if (o.engine !== "postgres" || !str("host") || typeof o.port !== "number" || !str("dbname") || !str("username") || !str("password") || !str("url")) {
    return undefined;
  }
  return o as unknown as ServiceSecret;
}

/** True when the stored secret is exactly what this run would write (same password). */
export function secretIsCurrent(stored: ServiceSecret, wanted: ServiceSecret): boolean {
  return (["engine", "host", "port", "dbname", "username", "password", "url"] as const).every((k) => stored[k] === wanted[k]);
}

export async function writeServiceSecret(sm: SecretsManagerClient, secretId: string, value: ServiceSecret): Promise<void> {
  await writeSecretJson(sm, secretId, value);
}

/** PutSecretValue of `value` as JSON (a new AWSCURRENT version). The error never carries the value. */
export async function writeSecretJson(sm: SecretsManagerClient, secretId: string, value: object): Promise<void> {
  try {
    await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(value) }));
  } catch (e) {
    throw new SecretError(`cannot store credentials in secret ${secretId}: ${errName(e)}: ${errMessage(e)}`, { cause: e });
  }
}
