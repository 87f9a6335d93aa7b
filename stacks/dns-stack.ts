/**
 * `<env>-dns` (only when the env configures `dns.cloudflare`): the app's record in Cloudflare, a
 * CNAME from the env's hostname to the ALB. It reads the `<env>` stack's `alb_dns_name` output
 * through S3 remote state, so it deploys last: certificate → dns-validation → env → this stack.
 */
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EnvConfig } from "../envs/schema.js";
import { CloudflareDns } from "../modules/dns/index.js";
import { CloudflareStack } from "./cloudflare-stack.js";
import type { PlatformStack } from "./platform-stack.js";

export interface DnsStackProps {
  readonly env: EnvConfig;
  /** The env's platform stack: deployed before this one, read through its state. */
  readonly platform: PlatformStack;
}

export class DnsStack extends CloudflareStack {
  readonly dns: CloudflareDns;

  constructor(scope: Construct, id: string, props: DnsStackProps) {
    const { env } = props;
    super(scope, id, env, "dns", { stack: props.platform, id: "platform", stateKey: env.stateKey });
    const { cloudflare } = this;
    this.dns = new CloudflareDns(this, "dns", {
      zoneId: cloudflare.zoneId,
      managedBy: id,
      app: { hostname: env.hostname, target: this.followed.getString("alb_dns_name"), proxied: cloudflare.proxied },
    });
    new TerraformOutput(this, "app_record_name", { value: this.dns.appRecordName, description: "The app's record in the Cloudflare zone (the env's hostname)" });
    new TerraformOutput(this, "app_record_proxied", {
      value: cloudflare.proxied,
      description: cloudflare.proxied ? "Proxied through Cloudflare: the zone's SSL mode must be Full (strict)" : "DNS only: clients reach the ALB directly",
    });
  }
}
