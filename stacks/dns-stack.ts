/**
 * `<env>-dns` (only when the env configures `dns.cloudflare`): the app's record in Cloudflare, a
 * CNAME from the env's hostname to the ALB. It reads the `<env>` stack's `alb_dns_name` output
 * through S3 remote state, so it deploys last: certificate → dns-validation → env → this stack.
 */
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { siblingStateKey, type EnvConfig } from "../envs/schema.js";
import { readRemoteState, useRemoteState } from "../lib/backend.js";
import { CloudflareDns } from "../modules/dns/index.js";
import type { PlatformStack } from "./platform-stack.js";

export interface DnsStackProps {
  readonly env: EnvConfig;
  /** The env's platform stack: deployed before this one, read through its state. */
  readonly platform: PlatformStack;
}

export class DnsStack extends TerraformStack {
  readonly dns: CloudflareDns;

  constructor(scope: Construct, id: string, props: DnsStackProps) {
    super(scope, id);
    const { env } = props;
    const cloudflare = env.dns?.cloudflare;
    if (!cloudflare) throw new Error(`${env.name}: the ${id} stack needs dns.cloudflare in the env's config`);
    // No token here or in config: the provider reads CLOUDFLARE_API_TOKEN when Terraform runs.
    new CloudflareProvider(this, "cloudflare", {});
    useRemoteState(this, env.state, siblingStateKey(env, "dns"));
    const platform = readRemoteState(this, "platform", env.state, env.stateKey);
    this.addDependency(props.platform);
    this.dns = new CloudflareDns(this, "dns", {
      zoneId: cloudflare.zoneId,
      managedBy: id,
      app: { hostname: env.hostname, target: platform.getString("alb_dns_name"), proxied: cloudflare.proxied },
    });
    new TerraformOutput(this, "app_record_name", { value: this.dns.appRecordName, description: "The app's record in the Cloudflare zone (the env's hostname)" });
    new TerraformOutput(this, "app_record_proxied", {
      value: cloudflare.proxied,
      description: cloudflare.proxied ? "Proxied through Cloudflare: the zone's SSL mode must be Full (strict)" : "DNS only: clients reach the ALB directly",
    });
  }
}
