/**
 * `pnpm ops cost` (ops/lib/cost.ts): the model on a fixed synthesized fixture with totals worked out
 * by hand, the Aurora auto-pause rule, switches re-priced by a real synth, the levers' wiring and
 * refusals, the README block, and the nonprod idle-floor goal (issue #15: at most $150 a month).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderedReadme } from "../ops/commands/cost.js";
import { auroraKeepers, COST_SWITCHES, estimateCost, readmeBlock, README_BEGIN, README_END, replaceReadmeBlock, servicesOf, switchSavings, synthEnvJson } from "../ops/lib/cost.js";
import { HOURS_PER_MONTH, MULTI_ARCH_IMAGES, PRICES } from "../ops/lib/prices.js";
import { synthesize } from "../ops/lib/stack.js";
import { ENVS, envWith, refusal, synthPlatform } from "./support/synth.js";

const FIXTURE = JSON.parse(readFileSync(new URL("./fixtures/ops-cost-stack.json", import.meta.url), "utf8"));
const line = (e: ReturnType<typeof estimateCost>, group: string) => e.lines.filter((l) => l.group === group).map((l) => l.monthly);

describe("the cost model on a fixed synthesized stack", () => {
  const idle = estimateCost("fixture", FIXTURE, 0);

  it("prices the idle floor at exactly $385.34", () => {
    // NAT 2 × 0.045 × 730 = 65.70; endpoints 3 × 2 AZ × 0.01 × 730 = 43.80; IPv4 (2 EIP + 2 ALB) × 0.005 × 730 = 14.60;
    // Cloud Map zone 0.50; Aurora 2 × 0.5 ACU × 0.12 × 730 = 87.60 + 1 GB 0.10; Fargate openwebui 2 × (0.04048 + 4 × 0.004445) × 730
    // = 85.06, litellm ARM (0.5 × 0.03238 + 0.00356) × 730 = 14.42, mcpo Spot (0.25 × 0.04048 + 0.5 × 0.004445) × 0.3 × 730 = 2.70;
    // ALB 16.43; WAF 5 + 2 = 7; Valkey 2 × 0.0256 × 730 = 37.38; KMS 3; secrets (4 + RDS master) × 0.4 = 2;
    // alarms 0.20; dashboard 3; logs (4 tasks × 0.5 + 1 GB flow) × 0.5 = 1.50; EFS 1 GB × 0.35.
    expect(idle.total).toBe(385.34);
    expect(line(idle, "NAT")).toEqual([65.7]);
    expect(line(idle, "Interface endpoints")).toEqual([43.8]);
    expect(line(idle, "Public IPv4")).toEqual([14.6]);
    expect(line(idle, "Aurora")).toEqual([87.6, 0.1]);
    expect(line(idle, "Fargate")).toEqual([14.42, 2.7, 85.06]);
    expect(line(idle, "ElastiCache")).toEqual([37.38]);
    expect(line(idle, "Secrets Manager")).toEqual([2]);
    expect(idle.total).toBe(Math.round(idle.lines.reduce((n, l) => n + l.monthly, 0) * 100) / 100);
  });

  it("prices 100 users at exactly $479.23 (USER_MODEL on top of the floor)", () => {
    const at100 = estimateCost("fixture", FIXTURE, 100);
    // + NAT 20 GB × 0.045 = 0.90 (no bedrock-runtime endpoint), Aurora +0.5 ACU: 2 × 1 × 0.12 × 730 = 175.20 and 6 GB 0.60,
    // ALB 50 LCU-h × 0.008 = 0.40, WAF 300k requests 0.18, KMS 20k requests 0.06, logs +5 GB = 4.00, EFS 6 GB = 2.10.
    expect(at100.total).toBe(479.23);
    expect(line(at100, "Aurora")).toEqual([175.2, 0.6]);
    expect(line(at100, "NAT")).toEqual([65.7, 0.9]);
  });

  it("reads each service's size, architecture, capacity and scaling ceiling from the synthesized JSON", () => {
    expect(servicesOf(FIXTURE)).toEqual([
      { name: "owui-fixture-litellm", tasks: 1, vcpu: 0.5, gb: 1, arch: "ARM64", spot: false, usesDatabase: false, maxTasks: 1 },
      { name: "owui-fixture-mcpo", tasks: 1, vcpu: 0.25, gb: 0.5, arch: "X86_64", spot: true, usesDatabase: false, maxTasks: 1 },
      { name: "owui-fixture-openwebui", tasks: 2, vcpu: 1, gb: 4, arch: "X86_64", spot: false, usesDatabase: true, maxTasks: 4 },
    ]);
  });

  it("adds Open WebUI tasks with users, up to the autoscaler's maximum", () => {
    const at1000 = estimateCost("fixture", FIXTURE, 1000);
    const owui = at1000.lines.find((l) => l.item.startsWith("owui-fixture-openwebui"))!;
    expect(owui.item).toMatch(/: 4 × 1 vCPU/);
    expect(owui.monthly).toBe(Math.round(4 * (PRICES.fargateX86VcpuHour.usd + 4 * PRICES.fargateX86GbHour.usd) * HOURS_PER_MONTH * 100) / 100);
  });
});

describe("Aurora auto-pause counts only when nothing keeps the database awake", () => {
  const paused = structuredClone(FIXTURE);
  paused.resource.aws_rds_cluster.data_aurora.serverlessv2_scaling_configuration.min_capacity = 0;

  it("bills 0.5 ACU per instance and names the keeper when a running service holds a connection pool", () => {
    const e = estimateCost("fixture", paused, 0);
    expect(line(e, "Aurora")[0]).toBe(87.6);
    expect(auroraKeepers(paused)).toEqual(["ECS service owui-fixture-openwebui (2 tasks) holds a database connection pool"]);
    expect(e.notes.join("\n")).toMatch(/auto-pause cannot happen.*owui-fixture-openwebui \(2 tasks\) holds a database connection pool/);
  });

  it("bills 0 ACU when no always-on client uses the database", () => {
    const idleDb = structuredClone(paused);
    idleDb.resource.aws_ecs_task_definition.compute_openwebui_task.container_definitions = "${jsonencode([])}";
    const e = estimateCost("fixture", idleDb, 0);
    expect(line(e, "Aurora")[0]).toBe(0);
    expect(e.notes.join("\n")).toMatch(/counts it paused \(0 ACU\)/);
  });

  it("counts a frequent canary schedule as a keeper", () => {
    const withCanary = structuredClone(paused);
    withCanary.resource.aws_ecs_task_definition.compute_openwebui_task.container_definitions = "${jsonencode([])}";
    withCanary.resource.aws_cloudwatch_event_rule = { canary_schedule: { name: "owui-fixture-canary", schedule_expression: "rate(5 minutes)" } };
    expect(auroraKeepers(withCanary)).toEqual(["schedule owui-fixture-canary (rate(5 minutes)) reaches the platform, which queries the database"]);
  });

  it("refuses an ElastiCache node type the price table lacks, naming the fix", () => {
    const odd = structuredClone(FIXTURE);
    odd.resource.aws_elasticache_replication_group.data_redis.node_type = "cache.x9.huge";
    expect(() => estimateCost("fixture", odd, 0)).toThrow(/cache\.x9\.huge has no price in ops\/lib\/prices\.ts ELASTICACHE_NODE_HOUR\. Fix: add/);
  });
});

describe("config switches are re-priced by synthesizing the env with the switch flipped", () => {
  const base = envWith(() => {});

  it("ARM64 for Open WebUI saves exactly the x86 → ARM price difference of its task", async () => {
    const before = estimateCost(base.name, await synthEnvJson(base), 0);
    const arm = COST_SWITCHES.filter((s) => s.path === 'services.openwebui.cpuArchitecture: "ARM64"');
    const [saving] = await switchSavings(base, before, arm);
    const x86 = Math.round((PRICES.fargateX86VcpuHour.usd + 4 * PRICES.fargateX86GbHour.usd) * HOURS_PER_MONTH * 100) / 100;
    const armPrice = Math.round((PRICES.fargateArmVcpuHour.usd + 4 * PRICES.fargateArmGbHour.usd) * HOURS_PER_MONTH * 100) / 100;
    expect(saving).toMatchObject({ path: 'services.openwebui.cpuArchitecture: "ARM64"', saving: Math.round((x86 - armPrice) * 100) / 100 });
    expect(saving!.floor).toBe(Math.round((before.total - saving!.saving) * 100) / 100);
  });

  it("endpoints in the first AZ only halve the endpoint line of a 2-AZ env", async () => {
    const before = estimateCost(base.name, await synthEnvJson(base), 0);
    const [saving] = await switchSavings(base, before, COST_SWITCHES.filter((s) => s.path.startsWith("network.interfaceEndpointAzs")));
    expect(saving!.saving).toBe(10 * PRICES.interfaceEndpointAzHour.usd * HOURS_PER_MONTH);
  });

  it("minAcu 0 saves nothing while Open WebUI runs, and says why", async () => {
    const before = estimateCost(base.name, await synthEnvJson(base), 0);
    const [saving] = await switchSavings(base, before, COST_SWITCHES.filter((s) => s.path === "data.aurora.minAcu: 0"));
    expect(saving!.saving).toBe(0);
    expect(saving!.why).toMatch(/owui-test-openwebui \(1 task\) holds a database connection pool/);
  });

  it("offers no switch that is already pulled", () => {
    const pulled = envWith((r) => (r.services = { litellm: { capacity: "spot" } }));
    expect(COST_SWITCHES.find((s) => s.path === 'services.litellm.capacity: "spot"')!.flip(pulled)).toBeUndefined();
    expect(COST_SWITCHES.find((s) => s.path === 'services.litellm.cpuArchitecture: "ARM64"')!.flip(pulled)).toBeUndefined();
  });
});

describe("the levers in the synthesized stack", () => {
  it('interfaceEndpointAzs "first" puts every interface endpoint in the first private subnet only', () => {
    const s = synthPlatform(envWith((r) => (r.network.interfaceEndpointAzs = "first")));
    const endpoints = s.resources("aws_vpc_endpoint").filter(([, e]) => e.vpc_endpoint_type === "Interface");
    expect(endpoints).toHaveLength(10);
    for (const [, e] of endpoints) {
      expect(e.subnet_ids).toHaveLength(1);
      expect(e.subnet_ids[0]).toMatch(/^\$\{aws_subnet\.network_private-us-east-1a_[0-9A-F]+\.id\}$/);
    }
  });

  it("cpuArchitecture ARM64 reaches the task definition's runtime platform", () => {
    const s = synthPlatform(envWith((r) => (r.services = { openwebui: { cpuArchitecture: "ARM64" } })));
    expect(s.resource("aws_ecs_task_definition", "openwebui_task").runtime_platform).toEqual({ operating_system_family: "LINUX", cpu_architecture: "ARM64" });
    expect(s.resource("aws_ecs_task_definition", "litellm_task").runtime_platform.cpu_architecture).toBe("X86_64");
  });

  it("capacity spot runs the service on FARGATE_SPOT through the cluster's capacity providers, with no launch type", () => {
    const s = synthPlatform(envWith((r) => (r.services = { mcpo: { capacity: "spot" } })));
    const mcpo = s.resource("aws_ecs_service", "compute_mcpo");
    expect(mcpo.launch_type).toBeUndefined();
    expect(mcpo.capacity_provider_strategy).toEqual([{ base: 0, capacity_provider: "FARGATE_SPOT", weight: 1 }]);
    // Moving an existing service from the launch type to the strategy needs a new deployment (updated in place, not replaced).
    expect(mcpo.force_new_deployment).toBe(true);
    expect(mcpo.depends_on.filter((d: string) => d.startsWith("aws_ecs_cluster_capacity_providers."))).toHaveLength(1);
    expect(s.resource("aws_ecs_cluster_capacity_providers")).toMatchObject({ capacity_providers: ["FARGATE", "FARGATE_SPOT"] });
    expect(s.resource("aws_ecs_service", "compute_litellm").launch_type).toBe("FARGATE");
  });

  it("creates no capacity-provider association when no service runs on Spot", () => {
    expect(synthPlatform(envWith(() => {})).resources("aws_ecs_cluster_capacity_providers")).toEqual([]);
  });

  it("refuses Spot with ARM64, naming the path, the value and the fix", () => {
    expect(refusal((r) => (r.services = { litellm: { capacity: "spot", cpuArchitecture: "ARM64" } }))).toMatch(
      /services\.litellm\.capacity: "spot" with cpuArchitecture "ARM64": Fargate Spot runs only X86_64 Linux tasks\. Fix: set cpuArchitecture to "X86_64" for Spot/,
    );
  });

  it("keeps prod on demand, with endpoints in every AZ and one NAT per AZ", () => {
    const prod = synthPlatform(ENVS.prod);
    expect(prod.resources("aws_ecs_cluster_capacity_providers")).toEqual([]);
    for (const [, e] of prod.resources("aws_vpc_endpoint").filter(([, e]) => e.vpc_endpoint_type === "Interface")) expect(e.subnet_ids).toHaveLength(3);
    expect(prod.resources("aws_nat_gateway")).toHaveLength(3);
  });
});

describe("the ARM64 lever's premise", () => {
  it("every image the envs run (services and the oauth2-proxy sidecar) is one whose linux/arm64 build is cited", () => {
    const repo = (image: string) => image.replace(/[:@].*$/, "");
    const cited = MULTI_ARCH_IMAGES.map((i) => i.image);
    for (const env of Object.values(ENVS)) {
      for (const svc of Object.values(env.services)) expect(cited).toContain(repo(svc.image));
      if (env.auth.mode === "oauth2-proxy") expect(cited).toContain(repo(env.auth.proxy.image));
    }
  });
});

describe("the envs' figures", () => {
  it("nonprod's idle floor is at most $150 a month (issue #15's goal, measured by this model)", () => {
    const floor = estimateCost("nonprod", synthPlatform(ENVS.nonprod).json, 0);
    expect(floor.total).toBeLessThanOrEqual(150);
  });

  it("README.md's generated cost block is current (fix: pnpm ops cost --readme)", async () => {
    const { current, fresh } = await renderedReadme();
    const block = (s: string) => s.slice(s.indexOf(README_BEGIN), s.indexOf(README_END) + README_END.length);
    expect(block(current)).toBe(block(fresh));
  });

  it("the block lists every env's idle floor and its cost at 100 and 1,000 users", async () => {
    const app = await synthesize();
    const block = readmeBlock([{ name: "nonprod", json: app.stack("nonprod").json }]);
    expect(block.split("\n")).toEqual([README_BEGIN, "| env | idle floor | 100 users | 1,000 users |", "|---|---:|---:|---:|", expect.stringMatching(/^\| `nonprod` \| \$\d[\d,]*\.\d\d \| \$\d[\d,]*\.\d\d \| \$\d[\d,]*\.\d\d \|$/), README_END]);
    expect(() => replaceReadmeBlock("no markers", block)).toThrow(/README\.md has no .* block\. Fix:/);
  });
});
