import { defineEnv } from "./schema.js";

/** Production: 3 AZs and one NAT gateway per AZ, so losing an AZ loses no egress. */
export const prod = defineEnv({
  name: "prod",
  region: "us-east-1",
  hostname: "owui-prod.oremuslabs.app",
  // Written out, never derived from the name: a rename must not move the state (README "Remote state").
  state: { key: "open-webui/aws/prod.tfstate" },
  tags: { CostCenter: "platform", DataClassification: "confidential" },
  network: {
    vpcCidr: "10.50.0.0/16",
    azs: ["us-east-1a", "us-east-1b", "us-east-1c"],
    singleNatGateway: false,
    flowLogs: { retentionDays: 365 },
  },
  security: {
    albIngressCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
    wafEnabled: true,
  },
  services: {
    openwebui: { cpu: 2048, memoryMiB: 8192, minCount: 2, maxCount: 6, targetCpuPercent: 60, requestsPerTarget: 200 },
    litellm: { cpu: 1024, memoryMiB: 2048, minCount: 2, maxCount: 4 },
    mcpo: { minCount: 2, maxCount: 2 },
  },
  data: {
    aurora: { instances: 2, minAcu: 1, maxAcu: 16, backupRetentionDays: 14, deletionProtection: true, finalSnapshot: true },
    redis: { enabled: true, replicas: 1 },
  },
  compute: { albDeletionProtection: true },
  // Entra ID with Open WebUI's native OIDC. The tenant and client ids are not secret; they are read
  // from the SSM parameters the platform team publishes (see README "Entra ID"). App roles assigned
  // to Entra groups map to Open WebUI roles; Entra pushes users in through SCIM.
  auth: {
    mode: "oidc",
    idp: "entra",
    entra: {
      tenantId: { parameterName: "/owui/prod/entra/tenant-id" },
      clientId: { parameterName: "/owui/prod/entra/client-id" },
      roles: { claim: "roles", allowed: ["owui-prod-users", "owui-prod-admins"], admin: ["owui-prod-admins"] },
      groups: { claim: "groups" },
    },
    scim: { enabled: true },
    // Created as administrator at Open WebUI's first start, so the first person to sign in is not
    // made admin; that person signs in through Entra with the owui-prod-admins app role.
    admin: { email: "platform-admins@oremuslabs.app" },
  },
  logRetentionDays: 365,
});
