/**
 * `<env>-dns-validation` (only when the env configures `dns.cloudflare`): the ACM certificate's DNS
 * validation records in Cloudflare. It reads the `<env>-certificate` stack's
 * `certificate_validation_records` output through S3 remote state, so it deploys after that stack
 * and before `<env>`, whose `aws_acm_certificate_validation` waits for ACM to see these records.
 */
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { certificateStateKey, type EnvConfig } from "../envs/schema.js";
import { CloudflareDns } from "../modules/dns/index.js";
import type { CertificateStack } from "./certificate-stack.js";
import { CloudflareStack } from "./cloudflare-stack.js";

export interface DnsValidationStackProps {
  readonly env: EnvConfig;
  /** The env's certificate stack: deployed before this one, read through its state. */
  readonly certificate: CertificateStack;
}

export class DnsValidationStack extends CloudflareStack {
  readonly dns: CloudflareDns;

  constructor(scope: Construct, id: string, props: DnsValidationStackProps) {
    const { env } = props;
    super(scope, id, env, "dns-validation", { stack: props.certificate, id: "certificate", stateKey: certificateStateKey(env) });
    this.dns = new CloudflareDns(this, "dns", {
      zoneId: this.cloudflare.zoneId,
      managedBy: id,
      validationRecords: this.followed.get("certificate_validation_records"),
    });
    new TerraformOutput(this, "validation_record_names", {
      value: this.dns.validationRecordNames,
      description: "The certificate's DNS validation records in the Cloudflare zone (never proxied); deploy the env stack next",
    });
  }
}
