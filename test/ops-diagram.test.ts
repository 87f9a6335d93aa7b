/**
 * `pnpm ops diagram` (ops/lib/diagram.ts): the committed docs/architecture.md must equal a fresh
 * render of the synthesized stacks (CI fails on a stale file; fix: `pnpm ops diagram`), the render
 * is deterministic and the same from an in-process synth and a JSON synth on disk, and the graph
 * readers (security-group edges, layers, containers) are checked on small hand-made stacks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram } from "../ops/index.js";
import { architectureFiles } from "../ops/commands/diagram.js";
import { containersOf, envStacks, layerGraph, renderArchitecture, securityGroupEdges } from "../ops/lib/diagram.js";
import { readSynth, stackOf, synthesize } from "../ops/lib/stack.js";
import { buildApp } from "../stacks/app.js";

const meta = (path: string) => ({ "//": { metadata: { path } } });

describe("docs/architecture.md", () => {
  it("is the fresh render of the synthesized stacks (fix: pnpm ops diagram)", async () => {
    const { current, fresh } = await architectureFiles();
    expect(current).toBe(fresh);
  });

  it("`ops diagram --check` passes on it and writes nothing", async () => {
    const before = process.exitCode;
    const log: string[] = [];
    const spy = (line: string) => log.push(line);
    const original = console.log;
    console.log = spy;
    let exitCode: typeof process.exitCode;
    try {
      await buildProgram().exitOverride().parseAsync(["node", "ops", "diagram", "--check"]);
    } finally {
      console.log = original;
      exitCode = process.exitCode;
      process.exitCode = before;
    }
    expect(exitCode ?? 0).toBe(0);
    expect(log.join("\n")).toMatch(/docs\/architecture\.md is current/);
  });
});

describe("the render", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("is the same from the in-process synth and from a JSON synth on disk (--synth-dir), and stable", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "ops-diagram-"));
    dirs.push(outdir);
    buildApp({ outdir, hclOutput: false }).synth();
    const app = await synthesize();
    const first = renderArchitecture(app);
    expect(renderArchitecture(readSynth(outdir))).toBe(first);
    expect(renderArchitecture(app)).toBe(first);
  });

  it("covers every stack, and every env stack's layers, services and three paths", async () => {
    const app = await synthesize();
    const doc = renderArchitecture(app);
    for (const name of app.stacks.keys()) expect(doc).toContain(`["${name}<br/>`);
    expect(envStacks(app).map((s) => s.name)).toEqual(["nonprod", "prod", "sandbox"]);
    for (const env of ["nonprod", "prod", "sandbox"]) {
      const section = doc.slice(doc.indexOf(`## \`${env}\``));
      for (const heading of ["### Layers", "### Services, data stores and security-group edges", "### Request path", "### Sign-in path", "### Provisioning path"]) expect(section).toContain(heading);
    }
    expect(doc).toContain("nonprod_certificate -->|deployed before| nonprod");
  });

  it("draws what the stacks say: the database edges, Entra OIDC in nonprod, the proxy and Cognito pipeline in sandbox, Redis in prod", async () => {
    const doc = renderArchitecture(await synthesize());
    const section = (env: string) => doc.slice(doc.indexOf(`## \`${env}\``)).split(/\n## `/)[0]!;
    expect(section("nonprod")).toContain('svc_openwebui -->|"5432"| aurora');
    expect(section("nonprod")).toContain('svc_litellm -->|"5432"| aurora');
    expect(section("nonprod")).toMatch(/idp\("Microsoft: login\.microsoftonline\.com"\)/);
    expect(section("nonprod")).toContain("Entra ID provisioning (SCIM 2.0)");
    expect(section("sandbox")).toContain('alb -->|"4180"| svc_openwebui');
    expect(section("sandbox")).toContain("verified X-Forwarded-Email (client copies stripped)");
    expect(section("sandbox")).toMatch(/cognito\("Cognito user pool"\) -->\|"post_confirmation"\| fn_provisioning_producer/);
    expect(section("sandbox")).toMatch(/-->\|"event source mapping"\| fn_provisioning_worker/);
    expect(section("prod")).toMatch(/redis\[\("ElastiCache valkey 8\.0<br\/>2 × cache\.t4g\.small"\)\]/);
    expect(section("prod")).toContain('svc_openwebui -->|"6379"| redis');
  });
});

describe("graph readers on hand-made stacks", () => {
  const stack = stackOf("fx", {
    resource: {
      aws_security_group: { alb: { ...meta("fx/security/alb"), name: "owui-fx-alb" }, svc: { ...meta("fx/security/service-app"), name: "owui-fx-app" }, db: { ...meta("fx/security/database"), name: "owui-fx-db" } },
      aws_lb: { alb: { ...meta("fx/compute/alb"), internal: false, security_groups: ["${aws_security_group.alb.id}"] } },
      aws_ecs_task_definition: { app: { ...meta("fx/compute/app/task"), family: "owui-fx-app", cpu: "512", memory: "1024", container_definitions: '${jsonencode([{"name" = "app", "image" = "x:1", "environment" = [{"name" = "A_B", "value" = "1"}]}])}' } },
      aws_ecs_service: { app: { ...meta("fx/compute/app/Resource"), name: "owui-fx-app", desired_count: 1, task_definition: "${aws_ecs_task_definition.app.arn}", network_configuration: { security_groups: ["${aws_security_group.svc.id}"] } } },
      aws_rds_cluster: { db: { ...meta("fx/data/aurora"), engine: "aurora-postgresql", engine_version: "16.6", vpc_security_group_ids: ["${aws_security_group.db.id}"], serverlessv2_scaling_configuration: { min_capacity: 0.5, max_capacity: 2 } } },
      aws_vpc_security_group_ingress_rule: {
        https0: { ...meta("fx/security/alb-https-0"), security_group_id: "${aws_security_group.alb.id}", cidr_ipv4: "203.0.113.0/24", from_port: 443, to_port: 443, ip_protocol: "tcp" },
        http0: { ...meta("fx/security/alb-http-0"), security_group_id: "${aws_security_group.alb.id}", cidr_ipv4: "203.0.113.0/24", from_port: 80, to_port: 80, ip_protocol: "tcp" },
        https1: { ...meta("fx/security/alb-https-1"), security_group_id: "${aws_security_group.alb.id}", cidr_ipv4: "198.51.100.0/24", from_port: 443, to_port: 443, ip_protocol: "tcp" },
        app: { ...meta("fx/security/app-from-alb"), security_group_id: "${aws_security_group.svc.id}", referenced_security_group_id: "${aws_security_group.alb.id}", from_port: 8080, to_port: 8080, ip_protocol: "tcp" },
      },
      aws_security_group_rule: { db: { ...meta("fx/security/db-from-app"), type: "ingress", security_group_id: "${aws_security_group.db.id}", source_security_group_id: "${aws_security_group.svc.id}", from_port: 5432, to_port: 5432, protocol: "tcp" } },
    },
  });

  it("turns ingress rules into one edge per source and target, CIDRs grouped, ports joined, owners named by what uses each group", () => {
    expect(securityGroupEdges(stack).map((e) => `${e.from.id} -> ${e.to.id} [${e.ports}] ${e.to.text}`)).toEqual([
      "alb -> svc_app [8080] ECS app<br/>1 × 0.5 vCPU / 1 GB, X86_64",
      "cidr_198_51_100_0_24_203_0_113_0_24 -> alb [80, 443] ALB (internet-facing)",
      "svc_app -> aurora [5432] Aurora aurora-postgresql 16.6<br/>0 × Serverless v2, 0.5–2 ACU",
    ]);
  });

  it("finds layers from construct paths and the references between them", () => {
    expect(layerGraph(stack.json)).toEqual({
      layers: [["compute", 3], ["data", 1], ["security", 8]],
      edges: [["compute", "security"], ["data", "security"]],
    });
  });

  it("reads container names and literal environment from the jsonencode'd definitions", () => {
    const [app] = containersOf(stack.json.resource.aws_ecs_task_definition.app);
    expect(app!.name).toBe("app");
    expect([...app!.env]).toEqual([["A_B", "1"]]);
  });
});
