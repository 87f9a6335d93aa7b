/**
 * `pnpm ops secrets status|init <env>` against moto (Secrets Manager, SSM) in server mode, through
 * `AWS_ENDPOINT_URL_*`: the secrets are created as the synthesized stack creates them (empty), then
 * the commands run in-process (`buildProgram().parseAsync`) and once as the real CLI (`pnpm ops`,
 * exit codes and `--help`). Cases: empty secrets, a filled one kept, `--force`, `--only`, the
 * tool-server connections tied to the mcpo key, the operator-only secrets and parameters of an
 * Entra env, and that no value ever reaches the output.
 */
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildProgram } from "../../ops/index.js";
import type { SynthesizedApp } from "../../ops/lib/stack.js";
import type { Moto } from "../world/infra.js";
import { credentials, REGION, row, runCli, runOps, startOpsWorld, type OpsWorld } from "./support.js";

let world: OpsWorld;
let moto: Moto;
let synthDir: string;
let app: SynthesizedApp;
let sm: SecretsManagerClient;

/** Runs `ops <args>` in-process; returns stdout (colours stripped) and the exit code. */
const ops = (...args: string[]) => runOps(synthDir, ...args);

const value = async (name: string) => {
  try {
    return (await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } catch {
    return undefined;
  }
};
const secretNames = (env: string) => app.stack(env).resources("aws_secretsmanager_secret").map(([, s]) => String(s.name));

beforeAll(async () => {
  world = await startOpsWorld("ops-secrets");
  ({ moto, synthDir, app } = world);
  sm = new SecretsManagerClient({ region: REGION, endpoint: moto.url, credentials });
  // The secrets as `cdktf deploy` leaves them: created, empty.
  for (const env of ["sandbox", "nonprod"]) for (const name of secretNames(env)) await sm.send(new CreateSecretCommand({ Name: name }));
});

afterAll(async () => {
  await world?.stop();
});

describe("ops secrets (sandbox: oauth2-proxy, Cognito)", () => {
  const generated = ["openwebui/secret-key", "litellm/master-key", "oauth2-proxy/cookie-secret", "mcpo/api-key", "openwebui/admin-password", "openwebui/scim-token", "openwebui/tool-server-connections"].map((n) => `owui/sandbox/${n}`);
  const filledByHand = "sk-operator-chose-this-0123456789abcdef";

  it("status lists every secret of the stack as empty and exits 1", async () => {
    const { out, code } = await ops("secrets", "status", "sandbox");
    expect(code).toBe(1);
    for (const name of secretNames("sandbox")) expect(row(out, name)).toMatch(/^✗ .*EMPTY/);
    expect(row(out, "owui/sandbox/mcpo/api-key")).toContain("Fix: `pnpm ops secrets init sandbox`");
    expect(row(out, "owui/sandbox/cognito/client-secret")).toContain("written by Terraform");
    expect(row(out, "owui/sandbox/openwebui/database")).toContain("filled by the platform");
    expect(out).toContain("AWS manages the master password of Aurora cluster owui-sandbox-aurora");
  });

  it("init fills only the empty generated secrets, in their formats, keeps a filled one, and prints no value", async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/sandbox/litellm/master-key", SecretString: filledByHand }));
    const { out, code } = await ops("secrets", "init", "sandbox");
    expect(code).toBe(0);
    expect(row(out, "owui/sandbox/litellm/master-key")).toMatch(/^✓ .*kept: it has a value/);
    expect(await value("owui/sandbox/litellm/master-key")).toBe(filledByHand);
    for (const name of generated.filter((n) => !n.endsWith("master-key"))) expect(row(out, name)).toMatch(/^✓ .*filled/);
    expect(await value("owui/sandbox/openwebui/secret-key")).toMatch(/^[0-9a-f]{64}$/);
    const cookie = (await value("owui/sandbox/oauth2-proxy/cookie-secret"))!;
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(cookie, "base64url")).toHaveLength(32);
    const mcpoKey = (await value("owui/sandbox/mcpo/api-key"))!;
    expect(mcpoKey).toMatch(/^[0-9a-f]{64}$/);
    const connections = JSON.parse((await value("owui/sandbox/openwebui/tool-server-connections"))!) as any[];
    expect(connections).toEqual([
      { type: "openapi", url: "http://mcpo.owui-sandbox.internal:8000/time", path: "openapi.json", auth_type: "bearer", key: mcpoKey, config: { enable: true, access_grants: [{ principal_type: "user", principal_id: "*", permission: "read" }] }, info: { id: "time", name: "time" } },
    ]);
    // Not ops' to fill: Terraform's and the platform's secrets stay as they were.
    expect(await value("owui/sandbox/cognito/client-secret")).toBeUndefined();
    expect(await value("owui/sandbox/openwebui/database")).toBeUndefined();
    // No value in the output; the SCIM note and the roll command are there.
    for (const name of generated) expect(out).not.toContain(await value(name));
    expect(out).toContain("The provisioning worker and Open WebUI read owui/sandbox/openwebui/scim-token themselves");
    expect(out).toContain("aws ecs update-service --region us-east-1 --cluster owui-sandbox-cluster --service owui-sandbox-openwebui --force-new-deployment");
    expect(out).not.toContain("Only an operator can supply");
  });

  it("init again changes nothing without --force", async () => {
    const before = await Promise.all(generated.map(value));
    const { out, code } = await ops("secrets", "init", "sandbox");
    expect(code).toBe(0);
    for (const name of generated) expect(row(out, name)).toMatch(/^✓ .*kept/);
    expect(await Promise.all(generated.map(value))).toEqual(before);
  });

  it("status: the generated ones have values, the connections match the mcpo key; the rest still empty", async () => {
    const { out, code } = await ops("secrets", "status", "sandbox");
    expect(code).toBe(1);
    for (const name of generated) expect(row(out, name)).toMatch(/^✓ .*has a value/);
    expect(row(out, "owui/sandbox/openwebui/tool-server-connections ↔ owui/sandbox/mcpo/api-key")).toMatch(/^✓ every entry carries the mcpo key/);
    expect(row(out, "owui/sandbox/cognito/client-secret")).toMatch(/^✗ .*EMPTY/);
  });

  it("status catches connections built with another mcpo key; --only rebuilds just them", async () => {
    const stale = JSON.stringify(JSON.parse((await value("owui/sandbox/openwebui/tool-server-connections"))!).map((e: any) => ({ ...e, key: "old-key" })));
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/sandbox/openwebui/tool-server-connections", SecretString: stale }));
    const status = await ops("secrets", "status", "sandbox");
    expect(row(status.out, "owui/sandbox/openwebui/tool-server-connections ↔ owui/sandbox/mcpo/api-key")).toMatch(/^✗ .*Fix: `pnpm ops secrets init sandbox --force --only tool-server-connections`/);
    const others = await Promise.all(generated.filter((n) => !n.endsWith("tool-server-connections")).map(value));
    const { out, code } = await ops("secrets", "init", "sandbox", "--force", "--only", "tool-server-connections");
    expect(code).toBe(0);
    expect(row(out, "owui/sandbox/openwebui/tool-server-connections")).toMatch(/^✓ .*replaced/);
    expect(out).not.toContain("owui/sandbox/mcpo/api-key ");
    expect(await Promise.all(generated.filter((n) => !n.endsWith("tool-server-connections")).map(value))).toEqual(others);
    const mcpoKey = await value("owui/sandbox/mcpo/api-key");
    expect(JSON.parse((await value("owui/sandbox/openwebui/tool-server-connections"))!).map((e: any) => e.key)).toEqual([mcpoKey]);
  });

  it("--only refuses a name the env does not generate", async () => {
    await expect(ops("secrets", "init", "sandbox", "--only", "oauth-client-secret")).rejects.toThrow(/--only oauth-client-secret: not a secret sandbox generates\. Fix: one of /);
  });

  it("--force replaces every generated value, and the connections carry the new mcpo key", async () => {
    const before = await Promise.all(generated.map(value));
    const { out, code } = await ops("secrets", "init", "sandbox", "--force");
    expect(code).toBe(0);
    const after = await Promise.all(generated.map(value));
    after.forEach((v, i) => expect(v, generated[i]).not.toBe(before[i]));
    expect(await value("owui/sandbox/litellm/master-key")).toMatch(/^sk-[0-9a-f]{64}$/);
    const mcpoKey = await value("owui/sandbox/mcpo/api-key");
    expect(JSON.parse((await value("owui/sandbox/openwebui/tool-server-connections"))!).map((e: any) => e.key)).toEqual([mcpoKey]);
    for (const v of after) expect(out).not.toContain(v);
  });
});

describe("ops secrets (nonprod: native OIDC, Entra)", () => {
  it("init generates what it can, names what only an operator can supply with the exact command, and prints the Entra SCIM step", async () => {
    const { out, code } = await ops("secrets", "init", "nonprod");
    expect(code).toBe(0);
    expect(row(out, "owui/nonprod/openwebui/scim-token")).toMatch(/^✓ .*filled/);
    expect(out).not.toContain("oauth2-proxy/cookie-secret");
    expect(out).toContain("Only an operator can supply these");
    expect(out).toContain("owui/nonprod/openwebui/oauth-client-secret (EMPTY): the client secret VALUE (not its id) of the Entra app registration");
    expect(out).toContain("aws secretsmanager put-secret-value --region us-east-1 --secret-id owui/nonprod/openwebui/oauth-client-secret --secret-string '<value>'");
    expect(out).toContain("aws ssm put-parameter --region us-east-1 --type String --name /owui/nonprod/entra/client-id --value '<value>'");
    expect(out).toContain("aws ssm put-parameter --region us-east-1 --type String --name /owui/nonprod/entra/tenant-id --value '<value>'");
    expect(out).toContain("Tenant URL:   https://owui-nonprod.oremuslabs.app/api/v1/scim/v2");
    expect(out).toContain("aws secretsmanager get-secret-value --region us-east-1 --secret-id owui/nonprod/openwebui/scim-token --query SecretString --output text");
    expect(out).not.toContain((await value("owui/nonprod/openwebui/scim-token"))!);
    expect(await value("owui/nonprod/openwebui/oauth-client-secret")).toBeUndefined();
  });

  it("status shows the operator's secret and parameters as missing until they are put", async () => {
    let { out } = await ops("secrets", "status", "nonprod");
    expect(row(out, "owui/nonprod/openwebui/oauth-client-secret")).toMatch(/^✗ .*operator supplies.*Fix: aws secretsmanager put-secret-value/);
    expect(row(out, "ssm:/owui/nonprod/entra/tenant-id")).toMatch(/^✗ MISSING; operator publishes it, read at plan/);
    const ssm = new SSMClient({ region: REGION, endpoint: moto.url, credentials });
    for (const n of ["tenant-id", "client-id"]) await ssm.send(new PutParameterCommand({ Name: `/owui/nonprod/entra/${n}`, Type: "String", Value: "11111111-2222-4333-8444-555555555555" }));
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/nonprod/openwebui/oauth-client-secret", SecretString: "from-entra" }));
    ({ out } = await ops("secrets", "status", "nonprod"));
    expect(row(out, "owui/nonprod/openwebui/oauth-client-secret")).toMatch(/^✓ has a value/);
    expect(row(out, "ssm:/owui/nonprod/entra/tenant-id")).toMatch(/^✓ exists/);
    expect(out).not.toContain("from-entra");
  });
});

describe("the real CLI (`pnpm ops`)", () => {
  it("has --help for secrets, status and init", () => {
    const help = runCli("secrets", "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/status \[options\] <env>/);
    expect(help.stdout).toMatch(/init \[options\] <env>/);
  });

  it("exits 1 while a secret is empty and 0 once every one has a value", async () => {
    const empty = runCli("secrets", "status", "sandbox", "--synth-dir", synthDir);
    expect(empty.status).toBe(1);
    expect(empty.stdout).toMatch(/✗ owui\/sandbox\/cognito\/client-secret +EMPTY/);
    // What apply fills (Terraform, db-bootstrap), filled here by hand.
    await sm.send(new PutSecretValueCommand({ SecretId: "owui/sandbox/cognito/client-secret", SecretString: "cognito-generated" }));
    for (const s of ["litellm", "openwebui"]) await sm.send(new PutSecretValueCommand({ SecretId: `owui/sandbox/${s}/database`, SecretString: JSON.stringify({ url: "postgresql://x" }) }));
    const full = runCli("secrets", "status", "sandbox", "--synth-dir", synthDir);
    expect(full.stdout).toMatch(/all \d+ checks passed/);
    expect(full.status).toBe(0);
  });

  it("init --help names --force and --only; an unknown env is refused with the envs there are", async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    await expect(buildProgram().exitOverride().parseAsync(["node", "ops", "secrets", "init", "--help"])).rejects.toThrow();
    write.mockRestore();
    expect(lines.join("")).toMatch(/--force[\s\S]*--only <names\.\.\.>/);
    await expect(ops("secrets", "status", "staging")).rejects.toThrow('no env named "staging". Fix: one of nonprod, prod, sandbox');
  });
});
