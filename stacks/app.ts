/** The app factory: every stack `pnpm synth` writes. Tests build it too, with their own outdir. */
import { App } from "cdktf";
import { bootstrap } from "../envs/bootstrap.js";
import { ACCOUNT_STACKS, ENVIRONMENTS } from "../envs/index.js";
import type { EnvConfig } from "../envs/schema.js";
import { AccountStack } from "./account-stack.js";
import { BootstrapStack } from "./bootstrap-stack.js";
import { CertificateStack } from "./certificate-stack.js";
import { DnsStack } from "./dns-stack.js";
import { DnsValidationStack } from "./dns-validation-stack.js";
import { PlatformStack } from "./platform-stack.js";

export interface BuildAppOptions {
  /** @default - `CDKTF_OUTDIR` or "cdktf.out" */
  readonly outdir?: string;
  /** Write `cdk.tf` instead of `cdk.tf.json`. @default - `SYNTH_HCL_OUTPUT` (set by `cdktf synth --hcl`) */
  readonly hclOutput?: boolean;
}

export function buildApp(options: BuildAppOptions = {}): App {
  const app = new App({ outdir: options.outdir, hclOutput: options.hclOutput, skipValidation: false });
  new BootstrapStack(app, "bootstrap", bootstrap);
  // Once per account and region (envs/accounts.ts): Bedrock invocation logging, owned by no env.
  for (const account of ACCOUNT_STACKS) new AccountStack(app, account.stackId, account);
  for (const env of ENVIRONMENTS) addEnvStacks(app, env);
  return app;
}

/** One env's stacks, in deploy order; the DNS stacks only when the env configures Cloudflare. */
export interface EnvStacks {
  readonly certificate: CertificateStack;
  readonly dnsValidation?: DnsValidationStack;
  readonly platform: PlatformStack;
  readonly dns?: DnsStack;
}

/**
 * Adds an env's stacks to `app`. Each is deployed once and the order has no cycle:
 * `<env>-certificate` → `<env>-dns-validation` → `<env>` (waits for the certificate's validation)
 * → `<env>-dns`; without Cloudflare, `<env>-certificate` → (records by hand) → `<env>`.
 */
export function addEnvStacks(app: App, env: EnvConfig): EnvStacks {
  const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
  const dnsValidation = env.dns?.cloudflare ? new DnsValidationStack(app, `${env.name}-dns-validation`, { env, certificate }) : undefined;
  const platform = new PlatformStack(app, env.name, { env, certificate });
  if (!dnsValidation) return { certificate, platform };
  // No data flows from the validation records to the env stack (ACM does the waiting), so the order is declared.
  platform.addDependency(dnsValidation);
  const dns = new DnsStack(app, `${env.name}-dns`, { env, platform });
  return { certificate, dnsValidation, platform, dns };
}
