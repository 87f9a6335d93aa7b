/**
 * `<env>-dns-validation` (only when the env configures `dns.cloudflare`): the ACM certificate's DNS
 * validation records in Cloudflare. It reads the `<env>-certificate` stack's
 * `certificate_validation_records` output through S3 remote state, so it deploys after that stack
 * and before `<env>`, whose `aws_acm_certificate_validation` waits for ACM to see these records.
 */
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { certificateStateKey, siblingStateKey, type EnvConfig } from "../envs/schema.js";
import { readRemoteState, useRemoteState } from "../lib/backend.js";
import { CloudflareDns } from "../modules/dns/index.js";
import type { CertificateStack } from "./certificate-stack.js";

export interface DnsValidationStackProps {
  readonly env: EnvConfig;
  /** The env's certificate stack: deployed before this one, read through its state. */
  readonly certificate: CertificateStack;
}

export class DnsValidationStack extends TerraformStack {
  readonly dns: CloudflareDns;

  constructor(scope: Construct, id: string, props: DnsValidationStackProps) {
    super(scope, id);
    const { env } = props;
    const cloudflare = env.dns?.cloudflare;
    if (!cloudflare) throw new Error(`${env.name}: the ${id} stack needs dns.cloudflare in the env's config`);
    // No token here or in config: the provider reads CLOUDFLARE_API_TOKEN when Terraform runs.
    new CloudflareProvider(this, "cloudflare", {});
    useRemoteState(this, env.state, siblingStateKey(env, "dns-validation"));
    const certificate = readRemoteState(this, "certificate", env.state, certificateStateKey(env));
    this.addDependency(props.certificate);
    this.dns = new CloudflareDns(this, "dns", {
      zoneId: cloudflare.zoneId,
      managedBy: id,
      validationRecords: certificate.get("certificate_validation_records"),
    });
    new TerraformOutput(this, "validation_record_names", {
      value: this.dns.validationRecordNames,
      description: "The certificate's DNS validation records in the Cloudflare zone (never proxied); deploy the env stack next",
    });
  }
}
