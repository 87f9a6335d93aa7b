/**
 * In-memory Cognito user pool behind the AWS JSON fake (`AWSCognitoIdentityProviderService.<Op>`,
 * JSON 1.1). Implements ListUsers with `Limit` (1..60, default 60), an opaque `PaginationToken`,
 * `AttributesToGet` and the simple `Filter` forms `attr = "v"` / `attr ^= "v"`.
 */
import { AwsError, startAwsJsonFake, type AwsJsonFake } from "./aws-json.js";

export type FakeUserStatus = "UNCONFIRMED" | "CONFIRMED" | "EXTERNAL_PROVIDER" | "FORCE_CHANGE_PASSWORD" | "RESET_REQUIRED" | "ARCHIVED" | "UNKNOWN";

export interface FakeCognitoUser {
  username: string;
  attributes: Record<string, string>;
  enabled: boolean;
  status: FakeUserStatus;
  created: number;
}

export interface NewFakeUser {
  readonly email?: string;
  readonly username?: string;
  readonly name?: string;
  readonly given_name?: string;
  readonly family_name?: string;
  /** @default "CONFIRMED" */
  readonly status?: FakeUserStatus;
  /** @default true */
  readonly enabled?: boolean;
  readonly attributes?: Record<string, string>;
}

export interface CognitoFake extends AwsJsonFake {
  readonly userPoolId: string;
  addUser(user: NewFakeUser): FakeCognitoUser;
  users(): readonly FakeCognitoUser[];
}

export async function startCognitoFake(userPoolId = "us-east-1_FakePool1"): Promise<CognitoFake> {
  const users: FakeCognitoUser[] = [];
  let seq = 0;

  const matches = (u: FakeCognitoUser, filter: string | undefined): boolean => {
    if (!filter) return true;
    const m = /^\s*([\w:]+)\s*(\^?=)\s*"([^"]*)"\s*$/.exec(filter);
    if (!m) throw new AwsError("InvalidParameterException", `Invalid filter: ${filter}`);
    const [, attr, op, value] = m as unknown as [string, string, string, string];
    const actual =
      attr === "username" ? u.username : attr === "status" ? (u.enabled ? "Enabled" : "Disabled") : attr === "cognito:user_status" ? u.status : u.attributes[attr];
    if (actual === undefined) return false;
    return op === "=" ? actual === value : actual.startsWith(value);
  };

  const fake = await startAwsJsonFake({
    ListUsers: (i) => {
      if (i.UserPoolId !== userPoolId) throw new AwsError("ResourceNotFoundException", `User pool ${String(i.UserPoolId)} does not exist.`);
      const limit = i.Limit === undefined ? 60 : Number(i.Limit);
      if (!Number.isInteger(limit) || limit < 0 || limit > 60) throw new AwsError("InvalidParameterException", "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60");
      let start = 0;
      if (i.PaginationToken !== undefined) {
        const decoded = Number(Buffer.from(String(i.PaginationToken), "base64url").toString("utf8").replace(/^page:/, ""));
        if (!Number.isInteger(decoded) || decoded < 0) throw new AwsError("InvalidParameterException", "Invalid pagination token");
        start = decoded;
      }
      const selected = users.filter((u) => matches(u, i.Filter as string | undefined));
      const page = selected.slice(start, start + limit);
      const wanted = i.AttributesToGet as string[] | undefined;
      const end = start + page.length;
      return {
        Users: page.map((u) => ({
          Username: u.username,
          Attributes: Object.entries(u.attributes)
            .filter(([k]) => !wanted || wanted.includes(k))
            .map(([Name, Value]) => ({ Name, Value })),
          UserCreateDate: u.created / 1000,
          UserLastModifiedDate: u.created / 1000,
          Enabled: u.enabled,
          UserStatus: u.status,
        })),
        ...(end < selected.length ? { PaginationToken: Buffer.from(`page:${end}`).toString("base64url") } : {}),
      };
    },
  });

  return {
    ...fake,
    userPoolId,
    addUser(n) {
      seq += 1;
      const sub = `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`;
      const attributes: Record<string, string> = { sub, ...(n.attributes ?? {}) };
      if (n.email !== undefined) attributes.email = n.email;
      if (n.name !== undefined) attributes.name = n.name;
      if (n.given_name !== undefined) attributes.given_name = n.given_name;
      if (n.family_name !== undefined) attributes.family_name = n.family_name;
      const u: FakeCognitoUser = {
        username: n.username ?? (n.status === "EXTERNAL_PROVIDER" ? `google_${seq}` : sub),
        attributes,
        enabled: n.enabled ?? true,
        status: n.status ?? "CONFIRMED",
        created: Date.now(),
      };
      users.push(u);
      return u;
    },
    users: () => [...users],
  };
}
