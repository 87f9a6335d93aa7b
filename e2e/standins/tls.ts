/**
 * Throwaway certificate authority for the e2e suite, made with the `openssl` CLI.
 *
 * `testCa()` writes a CA (self-signed, `basicConstraints=critical,CA:TRUE`, `keyUsage=critical,
 * keyCertSign,cRLSign`, subject/authority key identifiers) and a server certificate signed by it
 * for the given DNS names and IP addresses (always `localhost` and `127.0.0.1`). The extensions
 * are the ones strict verifiers insist on: Python ≥ 3.13 sets `VERIFY_X509_STRICT` (needs the AKI
 * in the leaf and a critical keyUsage on the CA), Chromium and Go need the names in
 * subjectAltName (the CN is ignored) and a validity under 398 days.
 *
 * How each runtime is told to trust it (see `trustEnv`):
 * - Node: `NODE_EXTRA_CA_CERTS=<ca.pem>` (read once at process start; adds to the bundled roots).
 * - Python (`ssl`, `requests`, `httpx`): `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE` — these REPLACE
 *   the default roots, so they point at `bundle.pem` = system roots + this CA.
 * - Go (oauth2-proxy): `SSL_CERT_FILE` (crypto/x509 on Linux), same bundle.
 * - curl: `CURL_CA_BUNDLE`.
 * - Chromium: `--ignore-certificate-errors-spki-list=<base64 sha256 of the leaf's SPKI>`
 *   (`spkiSha256`, `chromiumTrustArgs`); Chromium does not read the env vars above.
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isIP } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface IssuedCert {
  /** PEM private key (unencrypted PKCS#8). */
  readonly key: string;
  /** PEM leaf certificate. */
  readonly cert: string;
  readonly keyPath: string;
  readonly certPath: string;
  /** leaf followed by the CA certificate. */
  readonly chainPath: string;
  /** the names (DNS and IP) in subjectAltName. */
  readonly names: readonly string[];
  /** base64 SHA-256 of the leaf's SubjectPublicKeyInfo (DER), as Chromium's SPKI list wants. */
  readonly spki: string;
}

export interface TestCa extends IssuedCert {
  readonly dir: string;
  /** PEM CA certificate. */
  readonly caCert: string;
  readonly caCertPath: string;
  /** system roots (when found) + this CA, for variables that replace the default trust store. */
  readonly bundlePath: string;
  /** environment variables that make Node, Python, Go and curl trust the CA. */
  readonly env: Readonly<Record<string, string>>;
  /** Chromium flags that make it accept the server certificate (and any other issued leaf). */
  readonly chromiumArgs: readonly string[];
  /** signs another server certificate with the same CA. */
  issue(names: readonly string[]): Promise<IssuedCert>;
  /** deletes the directory. */
  cleanup(): Promise<void>;
}

export interface TestCaOptions {
  /** extra DNS names or IP addresses for the server certificate; localhost and 127.0.0.1 are always in. */
  readonly names?: readonly string[];
  /** directory to write into (created); a fresh temporary one by default. */
  readonly dir?: string;
  /** validity in days (default 30). */
  readonly days?: number;
}

const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo, the value of Chromium's `--ignore-certificate-errors-spki-list`. */
export function spkiSha256(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

/** Chromium command-line flags that trust the given leaf certificates by SPKI pin. */
export function chromiumTrustArgs(...certPems: string[]): string[] {
  return [`--ignore-certificate-errors-spki-list=${certPems.map(spkiSha256).join(",")}`];
}

/** Environment variables pointing Node, Python, Go and curl at a CA file and a roots+CA bundle. */
export function trustEnv(caCertPath: string, bundlePath: string): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: caCertPath,
    SSL_CERT_FILE: bundlePath,
    REQUESTS_CA_BUNDLE: bundlePath,
    CURL_CA_BUNDLE: bundlePath,
  };
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, "_");
}

export async function testCa(opts: TestCaOptions = {}): Promise<TestCa> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "e2e-ca-")));
  await mkdir(dir, { recursive: true });
  const days = String(opts.days ?? 30);
  const caKeyPath = join(dir, "ca.key");
  const caCertPath = join(dir, "ca.pem");
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", caKeyPath, "-out", caCertPath, "-days", days, "-sha256",
    "-subj", `/CN=open-webui-aws e2e test CA ${process.pid}-${Date.now()}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-addext", "subjectKeyIdentifier=hash",
  ]);
  const caCert = await readFile(caCertPath, "utf8");
  let serial = 1;

  const issue = async (names: readonly string[]): Promise<IssuedCert> => {
    const all = [...new Set(["localhost", "127.0.0.1", ...names])];
    const base = join(dir, `server-${serial}-${sanitize(all.find((n) => n !== "localhost" && n !== "127.0.0.1") ?? "localhost")}`);
    const keyPath = `${base}.key`;
    const csrPath = `${base}.csr`;
    const certPath = `${base}.pem`;
    const extPath = `${base}.ext`;
    const chainPath = `${base}.chain.pem`;
    const san = all.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    await writeFile(
      extPath,
      [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
        `subjectAltName=${san}`,
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid,issuer",
        "",
      ].join("\n"),
    );
    await run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath, "-out", csrPath, "-subj", `/CN=${all[0]}`]);
    await run("openssl", [
      "x509", "-req", "-in", csrPath, "-CA", caCertPath, "-CAkey", caKeyPath,
      "-set_serial", String(1000 + serial++), "-days", days, "-sha256", "-extfile", extPath, "-out", certPath,
    ]);
    const [key, cert] = await Promise.all([readFile(keyPath, "utf8"), readFile(certPath, "utf8")]);
    await writeFile(chainPath, cert + caCert);
    return { key, cert, keyPath, certPath, chainPath, names: all, spki: spkiSha256(cert) };
  };

  const server = await issue(opts.names ?? []);
  const system = SYSTEM_BUNDLES.find((p) => existsSync(p));
  const bundlePath = join(dir, "bundle.pem");
  await writeFile(bundlePath, (system ? await readFile(system, "utf8") : "") + "\n" + caCert);

  return {
    ...server,
    dir,
    caCert,
    caCertPath,
    bundlePath,
    env: trustEnv(caCertPath, bundlePath),
    chromiumArgs: chromiumTrustArgs(server.cert),
    issue,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
