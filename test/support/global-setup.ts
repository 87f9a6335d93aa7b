/**
 * vitest globalSetup of the unit project (vitest.config.ts): runs once per `vitest run`, before any
 * test file. Says once which checks will be skipped because the machine has no `terraform`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { terraformBinary } from "./terraform.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Test files that run Terraform's own parser (they call terraformBinary() or name a terraform path). */
function filesNeedingTerraform(): string[] {
  const dir = join(ROOT, "test");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .filter((f) => /terraformBinary\(|bin\/terraform"/.test(readFileSync(join(dir, f), "utf8")))
    .map((f) => relative(ROOT, join(dir, f)));
}

export default function setup(): void {
  if (terraformBinary()) return;
  process.stderr.write(
    `\n[unit] no \`terraform\` on PATH (nor /usr/local/bin, /usr/bin): skipping the Terraform-parser checks ` +
      `(\`terraform fmt\`) in ${filesNeedingTerraform().join(", ") || "no file"}. ` +
      `The HCL gate's own checks (HashiCorp's parser through @cdktf/hcl2json) still run. ` +
      `Install Terraform ${"1.11.4"} to run them (README "Requirements").\n\n`,
  );
}
