/**
 * The app of `pnpm synth` with N generated environments instead of envs/index.ts's three, for the
 * per-environment growth figure of `pnpm bench`:
 *
 *   node .gen/app/synth-envs.cjs <n> <outdir>     (built by bench/run.ts with lib/app-build.ts)
 *
 * The bootstrap and account stacks as in stacks/app.ts, then n environments `bench-0` … `bench-<n-1>`,
 * each the base env the tests derive variants from (test/support/synth.ts `baseEnvInput`: Entra OIDC,
 * 2 AZs, one NAT gateway) with its own name, hostname, state key and VPC CIDR, each a certificate and
 * a platform stack. Synthesizes HCL (`hclOutput`) into <outdir>, as `pnpm synth` does before formatting.
 */
import { App } from "cdktf";
import { bootstrap } from "../envs/bootstrap.js";
import { ACCOUNT_STACKS } from "../envs/index.js";
import { parseEnv } from "../envs/schema.js";
import { AccountStack } from "../stacks/account-stack.js";
import { addEnvStacks } from "../stacks/app.js";
import { BootstrapStack } from "../stacks/bootstrap-stack.js";

const n = Number(process.argv[2]);
const outdir = process.argv[3];
if (!Number.isInteger(n) || n < 0 || n > 150 || !outdir) {
  process.stderr.write("usage: node .gen/app/synth-envs.cjs <n 0..150> <outdir>\n");
  process.exit(2);
}

const app = new App({ outdir, hclOutput: true, skipValidation: false });
new BootstrapStack(app, "bootstrap", bootstrap);
for (const account of ACCOUNT_STACKS) new AccountStack(app, account.stackId, account);
for (let i = 0; i < n; i++) {
  const name = `bench-${i}`;
  const env = parseEnv({
    name,
    region: "us-east-1",
    hostname: `owui-${name}.example.com`,
    state: { key: `open-webui/aws/${name}.tfstate` },
    network: { vpcCidr: `10.${100 + i}.0.0/16`, azs: ["us-east-1a", "us-east-1b"], singleNatGateway: true },
    security: { albIngressCidrs: ["198.51.100.0/24"] },
    auth: {
      mode: "oidc",
      idp: "entra",
      entra: { tenantId: "11111111-2222-4333-8444-555555555555", clientId: "66666666-7777-4888-9999-000000000000" },
      admin: { email: "admin@example.com" },
    },
  });
  // No Cloudflare: `<name>-certificate` and `<name>`, as stacks/app.ts adds them.
  addEnvStacks(app, env);
}
app.synth();
process.stdout.write(`${JSON.stringify({ envs: n, maxRssKB: process.resourceUsage().maxRSS })}\n`);
