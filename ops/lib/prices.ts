/**
 * us-east-1 list prices (on-demand, USD, before any free tier, Savings Plan or EDP discount) that
 * `pnpm ops cost` multiplies the synthesized resources by. Each price names the AWS pricing page it
 * is from and where it was read; {@link PRICES_READ_ON} is the date. Prices change: re-read each
 * page, update the figure and the date together, then `pnpm ops cost --readme` (the README block and
 * test/ops-cost.test.ts's expected totals move with it).
 *
 * Where a figure was read from a third-party copy of the page (the search corpus this was written
 * with), `readAt` says so; the AWS page stays the citation.
 */

/** The date the table was read. */
export const PRICES_READ_ON = "2026-12-02";
export const PRICES_REGION = "us-east-1";
/** Hours in the billing month the estimate uses (AWS's calculator uses 730). */
export const HOURS_PER_MONTH = 730;

export interface Price {
  readonly usd: number;
  readonly unit: string;
  /** The AWS pricing page. */
  readonly source: string;
  /** Where the figure was read, when not on `source` itself. */
  readonly readAt?: string;
}

const VPC = "https://aws.amazon.com/vpc/pricing/";
const FARGATE = "https://aws.amazon.com/fargate/pricing/";
const AURORA = "https://aws.amazon.com/rds/aurora/pricing/";
const ELASTICACHE = "https://aws.amazon.com/elasticache/pricing/";
const CW = "https://aws.amazon.com/cloudwatch/pricing/";

export const PRICES = {
  natGatewayHour: { usd: 0.045, unit: "NAT gateway-hour", source: VPC, readAt: "https://basavytix.com/blog/aws-nat-gateway-pricing (quotes the us-east-1 rates of the VPC pricing page)" },
  natGatewayGb: { usd: 0.045, unit: "GB processed by a NAT gateway", source: VPC, readAt: "https://basavytix.com/blog/aws-nat-gateway-pricing" },
  publicIpv4Hour: { usd: 0.005, unit: "public IPv4 address-hour (NAT EIPs, the internet-facing ALB's per-AZ addresses)", source: `${VPC} (Public IPv4 Address tab)`, readAt: "https://cloudburn.io/blog/aws-nat-gateway-pricing" },
  interfaceEndpointAzHour: { usd: 0.01, unit: "interface endpoint-hour per AZ", source: "https://aws.amazon.com/privatelink/pricing/", readAt: "https://cloudcostkit.com/calculators/aws-vpc-interface-endpoint-cost-calculator (per-AZ billing: the PrivateLink page itself)" },
  interfaceEndpointGb: { usd: 0.01, unit: "GB processed by interface endpoints (first PB)", source: "https://aws.amazon.com/privatelink/pricing/" },
  crossAzGb: { usd: 0.02, unit: "GB crossing AZs ($0.01 out + $0.01 in)", source: "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer within the same region)", readAt: "https://basavytix.com/blog/aws-nat-gateway-pricing" },
  auroraAcuHour: { usd: 0.12, unit: "Aurora Serverless v2 ACU-hour (Aurora Standard, PostgreSQL)", source: AURORA, readAt: "https://c3x.dev/blog/aws-aurora-serverless-v2-cost/" },
  auroraStorageGbMonth: { usd: 0.1, unit: "Aurora Standard storage GB-month", source: AURORA, readAt: "https://awsnegotiations.com/blog/aurora-serverless-v2-pricing.html" },
  auroraIoMillion: { usd: 0.2, unit: "million Aurora Standard I/O requests", source: AURORA },
  fargateX86VcpuHour: { usd: 0.04048, unit: "Fargate Linux/x86 vCPU-hour", source: FARGATE, readAt: "https://www.vantage.sh/blog/fargate-pricing" },
  fargateX86GbHour: { usd: 0.004445, unit: "Fargate Linux/x86 GB-hour", source: FARGATE, readAt: "https://www.vantage.sh/blog/fargate-pricing" },
  fargateArmVcpuHour: { usd: 0.03238, unit: "Fargate Linux/ARM vCPU-hour", source: FARGATE, readAt: "https://www.vantage.sh/blog/fargate-pricing" },
  fargateArmGbHour: { usd: 0.00356, unit: "Fargate Linux/ARM GB-hour", source: FARGATE, readAt: "https://www.vantage.sh/blog/fargate-pricing" },
  /** Spot prices float with spare capacity; the page states "up to 70%" off. The model takes 70% off the x86 price, the best case. */
  fargateSpotDiscount: { usd: 0.7, unit: "fraction off the Linux/x86 price on Fargate Spot (X86_64 only)", source: FARGATE, readAt: "https://www.wring.co/blog/aws-fargate-pricing-guide (\"Fargate Spot saves 70%\")" },
  albHour: { usd: 0.0225, unit: "Application Load Balancer-hour", source: "https://aws.amazon.com/elasticloadbalancing/pricing/" },
  albLcuHour: { usd: 0.008, unit: "ALB LCU-hour (1 LCU = 1 GB/hour processed, 25 new connections/s, …)", source: "https://aws.amazon.com/elasticloadbalancing/pricing/", readAt: "https://handbook.vantage.sh/aws/services/elb-pricing (LCU dimensions)" },
  wafWebAclMonth: { usd: 5, unit: "WAF web ACL-month", source: "https://aws.amazon.com/waf/pricing/" },
  wafRuleMonth: { usd: 1, unit: "WAF rule-month (a managed rule group counts as one rule)", source: "https://aws.amazon.com/waf/pricing/" },
  wafRequestsMillion: { usd: 0.6, unit: "million WAF requests", source: "https://aws.amazon.com/waf/pricing/" },
  kmsKeyMonth: { usd: 1, unit: "KMS customer managed key-month", source: "https://aws.amazon.com/kms/pricing/" },
  kmsRequests10k: { usd: 0.03, unit: "10,000 KMS requests", source: "https://aws.amazon.com/kms/pricing/" },
  secretMonth: { usd: 0.4, unit: "Secrets Manager secret-month", source: "https://aws.amazon.com/secrets-manager/pricing/" },
  secretRequests10k: { usd: 0.05, unit: "10,000 Secrets Manager API calls", source: "https://aws.amazon.com/secrets-manager/pricing/" },
  logsIngestGb: { usd: 0.5, unit: "CloudWatch Logs GB ingested (standard class)", source: CW },
  logsStoreGbMonth: { usd: 0.03, unit: "CloudWatch Logs GB-month archived", source: CW },
  alarmMonth: { usd: 0.1, unit: "CloudWatch standard-resolution metric alarm-month", source: CW },
  dashboardMonth: { usd: 3, unit: "CloudWatch dashboard-month (the account's first 3 are free; not subtracted)", source: CW },
  hostedZoneMonth: { usd: 0.5, unit: "Route 53 hosted zone-month (each Cloud Map private DNS namespace is one)", source: "https://aws.amazon.com/route53/pricing/" },
  efsStandardGbMonth: { usd: 0.3, unit: "EFS Standard storage GB-month", source: "https://aws.amazon.com/efs/pricing/" },
  backupEfsGbMonth: { usd: 0.05, unit: "AWS Backup EFS warm backup GB-month", source: "https://aws.amazon.com/backup/pricing/" },
  cognitoPlusMau: { usd: 0.02, unit: "Cognito Plus-tier MAU (no free tier)", source: "https://aws.amazon.com/cognito/pricing/" },
  cognitoEssentialsMau: { usd: 0.015, unit: "Cognito Essentials-tier MAU above the 10,000 free", source: "https://aws.amazon.com/cognito/pricing/", readAt: "https://awsnegotiations.com/cognito-pricing-2026 (tiers); free band from the pricing page" },
  cognitoLiteMau: { usd: 0.0055, unit: "Cognito Lite-tier MAU above the 10,000 free", source: "https://aws.amazon.com/cognito/pricing/" },
  sqsRequestsMillion: { usd: 0.4, unit: "million SQS standard requests (first million a month free; not subtracted)", source: "https://aws.amazon.com/sqs/pricing/" },
  lambdaRequestsMillion: { usd: 0.2, unit: "million Lambda requests", source: "https://aws.amazon.com/lambda/pricing/" },
  lambdaArmGbSecond: { usd: 0.0000133334, unit: "Lambda arm64 GB-second", source: "https://aws.amazon.com/lambda/pricing/" },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

/**
 * ElastiCache node-hours by engine and node type (on-demand). Valkey nodes are listed 20% below
 * Redis OSS. A node type the stack uses but this table lacks is refused with the fix.
 */
export const ELASTICACHE_NODE_HOUR: Readonly<Record<"redis" | "valkey", Readonly<Record<string, number>>>> = {
  redis: { "cache.t4g.micro": 0.016, "cache.t4g.small": 0.032, "cache.t4g.medium": 0.065, "cache.m7g.large": 0.158, "cache.r7g.large": 0.219 },
  valkey: { "cache.t4g.micro": 0.0128, "cache.t4g.small": 0.0256, "cache.t4g.medium": 0.052, "cache.m7g.large": 0.1264, "cache.r7g.large": 0.1752 },
};
export const ELASTICACHE_SOURCE = { source: ELASTICACHE, readAt: "https://cloudburn.io/blog/amazon-elasticache-pricing (Valkey node pricing 20% below Redis OSS)" } as const;

/**
 * The default images are published for linux/arm64 as well as linux/amd64 (a manifest list), so
 * `cpuArchitecture: "ARM64"` runs them unchanged. Checked in each project's release workflow:
 */
export const MULTI_ARCH_IMAGES: readonly { readonly image: string; readonly evidence: string }[] = [
  { image: "ghcr.io/open-webui/open-webui", evidence: "https://github.com/open-webui/open-webui/blob/main/.github/workflows/docker-build.yaml: build-main-image matrix linux/amd64 (ubuntu-latest) + linux/arm64 (ubuntu-24.04-arm), merged by `docker buildx imagetools create` into one manifest list per tag" },
  { image: "ghcr.io/open-webui/mcpo", evidence: "https://github.com/open-webui/mcpo/blob/main/.github/workflows/docker-build.yaml: the same matrix (linux/amd64, linux/arm64) merged into a manifest list on v* tags" },
  { image: "ghcr.io/berriai/litellm", evidence: "https://github.com/BerriAI/litellm/blob/main/.github/workflows/ghcr_deploy.yml: the release images are built with `platforms: local,linux/amd64,linux/arm64,linux/arm64/v8`" },
  { image: "quay.io/oauth2-proxy/oauth2-proxy", evidence: "https://github.com/oauth2-proxy/oauth2-proxy/blob/master/Makefile: DOCKER_BUILD_PLATFORM lists linux/amd64 and the arm64 variants for the release manifest" },
];
