/**
 * Bad input is refused at synth with the field, the value and the fix (issue 12, item 9). Each row
 * breaks the base config one way and names what the message must say; the structural tests below
 * keep the tables the checks rely on (derived names, tag counts, rules per CIDR) honest against
 * the synthesized stacks.
 */
import { describe, expect, it } from "vitest";
import { ALB_INGRESS_RULES_PER_CIDR, RESOURCE_OWN_TAG_KEYS, SG_INBOUND_RULES_QUOTA } from "../lib/aws-limits.js";
import { REGION_AZ_LETTERS } from "../lib/aws-regions.js";
import { ConfigErrors } from "../lib/errors.js";
import { imageProblem } from "../lib/image.js";
import { DERIVED_NAMES, MAX_ENV_NAME_LENGTH } from "../lib/naming.js";
import { accountProblems, checkEnvironments, crossEnvProblems } from "../envs/cross-env.js";
import { ACCOUNT_STACKS, ENVIRONMENTS } from "../envs/index.js";
import { defineAccount, defineBootstrap, parseEnv, type AccountConfig, type AccountInput, type EnvConfig } from "../envs/schema.js";
import { baseEnvInput, followRename, refusal, synthPlatform } from "./support/synth.js";


function accepted(patch: (raw: any) => void): EnvConfig {
  const raw = structuredClone(baseEnvInput()) as any;
  patch(raw);
  return parseEnv(followRename(raw));
}

const PROXY = { mode: "oauth2-proxy", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" } };
const COGNITO_OIDC = { mode: "oidc", idp: "cognito", cognito: { emailDomains: ["example.com"] }, admin: { email: "owui-admins@example.com" } };
const REASON = "needed for the migration window";
const stdio = (args: string[], env?: Record<string, string>) => ({ command: "uvx", args, ...(env ? { env } : {}) });
const mcpo = (servers: Record<string, unknown>) => (r: any) => (r.services = { mcpo: { servers } });
const model = (modelId: string, region?: string) => (r: any) => (r.services = { litellm: { models: [{ name: "m", modelId, ...(region ? { region } : {}) }] } });
const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`Tag${i}`, "x"]));
const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `198.51.${i}.0/24`);

type Row = [string, (raw: any) => void, RegExp[]];

// Env names go into every AWS name (lib/naming.ts); each message names the env, the name and the rule.
const NAMES: Row[] = [
  ["a double dash", (r) => (r.name = "non--prod"), [/non--prod: name: "non--prod" is not a valid environment name: it contains "--", which RDS and ElastiCache identifiers refuse\. Fix: use 2–23 lower-case letters/]],
  ["a trailing dash", (r) => (r.name = "prod-"), [/name: "prod-" is not a valid environment name: it ends with "-"/, /not ending with a dash/]],
  ["a leading digit", (r) => (r.name = "1prod"), [/name: "1prod" is not a valid environment name: it starts with "1"; RDS and ElastiCache identifiers must start with a letter/]],
  ["upper case", (r) => (r.name = "Prod"), [/name: "Prod" is not a valid environment name: it has upper-case letters \(P\), which S3 bucket and RDS names refuse/]],
  ["an underscore", (r) => (r.name = "dev_1"), [/name: "dev_1" is not a valid environment name: it contains "_"; AWS names built from it allow only lower-case letters, digits and dashes/]],
  ["one character", (r) => (r.name = "a"), [/name: "a" is not a valid environment name: it is shorter than 2 characters/]],
  [
    "a name too long for the ALB name",
    (r) => (r.name = "a".repeat(MAX_ENV_NAME_LENGTH + 1)),
    [new RegExp(`it makes the ALB name "owui-a{${MAX_ENV_NAME_LENGTH + 1}}-alb" 33 characters, over AWS's limit of 32\\. Fix: use 2–${MAX_ENV_NAME_LENGTH} lower-case`)],
  ],
  ["the bootstrap stack's id", (r) => (r.name = "bootstrap"), [/name: "bootstrap" is not a valid environment name: "bootstrap" is the id of another stack of the app \(stacks\/app\.ts\), and its state key\. Fix: choose another name/]],
];

// Extra tags (the provider's default_tags) against AWS's tag rules and the per-resource count.
const TAGS: Row[] = [
  ["an aws: tag key", (r) => (r.tags = { "aws:owner": "me" }), [/test: tags\.aws:owner: tag key "aws:owner" starts with "aws:", a prefix reserved for AWS, so every tagging call refuses it\. Fix: drop the prefix, e.g\. "owner"/]],
  ["an AWS: tag key in upper case", (r) => (r.tags = { "AWS:Team": "x" }), [/tags\.AWS:Team: tag key "AWS:Team" starts with "AWS:", a prefix reserved for AWS/]],
  ["a tag key over 128 characters", (r) => (r.tags = { ["K".repeat(129)]: "x" }), [/tags\.K{129}: tag key "K{40}…" has 129 characters, over AWS's 128\. Fix: shorten it/]],
  ["a tag value over 256 characters", (r) => (r.tags = { Team: "v".repeat(257) }), [/tags\.Team: tag value "v{40}…" has 257 characters, over AWS's 256\. Fix: shorten it/]],
  ["a tag key with a character AWS refuses", (r) => (r.tags = { "Cost*Center": "x" }), [/tags\.Cost\*Center: tag key "Cost\*Center" contains "\*", which AWS tags do not allow\. Fix: use only letters, digits, spaces and _ \. : \/ = \+ - @/]],
  ["a tag value with characters AWS refuses", (r) => (r.tags = { Owner: "ops#1, team!" }), [/tags\.Owner: tag value "ops#1, team!" contains "#", ",", "!", which AWS tags do not allow/]],
  ["more tags than a resource can carry with the project's own", (r) => (r.tags = tags(46)), [/test: tags: has 46 tags; with the 3 default tags \(Project, Environment, ManagedBy\) and up to 2 a resource sets itself \(Name, Tier\) that exceeds AWS's 50 tags per resource\. Fix: keep at most 45 extra tags/]],
  ["a tag that replaces the Environment default tag", (r) => (r.tags = { environment: "production" }), [/tags\.environment: "environment" would replace the project's own "Environment" tag.*Fix: choose another key/]],
  ["a tag that replaces a resource's Name", (r) => (r.tags = { Name: "mine" }), [/tags\.Name: "Name" would replace the project's own "Name" tag, which names the resource itself/]],
  ["two tag keys that differ only by case", (r) => (r.tags = { Team: "a", team: "b" }), [/tags\.team: "team" differs from "Team" only by case; IAM treats tag keys case-insensitively.*Fix: keep one/]],
];

// ALB ingress CIDRs and subnet sizes.
const NETWORK: Row[] = [
  ["a duplicated ALB CIDR", (r) => (r.security.albIngressCidrs = ["198.51.100.0/24", "203.0.113.0/24", "198.51.100.0/24"]), [/test: security\.albIngressCidrs\[2\]: "198\.51\.100\.0\/24" is listed twice \(also at \[0\]\), and each copy costs 2 security-group rules\. Fix: list each CIDR once/]],
  ["an ALB CIDR inside another", (r) => (r.security.albIngressCidrs = ["198.51.0.0/16", "198.51.100.0/24"]), [/security\.albIngressCidrs\[1\]: "198\.51\.100\.0\/24" lies inside security\.albIngressCidrs\[0\] \("198\.51\.0\.0\/16"\), so its rules add nothing\. Fix: remove it/]],
  [
    "more ALB CIDRs than the security group's inbound-rule quota",
    (r) => (r.security.albIngressCidrs = cidrs(31)),
    [/security\.albIngressCidrs: has 31 CIDRs, which make 62 inbound rules on the ALB security group \(2 per CIDR: 443 and the 80 redirect\); AWS's default quota is 60, so apply fails\. Fix: list at most 30 CIDRs/],
  ],
  ["a public subnet overlapping a private one", (r) => { r.network.publicSubnetCidrs = ["10.0.0.0/24", "10.0.255.0/24"]; }, [/network\.privateSubnetCidrs\[0\]: "10\.0\.0\.0\/19" overlaps network\.publicSubnetCidrs\[0\] \("10\.0\.0\.0\/24"\)\. Fix: give every subnet its own range/]],
  ["a public subnet too small for the ALB", (r) => { r.network.publicSubnetCidrs = ["10.0.255.0/28", "10.0.254.0/24"]; }, [/network\.publicSubnetCidrs\[0\]: "10\.0\.255\.0\/28" is a \/28; the ALB needs a \/27 or larger with at least 8 free addresses in each of its subnets\. Fix: use a \/27 or larger/]],
  [
    "a private subnet too small for the interface endpoints and tasks",
    (r) => ((r.network.privateSubnetCidrs = ["10.0.0.0/27", "10.0.0.32/27"]), (r.services = { openwebui: { maxCount: 4 } })),
    [
      /network\.privateSubnetCidrs\[0\]: "10\.0\.0\.0\/27" has 27 usable addresses \(AWS reserves 5\), but 29 may be needed in it: 10 for 10 interface endpoints, 14 for Fargate tasks \(7 at most, ×2 while a deployment rolls\), 1 for the EFS mount target, 1 for 1 Aurora instance\(s\), 2 for Redis nodes, 1 for VPC Lambda functions \(db-bootstrap, provisioning\)\. Fix: use a \/26 or larger/,
      /network\.privateSubnetCidrs\[1\]: "10\.0\.0\.32\/27"/,
    ],
  ],
  [
    "a private /28 with every interface endpoint on",
    (r) => { r.network.privateSubnetCidrs = ["10.0.0.0/28", "10.0.0.16/28"]; },
    [/network\.privateSubnetCidrs\[0\]: "10\.0\.0\.0\/28" has 11 usable addresses \(AWS reserves 5\), but \d+ may be needed in it: 10 for 10 interface endpoints, \d+ for Fargate tasks.*Fix: use a \/2\d or larger, or turn off interface endpoints you do not need/],
  ],
];

// Regions and AZs against the checked-in table (lib/aws-regions.ts).
const REGIONS: Row[] = [
  ["an AZ letter the region does not have", (r) => (r.network.azs = ["us-east-1a", "us-east-1g"]), [/network\.azs\[1\]: "us-east-1g" is not an AZ of region us-east-1, which has us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f\. Fix: use one of those/]],
  ["ca-central-1c, which does not exist", (r) => ((r.region = "ca-central-1"), (r.network.azs = ["ca-central-1a", "ca-central-1c"])), [/network\.azs\[1\]: "ca-central-1c" is not an AZ of region ca-central-1, which has ca-central-1a, ca-central-1b, ca-central-1d/]],
  ["an AZ of another region", (r) => (r.network.azs = ["us-east-1a", "us-west-2b"]), [/network\.azs\[1\]: "us-west-2b" is not an AZ of region us-east-1.*Fix: use one of those, or change region/]],
  ["a region outside the table", (r) => ((r.region = "me-central-1"), delete r.network.azs), [/test: region: "me-central-1" is not a region this project supports \(lib\/aws-regions\.ts has no AZ table for it\)\. Fix: use one of us-east-1, .*, or add the region with its AZ letters to lib\/aws-regions\.ts/]],
  ["a model region outside the table", model("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "us-gov-west-1"), [/services\.litellm\.models\[0\]\.region: "us-gov-west-1" is not a region this project supports/]],
];

// The gateway's chat catalog.
const MODELS: Row[] = [
  ["Claude 3.7 Sonnet without an inference profile", model("anthropic.claude-3-7-sonnet-20250219-v1:0"), [/services\.litellm\.models\[0\]\.modelId: "anthropic\.claude-3-7-sonnet-20250219-v1:0": Claude 3\.7 Sonnet has no on-demand throughput.*in us-east-1\. Fix: use "us\.anthropic\.claude-3-7-sonnet-20250219-v1:0" \(the us\. profile for us-east-1\)/]],
  ["Claude Sonnet 4 without a profile in an EU region", (r) => ((r.region = "eu-west-1"), (r.network.azs = ["eu-west-1a", "eu-west-1b"]), model("anthropic.claude-sonnet-4-20250514-v1:0")(r)), [/models\[0\]\.modelId: "anthropic\.claude-sonnet-4-20250514-v1:0": Claude 4 \(Sonnet, Opus, Haiku 4\.x\) has no on-demand throughput.*in eu-west-1\. Fix: use "eu\.anthropic\.claude-sonnet-4-20250514-v1:0"/]],
  ["Claude 3.5 Haiku without a profile outside us-west-2", model("anthropic.claude-3-5-haiku-20241022-v1:0"), [/Claude 3\.5 Haiku has no on-demand throughput outside us-west-2.*in us-east-1/]],
  ["Llama 4 without a profile", model("meta.llama4-maverick-17b-instruct-v1:0"), [/"meta\.llama4-maverick-17b-instruct-v1:0": Llama 4 has no on-demand throughput/]],
  ["a Titan embedding model in the chat catalog", model("amazon.titan-embed-text-v2:0"), [/models\[0\]\.modelId: "amazon\.titan-embed-text-v2:0" is an embedding model, not a chat model.*Fix: remove it from the chat catalog; embeddings are configured in services\.openwebui\.retrieval\.embeddingModelId/]],
  ["a Cohere embedding model in the chat catalog", model("cohere.embed-english-v3"), [/"cohere\.embed-english-v3" is an embedding model, not a chat model/]],
  ["an image model in the chat catalog", model("stability.sd3-5-large-v1:0"), [/"stability\.sd3-5-large-v1:0" is an image model, not a chat model/]],
];

// mcpo's servers become a plain environment value of its task definition: no secrets, no metadata endpoints.
const MCPO: Row[] = [
  ["an OpenAI key in the arguments", mcpo({ search: stdio(["mcp-search", "sk-proj-abcdefghijklmnopqrstuvwx"]) }), [/services\.mcpo\.servers\.search\.args\[1\]: "sk-proj-…wx \(32 characters\)" looks like an OpenAI\/Anthropic-style API key \(sk-…\)\. Fix: keep credentials out of the env config/]],
  ["a GitHub token in the arguments", mcpo({ github: stdio(["mcp-github", "ghp_0123456789abcdefghijABCDEFGHIJ012345"]) }), [/servers\.github\.args\[1\]: "ghp_0123…45 \(40 characters\)" looks like a GitHub token/]],
  ["an AWS access key id", mcpo({ s3: stdio(["mcp-s3", "--key", "AKIAIOSFODNN7EXAMPLE"]) }), [/servers\.s3\.args\[2\]: "AKIAIOSF…LE \(20 characters\)" looks like an AWS access key id/]],
  ["a Slack token", mcpo({ slack: stdio(["mcp-slack", "xoxb-123456789012-abcdefghij"]) }), [/servers\.slack\.args\[1\]: .* looks like a Slack token \(xox…\)/]],
  ["an --api-key= option", mcpo({ brave: stdio(["mcp-brave", "--api-key=hunter22"]) }), [/servers\.brave\.args\[1\]: "--api-ke…22 \(18 characters\)" looks like a credential option/]],
  ["a token in a remote server's URL", mcpo({ remote: { type: "sse", url: "https://mcp.example.com/sse?token=abcdef123" } }), [/servers\.remote\.url: .* looks like a credential option/]],
  ["credentials in a remote server's URL", mcpo({ remote: { type: "streamable-http", url: "https://bot:s3cret@mcp.example.com/mcp" } }), [/servers\.remote\.url: .* looks like credentials in a URL \(user:password@\)/]],
  ["a high-entropy string", mcpo({ notion: stdio(["mcp-notion", "Zx81kQ2mP9vL4tR7wY3nB6cH0jF5sD1gA8eU"]) }), [/servers\.notion\.args\[1\]: .* holds a 36-character high-entropy string, which looks like a generated key or token/]],
  ["a secret-named variable in the server's env", mcpo({ github: stdio(["mcp-github"], { GITHUB_TOKEN: "x" }) }), [/servers\.github\.env\.GITHUB_TOKEN: "GITHUB_TOKEN" names a secret, and its value would sit in plain text\. Fix: keep credentials out/]],
  ["the instance metadata address", mcpo({ fetch: { type: "sse", url: "http://169.254.169.254/latest/meta-data/" } }), [/servers\.fetch\.url: "http:\/\/169\.254\.169\.254\/latest\/meta-data\/" points at the EC2 instance metadata service \(169\.254\.169\.254\)\. Fix: point the server at the service it is meant to reach/]],
  ["the IPv6 instance metadata address", mcpo({ fetch: stdio(["mcp-server-fetch", "--base-url=http://[fd00:ec2::254]/"]) }), [/servers\.fetch\.args\[1\]: .* points at the EC2 instance metadata service over IPv6 \(fd00:ec2::254\)/]],
  ["the ECS task credentials endpoint", mcpo({ fetch: stdio(["mcp-server-fetch", "http://169.254.170.2/v2/credentials"]) }), [/servers\.fetch\.args\[1\]: .* points at the ECS task metadata and credentials endpoint \(169\.254\.170\.2\)/]],
  ["GCP's metadata host", mcpo({ fetch: { type: "sse", url: "http://metadata.google.internal/computeMetadata/v1/" } }), [/servers\.fetch\.url: .* points at a cloud metadata host \(metadata\.google\.internal\)/]],
  ["a metadata address in the server's env", mcpo({ fetch: stdio(["mcp-server-fetch"], { BASE_URL: "http://169.254.169.254" }) }), [/servers\.fetch\.env\.BASE_URL: .* points at the EC2 instance metadata service/]],
];

// Image tags that move.
const MOVING = ["main", "stable", "nightly", "dev", "edge", "head", "master", "ollama", "cuda", "v1", "1", "v0.10", "main-cuda", "dev-ollama", "3.12-latest"];
const IMAGES: Row[] = MOVING.map((tag): Row => [
  `an image tagged ${tag}`,
  (r) => (r.services = { openwebui: { image: `ghcr.io/open-webui/open-webui:${tag}` } }),
  [new RegExp(`services\\.openwebui\\.image: "ghcr\\.io/open-webui/open-webui:${tag.replace(/\./g, "\\.")}" is tagged "${tag.replace(/\./g, "\\.")}", (a branch or channel tag that moves with every build|a major(\\.minor)?-only version that moves).*Fix: pin it`)],
]);

// Values AWS or the products refuse at apply or at run time.
const OTHERS: Row[] = [
  ["a log retention CloudWatch does not offer", (r) => (r.logRetentionDays = 45), [/test: logRetentionDays: 45 is not a CloudWatch Logs retention period\. Fix: use one of 1, 3, 5/]],
  ["a flow-log retention CloudWatch does not offer", (r) => (r.network.flowLogs = { retentionDays: 100 }), [/network\.flowLogs\.retentionDays: 100 is not a CloudWatch Logs retention period/]],
  ["a CPU size Fargate does not have", (r) => (r.services = { litellm: { cpu: 300 } }), [/services\.litellm\.cpu: 300 is not a Fargate CPU size\. Fix: use one of 256, 512, 1024/]],
  ["memory Fargate does not pair with the CPU", (r) => (r.services = { openwebui: { cpu: 1024, memoryMiB: 512 } }), [/services\.openwebui\.memoryMiB: 512 MiB is not valid with cpu 1024\. Fix: use 2048–8192 MiB in steps of 1024/]],
  ["request-based scaling on an internal service", (r) => (r.services = { litellm: { requestsPerTarget: 100 } }), [/services\.litellm\.requestsPerTarget: 100 is set, but litellm is internal \(no ALB target group\).*Fix: remove it; scale on targetCpuPercent/]],
  ["a KMS deletion window below 7 days", (r) => (r.security.kmsDeletionWindowDays = 6), [/security\.kmsDeletionWindowDays: 6 days is outside the 7–30 days KMS accepts for a key's deletion window\. Fix: use 7 to 30/]],
  ["a KMS deletion window above 30 days", (r) => (r.security.kmsDeletionWindowDays = 31), [/security\.kmsDeletionWindowDays: 31 days is outside the 7–30 days KMS accepts/]],
  ["auto-pause on an engine that cannot pause", (r) => (r.data = { aurora: { engineVersion: "16.2", minAcu: 0 } }), [/data\.aurora\.minAcu: 0 \(auto-pause\) needs Aurora PostgreSQL 16\.3 or later, but engineVersion is "16\.2"\. Fix: raise engineVersion to 16\.3 or later, or set minAcu to 0\.5/]],
  ["an engine that predates Serverless v2", (r) => (r.data = { aurora: { engineVersion: "13.4" } }), [/data\.aurora\.engineVersion: "13\.4" predates Serverless v2 support in PostgreSQL 13 \(from 13\.6\)\. Fix: use 13\.6 or later/]],
  ["an engine major without Serverless v2", (r) => (r.data = { aurora: { engineVersion: "12.9" } }), [/data\.aurora\.engineVersion: "12\.9" is not an Aurora PostgreSQL major version that runs Serverless v2\. Fix: use one of 13\.x/]],
  ["an ACU range beyond 256", (r) => (r.data = { aurora: { maxAcu: 300 } }), [/data\.aurora\.maxAcu: 300: .*Fix: use a value at most 256/]],
  ["a Valkey version ElastiCache does not offer", (r) => (r.data = { redis: { engineVersion: "6.2" } }), [/data\.redis\.engineVersion: "6\.2" is not a valkey version ElastiCache offers\. Fix: use one of 7\.2, 8\.0, 8\.1/]],
  ["a malformed alarm email", (r) => (r.observability = { alarmEmails: ["oncall@example"] }), [/observability\.alarmEmails\[0\]: "oncall@example" is not an email address\. Fix: e\.g\. "oncall@example\.com"/]],
  ["an alarm email listed twice", (r) => (r.observability = { alarmEmails: ["oncall@example.com", "OnCall@example.com"] }), [/observability\.alarmEmails\[1\]: "OnCall@example\.com" is already listed at alarmEmails\[0\]; SNS would subscribe the address twice\. Fix: list each address once/]],
  ["a hostname label over 63 characters", (r) => (r.hostname = `${"a".repeat(64)}.example.com`), [/test: hostname: "a{64}\.example\.com" is not a lower-case DNS hostname/]],
  ["a hostname over 253 characters", (r) => (r.hostname = `${Array.from({ length: 26 }, () => "abcdefghi").join(".")}.com`), [/hostname: "(abcdefghi\.){26}com" is not a lower-case DNS hostname/]],
  ["a state bucket S3 refuses", (r) => (r.state = { bucket: "Work_Spaces" }), [/state\.bucket: "Work_Spaces" is not an S3 bucket name \(S3 and MinIO both refuse it\)\. Fix: 3–63 lower-case letters/]],
  ["a state bucket shaped like an IP address", (r) => (r.state = { bucket: "192.168.1.1" }), [/state\.bucket: "192\.168\.1\.1" is not an S3 bucket name/]],
  ["a malformed account id", (r) => (r.accountId = "1234-5678-9012"), [/test: accountId: "1234-5678-9012" is not an AWS account id\. Fix: the 12 digits of the account/]],
  ["a plain-http state endpoint, with the value", (r) => (r.state = { endpoint: "http://minio.local" }), [/state\.endpoint: must be an https:\/\/ URL \(got "http:\/\/minio\.local"\)\. Fix: e\.g\. "https:\/\/s3\.example\.com"/]],
];

// Auth refusals (envs/auth-checks.ts): overrides that open a door the IdP should guard, and a default Cognito domain Cognito refuses.
const AUTH: Row[] = [
  ["DEFAULT_USER_ROLE=admin", (r) => (r.auth.overrides = [{ container: "openwebui", name: "DEFAULT_USER_ROLE", value: "admin", reason: REASON }]), [/auth\.overrides\[0\]\.value: DEFAULT_USER_ROLE="admin" makes every new user an administrator.*Fix: remove the override/]],
  ["local sign-up in an OIDC mode", (r) => (r.auth.overrides = [{ container: "openwebui", name: "ENABLE_SIGNUP", value: "True", reason: REASON }]), [/auth\.overrides\[0\]\.value: ENABLE_SIGNUP="True" opens Open WebUI's local sign-up form in an SSO mode/]],
  ["the password form in an OIDC mode", (r) => (r.auth.overrides = [{ container: "openwebui", name: "ENABLE_LOGIN_FORM", value: "true", reason: REASON }]), [/auth\.overrides\[0\]\.value: ENABLE_LOGIN_FORM="true" shows Open WebUI's email\/password form in an SSO mode/]],
  ["password sign-in beside Cognito OIDC", (r) => (r.auth = { ...COGNITO_OIDC, overrides: [{ container: "openwebui", name: "ENABLE_PASSWORD_AUTH", value: "true", reason: REASON }] }), [/auth\.overrides\[0\]\.value: ENABLE_PASSWORD_AUTH="true" allows password sign-in beside OIDC/]],
  [
    "an admin-roles override that includes the users' role",
    (r) => ((r.auth.entra.roles = { allowed: ["owui-users", "owui-admins"], admin: ["owui-admins"] }), (r.auth.overrides = [{ container: "openwebui", name: "OAUTH_ADMIN_ROLES", value: "owui-admins,owui-users", reason: REASON }])),
    [/auth\.overrides\[0\]\.value: OAUTH_ADMIN_ROLES="owui-admins,owui-users" lists "owui-users", which ordinary users hold \(auth\.entra\.roles\.allowed\), so every user who signs in becomes an administrator\. Fix: list only admin roles/],
  ],
];

const ALL: [string, Row[]][] = [["env names", NAMES], ["tags", TAGS], ["network", NETWORK], ["regions and AZs", REGIONS], ["catalog models", MODELS], ["mcpo servers", MCPO], ["image tags", IMAGES], ["AWS and product values", OTHERS], ["auth", AUTH]];

describe("refused configs name the path, the value and the fix", () => {
  for (const [group, rows] of ALL) {
    describe(group, () => {
      it.each(rows)("refuses %s", (_what, patch, patterns) => {
        const message = refusal(patch);
        for (const p of patterns) expect(message).toMatch(p);
        expect(message).not.toMatch(/Error:|Invalid key in record|\/\w+\/\w+:/);
      });
    });
  }

  it("has at least 40 refused configs besides the cross-env ones", () => {
    expect(ALL.reduce((n, [, rows]) => n + rows.length, 0)).toBeGreaterThanOrEqual(40);
  });

  it("reports every problem of one config at once", () => {
    const message = refusal((r) => {
      r.security.albIngressCidrs = ["198.51.100.0/24", "198.51.100.0/24"];
      r.network.publicSubnetCidrs = ["10.0.255.0/28", "10.0.254.0/24"];
      r.services = { litellm: { models: [{ name: "e", modelId: "amazon.titan-embed-text-v2:0" }] }, mcpo: { servers: { f: { type: "sse", url: "http://169.254.169.254/" } } } };
    });
    expect(message).toMatch(/invalid configuration \(4 problems\)/);
    for (const path of ["security.albIngressCidrs[1]", "network.publicSubnetCidrs[0]", "services.litellm.models[0].modelId", "services.mcpo.servers.f.url"]) expect(message).toContain(`test: ${path}:`);
  });

  it("reports every field-level problem at once too", () => {
    const message = refusal((r) => {
      r.name = "Bad--";
      r.tags = { "aws:x": "y" };
      r.region = "mars-1";
    });
    expect(message).toMatch(/3 problems/);
  });
});

describe("what the refusals let through", () => {
  it("accepts pinned tags, digests and version-suffixed tags", () => {
    for (const ref of ["ghcr.io/berriai/litellm:v1.80.0-stable", "ghcr.io/open-webui/open-webui:v0.10.2", "ghcr.io/open-webui/open-webui:main@sha256:" + "a".repeat(64), "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6", "docker.io/library/postgres:16.6-alpine"]) {
      expect(imageProblem(ref), ref).toBeUndefined();
    }
  });
  it("accepts an env name of exactly the longest length, and profiles, on-demand models and plain mcpo arguments", () => {
    expect(accepted((r) => (r.name = "a".repeat(MAX_ENV_NAME_LENGTH))).name).toHaveLength(MAX_ENV_NAME_LENGTH);
    expect(accepted(model("anthropic.claude-3-5-haiku-20241022-v1:0", "us-west-2")).services.litellm.models).toHaveLength(1);
    expect(accepted(model("global.anthropic.claude-sonnet-4-20250514-v1:0")).services.litellm.models).toHaveLength(1);
    expect(accepted(mcpo({ fs: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/app/data", "--local-timezone=UTC"], env: { LOG_LEVEL: "info" } } })).services.mcpo.servers.fs).toBeDefined();
    expect(accepted((r) => (r.security.albIngressCidrs = cidrs(30))).security.albIngressCidrs).toHaveLength(30);
    expect(accepted((r) => (r.tags = tags(45))).tags).toBeDefined();
  });
  it("has an AZ table entry for every region the real envs use, citing AWS", () => {
    for (const env of ENVIRONMENTS) expect(REGION_AZ_LETTERS[env.region], env.region).toBeDefined();
  });
  it("refuses a bootstrap config in an unsupported region, and an aws: tag there too", () => {
    expect(() => defineBootstrap({ stateBucketName: "acme-owui-tfstate", region: "af-south-1" })).toThrow(/bootstrap: region: "af-south-1" is not a region this project supports/);
    expect(() => defineBootstrap({ stateBucketName: "acme-owui-tfstate", tags: { "aws:x": "y" } })).toThrow(/bootstrap: tags\.aws:x: tag key "aws:x" starts with "aws:"/);
  });
});

describe("cross-env collisions (envs/cross-env.ts)", () => {
  const env = (name: string, patch: (raw: any) => void = () => {}) =>
    accepted((r) => {
      r.name = name;
      r.hostname = `owui-${name}.example.com`;
      r.network.vpcCidr = `10.${name.length * 10}.0.0/16`;
      patch(r);
    });
  const messages = (envs: EnvConfig[]) => crossEnvProblems(envs).map((e) => e.message);

  it("accepts the real environments", () => {
    expect(crossEnvProblems(ENVIRONMENTS, ACCOUNT_STACKS)).toEqual([]);
  });
  it("refuses two envs with one hostname", () => {
    expect(messages([env("alpha"), env("beta", (r) => (r.hostname = "owui-alpha.example.com"))])).toEqual([
      expect.stringMatching(/^beta: hostname: "owui-alpha\.example\.com" is also the hostname of env "alpha"; both ALBs would claim one DNS name and certificate\. Fix: give each env its own hostname/),
    ]);
  });
  it("refuses overlapping VPC CIDRs", () => {
    expect(messages([env("alpha", (r) => (r.network.vpcCidr = "10.40.0.0/16")), env("beta", (r) => (r.network.vpcCidr = "10.40.128.0/17"))])).toEqual([
      expect.stringMatching(/^beta: network\.vpcCidr: "10\.40\.128\.0\/17" overlaps env "alpha"'s 10\.40\.0\.0\/16.*Fix: give each env a VPC range of its own/),
    ]);
  });
  it("refuses two envs of one name (same stacks, same state keys)", () => {
    const found = messages([env("alpha"), env("alpha", (r) => ((r.hostname = "other.example.com"), (r.network.vpcCidr = "10.99.0.0/16")))]);
    expect(found).toEqual([expect.stringMatching(/^alpha: name: "alpha" is also the name of another env \(stack ids and state keys would collide\)\. Fix: give each env its own name/)]);
  });
  it("refuses an env whose stack id is another env's certificate stack", () => {
    expect(messages([env("alpha"), env("alpha-certificate", (r) => (r.network.vpcCidr = "10.200.0.0/16"))])).toEqual([
      expect.stringMatching(/^alpha-certificate: name: "alpha-certificate" gives a stack the id "alpha-certificate", which env "alpha" already uses\. Fix: rename one of the envs/),
      expect.stringMatching(/^alpha-certificate: state: stack "alpha-certificate" keeps its state at https:\/\/s3\.oremuslabs\.app\/workspaces\/open-webui\/aws\/alpha-certificate\.tfstate, where env "alpha"'s stack "alpha-certificate" keeps its own.*Fix: give each env its own state\.key or bucket/),
    ]);
  });
  it("refuses two owners of Bedrock invocation logging in one account and region (envs/accounts.ts)", () => {
    const account = (over: Partial<AccountInput> = {}) => defineAccount({ region: "us-east-1", state: { key: `open-webui/aws/account-${over.accountId ?? "x"}-${Math.random()}.tfstate` }, ...over });
    const owners = (accounts: AccountConfig[], envs: EnvConfig[] = []) => accountProblems(accounts, envs).map((e) => e.message);
    // Neither names its account: they may be one account, so two owners.
    expect(owners([account(), account({ state: { key: "open-webui/aws/account-b.tfstate" } })])).toEqual([
      expect.stringMatching(/^account-us-east-1: bedrockInvocationLogging: account stack "account-us-east-1" and "account-us-east-1" both own Bedrock invocation logging of the deploying account\/us-east-1; it is one setting per account and region.*Fix: keep one entry per account and region in envs\/accounts\.ts, or give each entry the accountId it is for/),
    ]);
    // One names its account, the other does not: still possibly one account.
    expect(owners([account({ accountId: "111122223333" }), account()])).toEqual([
      expect.stringMatching(/^account-us-east-1: bedrockInvocationLogging: account stack "account-us-east-1" and "account-111122223333-us-east-1" both own Bedrock invocation logging of the deploying account\/us-east-1 \(or 111122223333\/us-east-1: without both account ids they may be one account\)/),
    ]);
    expect(owners([account({ accountId: "111122223333" }), account({ accountId: "111122223333" })])).toEqual([expect.stringMatching(/^account-111122223333-us-east-1: bedrockInvocationLogging: .* of 111122223333\/us-east-1;/)]);
    // Two accounts, or two regions: two settings, two owners allowed.
    expect(owners([account({ accountId: "111122223333" }), account({ accountId: "444455556666" })])).toEqual([]);
    expect(owners([account(), account({ region: "us-west-2" })])).toEqual([]);
  });
  it("refuses an account stack without an account id where the region's envs deploy to several accounts", () => {
    const acct = (id: string) => (r: any) => (r.accountId = id);
    const a = defineAccount({ region: "us-east-1", state: { key: "open-webui/aws/account-us-east-1.tfstate" } });
    expect(accountProblems([a], [env("alpha", acct("111122223333")), env("beta", acct("444455556666"))]).map((e) => e.message)).toEqual([
      expect.stringMatching(/^account-us-east-1: accountId: is missing, but the envs of us-east-1 deploy to 2 accounts \(111122223333, 444455556666\).*Fix: give the entry the accountId it is for, and add one entry per account/),
    ]);
    expect(accountProblems([a], [env("alpha", acct("111122223333")), env("beta", acct("111122223333"))])).toEqual([]);
  });
  it("refuses an account stack whose state key or stack id is an env's", () => {
    const a = defineAccount({ region: "us-east-1", state: { key: "open-webui/aws/alpha.tfstate" } });
    expect(crossEnvProblems([env("alpha")], [a]).map((e) => e.message)).toEqual([
      expect.stringMatching(/^account-us-east-1: state\.key: "open-webui\/aws\/alpha\.tfstate" is also where env "alpha"'s stack "alpha" keeps its state.*Fix: give the account stack its own state\.key/),
    ]);
    const b = defineAccount({ region: "us-east-1", state: { key: "open-webui/aws/account.tfstate" } });
    expect(crossEnvProblems([env("account-us-east-1", (r) => (r.network.vpcCidr = "10.200.0.0/16"))], [b]).map((e) => e.message)).toEqual([
      expect.stringMatching(/^account-us-east-1: region: gives the stack id "account-us-east-1", which env "account-us-east-1" already uses\. Fix: rename the env/),
    ]);
  });
  it("refuses invocation logging in an env: it is the account stack's", () => {
    expect(() => env("alpha", (r) => (r.services = { litellm: { invocationLogging: false } }))).toThrow(
      /alpha: services\.litellm\.invocationLogging: Bedrock invocation logging is one setting per AWS account and region, owned by the account stack, not by an env \(got false\)\. Fix: remove it here and configure bedrockInvocationLogging for this account and region in envs\/accounts\.ts/,
    );
  });
  it("throws every collision at once as ConfigErrors", () => {
    const envs = [env("alpha"), env("beta", (r) => ((r.hostname = "owui-alpha.example.com"), (r.network.vpcCidr = "10.50.0.0/16")))];
    expect(() => checkEnvironments(envs)).toThrow(ConfigErrors);
    expect(() => checkEnvironments(envs)).toThrow(/invalid configuration \(2 problems\)/);
  });
});

/** AWS's length limit of each named field the stacks set: [type, field, limit]. */
const NAME_LIMITS: [string, string, number][] = [
  ["aws_lb", "name", 32],
  ["aws_cloudwatch_dashboard", "dashboard_name", 255],
  ["aws_ecs_task_definition", "family", 255],
  ["aws_sns_topic", "display_name", 100],
  ["aws_cloudwatch_metric_alarm", "alarm_description", 1024],
  ["aws_lb_target_group", "name_prefix", 6],
  ["aws_elasticache_replication_group", "replication_group_id", 40],
  ["aws_elasticache_subnet_group", "name", 255],
  ["aws_elasticache_parameter_group", "name", 255],
  ["aws_s3_bucket", "bucket", 63],
  ["aws_cognito_user_pool_domain", "domain", 63],
  ["aws_cognito_user_pool", "name", 128],
  ["aws_cognito_user_pool_client", "name", 128],
  ["aws_iam_role", "name", 64],
  ["aws_iam_role_policy", "name", 128],
  ["aws_iam_policy", "name", 128],
  ["aws_lambda_function", "function_name", 64],
  ["aws_cloudwatch_event_rule", "name", 64],
  ["aws_sqs_queue", "name", 80],
  ["aws_rds_cluster", "cluster_identifier", 63],
  ["aws_rds_cluster", "final_snapshot_identifier", 255],
  ["aws_rds_cluster_instance", "identifier", 63],
  ["aws_rds_cluster_parameter_group", "name", 255],
  ["aws_db_subnet_group", "name", 255],
  ["aws_efs_file_system", "creation_token", 64],
  ["aws_wafv2_web_acl", "name", 128],
  ["aws_sns_topic", "name", 256],
  ["aws_ecs_cluster", "name", 255],
  ["aws_ecs_service", "name", 255],
  ["aws_security_group", "name", 255],
  // name_prefix: Terraform appends 26 characters (a timestamp and a counter) to these.
  ["aws_security_group", "name_prefix", 100],
  ["aws_rds_cluster_parameter_group", "name_prefix", 255 - 26],
  ["aws_kms_alias", "name", 256],
  ["aws_cloudwatch_metric_alarm", "alarm_name", 255],
  ["aws_cloudwatch_log_group", "name", 512],
  ["aws_secretsmanager_secret", "name", 512],
  ["aws_ssm_parameter", "name", 1011],
  ["aws_appautoscaling_policy", "name", 255],
  ["aws_service_discovery_private_dns_namespace", "name", 253],
];

describe("the tables the checks rely on match the synthesized stacks", () => {
  const longName = `a${"b".repeat(MAX_ENV_NAME_LENGTH - 1)}`;
  // Everything on: Cognito with provisioning, Redis, 2 Aurora instances, every endpoint, WAF.
  const longest = accepted((r) => {
    r.name = longName;
    r.auth = PROXY;
    r.services = { openwebui: { maxCount: 2 } };
    r.data = { aurora: { instances: 2 } };
    r.security.albIngressCidrs = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];
    r.tags = { Team: "platform" };
  });
  const account = "${data.aws_caller_identity.current.account_id}";

  it(`every name derived from a ${MAX_ENV_NAME_LENGTH}-character env name fits AWS's limit, and every named resource is in the limits table`, () => {
    const s = synthPlatform(longest);
    const limits = new Map(NAME_LIMITS.map(([t, f, n]) => [`${t}.${f}`, n]));
    const unlisted: string[] = [];
    const over: string[] = [];
    for (const [type, byName] of Object.entries(s.json.resource ?? {})) {
      for (const cfg of Object.values(byName as Record<string, Record<string, unknown>>)) {
        for (const [field, value] of Object.entries(cfg)) {
          if (typeof value !== "string" || !value.includes(longName) || field === "description" || field.endsWith("_arn") || field === "tags") continue;
          const concrete = value.replaceAll(account, "123456789012");
          if (concrete.includes("${")) continue;
          const limit = limits.get(`${type}.${field}`);
          if (limit === undefined) unlisted.push(`${type}.${field} = ${concrete}`);
          else if (concrete.length > limit) over.push(`${type}.${field} = ${concrete} (${concrete.length} > ${limit})`);
        }
      }
    }
    expect(over).toEqual([]);
    expect(unlisted.filter((u) => !/^(aws_[a-z0-9_]+)\.(policy|statement|container_definitions|environment|content|value|rule_json|input|bucket_prefix|resource_id|service_namespace|resource_label|key|path|prefix|log_group_name|dimensions|secret_string|name_prefix)/.test(u))).toEqual([]);
    // The table in lib/naming.ts names the tightest of them.
    expect(DERIVED_NAMES[0]!.name(longName)).toBe(s.resource("aws_lb").name);
  });

  it(`the ALB group gets ${ALB_INGRESS_RULES_PER_CIDR} inbound rules per allowed CIDR and no others (so ${SG_INBOUND_RULES_QUOTA / ALB_INGRESS_RULES_PER_CIDR} CIDRs fill the quota)`, () => {
    const s = synthPlatform(longest);
    const [albLogical] = s.resources("aws_security_group").find(([, sg]) => String(sg.name_prefix).endsWith("-alb-")) ?? [];
    expect(albLogical).toBeDefined();
    const onAlb = s.resources("aws_vpc_security_group_ingress_rule").filter(([, r]) => String(r.security_group_id).includes(`aws_security_group.${albLogical}.`));
    expect(onAlb).toHaveLength(longest.security.albIngressCidrs.length * ALB_INGRESS_RULES_PER_CIDR);
  });

  it(`no resource sets tags of its own beyond ${RESOURCE_OWN_TAG_KEYS.join(" and ")} (the count check leaves room for exactly those)`, () => {
    const s = synthPlatform(longest);
    const extra: string[] = [];
    for (const [type, byName] of Object.entries(s.json.resource ?? {})) {
      for (const [name, cfg] of Object.entries(byName as Record<string, { tags?: Record<string, string> }>)) {
        for (const key of Object.keys(cfg.tags ?? {})) if (!(RESOURCE_OWN_TAG_KEYS as readonly string[]).includes(key)) extra.push(`${type}.${name}: ${key}`);
      }
    }
    expect(extra).toEqual([]);
  });
});
