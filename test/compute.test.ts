/**
 * The compute layer (ECS cluster, HTTPS ALB, Cloud Map, the typed service factory), the per-env
 * certificate stack, and Open WebUI built on the factory — in both environments — plus the
 * factory's refusals of malformed service specs.
 */
import { Testing, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import type { EnvConfig } from "../envs/schema.js";
import { ConfigErrors } from "../lib/errors.js";
import { looksSecret } from "../lib/secret-names.js";
import { Compute, validateServiceSpec, type ComputeProps, type FargateService, type ServiceSpec } from "../modules/compute/index.js";
import { Security } from "../modules/security/index.js";
import { CertificateStack } from "../stacks/certificate-stack.js";
import { PlatformStack } from "../stacks/platform-stack.js";
import {
  containersOf,
  ENVS,
  envWith,
  expectedAuthEnv,
  expectedAuthSecrets,
  foundationFixture,
  openWebUiServiceEnv,
  openWebUiServiceSecrets,
  policyOf,
  ruleTable,
  synthEnvApp,
  synthPlatform,
  synthStack,
  type Json,
  type Synthesized,
} from "./support/synth.js";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** `${aws_lb.compute_alb_C4E31DFD.arn}` for the one resource of `type` whose name contains `part`. */
function ref(s: Synthesized, type: string, part: string, attr: string): string {
  const hits = s.resources(type).filter(([n]) => n.includes(part));
  if (hits.length !== 1) throw new Error(`expected one ${type} matching "${part}", found ${hits.length}`);
  return "${" + `${type}.${hits[0]![0]}.${attr}` + "}";
}

/** Decodes `container_definitions` with the HCL gate's evaluator (references stay `${address}`). */
const containerDefinitions = containersOf;

const names = (entries: readonly { name: string }[]) => entries.map((e) => e.name).sort();

/** The statements of the inline policy attached to a role whose policy resource name contains `part`. */
function inlinePolicy(s: Synthesized, part: string): Json[] {
  return policyOf(s, s.resource("aws_iam_role_policy", part).policy).statement;
}

/** A PlatformStack-like fixture with just the layers the compute layer needs. */
function buildCompute(env: EnvConfig = ENVS.nonprod, over: Partial<ComputeProps> = {}): { stack: TerraformStack; compute: Compute; security: Security } {
  const { stack, aws, network, security } = foundationFixture(env);
  const compute = new Compute(stack, "compute", {
    envName: env.name,
    aws,
    network,
    security,
    hostname: env.hostname,
    certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    logRetentionDays: env.logRetentionDays,
    ...over,
  });
  return { stack, compute, security };
}

/** A valid, path-routed service spec to derive malformed variants from. */
function gatewaySpec(patch: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: "gateway",
    image: "ghcr.io/berriai/litellm:v1.80.0-stable",
    cpu: 512,
    memoryMiB: 1024,
    port: 4000,
    routing: { type: "path", paths: ["/api/*"], priority: 10 },
    healthCheck: { path: "/health", gracePeriodSeconds: 120 },
    scaling: { minCount: 1, maxCount: 2 },
    ...patch,
  };
}

/** The ConfigErrors `fn` throws (fails the test if it throws nothing or something else). */
function refusal(fn: () => unknown): ConfigErrors {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigErrors);
    return e as ConfigErrors;
  }
  throw new Error("expected the spec to be refused, but it was accepted");
}

// ---------------------------------------------------------------------------------------------
// The environments
// ---------------------------------------------------------------------------------------------

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
  ["sandbox", ENVS.sandbox],
] as const)("compute layer in %s", (envName, env) => {
  const s = synthPlatform(env);
  const cfg = env.services.openwebui;
  // sandbox runs oauth2-proxy in front of Open WebUI; the ALB targets the proxy.
  const proxied = env.auth.mode === "oauth2-proxy";
  const target = proxied ? { container: "oauth2-proxy", port: 4180, health: "/ping" } : { container: "openwebui", port: 8080, health: "/health" };
  const albRef = (attr: string) => ref(s, "aws_lb", "compute_alb", attr);
  const logBucketRef = (attr: string) => ref(s, "aws_s3_bucket", "compute_alb-logs", attr);
  const tgRef = (attr: string) => ref(s, "aws_lb_target_group", "openwebui", attr);
  const sgRef = (group: string) => ref(s, "aws_security_group", `security_${group}_`, "id");
  const subnetRefs = (tier: "public" | "private") => env.network.azs.map((az) => ref(s, "aws_subnet", `network_${tier}-${az}_`, "id"));

  describe("cluster and discovery", () => {
    it("creates the ECS cluster with the configured Container Insights setting", () => {
      const cluster = s.resource("aws_ecs_cluster");
      expect(cluster.name).toBe(`owui-${envName}-cluster`);
      expect(cluster.setting).toEqual([{ name: "containerInsights", value: env.compute.containerInsights }]);
    });

    it("creates the Cloud Map private DNS namespace owui-<env>.internal on the VPC", () => {
      const ns = s.resource("aws_service_discovery_private_dns_namespace");
      expect(ns.name).toBe(`owui-${envName}.internal`);
      expect(ns.vpc).toBe(ref(s, "aws_vpc", "network", "id"));
    });
  });

  describe("ALB", () => {
    const alb = s.resource("aws_lb", "compute_alb");

    it("is an internet-facing application load balancer in the public subnets, behind the ALB security group only", () => {
      expect(alb).toMatchObject({ load_balancer_type: "application", internal: false, name: `owui-${envName}-alb` });
      expect(alb.subnets).toEqual(subnetRefs("public"));
      expect(alb.security_groups).toEqual([sgRef("alb")]);
    });

    it("drops invalid headers and uses the strictest desync mitigation", () => {
      expect(alb.drop_invalid_header_fields).toBe(true);
      expect(alb.desync_mitigation_mode).toBe("strictest");
    });

    it(`has deletion protection ${env.compute.albDeletionProtection ? "on" : "off"} and the configured idle timeout`, () => {
      expect(alb.enable_deletion_protection).toBe(env.compute.albDeletionProtection);
      expect(alb.idle_timeout).toBe(env.compute.albIdleTimeoutSeconds);
    });

    it("writes access logs to the logs bucket, created first", () => {
      expect(alb.access_logs).toEqual({ bucket: logBucketRef("bucket"), prefix: "alb", enabled: true });
      expect(alb.depends_on).toEqual([logBucketRef("id").replace(/^\$\{(.*)\.id\}$/, "$1")]);
    });
  });

  describe("ALB access-log bucket", () => {
    const bucketId = logBucketRef("id");

    it("is named for the env and not force-destroyed", () => {
      expect(s.resource("aws_s3_bucket", "compute_alb-logs")).toMatchObject({ bucket: `owui-${envName}-alb-logs`, force_destroy: false });
    });

    it("encrypts with SSE-S3 (AES256), the only encryption ALB log delivery supports", () => {
      const sse = s.resource("aws_s3_bucket_server_side_encryption_configuration", "compute_alb-logs");
      expect(sse.bucket).toBe(bucketId);
      expect(sse.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }]);
    });

    it("blocks all four kinds of public access", () => {
      expect(s.resource("aws_s3_bucket_public_access_block", "compute_alb-logs")).toMatchObject({
        bucket: bucketId,
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
    });

    it("is versioned", () => {
      expect(s.resource("aws_s3_bucket_versioning", "compute_alb-logs")).toMatchObject({ bucket: bucketId, versioning_configuration: { status: "Enabled" } });
    });

    it("expires logs after the configured days (and old versions after one)", () => {
      const lc = s.resource("aws_s3_bucket_lifecycle_configuration", "compute_alb-logs");
      expect(lc.bucket).toBe(bucketId);
      expect(lc.rule).toHaveLength(1);
      expect(lc.rule[0]).toMatchObject({ status: "Enabled", expiration: [{ days: env.compute.albAccessLogDays }], noncurrent_version_expiration: [{ noncurrent_days: 1 }] });
    });

    it("denies any request not made over TLS", () => {
      const policy = policyOf(s, s.resource("aws_s3_bucket_policy", "compute_alb-logs").policy);
      const deny = policy.statement.find((st: Json) => st.sid === "DenyInsecureTransport");
      expect(deny).toMatchObject({ effect: "Deny", actions: ["s3:*"], principals: [{ type: "AWS", identifiers: ["*"] }] });
      expect(deny.condition).toEqual([{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }]);
      expect(deny.resources).toEqual([logBucketRef("arn"), `${logBucketRef("arn")}/*`]);
    });

    it("lets exactly the ELB account and the log-delivery service put objects under alb/AWSLogs/<account>/", () => {
      const policy = policyOf(s, s.resource("aws_s3_bucket_policy", "compute_alb-logs").policy);
      const objects = [`${logBucketRef("arn")}/alb/AWSLogs/\${data.aws_caller_identity.current.account_id}/*`];
      const allows = policy.statement.filter((st: Json) => st.effect !== "Deny");
      expect(allows.map((st: Json) => st.sid).sort()).toEqual(["ElbAccountDeliversLogs", "ElbServiceDeliversLogs"]);
      const byAccount = allows.find((st: Json) => st.sid === "ElbAccountDeliversLogs");
      expect(byAccount).toMatchObject({ effect: "Allow", actions: ["s3:PutObject"], resources: objects });
      expect(byAccount.principals).toEqual([{ type: "AWS", identifiers: [expect.stringMatching(/^\$\{data\.aws_elb_service_account\.compute_elb-account_\w+\.arn\}$/)] }]);
      const byService = allows.find((st: Json) => st.sid === "ElbServiceDeliversLogs");
      expect(byService).toMatchObject({ effect: "Allow", actions: ["s3:PutObject"], resources: objects });
      expect(byService.principals).toEqual([{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }]);
    });
  });

  describe("listeners", () => {
    const listeners = s.resources("aws_lb_listener").map(([, l]) => l);
    const https = s.resource("aws_lb_listener", "compute_https");
    const http = s.resource("aws_lb_listener", "compute_http-redirect");

    it("has exactly two listeners on the ALB: 443 and 80", () => {
      expect(listeners.map((l) => l.port).sort()).toEqual([443, 80].sort());
      for (const l of listeners) expect(l.load_balancer_arn).toBe(albRef("arn"));
    });

    it("serves HTTPS on 443 with the TLS 1.3/1.2 policy", () => {
      expect(https).toMatchObject({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    });

    it("takes its certificate from the certificate validation (so it waits for issuance), not the raw ARN", () => {
      expect(https.certificate_arn).toBe(ref(s, "aws_acm_certificate_validation", "compute", "certificate_arn"));
      expect(https.certificate_arn).not.toMatch(/aws_acm_certificate\./);
    });

    it("forwards by default to the Open WebUI target group", () => {
      expect(https.default_action).toEqual([{ type: "forward", target_group_arn: tgRef("arn") }]);
    });

    it("on port 80 only redirects to HTTPS with a 301", () => {
      expect(http).toMatchObject({ port: 80, protocol: "HTTP" });
      expect(http.default_action).toEqual([{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" } }]);
      expect(http.certificate_arn).toBeUndefined();
    });

    it("puts every listener rule on the HTTPS listener, none on the redirect listener", () => {
      for (const [, rule] of s.resources("aws_lb_listener_rule")) expect(rule.listener_arn).toBe(ref(s, "aws_lb_listener", "compute_https", "arn"));
    });
  });

  describe("WAF", () => {
    it("associates the env's web ACL with the ALB when wafEnabled", () => {
      expect(env.security.wafEnabled).toBe(true);
      const assoc = s.resource("aws_wafv2_web_acl_association");
      expect(assoc.resource_arn).toBe(albRef("arn"));
      expect(assoc.web_acl_arn).toBe(ref(s, "aws_wafv2_web_acl", "security", "arn"));
    });
  });

  describe("certificate (full app synth)", () => {
    const { certificate: cert, platform } = synthEnvApp(env);
    const certName = cert.resources("aws_acm_certificate")[0]![0];

    it("validates the certificate with the ARN read from the certificate stack's remote state", () => {
      const validation = platform.resource("aws_acm_certificate_validation");
      const m = /^\$\{data\.terraform_remote_state\.([\w-]+)\.outputs\.([\w-]+)\}$/.exec(validation.certificate_arn);
      expect(m).not.toBeNull();
      const [, stateName, outputName] = m!;
      const remote = platform.json.data.terraform_remote_state[stateName!];
      expect(remote.backend).toBe("s3");
      expect(remote.config.key).toBe(`open-webui/aws/${envName}-certificate.tfstate`);
      expect(cert.output(outputName!)?.value).toBe("${aws_acm_certificate." + certName + ".arn}");
      expect(validation.timeouts).toEqual({ create: "45m" });
    });

    it("certificate stack: one DNS-validated certificate for the hostname, replaced create-before-destroy", () => {
      expect(cert.resources("aws_acm_certificate")).toHaveLength(1);
      const c = cert.resource("aws_acm_certificate");
      expect(c).toMatchObject({ domain_name: env.hostname, validation_method: "DNS" });
      expect(c.lifecycle).toEqual({ create_before_destroy: true });
    });

    it("certificate stack: outputs certificate_arn and certificate_validation_records", () => {
      expect(cert.output("certificate_arn")?.value).toBe("${aws_acm_certificate." + certName + ".arn}");
      expect(cert.output("certificate_validation_records")?.value).toBe("${tolist(aws_acm_certificate." + certName + ".domain_validation_options)}");
    });

    it("certificate stack: keeps its state at open-webui/aws/<env>-certificate.tfstate", () => {
      expect(cert.json.terraform.backend.s3.key).toBe(`open-webui/aws/${envName}-certificate.tfstate`);
      expect(cert.json.terraform.backend.s3.key).not.toBe(platform.json.terraform.backend.s3.key);
    });

    it("env stack: re-exports the validation records from the certificate stack's remote state", () => {
      expect(platform.output("certificate_validation_records")?.value).toMatch(/^\$\{tolist\(data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+\)\}$/);
    });
  });

  describe("env stack outputs", () => {
    it("exports the ALB DNS name and zone, the app URL, the cluster and the service names", () => {
      expect(s.output("alb_dns_name")?.value).toBe(albRef("dns_name"));
      expect(s.output("alb_zone_id")?.value).toBe(albRef("zone_id"));
      expect(s.output("app_url")?.value).toBe(`https://${env.hostname}`);
      expect(s.output("cluster_name")?.value).toBe(ref(s, "aws_ecs_cluster", "compute", "name"));
      expect(s.output("service_names")?.value).toContain(`owui-${envName}-openwebui`);
      expect([...s.output("service_names")!.value].sort()).toEqual(s.resources("aws_ecs_service").map(([, svc]) => svc.name).sort());
      expect(s.output("certificate_validation_records")).toBeDefined();
    });
  });

  describe("Open WebUI task definition", () => {
    const task = s.resource("aws_ecs_task_definition", "compute_openwebui_task");
    const defs = containerDefinitions(task);
    const main = defs.find((d) => d.name === "openwebui")!;
    const redis = env.data.redis.enabled;

    it("is a Fargate awsvpc task with the configured cpu and memory", () => {
      expect(task).toMatchObject({ requires_compatibilities: ["FARGATE"], network_mode: "awsvpc", family: `owui-${envName}-openwebui` });
      expect(task.cpu).toBe(String(cfg.cpu));
      expect(task.memory).toBe(String(cfg.memoryMiB));
      expect([task.cpu, task.memory]).toEqual({ nonprod: ["1024", "4096"], prod: ["2048", "8192"], sandbox: ["1024", "2048"] }[envName]);
    });

    it(`has ${proxied ? "Open WebUI and the oauth2-proxy sidecar" : "one container"}, the pinned image${proxied ? "s" : ""}, Open WebUI listening on 8080`, () => {
      expect(defs.map((d) => d.name)).toEqual(proxied ? ["openwebui", "oauth2-proxy"] : ["openwebui"]);
      if (proxied) expect(defs[1]!.portMappings).toEqual([{ containerPort: 4180, protocol: "tcp", name: "oauth2-proxy-4180" }]);
      expect(main.image).toBe(cfg.image);
      expect(main.portMappings).toEqual([{ containerPort: 8080, protocol: "tcp", name: "openwebui-8080" }]);
    });

    it("has a writable root filesystem only because the spec gives a reason", () => {
      expect(main.readonlyRootFilesystem).toBe(false);
      const app = Testing.app();
      const platform = new PlatformStack(app, env.name, { env, certificate: new CertificateStack(app, `${env.name}-certificate`, env) });
      const service = platform.compute.node.findChild("openwebui") as FargateService;
      expect(service.spec.writableRootFilesystemReason?.trim().length).toBeGreaterThanOrEqual(10);
    });

    it("runs no container privileged", () => {
      for (const d of defs) expect(d.privileged).toBe(false);
    });

    it("sends every container's logs to /owui/<env>/openwebui through awslogs", () => {
      const group = ref(s, "aws_cloudwatch_log_group", "compute_openwebui", "name");
      for (const d of defs) {
        expect(d.logConfiguration).toEqual({ logDriver: "awslogs", options: { "awslogs-group": group, "awslogs-region": env.region, "awslogs-stream-prefix": d.name } });
      }
      expect(s.resource("aws_cloudwatch_log_group", "compute_openwebui").name).toBe(`/owui/${envName}/openwebui`);
    });

    it(`sets exactly the intended plain environment ${redis ? "(with" : "(without"} the Redis websocket settings)`, () => {
      // The services module's wiring (LiteLLM connection, model access, per-user KMS keys) and the identity layer's auth settings:
      const expected = [...openWebUiServiceEnv(env), ...expectedAuthEnv(env)].sort();
      expect(names(main.environment)).toEqual(expected);
      expect(redis).toBe(envName === "prod");
      const env_ = Object.fromEntries(main.environment.map((e: Json) => [e.name, e.value]));
      expect(env_.WEBUI_URL).toBe(`https://${env.hostname}`);
      expect(env_.DATA_DIR).toBe("/app/backend/data");
    });

    it(`injects exactly the intended secrets ${redis ? "(with" : "(without"} the Redis URLs)`, () => {
      const expected = [...openWebUiServiceSecrets(env), ...expectedAuthSecrets(env)].sort();
      expect(names(main.secrets)).toEqual(expected);
      const from = Object.fromEntries(main.secrets.map((e: Json) => [e.name, e.valueFrom]));
      expect(from.DATABASE_URL).toMatch(/^\$\{aws_secretsmanager_secret\.data_db-bootstrap_secret-openwebui_\w+\.arn\}:url::$/);
      expect(from.WEBUI_SECRET_KEY).toMatch(/^\$\{aws_secretsmanager_secret\.[\w-]*openwebui-secret-key[\w-]*\.arn\}$/);
      if (redis) expect(from.REDIS_URL).toMatch(/^\$\{aws_secretsmanager_secret\.data_redis_secret_\w+\.arn\}:url::$/);
    });

    it("has no plain environment entry whose name looks like a secret", () => {
      for (const d of defs) for (const e of d.environment) expect(looksSecret(e.name), e.name).toBe(false);
    });

    it("mounts the EFS access point with transit encryption and IAM authorization", () => {
      const efs = task.volume.filter((v: Json) => v.efs_volume_configuration);
      expect(efs).toEqual([
        {
          name: "efs-0",
          efs_volume_configuration: {
            file_system_id: ref(s, "aws_efs_file_system", "data_efs", "id"),
            transit_encryption: "ENABLED",
            authorization_config: { access_point_id: ref(s, "aws_efs_access_point", "openwebui", "id"), iam: "ENABLED" },
          },
        },
      ]);
      expect(main.mountPoints).toContainEqual({ sourceVolume: "efs-0", containerPath: "/app/backend/data", readOnly: false });
    });

    it("runs under separate task and execution roles", () => {
      expect(task.task_role_arn).toBe(ref(s, "aws_iam_role", "openwebui_task-role", "arn"));
      expect(task.execution_role_arn).toBe(ref(s, "aws_iam_role", "openwebui_execution-role", "arn"));
      expect(task.task_role_arn).not.toBe(task.execution_role_arn);
    });
  });

  describe("Open WebUI ECS service", () => {
    const svc = s.resource("aws_ecs_service", "compute_openwebui");

    it("runs in the private subnets behind its own security group only, without a public IP", () => {
      expect(svc.network_configuration).toEqual({ subnets: subnetRefs("private"), security_groups: [sgRef("service-openwebui")], assign_public_ip: false });
    });

    it("stops failed deployments with the circuit breaker, but never rolls back to the old version (the schema is already migrated)", () => {
      expect(svc.deployment_circuit_breaker).toEqual({ enable: true, rollback: false });
    });

    it("rolls back LiteLLM's and mcpo's failed deployments (the default)", () => {
      for (const name of ["litellm", "mcpo"]) expect(s.resource("aws_ecs_service", `compute_${name}_`).deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    });

    it("gives 600 s of health-check grace for a cold start", () => {
      expect(svc.health_check_grace_period_seconds).toBeGreaterThan(0);
      expect(svc.health_check_grace_period_seconds).toBe(600);
    });

    it("runs Fargate LATEST and registers in Cloud Map", () => {
      // On Spot (nonprod) through the FARGATE_SPOT capacity provider, otherwise the FARGATE launch type.
      expect(svc).toMatchObject(cfg.capacity === "spot" ? { capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 1, base: 0 }], platform_version: "LATEST" } : { launch_type: "FARGATE", platform_version: "LATEST" });
      expect(svc.launch_type === undefined).toBe(cfg.capacity === "spot");
      expect(svc.service_registries).toEqual({ registry_arn: ref(s, "aws_service_discovery_service", "openwebui", "arn"), container_name: "openwebui" });
      const discovery = s.resource("aws_service_discovery_service", "openwebui");
      expect(discovery.name).toBe("openwebui");
      expect(discovery.dns_config.namespace_id).toBe(ref(s, "aws_service_discovery_private_dns_namespace", "compute", "id"));
    });

    it("starts at minCount and leaves desired_count to the autoscaler afterwards", () => {
      expect(svc.desired_count).toBe(cfg.minCount);
      expect(svc.lifecycle).toEqual({ ignore_changes: ["desired_count"] });
    });

    it(`has ECS Exec ${envName !== "prod" ? "on" : "off"}`, () => {
      expect(svc.enable_execute_command).toBe(envName !== "prod");
      expect(svc.enable_execute_command).toBe(env.compute.enableExecuteCommand);
    });

    it(`registers the ${target.container} container's port ${target.port} in the target group`, () => {
      expect(svc.load_balancer).toEqual([{ target_group_arn: tgRef("arn"), container_name: target.container, container_port: target.port }]);
    });
  });

  describe("Open WebUI target group", () => {
    const tg = s.resource("aws_lb_target_group", "openwebui");

    it(`targets task IPs on ${target.port} over HTTP in the VPC`, () => {
      expect(tg).toMatchObject({ target_type: "ip", port: target.port, protocol: "HTTP", vpc_id: ref(s, "aws_vpc", "network", "id") });
    });

    it(`health-checks ${target.health} for a 200, every 30 s, 2 healthy / 3 unhealthy`, () => {
      expect(tg.health_check).toEqual({ enabled: true, path: target.health, matcher: "200", interval: 30, timeout: 5, healthy_threshold: 2, unhealthy_threshold: 3 });
    });

    it(`has sticky sessions ${cfg.maxCount > 1 ? "on (more than one task)" : "off (one task)"}`, () => {
      expect(tg.stickiness.enabled).toBe(cfg.maxCount > 1);
      expect(tg.stickiness.enabled).toBe(envName === "prod");
      expect(tg.stickiness.type).toBe("lb_cookie");
    });

    // BUG (modules/compute/service.ts): the target group has lifecycle.create_before_destroy AND a
    // fixed `name`. Target group names are unique per account and region, so any change that forces
    // a replacement (port, protocol, target_type, vpc) fails at apply with DuplicateTargetGroupName —
    // the new group is created before the old one, under the same name. Fix: `namePrefix` (or drop
    // create_before_destroy). Remove `.fails` once fixed.
    it("can be replaced create-before-destroy without a name clash (name_prefix, no fixed name)", () => {
      expect(tg.lifecycle?.create_before_destroy).toBe(true);
      expect(tg.name).toBeUndefined();
      expect(tg.name_prefix).toBe("openw-");
    });
  });

  describe("Open WebUI autoscaling", () => {
    const target = s.resource("aws_appautoscaling_target", "openwebui");
    const policies = s.resources("aws_appautoscaling_policy").filter(([n]) => n.includes("openwebui")).map(([, p]) => p);

    it(`scales between ${cfg.minCount} and ${cfg.maxCount} tasks`, () => {
      expect([target.min_capacity, target.max_capacity]).toEqual(envName === "prod" ? [2, 6] : [1, 1]);
      expect(target).toMatchObject({ service_namespace: "ecs", scalable_dimension: "ecs:service:DesiredCount" });
      expect(target.resource_id).toBe(`service/${ref(s, "aws_ecs_cluster", "compute", "name")}/${ref(s, "aws_ecs_service", "compute_openwebui", "name")}`);
    });

    it("tracks average CPU", () => {
      const cpu = s.resource("aws_appautoscaling_policy", "openwebui_scale-on-cpu");
      expect(cpu.policy_type).toBe("TargetTrackingScaling");
      expect(cpu.target_tracking_scaling_policy_configuration).toMatchObject({
        target_value: cfg.targetCpuPercent,
        predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" },
      });
      expect(cpu.resource_id).toBe(ref(s, "aws_appautoscaling_target", "openwebui", "resource_id"));
    });

    it(`${cfg.requestsPerTarget !== undefined ? "tracks" : "does not track"} ALB requests per target`, () => {
      expect(cfg.requestsPerTarget !== undefined).toBe(envName === "prod");
      const requests = policies.filter((p) => p.target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type === "ALBRequestCountPerTarget");
      if (cfg.requestsPerTarget === undefined) {
        expect(requests).toEqual([]);
        expect(policies).toHaveLength(1);
      } else {
        expect(requests).toHaveLength(1);
        expect(requests[0]!.target_tracking_scaling_policy_configuration).toMatchObject({
          target_value: cfg.requestsPerTarget,
          predefined_metric_specification: { resource_label: `${albRef("arn_suffix")}/${tgRef("arn_suffix")}` },
        });
      }
    });
  });

  describe("Open WebUI logs and IAM", () => {
    it("encrypts its log group with the workload CMK and keeps logs logRetentionDays", () => {
      const group = s.resource("aws_cloudwatch_log_group", "compute_openwebui");
      expect(group.kms_key_id).toBe(ref(s, "aws_kms_key", "security_workload", "arn"));
      expect(group.retention_in_days).toBe(env.logRetentionDays);
    });

    it("execution role: reads exactly the secrets the containers reference, never *", () => {
      const defs = containerDefinitions(s.resource("aws_ecs_task_definition", "compute_openwebui_task"));
      const valueFroms = defs.flatMap((d) => d.secrets.map((x: Json) => x.valueFrom as string));
      const referenced = [...new Set(valueFroms.filter((v) => !v.includes(":ssm:")).map((v) => v.replace(/:[\w-]*::$/, "")))].sort();
      const read = inlinePolicy(s, "openwebui_execution-policy").filter((st) => st.actions.some((a: string) => a.startsWith("secretsmanager:")));
      expect(read).toHaveLength(1);
      expect(read[0]!.actions).toEqual(["secretsmanager:GetSecretValue"]);
      expect([...read[0]!.resources].sort()).toEqual(referenced);
      expect(read[0]!.resources).not.toContain("*");
    });

    it("execution role: decrypts with the workload CMK only via Secrets Manager and SSM", () => {
      const decrypt = inlinePolicy(s, "openwebui_execution-policy").find((st) => st.sid === "DecryptReferencedValues")!;
      expect(decrypt).toMatchObject({ effect: "Allow", actions: ["kms:Decrypt"], resources: [ref(s, "aws_kms_key", "security_workload", "arn")] });
      expect(decrypt.condition).toEqual([{ test: "StringEquals", variable: "kms:ViaService", values: [`secretsmanager.${env.region}.amazonaws.com`, `ssm.${env.region}.amazonaws.com`] }]);
    });

    it("execution role: writes only to its own log group, and has nothing else", () => {
      const statements = inlinePolicy(s, "openwebui_execution-policy");
      // Entra ids from SSM (nonprod, prod) add the one parameter the client id is read from.
      const ssm = expectedAuthSecrets(env).includes("OAUTH_CLIENT_ID");
      expect(statements.map((st) => st.sid).sort()).toEqual(["DecryptReferencedValues", ...(ssm ? ["ReadReferencedParameters"] : []), "ReadReferencedSecrets", "WriteOwnLogGroup"]);
      if (ssm) {
        expect(statements.find((st) => st.sid === "ReadReferencedParameters")).toMatchObject({
          actions: ["ssm:GetParameters"],
          resources: [`arn:\${data.aws_partition.partition.partition}:ssm:${env.region}:\${data.aws_caller_identity.current.account_id}:parameter/owui/${envName}/entra/client-id`],
        });
      }
      const logs = statements.find((st) => st.sid === "WriteOwnLogGroup")!;
      expect(logs.actions).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
      expect(logs.resources).toEqual([`${ref(s, "aws_cloudwatch_log_group", "compute_openwebui", "arn")}:*`]);
      for (const st of statements) expect(st.effect).toBe("Allow");
    });

    it(`task role: exactly the EFS access-point mount${env.compute.enableExecuteCommand ? ", the ECS Exec channels" : ""}${env.encryption.enabled ? " and the per-user KMS keys" : " (no KMS grants: encryption is off)"}`, () => {
      const statements = inlinePolicy(s, "openwebui_task-policy");
      // The per-user KMS grants come only with encryption.enabled (their exact shape: test/encryption.test.ts).
      const kms = env.encryption.enabled ? ["UserIdHmac", "UserDekEncryption", "DescribeUserKeys"] : [];
      expect(statements.map((st) => st.sid).sort()).toEqual((env.compute.enableExecuteCommand ? ["MountEfsAccessPoint0", "EcsExecChannels", ...kms] : ["MountEfsAccessPoint0", ...kms]).sort());
      const efs = statements.find((st) => st.sid === "MountEfsAccessPoint0")!;
      expect(efs.actions).toEqual(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]);
      expect(efs.resources).toEqual([ref(s, "aws_efs_file_system", "data_efs", "arn")]);
      expect(efs.condition).toEqual([{ test: "StringEquals", variable: "elasticfilesystem:AccessPointArn", values: [ref(s, "aws_efs_access_point", "openwebui", "arn")] }]);
      if (env.compute.enableExecuteCommand) {
        expect(statements.find((st) => st.sid === "EcsExecChannels")!.actions).toEqual(["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]);
      }
    });

    it("both roles trust only ECS tasks of this account", () => {
      const exec = s.resource("aws_iam_role", "openwebui_execution-role");
      const taskRole = s.resource("aws_iam_role", "openwebui_task-role");
      expect(exec.name).toBe(`owui-${envName}-openwebui-exec`);
      expect(taskRole.name).toBe(`owui-${envName}-openwebui-task`);
      const trust = policyOf(s, exec.assume_role_policy).statement;
      expect(trust).toEqual([
        {
          sid: "EcsTasksAssume",
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["${data.aws_caller_identity.current.account_id}"] }],
        },
      ]);
    });
  });
});

describe("WAF switched off", () => {
  it("creates no web ACL association when wafEnabled is false", () => {
    const s = synthPlatform(envWith((raw) => (raw.security.wafEnabled = false)));
    expect(s.resources("aws_lb")).toHaveLength(1);
    expect(s.resources("aws_wafv2_web_acl_association")).toEqual([]);
  });

  it("creates it when wafEnabled is left at its default (true)", () => {
    const s = synthPlatform(envWith(() => {}));
    expect(s.resources("aws_wafv2_web_acl_association")).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// The service factory
// ---------------------------------------------------------------------------------------------

interface RefusalCase {
  readonly title: string;
  readonly spec: ServiceSpec;
  /** Services added (and accepted) before the refused one. */
  readonly before?: readonly ServiceSpec[];
  readonly path: string;
  /** Must appear in the problem: the bad value. */
  readonly problem: RegExp;
  /** Must appear in the fix. */
  readonly fix: RegExp;
}

const proxy = { name: "proxy", image: "quay.io/oauth2-proxy/oauth2-proxy:v7.6.0", port: 4180 } as const;

const REFUSALS: readonly RefusalCase[] = [
  { title: "an image without tag or digest", spec: gatewaySpec({ image: "ghcr.io/berriai/litellm" }), path: "services.gateway.image", problem: /"ghcr\.io\/berriai\/litellm" has no tag or digest/, fix: /^pin it, e\.g\. /u },
  { title: "an image tagged latest", spec: gatewaySpec({ image: "ghcr.io/berriai/litellm:latest" }), path: "services.gateway.image", problem: /"ghcr\.io\/berriai\/litellm:latest" is tagged "latest", which moves/, fix: /^pin it/ },
  { title: "a sidecar image tagged latest", spec: gatewaySpec({ sidecars: [{ ...proxy, image: "quay.io/oauth2-proxy/oauth2-proxy:latest" }] }), path: "services.gateway.sidecars[0].image", problem: /oauth2-proxy:latest" is tagged "latest"/, fix: /^pin it/ },
  { title: "a CPU size Fargate does not have", spec: gatewaySpec({ cpu: 300 }), path: "services.gateway.cpu", problem: /^300 is not a Fargate CPU size$/, fix: /^use one of 256, 512, 1024, 2048, 4096, 8192, 16384$/ },
  { title: "a cpu/memory pair Fargate does not have", spec: gatewaySpec({ cpu: 256, memoryMiB: 4096 }), path: "services.gateway.memoryMiB", problem: /^4096 MiB is not valid with cpu 256$/, fix: /^use 512–2048 MiB in steps of 512$/ },
  { title: "a secret-looking plain env var (API_TOKEN)", spec: gatewaySpec({ environment: { LOG_LEVEL: "info", API_TOKEN: "abc" } }), path: "services.gateway.environment.API_TOKEN", problem: /"API_TOKEN" looks like a secret/, fix: /move it to secrets/ },
  { title: "a sidecar on the main container's port", spec: gatewaySpec({ sidecars: [{ ...proxy, port: 4000 }] }), path: "services.gateway.sidecars[0].port", problem: /^4000 is already used by container "gateway"/, fix: /give each container its own port/ },
  { title: "a sidecar named like the main container", spec: gatewaySpec({ sidecars: [{ ...proxy, name: "gateway" }] }), path: "services.gateway.sidecars[0].name", problem: /container name "gateway" is used twice/, fix: /give each container its own name/ },
  { title: "minCount above maxCount", spec: gatewaySpec({ scaling: { minCount: 3, maxCount: 2 } }), path: "services.gateway.scaling.minCount", problem: /^3 is above scaling\.maxCount 2$/, fix: /minCount ≤ maxCount/ },
  { title: "a targetPort no container listens on", spec: gatewaySpec({ targetPort: 9999 }), path: "services.gateway.targetPort", problem: /^9999 is not a port of any container/, fix: /^target one of 4000$/ },
  { title: "a relative health-check path", spec: gatewaySpec({ healthCheck: { path: "health", gracePeriodSeconds: 120 } }), path: "services.gateway.healthCheck.path", problem: /^"health" is not an absolute path$/, fix: /start it with "\/"/ },
  { title: "a zero grace period on a routed service", spec: gatewaySpec({ healthCheck: { path: "/health", gracePeriodSeconds: 0 } }), path: "services.gateway.healthCheck.gracePeriodSeconds", problem: /^0 leaves no time to start/, fix: /above the measured cold start/ },
  {
    title: "a second default route",
    before: [gatewaySpec({ name: "web", port: 8080, routing: { type: "default" } })],
    spec: gatewaySpec({ routing: { type: "default" } }),
    path: "services.gateway.routing",
    problem: /default route, which another service already is/,
    fix: /route this one by path or host/,
  },
  {
    title: "a listener-rule priority another service has",
    before: [gatewaySpec({ name: "docs", port: 8000, routing: { type: "path", paths: ["/docs/*"], priority: 10 } })],
    spec: gatewaySpec(),
    path: "services.gateway.routing.priority",
    problem: /^10 is already used by service "docs"$/,
    fix: /its own priority/,
  },
  { title: "requestsPerTarget on an internal service", spec: gatewaySpec({ routing: { type: "internal" }, scaling: { minCount: 1, maxCount: 2, requestsPerTarget: 100 } }), path: "services.gateway.scaling.requestsPerTarget", problem: /internal service, which has no ALB target group/, fix: /remove it, or route the service through the ALB/ },
  { title: "a writableRootFilesystemReason too short to be a reason", spec: gatewaySpec({ writableRootFilesystemReason: "because" }), path: "services.gateway.writableRootFilesystemReason", problem: /^"because" does not explain/, fix: /at least 10 characters/ },
  {
    title: "a service name already taken",
    before: [gatewaySpec({ routing: { type: "path", paths: ["/other/*"], priority: 20 } })],
    spec: gatewaySpec(),
    path: "services.gateway.name",
    problem: /^"gateway" is already a service$/,
    fix: /its own name/,
  },
  { title: "an invalid service name", spec: gatewaySpec({ name: "Gateway_1" }), path: "services.Gateway_1.name", problem: /^"Gateway_1" is not a valid service name$/, fix: /lower-case letters, digits or dashes/ },
  { title: "a container health-check start period above ECS's 300 s", spec: gatewaySpec({ healthCheckCommand: "true", healthCheckStartPeriodSeconds: 301 }), path: "services.gateway.healthCheckStartPeriodSeconds", problem: /^301 is outside ECS's 0–300 s$/, fix: /use 0–300/ },
  { title: "a health-check start period without a health check", spec: gatewaySpec({ healthCheckStartPeriodSeconds: 60 }), path: "services.gateway.healthCheckStartPeriodSeconds", problem: /without healthCheckCommand/, fix: /add healthCheckCommand/ },
  { title: "a sidecar depending on a container the task does not have", spec: gatewaySpec({ sidecars: [{ ...proxy, dependsOn: [{ containerName: "web", condition: "START" }] }] }), path: "services.gateway.sidecars[0].dependsOn[0].containerName", problem: /^"web" is not another container of the task$/, fix: /name one of "gateway"/ },
  { title: "waiting for HEALTHY on a container without a health check", spec: gatewaySpec({ sidecars: [{ ...proxy, dependsOn: [{ containerName: "gateway", condition: "HEALTHY" }] }] }), path: "services.gateway.sidecars[0].dependsOn[0].condition", problem: /container "gateway", which has no healthCheckCommand/, fix: /give "gateway" a healthCheckCommand, or wait for START/ },
  { title: "a path rule with no paths", spec: gatewaySpec({ routing: { type: "path", paths: [], priority: 10 } }), path: "services.gateway.routing.paths", problem: /^has 0 entries$/, fix: /1 to 5/ },
];

describe("service spec refusals", () => {
  it("the base spec of the refusal cases is itself accepted", () => {
    expect(() => validateServiceSpec(gatewaySpec())).not.toThrow();
    const { compute } = buildCompute();
    expect(() => compute.addService(gatewaySpec())).not.toThrow();
  });

  describe.each(REFUSALS.map((c) => [c.title, c] as const))("refuses %s", (_title, c) => {
    it("validateServiceSpec: one error naming the field, the bad value and the fix", () => {
      const err = refusal(() => validateServiceSpec(c.spec, c.before ?? []));
      expect(err.errors).toHaveLength(1);
      const [e] = err.errors;
      expect(e!.path).toBe(c.path);
      expect(e!.problem).toMatch(c.problem);
      expect(e!.fix).toMatch(c.fix);
      expect(err.message).toContain(`${c.path}: `);
      expect(err.message).toContain(`Fix: ${e!.fix}`);
    });

    it("compute.addService: refuses it the same way and creates nothing", () => {
      const { compute } = buildCompute();
      for (const b of c.before ?? []) compute.addService(b);
      const before = compute.serviceNames;
      const err = refusal(() => compute.addService(c.spec));
      expect(err.errors.map((e) => e.path)).toEqual([c.path]);
      expect(err.errors[0]!.problem).toMatch(c.problem);
      expect(compute.serviceNames).toEqual(before);
    });
  });

  it("lists every problem of a spec in one refusal", () => {
    const err = refusal(() => validateServiceSpec(gatewaySpec({ image: "ghcr.io/x/y:latest", cpu: 300, healthCheck: { path: "health", gracePeriodSeconds: 0 } })));
    expect(err.errors.map((e) => e.path)).toEqual(["services.gateway.cpu", "services.gateway.image", "services.gateway.healthCheck.path", "services.gateway.healthCheck.gracePeriodSeconds"]);
    expect(err.message).toMatch(/^invalid configuration \(4 problems\):/);
  });

  // BUG (modules/compute/service.ts + spec.ts): the target group name is
  // `owui-<env>-<service>`.slice(0, 32), while service names may be up to 31 characters. Two
  // valid, distinct names that share their first 19 characters (in nonprod) get the SAME target
  // group name, so the second fails at apply (DuplicateTargetGroupName). Neither the validator nor
  // the factory notices. Remove `.fails` once names are made unique (or the spec is refused).
  it("gives two accepted services distinct target group names (or refuses the second)", () => {
    const { stack, compute } = buildCompute(ENVS.nonprod);
    compute.addService(gatewaySpec({ name: "model-gateway-proxy-a", routing: { type: "path", paths: ["/a/*"], priority: 10 } }));
    let refused = false;
    try {
      compute.addService(gatewaySpec({ name: "model-gateway-proxy-b", routing: { type: "path", paths: ["/b/*"], priority: 11 } }));
    } catch {
      refused = true;
    }
    if (!refused) {
      // Fixed names would collide; name_prefix leaves uniqueness to Terraform's random suffix.
      const groups = synthStack(stack).resources("aws_lb_target_group").map(([, t]) => t);
      expect(groups.map((t) => t.name)).toEqual([undefined, undefined]);
      expect(groups.map((t) => t.name_prefix)).toEqual(["model-", "model-"]);
    }
  });

  // BUG (same truncation): a valid service name can leave the truncated target group name ending in
  // "-", which AWS refuses ("must not begin or end with a hyphen"); nothing catches it at synth.
  it("never gives a target group a name ending in a hyphen (or refuses the spec)", () => {
    const { stack, compute } = buildCompute(ENVS.nonprod);
    let refused = false;
    try {
      compute.addService(gatewaySpec({ name: "model-gateway-prox-a" }));
    } catch {
      refused = true;
    }
    if (!refused) {
      // Terraform appends a random alphanumeric suffix to the prefix, so the name never ends in "-".
      const [tg] = synthStack(stack).resources("aws_lb_target_group").map(([, t]) => t);
      expect(tg.name).toBeUndefined();
      expect(tg.name_prefix).toMatch(/^[a-z][a-z0-9-]{0,5}$/);
    }
  });

  // BUG (spec.ts): healthCheck.intervalSeconds is not validated, but the target group's timeout is
  // fixed at 5 s and ELB requires the timeout to be smaller than the interval (and the interval to
  // be 5–300 s). An interval of 5 synthesizes and fails at apply. Remove `.fails` once refused.
  it("refuses a health-check interval not above the target group's 5 s timeout", () => {
    const err = refusal(() => validateServiceSpec(gatewaySpec({ healthCheck: { path: "/health", gracePeriodSeconds: 120, intervalSeconds: 5 } })));
    expect(err.errors.map((e) => e.path)).toEqual(["services.gateway.healthCheck.intervalSeconds"]);
  });
});

describe("an internal service", () => {
  /** `group direction port peer` rows for the rules of the fixture (group names as in ruleTable). */
  const rows = (s: Synthesized) => ruleTable(s).filter((r) => !r.startsWith("alb in") && !r.startsWith("client-db-bootstrap") && !r.startsWith("endpoints"));

  it("is reachable only from the services that name it in serviceAccess, on its own port, and not from the ALB", () => {
    const { stack, compute } = buildCompute(ENVS.nonprod, { serviceAccess: { caller: { services: ["gateway"] } } });
    compute.addService(gatewaySpec({ routing: { type: "internal" } }));
    compute.addService(gatewaySpec({ name: "caller", port: 9000, routing: { type: "internal" } }));
    compute.addService(gatewaySpec({ name: "bystander", port: 9100, routing: { type: "internal" } }));
    expect(rows(synthStack(stack))).toEqual([
      "service-bystander out tcp/443-443 0.0.0.0/0",
      "service-caller out tcp/4000-4000 sg:service-gateway",
      "service-caller out tcp/443-443 0.0.0.0/0",
      "service-gateway in tcp/4000-4000 sg:service-caller",
      "service-gateway out tcp/443-443 0.0.0.0/0",
    ]);
  });

  it("gets the same paths whichever of caller and callee is added first", () => {
    const { stack, compute } = buildCompute(ENVS.nonprod, { serviceAccess: { caller: { services: ["gateway"] } } });
    compute.addService(gatewaySpec({ name: "caller", port: 9000, routing: { type: "internal" } }));
    compute.addService(gatewaySpec({ routing: { type: "internal" } }));
    expect(rows(synthStack(stack))).toContain("service-gateway in tcp/4000-4000 sg:service-caller");
    expect(rows(synthStack(stack))).toContain("service-caller out tcp/4000-4000 sg:service-gateway");
  });

  it("reaches the stores it names, and EFS when it mounts it, each only from its own group", () => {
    const { stack, compute } = buildCompute(ENVS.nonprod, { serviceAccess: { gateway: { stores: ["database"] } } });
    compute.addService(
      gatewaySpec({
        routing: { type: "internal" },
        efsMounts: [{ fileSystemId: "fs-1", fileSystemArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1", accessPointId: "fsap-1", accessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1", containerPath: "/data" }],
      }),
    );
    expect(rows(synthStack(stack))).toEqual([
      "database in tcp/5432-5432 sg:service-gateway",
      "efs in tcp/2049-2049 sg:service-gateway",
      "service-gateway out tcp/2049-2049 sg:efs",
      "service-gateway out tcp/443-443 0.0.0.0/0",
      "service-gateway out tcp/5432-5432 sg:database",
    ]);
  });

  it("refuses a caller naming an ALB-routed service (its port may trust headers a caller could forge)", () => {
    const { compute } = buildCompute(ENVS.nonprod, { serviceAccess: { caller: { services: ["gateway"] } } });
    compute.addService(gatewaySpec());
    expect(() => compute.addService(gatewaySpec({ name: "caller", port: 9000, routing: { type: "internal" } }))).toThrow(/serviceAccess\.services names "gateway", which is ALB-routed/);
    const { compute: other } = buildCompute(ENVS.nonprod, { serviceAccess: { caller: { services: ["gateway"] } } });
    other.addService(gatewaySpec({ name: "caller", port: 9000, routing: { type: "internal" } }));
    expect(() => other.addService(gatewaySpec())).toThrow(/"path" is ALB-routed, but caller would reach it service to service/);
  });
});

describe("an accepted path-routed service with a sidecar proxy", () => {
  const { stack, compute } = buildCompute(ENVS.nonprod);
  const service = compute.addService(
    gatewaySpec({
      sidecars: [{ ...proxy, environment: { OAUTH2_PROXY_UPSTREAMS: "http://127.0.0.1:4000" } }],
      targetPort: 4180,
      routing: { type: "path", paths: ["/api/*", "/v1/*"], priority: 10 },
    }),
  );
  const s = synthStack(stack);
  const tgArn = ref(s, "aws_lb_target_group", "gateway", "arn");
  const rulesOn = (type: string, port: number) => s.resources(type).filter(([, r]) => r.from_port === port).map(([, r]) => r);

  it("is listed by the compute layer", () => {
    expect(compute.serviceNames).toEqual(["owui-nonprod-gateway"]);
    expect(service.internalUrl).toBe("http://gateway.owui-nonprod.internal:4000");
  });

  it("claims its paths with a listener rule on the HTTPS listener at its priority", () => {
    const rule = s.resource("aws_lb_listener_rule", "gateway");
    expect(rule.listener_arn).toBe(ref(s, "aws_lb_listener", "compute_https", "arn"));
    expect(rule.priority).toBe(10);
    expect(rule.action).toEqual([{ type: "forward", target_group_arn: tgArn }]);
    expect(rule.condition).toEqual([{ path_pattern: { values: ["/api/*", "/v1/*"] } }]);
  });

  it("leaves the HTTPS listener's default action at the plain 404", () => {
    expect(s.resource("aws_lb_listener", "compute_https").default_action).toEqual([
      { type: "fixed-response", fixed_response: { content_type: "text/plain", status_code: "404", message_body: "Not found" } },
    ]);
  });

  it("targets the sidecar's port, in the target group and the ECS service", () => {
    expect(s.resource("aws_lb_target_group", "gateway").port).toBe(4180);
    expect(s.resource("aws_ecs_service", "gateway").load_balancer).toEqual([{ target_group_arn: tgArn, container_name: "proxy", container_port: 4180 }]);
  });

  it("opens the ALB → service path on the sidecar's target port, not the main port", () => {
    const alb = ref(s, "aws_security_group", "security_alb", "id");
    const services = ref(s, "aws_security_group", "security_service-gateway", "id");
    expect(rulesOn("aws_vpc_security_group_ingress_rule", 4180)).toEqual([
      expect.objectContaining({ security_group_id: services, referenced_security_group_id: alb, ip_protocol: "tcp", to_port: 4180 }),
    ]);
    expect(rulesOn("aws_vpc_security_group_egress_rule", 4180)).toEqual([
      expect.objectContaining({ security_group_id: alb, referenced_security_group_id: services, ip_protocol: "tcp", to_port: 4180 }),
    ]);
    const fromAlb4000 = rulesOn("aws_vpc_security_group_ingress_rule", 4000).filter((r) => r.referenced_security_group_id === alb);
    expect(fromAlb4000).toEqual([]);
  });

  it("is not reachable from other services at all: an ALB-routed port may trust identity headers another service could forge", () => {
    const own = ref(s, "aws_security_group", "security_service-gateway", "id");
    const alb = ref(s, "aws_security_group", "security_alb", "id");
    const ingress = s.resources("aws_vpc_security_group_ingress_rule").filter(([, r]) => r.security_group_id === own);
    expect(ingress.map(([, r]) => [r.referenced_security_group_id, r.to_port])).toEqual([[alb, 4180]]);
    expect(s.resources("aws_vpc_security_group_egress_rule").filter(([, r]) => r.security_group_id === own).map(([, r]) => [r.cidr_ipv4, r.to_port])).toEqual([["0.0.0.0/0", 443]]);
  });

  it("runs the sidecar with a read-only root and, without scratch paths, no volume", () => {
    const { stack: st, compute: c } = buildCompute(ENVS.nonprod);
    c.addService(gatewaySpec({ healthCheckCommand: "true", healthCheckStartPeriodSeconds: 300, sidecars: [{ ...proxy, scratchPaths: [], dependsOn: [{ containerName: "gateway", condition: "HEALTHY" }] }], targetPort: 4180 }));
    const task = synthStack(st).resource("aws_ecs_task_definition", "gateway");
    const [gateway, sidecar] = containerDefinitions(task);
    expect(gateway!.healthCheck).toEqual({ command: ["CMD-SHELL", "true"], interval: 15, timeout: 5, retries: 3, startPeriod: 300 });
    expect(sidecar).toMatchObject({ readonlyRootFilesystem: true, mountPoints: [], dependsOn: [{ containerName: "gateway", condition: "HEALTHY" }] });
    expect(task.volume.map((v: Json) => v.name)).toEqual(["gateway-scratch-tmp"]);
  });

  it("runs both containers with their ports, read-only roots with /tmp scratch, and awslogs", () => {
    const defs = containerDefinitions(s.resource("aws_ecs_task_definition", "gateway"));
    expect(defs.map((d) => d.name)).toEqual(["gateway", "proxy"]);
    expect(defs.map((d) => d.portMappings[0].containerPort)).toEqual([4000, 4180]);
    for (const d of defs) {
      expect(d.readonlyRootFilesystem).toBe(true);
      expect(d.privileged).toBe(false);
      expect(d.mountPoints).toEqual([{ sourceVolume: `${d.name}-scratch-tmp`, containerPath: "/tmp", readOnly: false }]);
      expect(d.logConfiguration.logDriver).toBe("awslogs");
      expect(d.logConfiguration.options["awslogs-group"]).toBe(ref(s, "aws_cloudwatch_log_group", "gateway", "name"));
    }
  });

  it("has no secrets, so its execution role reads none", () => {
    const statements = inlinePolicy(s, "gateway_execution-policy");
    expect(statements.map((st) => st.sid)).toEqual(["WriteOwnLogGroup"]);
  });

  it("exposes the container definitions its task definition encodes, its own security group and its private subnets", () => {
    // Everything but the log group's name, a token here and a reference in the JSON.
    const withoutLogs = (defs: readonly Json[]) => defs.map(({ logConfiguration: _logs, ...rest }) => rest);
    expect(withoutLogs(containerDefinitions(s.resource("aws_ecs_task_definition", "gateway")))).toEqual(withoutLogs(JSON.parse(JSON.stringify(service.containerDefinitions)) as Json[]));
    expect(service.containerDefinitions.map((d) => d.name)).toEqual(["gateway", "proxy"]);
    const svc = s.resource("aws_ecs_service", "gateway");
    expect(svc.network_configuration.security_groups).toEqual([ref(s, "aws_security_group", "security_service-gateway", "id")]);
    expect(svc.network_configuration.subnets).toHaveLength(service.subnetIds.length);
    expect(service.securityGroupIds).toHaveLength(1);
  });

  it("rolls back a failed deployment by default, and only stops it with deploymentRollback false", () => {
    expect(s.resource("aws_ecs_service", "gateway").deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    const { stack: st, compute: c } = buildCompute(ENVS.nonprod);
    c.addService(gatewaySpec({ deploymentRollback: false }));
    expect(synthStack(st).resource("aws_ecs_service", "gateway").deployment_circuit_breaker).toEqual({ enable: true, rollback: false });
  });
});
