/**
 * Finding Terraform for the checks that run its own parser (`terraform fmt`): the first `terraform`
 * on PATH, else the usual install places. Where the machine has none those checks are skipped, and
 * test/support/global-setup.ts says once, at the start of the run, which ones; the HCL checks that
 * need no Terraform (HashiCorp's parser through @cdktf/hcl2json) run either way.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The `terraform` binary, or undefined when the machine has none. */
export function terraformBinary(): string | undefined {
  const onPath = (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "terraform"));
  return [...onPath, "/usr/local/bin/terraform", "/usr/bin/terraform"].find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}
