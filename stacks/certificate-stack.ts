/**
 * `<env>-certificate`: the env's ACM certificate, alone, so the deploy order has no cycle:
 * this stack → DNS validation records (the Cloudflare stack, or by hand from its output) → the env
 * stack, whose HTTPS listener waits for the certificate to be issued.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { certificateStateKey, type EnvConfig } from "../envs/schema.js";
import { useRemoteState } from "../lib/backend.js";
import { defaultTags } from "../lib/naming.js";
import { Certificate } from "../modules/compute/index.js";

export class CertificateStack extends TerraformStack {
  readonly certificate: Certificate;

  constructor(scope: Construct, id: string, env: EnvConfig) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: env.region, defaultTags: [{ tags: defaultTags(env.name, env.tags) }] });
    // Beside the env's own, explicit key (`…/<env>-certificate.tfstate`), so it never moves alone.
    useRemoteState(this, env.state, certificateStateKey(env));
    this.certificate = new Certificate(this, "certificate", { hostname: env.hostname });
    new TerraformOutput(this, "certificate_arn", { value: this.certificate.certificateArn });
    new TerraformOutput(this, "certificate_validation_records", {
      value: this.certificate.validationRecords,
      description: "CNAME records that prove control of the hostname; create them before deploying the env stack",
    });
  }
}
