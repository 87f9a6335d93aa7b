/**
 * The `dns` layer: records in a Cloudflare zone (provider v5, `cloudflare_dns_record`), written by
 * the two optional DNS stacks: the ACM certificate's validation records (`<env>-dns-validation`,
 * never proxied) and the app's CNAME to the ALB (`<env>-dns`, proxied as configured). The values
 * arrive through S3 remote state from the stacks that own them; see README.md for the deploy order.
 */
import { DnsRecord } from "@cdktf/provider-cloudflare/lib/dns-record";
import { Fn, TerraformIterator, type IResolvable } from "cdktf";
import { Construct } from "constructs";

/** Cloudflare's "automatic" TTL (300 s for DNS-only records); the only TTL a proxied record accepts. */
export const AUTOMATIC_TTL = 1;

/** The app's record: `hostname` → `target` (a CNAME; Cloudflare flattens it at the zone apex). */
export interface AppRecordProps {
  /** The env's public hostname, inside the zone. */
  readonly hostname: string;
  /** The name the record points at: the ALB's DNS name. */
  readonly target: string;
  /** Proxy through Cloudflare (orange cloud); the zone's SSL mode must then be Full (strict). */
  readonly proxied: boolean;
}

export interface CloudflareDnsProps {
  /** The zone's id (config `dns.cloudflare.zoneId`). */
  readonly zoneId: string;
  /** The stack that owns the records, named in each record's comment so an operator in the dashboard knows where they come from. */
  readonly managedBy: string;
  /**
   * ACM's DNS validation records, as the certificate stack outputs them
   * (`certificate_validation_records`: a list of objects with `domain_name`, `resource_record_name`,
   * `resource_record_type`, `resource_record_value`). One record each, keyed by domain name, never proxied.
   */
  readonly validationRecords?: IResolvable;
  /** The app's record. */
  readonly app?: AppRecordProps;
}

/** Names as Cloudflare stores them: ACM writes fully qualified names with a trailing dot. */
const withoutTrailingDot = (name: string) => Fn.trimsuffix(name, ".");

export class CloudflareDns extends Construct {
  /** The validation records (one resource with `for_each` over the certificate's domains), when asked for. */
  readonly validationRecords?: DnsRecord;
  /** The names of the validation records (`[for k, r in cloudflare_dns_record.… : r.name]`). */
  readonly validationRecordNames?: IResolvable;
  /** The app's record, when asked for. */
  readonly appRecord?: DnsRecord;
  /** Cloudflare's id of the app's record. */
  readonly appRecordId?: string;
  /** The app record's name (the env's hostname). */
  readonly appRecordName?: string;

  constructor(scope: Construct, id: string, props: CloudflareDnsProps) {
    super(scope, id);
    if (props.validationRecords !== undefined) {
      const each = TerraformIterator.fromComplexList(props.validationRecords, "domain_name");
      this.validationRecords = new DnsRecord(this, "validation", {
        forEach: each,
        zoneId: props.zoneId,
        name: withoutTrailingDot(each.getString("resource_record_name")),
        type: each.getString("resource_record_type"),
        content: withoutTrailingDot(each.getString("resource_record_value")),
        // ACM must resolve the record itself; a proxied record would answer with Cloudflare's addresses.
        proxied: false,
        ttl: AUTOMATIC_TTL,
        comment: `ACM validation; managed by cdktf stack ${props.managedBy}`,
      });
      this.validationRecordNames = TerraformIterator.fromResources(this.validationRecords).pluckProperty("name");
    }
    if (props.app) {
      this.appRecord = new DnsRecord(this, "app", {
        zoneId: props.zoneId,
        name: props.app.hostname,
        type: "CNAME",
        content: props.app.target,
        proxied: props.app.proxied,
        ttl: AUTOMATIC_TTL,
        comment: `Open WebUI; managed by cdktf stack ${props.managedBy}`,
      });
      this.appRecordId = this.appRecord.id;
      this.appRecordName = this.appRecord.name;
    }
  }
}
