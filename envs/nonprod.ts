import { defineEnv } from "./schema.js";

/** Non-production: 2 AZs and a single NAT gateway, to keep idle cost down. */
export const nonprod = defineEnv({
  name: "nonprod",
  region: "us-east-1",
  hostname: "owui-nonprod.oremuslabs.app",
  // Written out, never derived from the name: a rename must not move the state (README "Remote state").
  state: { key: "open-webui/aws/nonprod.tfstate" },
  tags: { CostCenter: "platform", DataClassification: "internal" },
  network: {
    vpcCidr: "10.40.0.0/16",
    azs: ["us-east-1a", "us-east-1b"],
    singleNatGateway: true,
    // No interface endpoints: at nonprod's traffic each would cost $14.60 a month across 2 AZs for
    // well under the ~200 GB a month at which PrivateLink beats the NAT's $0.045/GB (`pnpm ops cost nonprod`).
    interfaceEndpoints: { "ecr.api": false, "ecr.dkr": false, logs: false, ssm: false, ssmmessages: false, secretsmanager: false, kms: false, sts: false, bedrock: false, "bedrock-runtime": false },
    flowLogs: { retentionDays: 30 },
  },
  security: {
    // Corporate egress and VPN ranges (documentation ranges until the real ones are filled in).
    albIngressCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
    wafEnabled: true,
  },
  // Fargate Spot (about 70% off, X86_64 only): every service keeps its state in Aurora/EFS, so an
  // interruption (two minutes' warning) restarts a task; nonprod accepts a minute or two of errors.
  services: {
    openwebui: { minCount: 1, maxCount: 1, capacity: "spot" },
    litellm: { capacity: "spot" },
    mcpo: { capacity: "spot" },
  },
  data: {
    aurora: { instances: 1, minAcu: 0.5, maxAcu: 4, deletionProtection: false, finalSnapshot: false },
    // One Open WebUI task needs no Redis; switch it on to test multi-replica settings here.
    redis: { enabled: false },
  },
  compute: { albDeletionProtection: false, enableExecuteCommand: true },
  // Entra ID with Open WebUI's native OIDC. The tenant and client ids are not secret; they are read
  // from the SSM parameters the platform team publishes (see README "Entra ID"). App roles assigned
  // to Entra groups map to Open WebUI roles; Entra pushes users in through SCIM.
  auth: {
    mode: "oidc",
    idp: "entra",
    entra: {
      tenantId: { parameterName: "/owui/nonprod/entra/tenant-id" },
      clientId: { parameterName: "/owui/nonprod/entra/client-id" },
      roles: { claim: "roles", allowed: ["owui-nonprod-users", "owui-nonprod-admins"], admin: ["owui-nonprod-admins"] },
      groups: { claim: "groups" },
    },
    scim: { enabled: true },
    // Created as administrator at Open WebUI's first start, so the first person to sign in is not
    // made admin; that person signs in through Entra with the owui-nonprod-admins app role.
    admin: { email: "platform-admins@oremuslabs.app" },
  },
  logRetentionDays: 30,
  // DNS is hosted in Cloudflare (REQUIREMENTS.md), so nonprod writes its records there: stacks
  // nonprod-dns-validation and nonprod-dns (README "DNS with Cloudflare"). DNS only, not proxied:
  // the ALB admits only the corporate and VPN ranges above. The zone id is a PLACEHOLDER (the
  // requirements name the zone, not its id): replace it with oremuslabs.app's "Zone ID" from the
  // Cloudflare dashboard before deploying the DNS stacks; with it, only those two stacks fail.
  dns: { cloudflare: { zoneId: "00000000000000000000000000000000", zoneName: "oremuslabs.app", proxied: false } },
});
