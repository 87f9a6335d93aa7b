/**
 * In-memory Secrets Manager behind the AWS JSON fake: CreateSecret, DescribeSecret,
 * GetSecretValue, PutSecretValue. A secret created without a value answers GetSecretValue with
 * ResourceNotFoundException, as the real service does for a placeholder Terraform created.
 */
import { AwsError, startAwsJsonFake, type AwsJsonFake } from "./aws-json.js";

interface StoredSecret {
  arn: string;
  name: string;
  versions: string[];
}

export interface SecretsManagerFake extends AwsJsonFake {
  /** Adds a secret; `value` undefined makes a placeholder with no version. */
  put(name: string, value?: string): string;
  /** The current value, or undefined for a placeholder. */
  value(nameOrArn: string): string | undefined;
}

export async function startSecretsManagerFake(region = "us-east-1", account = "123456789012"): Promise<SecretsManagerFake> {
  const secrets = new Map<string, StoredSecret>();
  const arnOf = (name: string) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;
  const find = (id: unknown): StoredSecret => {
    const key = String(id);
    const hit = secrets.get(key) ?? [...secrets.values()].find((s) => s.arn === key);
    if (!hit) throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    return hit;
  };
  const create = (name: string, value?: string): StoredSecret => {
    if (secrets.has(name)) throw new AwsError("ResourceExistsException", `The secret ${name} already exists.`);
    const secret = { arn: arnOf(name), name, versions: value === undefined ? [] : [value] };
    secrets.set(name, secret);
    return secret;
  };

  const fake = await startAwsJsonFake({
    CreateSecret: (i) => {
      const s = create(String(i.Name), i.SecretString as string | undefined);
      return { ARN: s.arn, Name: s.name };
    },
    DescribeSecret: (i) => {
      const s = find(i.SecretId);
      return { ARN: s.arn, Name: s.name };
    },
    GetSecretValue: (i) => {
      const s = find(i.SecretId);
      const current = s.versions.at(-1);
      if (current === undefined) {
        throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
      }
      return { ARN: s.arn, Name: s.name, SecretString: current, VersionId: `v${s.versions.length}` };
    },
    PutSecretValue: (i) => {
      const s = find(i.SecretId);
      s.versions.push(String(i.SecretString));
      return { ARN: s.arn, Name: s.name, VersionId: `v${s.versions.length}` };
    },
  });
  return {
    ...fake,
    put: (name, value) => create(name, value).arn,
    value: (id) => find(id).versions.at(-1),
  };
}
