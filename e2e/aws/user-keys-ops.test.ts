/**
 * `pnpm ops keys recover|user-id` (disaster recovery) against moto behind the KMS rules proxy, with
 * the committed nonprod env: the keys are found through the aliases its synthesized stack names.
 */
import { CreateAliasCommand, CreateKeyCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserKeys } from "../../functions/user-keys/src/index.js";
import { startKmsRules, type KmsRules } from "../../functions/user-keys/test/support/kms-rules.js";
import { keysRecover, keysUserId, userKeyAliases } from "../../ops/commands/keys.js";
import { loadEnv } from "../../ops/lib/stack.js";
import { readManifest } from "../harness/manifest.js";
import { startMoto, type Moto } from "../world/infra.js";

let moto: Moto;
let rules: KmsRules;
let aliases: { hmac: string; application: string };
let dir: string;
const saved: Record<string, string | undefined> = {};
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

beforeAll(async () => {
  moto = await startMoto(readManifest());
  rules = await startKmsRules(moto.url);
  dir = mkdtempSync(join(tmpdir(), "owui-keys-ops-"));
  const { env, stack } = await loadEnv("nonprod");
  aliases = userKeyAliases(stack);
  for (const [k, v] of Object.entries({ AWS_REGION: env.region, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_ENDPOINT_URL_KMS: rules.url })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const kms = new KMSClient({});
  const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: "HMAC_512", KeyUsage: "GENERATE_VERIFY_MAC" }))).KeyMetadata!.KeyId!;
  const app = (await kms.send(new CreateKeyCommand({ KeySpec: "SYMMETRIC_DEFAULT" }))).KeyMetadata!.KeyId!;
  await kms.send(new CreateAliasCommand({ AliasName: aliases.hmac, TargetKeyId: hmac }));
  await kms.send(new CreateAliasCommand({ AliasName: aliases.application, TargetKeyId: app }));
  kms.destroy();
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  rmSync(dir, { recursive: true, force: true });
  await rules?.stop();
  await moto?.stop();
});

async function capture(run: (out: (l: string) => void) => Promise<unknown>) {
  const lines: string[] = [];
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    const result = await run((l) => lines.push(strip(l)));
    return { result, out: lines.join("\n"), exitCode: process.exitCode };
  } finally {
    process.exitCode = before;
  }
}

describe("ops keys", () => {
  it("finds the per-user key aliases in the synthesized stack", () => {
    expect(aliases).toEqual({ hmac: "alias/owui-nonprod-user-id-hmac", application: "alias/owui-nonprod-user-data" });
  });

  it("recover: decrypts stored DEKs with the context, never prints them, writes them to --out (0600); a foreign blob is a ✗ and exit 1", async () => {
    const keys = new UserKeys({ hmacKeyId: aliases.hmac, applicationKeyId: aliases.application });
    const a = await keys.newUserDek();
    const b = await keys.newUserDek();
    const kms = new KMSClient({});
    const foreign = await kms.send(new GenerateDataKeyCommand({ KeyId: aliases.application, KeySpec: "AES_256", EncryptionContext: { purpose: "other" } }));
    kms.destroy();
    const b64 = (x: Uint8Array) => Buffer.from(x).toString("base64");
    const file = join(dir, "deks.txt");
    writeFileSync(file, `${b64(a.ciphertext)}\n${b64(foreign.CiphertextBlob!)}\n`);
    const outFile = join(dir, "recovered.txt");
    const r = await capture((out) => keysRecover("nonprod", { ciphertext: [b64(b.ciphertext)], file, outFile, out }));
    expect(r.result).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.out).toMatch(/✓ #1\s+32-byte DEK under alias\/owui-nonprod-user-data, sha256 [0-9a-f]{16}…/);
    expect(r.out).toMatch(/✓ #2\s+32-byte DEK/);
    expect(r.out).toMatch(/✗ #3\s+DecryptRefused: /);
    for (const dek of [a.plaintext, b.plaintext]) expect(r.out).not.toContain(b64(dek));
    expect(readFileSync(outFile, "utf8").split("\n")).toEqual([b64(b.plaintext), b64(a.plaintext), "", ""]);
    expect(statSync(outFile).mode & 0o777).toBe(0o600);
  });

  it("recover refuses to run with nothing to recover", async () => {
    await expect(keysRecover("nonprod", { out: () => undefined })).rejects.toThrow(/nothing to recover\. Fix: pass --ciphertext/);
  });

  it("user-id: the id the library derives for the email, whatever its case", async () => {
    const expected = await new UserKeys({ hmacKeyId: aliases.hmac, applicationKeyId: aliases.application }).userIdFor("alice@example.com");
    const r = await capture((out) => keysUserId("nonprod", " Alice@Example.com", { out }));
    expect(r.out).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{128}$/);
  });
});
