import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { FAKE_AWS_ENV } from "./fakes/aws-json.js";
import { startSecretsManagerFake, type SecretsManagerFake } from "./fakes/secrets-manager.js";

describe("Secrets Manager fake, through the real SDK v3 client", () => {
  let fake: SecretsManagerFake;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    fake = await startSecretsManagerFake();
    client = new SecretsManagerClient({
      endpoint: fake.url,
      region: FAKE_AWS_ENV.AWS_REGION,
      credentials: { accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY },
    });
  });
  afterAll(() => fake.close());

  it("answers a placeholder with ResourceNotFoundException, then the value once put", async () => {
    const arn = fake.put("owui/scim-token");
    await expect(client.send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "tok" }));
    const got = await client.send(new GetSecretValueCommand({ SecretId: "owui/scim-token" }));
    expect(got.SecretString).toBe("tok");
    expect(fake.calls.map((c) => c.operation)).toEqual(["GetSecretValue", "PutSecretValue", "GetSecretValue"]);
  });
});
