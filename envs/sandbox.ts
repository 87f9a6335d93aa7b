import { defineEnv } from "./schema.js";

/**
 * Sandbox: self-contained, for a first deployment in an empty account with no Entra tenant. Cognito
 * (native sign-up; Google federation off) behind an oauth2-proxy sidecar, the provisioning pipeline,
 * 2 AZs, a single NAT gateway, no interface endpoints (egress goes through the NAT), the smallest
 * sizes, nothing that blocks `cdktf destroy` except the Cognito pool's deletion protection, and no
 * Cloudflare (DNS by hand).
 */
export const sandbox = defineEnv({
  name: "sandbox",
  region: "us-east-1",
  hostname: "owui-sandbox.oremuslabs.app",
  // Written out, never derived from the name: a rename must not move the state (README "Remote state").
  state: { key: "open-webui/aws/sandbox.tfstate" },
  tags: { CostCenter: "platform", DataClassification: "internal" },
  network: {
    vpcCidr: "10.60.0.0/16",
    azs: ["us-east-1a", "us-east-1b"],
    singleNatGateway: true,
    interfaceEndpoints: {
      "ecr.api": false,
      "ecr.dkr": false,
      logs: false,
      ssm: false,
      ssmmessages: false,
      secretsmanager: false,
      kms: false,
      sts: false,
      bedrock: false,
      "bedrock-runtime": false,
    },
    flowLogs: { retentionDays: 14, trafficType: "REJECT" },
  },
  security: {
    // Who may reach the ALB (documentation ranges until the real ones are filled in).
    albIngressCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
    wafEnabled: true,
    kmsDeletionWindowDays: 7,
  },
  services: {
    openwebui: { cpu: 1024, memoryMiB: 2048, minCount: 1, maxCount: 1 },
    litellm: { cpu: 512, memoryMiB: 1024, minCount: 1, maxCount: 1 },
    mcpo: { cpu: 256, memoryMiB: 512, minCount: 1, maxCount: 1 },
  },
  data: {
    aurora: { instances: 1, minAcu: 0, maxAcu: 2, deletionProtection: false, finalSnapshot: false },
    efs: { throughputMode: "bursting", backups: false },
    redis: { enabled: false },
  },
  compute: { albDeletionProtection: false, albAccessLogDays: 7, containerInsights: "disabled", enableExecuteCommand: true },
  auth: {
    mode: "oauth2-proxy",
    idp: "cognito",
    // Anyone who can reach the ALB may sign up; list your company's domains to narrow it.
    cognito: { emailDomains: ["*"], selfSignUp: true, mfa: "OPTIONAL" },
    provisioning: { enabled: true },
    // Created as administrator at Open WebUI's first start; sign up in Cognito with this address.
    admin: { email: "platform-admins@oremuslabs.app" },
  },
  logRetentionDays: 14,
  // No prevent_destroy: `cdktf destroy` removes everything (no final snapshot, so no key must outlive it).
  protection: { preventDestroy: false, reason: "throwaway env for a first deployment; destroyed and rebuilt from scratch, it holds no data to keep" },
});
