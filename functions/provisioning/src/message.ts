/**
 * The queue message: what the producer enqueues and the worker accepts. Version 1.
 *
 *   { "v": 1, "email": "ada@example.com", "name": "Ada Lovelace", "sub": "<cognito sub>",
 *     "source": "PostConfirmation_ConfirmSignUp", "confirmedAt": "2025-01-01T00:00:00.000Z" }
 *
 * Only `email` is required by the worker; a message without a usable email is rejected (item
 * failure → DLQ), never dropped.
 */
export interface ProvisioningMessage {
  readonly v: 1;
  /** Lowercased. */
  readonly email: string;
  /** Display name; never the opaque `sub`. */
  readonly name: string;
  readonly sub?: string;
  /** The Cognito `triggerSource` (or "reconciler", "manual"). */
  readonly source: string;
  /** ISO-8601. */
  readonly confirmedAt: string;
}

/** Deliberately simple: one @, no spaces, a dot in the domain. Open WebUI validates further. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  const email = raw.trim().toLowerCase();
  return email.length <= 320 && EMAIL.test(email) ? email : undefined;
}

/** name → given + family → the email's local part. */
export function displayName(attrs: Readonly<Record<string, string | undefined>>, email: string): string {
  const name = attrs.name?.trim();
  if (name) return name;
  const parts = [attrs.given_name?.trim(), attrs.family_name?.trim()].filter((p): p is string => !!p);
  if (parts.length > 0) return parts.join(" ");
  return email.slice(0, email.indexOf("@")) || email;
}

export type ParseResult = { ok: true; message: ProvisioningMessage } | { ok: false; reason: string };

export function parseMessage(body: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { ok: false, reason: "body is not JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, reason: "body is not a JSON object" };
  const o = data as Record<string, unknown>;
  if (o.v !== undefined && o.v !== 1) return { ok: false, reason: `unsupported message version ${JSON.stringify(o.v)}` };
  if (o.email === undefined || o.email === null || o.email === "") return { ok: false, reason: "email is missing" };
  const email = normalizeEmail(o.email);
  if (!email) return { ok: false, reason: "email is not a valid address" };
  const name = typeof o.name === "string" && o.name.trim() ? o.name.trim() : displayName({}, email);
  return {
    ok: true,
    message: {
      v: 1,
      email,
      name,
      ...(typeof o.sub === "string" ? { sub: o.sub } : {}),
      source: typeof o.source === "string" ? o.source : "unknown",
      confirmedAt: typeof o.confirmedAt === "string" ? o.confirmedAt : new Date(0).toISOString(),
    },
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return out;
}
