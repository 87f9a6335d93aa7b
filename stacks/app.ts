/** The app factory: every stack `pnpm synth` writes. Tests build it too, with their own outdir. */
import { App } from "cdktf";
import { bootstrap } from "../envs/bootstrap.js";
import { ACCOUNT_STACKS, ENVIRONMENTS } from "../envs/index.js";
import { AccountStack } from "./account-stack.js";
import { BootstrapStack } from "./bootstrap-stack.js";
import { CertificateStack } from "./certificate-stack.js";
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
  for (const env of ENVIRONMENTS) {
    const certificate = new CertificateStack(app, `${env.name}-certificate`, env);
    new PlatformStack(app, env.name, { env, certificate });
  }
  return app;
}
