/**
 * `pnpm ops diagram`: the architecture as Mermaid, rendered from the synthesized stacks only (their
 * Terraform JSON, construct-path metadata and the manifest's dependencies), never from a hand-kept
 * list. Deterministic: every list is sorted, nothing depends on time or on the machine.
 *
 * - **Stacks** and their manifest dependencies.
 * - Per env stack: **layers** (the second segment of each resource's construct path, `<env>/<layer>/…`)
 *   with the references between them; **services and data stores** with every security-group edge
 *   (`aws_vpc_security_group_ingress_rule` / `aws_security_group_rule` between groups, or from CIDRs);
 *   and the **request, sign-in and provisioning paths**, read from the ALB's rules, the task
 *   definitions' environment and the functions' triggers.
 */
import { ecsServicesOf, type Json, type SynthesizedApp, type SynthesizedStack } from "./stack.js";

export const ARCHITECTURE_PATH = "docs/architecture.md";

const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();
/** A Mermaid node id. */
export const nodeId = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");
/** A Mermaid label, quoted. */
const label = (s: string) => `"${s.replace(/"/g, "#quot;")}"`;
const pathOf = (r: Json) => String(r["//"]?.metadata?.path ?? "");
const layerOf = (r: Json) => pathOf(r).split("/")[1] ?? "(root)";
const refTarget = (ref: unknown): string | undefined => /\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\./.exec(String(ref))?.[1];
const resources = (json: Json, type: string): [string, Json][] => (Object.entries(json.resource?.[type] ?? {}) as [string, Json][]).sort(byKey(([k]) => k));

// ---------------------------------------------------------------------------------------------
// Stacks
// ---------------------------------------------------------------------------------------------

export function stacksDiagram(app: SynthesizedApp): string {
  const stacks = [...app.stacks.values()].sort(byKey((s) => s.name));
  const lines = ["flowchart LR"];
  for (const s of stacks) {
    const count = Object.values(s.json.resource ?? {}).reduce((n: number, t) => n + Object.keys(t as object).length, 0);
    lines.push(`  ${nodeId(s.name)}[${label(`${s.name}<br/>${count} resources`)}]`);
  }
  for (const s of stacks) for (const d of [...s.dependencies].sort()) lines.push(`  ${nodeId(d)} -->|deployed before| ${nodeId(s.name)}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

/** Layers (construct-path segment) with resource counts, and "A uses B" edges from references. */
export function layerGraph(json: Json): { layers: [string, number][]; edges: [string, string][] } {
  const owner = new Map<string, string>();
  const counts = new Map<string, number>();
  const items: [string, Json][] = [];
  for (const [kind, prefix] of [["resource", ""], ["data", "data."]] as const) {
    for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, Json>>)) {
      for (const [name, config] of Object.entries(byName)) {
        const layer = layerOf(config);
        owner.set(`${prefix}${type}.${name}`, layer);
        items.push([layer, config]);
        if (kind === "resource") counts.set(layer, (counts.get(layer) ?? 0) + 1);
      }
    }
  }
  const edges = new Set<string>();
  for (const [layer, config] of items) {
    const { ["//"]: _meta, ...body } = config;
    for (const m of JSON.stringify(body).matchAll(/((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\./g)) {
      const target = owner.get(m[1]!);
      // Only layers that own resources: the stack-level data sources (caller identity, partition) are no layer.
      if (target && target !== layer && counts.has(target) && counts.has(layer)) edges.add(`${layer}\u0000${target}`);
    }
  }
  return {
    layers: [...counts.entries()].sort(byKey(([l]) => l)),
    edges: [...edges].sort().map((e) => e.split("\u0000") as [string, string]),
  };
}

function layersDiagram(json: Json): string {
  const { layers, edges } = layerGraph(json);
  return ["flowchart LR", ...layers.map(([l, n]) => `  L_${nodeId(l)}[${label(`${l}<br/>${n} resources`)}]`), ...edges.map(([a, b]) => `  L_${nodeId(a)} --> L_${nodeId(b)}`)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Services, data stores and security-group edges
// ---------------------------------------------------------------------------------------------

/** The containers of a task definition: names and their literal environment (HCL `jsonencode` text). */
export function containersOf(def: Json): { name: string; env: Map<string, string> }[] {
  const text = String(def.container_definitions ?? "");
  const starts = [...text.matchAll(/\{"name" = "([a-z0-9-]+)", "image" = /g)];
  return starts.map((m, i) => {
    const body = text.slice(m.index!, starts[i + 1]?.index ?? text.length);
    const env = new Map<string, string>();
    for (const e of body.matchAll(/\{"name" = "([A-Z][A-Z0-9_]*)", "value" = ("(?:[^"\\]|\\.)*"|[^}]+)\}/g)) {
      const raw = e[2]!;
      env.set(e[1]!, raw.startsWith('"') ? raw.slice(1, -1) : raw);
    }
    return { name: m[1]!, env };
  });
}

interface Node {
  readonly id: string;
  readonly text: string;
  readonly shape: "box" | "db" | "round" | "fn";
}

const shapeOf = (n: Node) => (n.shape === "db" ? `[(${label(n.text)})]` : n.shape === "round" ? `(${label(n.text)})` : n.shape === "fn" ? `[[${label(n.text)}]]` : `[${label(n.text)}]`);

/** Who each security group belongs to, as a diagram node. */
function securityGroupOwners(stack: SynthesizedStack): Map<string, Node> {
  const json = stack.json;
  const short = (name: string) => name.replace(new RegExp(`^owui-${stack.name}-`), "");
  const claims = new Map<string, Node[]>();
  const own = (groups: unknown, node: Node) => {
    for (const g of (groups ?? []) as unknown[]) {
      const key = refTarget(g);
      if (!key) continue;
      const list = claims.get(key) ?? [];
      if (!list.some((n) => n.id === node.id)) list.push(node);
      claims.set(key, list);
    }
  };
  for (const { config: s, taskDefinition: def } of ecsServicesOf(stack)) {
    const spot = ((s.capacity_provider_strategy ?? []) as Json[]).some((c) => c.capacity_provider === "FARGATE_SPOT");
    const sidecars = containersOf(def).slice(1).map((c) => c.name);
    const size = `${s.desired_count} × ${Number(def.cpu) / 1024} vCPU / ${Number(def.memory) / 1024} GB, ${def.runtime_platform?.cpu_architecture ?? "X86_64"}${spot ? ", Spot" : ""}`;
    own(s.network_configuration?.security_groups, { id: `svc_${nodeId(short(s.name))}`, text: `ECS ${short(s.name)}${sidecars.length ? ` + ${sidecars.join(", ")}` : ""}<br/>${size}`, shape: "box" });
  }
  for (const [, c] of resources(json, "aws_rds_cluster")) {
    const sc = c.serverlessv2_scaling_configuration ?? {};
    const instances = resources(json, "aws_rds_cluster_instance").length;
    own(c.vpc_security_group_ids, { id: "aurora", text: `Aurora ${c.engine} ${c.engine_version}<br/>${instances} × Serverless v2, ${sc.min_capacity}–${sc.max_capacity} ACU`, shape: "db" });
  }
  for (const [, r] of resources(json, "aws_elasticache_replication_group")) {
    own(r.security_group_ids, { id: "redis", text: `ElastiCache ${r.engine} ${r.engine_version}<br/>${r.num_cache_clusters ?? 1} × ${r.node_type}`, shape: "db" });
  }
  for (const [, m] of resources(json, "aws_efs_mount_target")) {
    const fs = resources(json, "aws_efs_file_system")[0]?.[1] ?? {};
    own(m.security_groups, { id: "efs", text: `EFS (${fs.throughput_mode ?? "bursting"})`, shape: "db" });
  }
  for (const [, lb] of resources(json, "aws_lb")) {
    const waf = resources(json, "aws_wafv2_web_acl_association").length > 0;
    own(lb.security_groups, { id: "alb", text: `ALB (${lb.internal ? "internal" : "internet-facing"})${waf ? "<br/>WAF web ACL" : ""}`, shape: "box" });
  }
  for (const [, fn] of resources(json, "aws_lambda_function")) {
    own(fn.vpc_config?.security_group_ids, { id: `fn_${nodeId(short(String(fn.function_name)))}`, text: `λ ${short(String(fn.function_name))}`, shape: "fn" });
  }
  const endpoints = resources(json, "aws_vpc_endpoint").filter(([, e]) => e.vpc_endpoint_type === "Interface");
  for (const [, e] of endpoints) own(e.security_group_ids, { id: "endpoints", text: `${endpoints.length} interface endpoints`, shape: "box" });
  // One node per group: a group several resources share (a client group of several functions) joins
  // their names; a group nothing above uses is named by the group.
  const owners = new Map<string, Node>();
  for (const [name, g] of resources(json, "aws_security_group")) {
    const key = `aws_security_group.${name}`;
    const list = (claims.get(key) ?? []).sort(byKey((n) => n.id));
    const group = short(String(g.name ?? (pathOf(g).split("/").slice(2).join("-") || name)));
    if (list.length === 1) owners.set(key, list[0]!);
    else if (list.length > 1) owners.set(key, { id: `sg_${nodeId(group)}`, text: list.map((n) => n.text).join("<br/>"), shape: list[0]!.shape });
    else owners.set(key, { id: `sg_${nodeId(group)}`, text: `security group ${group}`, shape: "box" });
  }
  return owners;
}

export interface SgEdge {
  readonly from: Node;
  readonly to: Node;
  readonly ports: string;
}

const portText = (r: Json) => {
  const proto = String(r.ip_protocol ?? r.protocol ?? "tcp");
  if (proto === "-1") return "all";
  return r.from_port === r.to_port ? `${r.from_port}` : `${r.from_port}-${r.to_port}`;
};

/** Every ingress edge between security groups (or from CIDRs), one per (source, target), ports joined. */
export function securityGroupEdges(stack: SynthesizedStack): SgEdge[] {
  const json = stack.json;
  const owners = securityGroupOwners(stack);
  const grouped = new Map<string, { from: Node; to: Node; ports: Set<string> }>();
  const edge = (from: Node | undefined, to: Node | undefined, port: string) => {
    if (!from || !to) return;
    const key = `${from.id}\u0000${to.id}`;
    const hit = grouped.get(key) ?? { from, to, ports: new Set<string>() };
    hit.ports.add(port);
    grouped.set(key, hit);
  };
  const cidrNode = (cidrs: string[]): Node => ({ id: `cidr_${nodeId(cidrs.join("_"))}`, text: cidrs.join(", "), shape: "round" });
  const cidrsByTarget = new Map<string, { to: Node; cidrs: Set<string>; ports: Set<string> }>();
  const rules: Json[] = [
    ...resources(json, "aws_vpc_security_group_ingress_rule").map(([, r]) => ({ target: r.security_group_id, source: r.referenced_security_group_id, cidr: r.cidr_ipv4 ?? r.cidr_ipv6, r })),
    ...resources(json, "aws_security_group_rule").filter(([, r]) => r.type === "ingress").map(([, r]) => ({ target: r.security_group_id, source: r.source_security_group_id, cidr: (r.cidr_blocks ?? [])[0], r })),
  ];
  for (const { target, source, cidr, r } of rules) {
    const to = owners.get(refTarget(target) ?? "");
    if (!to) continue;
    if (source) edge(owners.get(refTarget(source) ?? ""), to, portText(r));
    else if (cidr) {
      const hit = cidrsByTarget.get(to.id) ?? { to, cidrs: new Set<string>(), ports: new Set<string>() };
      hit.cidrs.add(String(cidr));
      hit.ports.add(portText(r));
      cidrsByTarget.set(to.id, hit);
    }
  }
  for (const { to, cidrs, ports } of cidrsByTarget.values()) for (const p of ports) edge(cidrNode(sortedUnique(cidrs)), to, p);
  return [...grouped.values()]
    .map(({ from, to, ports }) => ({ from, to, ports: [...ports].sort((a, b) => Number.parseInt(a) - Number.parseInt(b) || (a < b ? -1 : 1)).join(", ") }))
    .sort(byKey((e) => `${e.from.id} ${e.to.id}`));
}

/** Services that invoke Bedrock: a task-role policy document under `<env>/compute/<service>/` grants bedrock:Invoke*. */
function bedrockCallers(stack: SynthesizedStack): string[] {
  const callers: string[] = [];
  for (const [, doc] of Object.entries((stack.json.data?.aws_iam_policy_document ?? {}) as Record<string, Json>)) {
    const m = /^[^/]+\/compute\/([^/]+)\/task-policy/.exec(pathOf(doc));
    if (m && /bedrock:Invoke/.test(JSON.stringify(doc.statement ?? []))) callers.push(`svc_${nodeId(m[1]!)}`);
  }
  return sortedUnique(callers);
}

function servicesDiagram(stack: SynthesizedStack, edges: readonly SgEdge[]): string {
  const nodes = new Map<string, Node>();
  for (const e of edges) {
    nodes.set(e.from.id, e.from);
    nodes.set(e.to.id, e.to);
  }
  const lines = ["flowchart LR"];
  for (const n of [...nodes.values()].sort(byKey((n) => n.id))) lines.push(`  ${n.id}${shapeOf(n)}`);
  for (const e of edges) lines.push(`  ${e.from.id} -->|${label(e.ports)}| ${e.to.id}`);
  const bedrock = bedrockCallers(stack).filter((id) => nodes.has(id));
  if (bedrock.length > 0) {
    lines.push(`  bedrock(${label("Amazon Bedrock")})`);
    for (const id of bedrock) lines.push(`  ${id} -.->|${label("HTTPS (NAT or endpoint)")}| bedrock`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/** The ALB-routed service: the one the ALB's group admits (its target group's port). */
interface RoutedService {
  readonly edge: SgEdge;
  readonly env: Map<string, string>;
  readonly containers: string[];
}

/** The routed service among a stack's security-group edges, with its task definition's containers and environment. */
function routedService(stack: SynthesizedStack, edges: readonly SgEdge[]): RoutedService | undefined {
  const edge = edges.find((e) => e.from.id === "alb" && e.to.id.startsWith("svc_"));
  if (!edge) return undefined;
  const name = edge.to.id.slice("svc_".length);
  const def = resources(stack.json, "aws_ecs_task_definition").find(([, d]) => String(d.family).endsWith(`-${name}`))?.[1] ?? {};
  const containers = containersOf(def);
  const env = new Map<string, string>();
  for (const c of containers) for (const [k, v] of c.env) env.set(k, v);
  return { edge, env, containers: containers.map((c) => c.name) };
}

const hostOf = (url: string | undefined) => (url ? (/^https?:\/\/([^/]+)/.exec(url)?.[1] ?? url) : "?");
const pathPart = (url: string | undefined) => (url ? (/^https?:\/\/[^/]+(\/[^?]*)/.exec(url)?.[1] ?? "/") : "?");

function requestPath(stack: SynthesizedStack, edges: readonly SgEdge[], routed: RoutedService | undefined): string {
  const lines = ["flowchart LR"];
  const clients = edges.find((e) => e.to.id === "alb" && e.from.id.startsWith("cidr_"));
  lines.push(`  browser(${label(`Browser${clients ? ` from ${clients.from.text}` : ""}`)})`);
  lines.push(`  alb[${label("ALB :443 (TLS)")}]`);
  lines.push(`  browser -->|${label("1. HTTPS")}| alb`);
  if (!routed) return lines.join("\n");
  const svc = routed.edge.to;
  lines.push(`  ${svc.id}${shapeOf(svc)}`);
  lines.push(`  alb -->|${label(`2. :${routed.edge.ports}`)}| ${svc.id}`);
  let step = 3;
  // What the routed service reaches (services and stores that admit its group), excluding functions.
  for (const e of edges.filter((x) => x.from.id === svc.id)) {
    lines.push(`  ${e.to.id}${shapeOf(e.to)}`);
    lines.push(`  ${svc.id} -->|${label(`${step++}. :${e.ports}`)}| ${e.to.id}`);
  }
  const bedrock = bedrockCallers(stack);
  for (const id of bedrock) {
    lines.push(`  bedrock(${label("Amazon Bedrock")})`);
    lines.push(`  ${id} -.->|${label(`${step++}. InvokeModel / Converse`)}| bedrock`);
  }
  return lines.join("\n");
}

function signInPath(routed: RoutedService | undefined): string {
  const lines = ["flowchart LR", `  browser(${label("Browser")})`, `  alb[${label("ALB")}]`, `  browser -->|${label("1. GET /")}| alb`];
  if (!routed) return lines.join("\n");
  const env = routed.env;
  if (routed.containers.includes("oauth2-proxy")) {
    const idp = hostOf(env.get("OAUTH2_PROXY_WHITELIST_DOMAINS")?.replace(/\$\{[^}]+\}/g, "<domain>"));
    lines.push(
      `  proxy[${label(`oauth2-proxy sidecar ${env.get("OAUTH2_PROXY_HTTP_ADDRESS") ?? ""}`)}]`,
      `  idp(${label(`${env.get("OAUTH2_PROXY_PROVIDER") ?? "oidc"} IdP: ${idp}`)})`,
      `  app[${label(`${routed.containers[0]} ${env.get("OAUTH2_PROXY_UPSTREAMS") ?? ""}`)}]`,
      `  alb -->|${label(`2. :${routed.edge.ports}`)}| proxy`,
      `  proxy -->|${label("3. no session: redirect to sign in")}| idp`,
      `  idp -->|${label(`4. code to ${pathPart(env.get("OAUTH2_PROXY_REDIRECT_URL"))}`)}| proxy`,
      `  proxy -->|${label(`5. verified ${env.get("WEBUI_AUTH_TRUSTED_EMAIL_HEADER") ?? "trusted header"} (client copies stripped)`)}| app`,
    );
  } else if (env.has("OPENID_PROVIDER_URL")) {
    const provider = env.get("OAUTH_PROVIDER_NAME") ?? hostOf(env.get("OPENID_PROVIDER_URL"));
    lines.push(
      `  app[${label(routed.containers[0]!)}]`,
      `  idp(${label(`${provider}: ${hostOf(env.get("OPENID_PROVIDER_URL")?.replace(/\$\{[^}]+\}/g, "<id>"))}`)})`,
      `  alb -->|${label(`2. :${routed.edge.ports}`)}| app`,
      `  app -->|${label(`3. OIDC authorize (${env.get("OAUTH_SCOPES") ?? "openid"})`)}| idp`,
      `  idp -->|${label(`4. code to ${pathPart(env.get("OPENID_REDIRECT_URI"))}`)}| app`,
      `  app -->|${label(`5. role from claim "${env.get("OAUTH_ROLES_CLAIM") ?? "-"}" (${env.get("OAUTH_ALLOWED_ROLES") ?? "any"})`)}| app`,
    );
  } else {
    lines.push(`  app[${label(routed.containers[0]!)}]`, `  alb -->|${label(`2. :${routed.edge.ports}`)}| app`);
  }
  return lines.join("\n");
}

function provisioningPath(stack: SynthesizedStack, edges: readonly SgEdge[], routed: RoutedService | undefined): string {
  const json = stack.json;
  const short = (name: string) => name.replace(new RegExp(`^owui-${stack.name}-`), "");
  const fnName = new Map(resources(json, "aws_lambda_function").map(([k, f]) => [`aws_lambda_function.${k}`, short(String(f.function_name))]));
  const lines = ["flowchart LR"];
  const app = routed?.edge.to;
  for (const [, pool] of resources(json, "aws_cognito_user_pool")) {
    for (const [trigger, ref] of Object.entries((pool.lambda_config ?? {}) as Record<string, unknown>).sort(byKey(([k]) => k))) {
      const fn = fnName.get(refTarget(ref) ?? "");
      if (fn) lines.push(`  cognito(${label("Cognito user pool")}) -->|${label(trigger)}| fn_${nodeId(fn)}[[${label(`λ ${fn}`)}]]`);
    }
  }
  const queues = new Map(resources(json, "aws_sqs_queue").map(([k, q]) => [`aws_sqs_queue.${k}`, String(q.name ?? k)]));
  const queueNode = (q: string) => `q_${nodeId(q)}[(${label(`SQS ${short(q)}`)})]`;
  // A function whose environment names a queue sends to it (the producer).
  for (const [k, f] of resources(json, "aws_lambda_function")) {
    for (const m of JSON.stringify(f.environment ?? {}).matchAll(/aws_sqs_queue\.([A-Za-z0-9_-]+)\./g)) {
      const q = queues.get(`aws_sqs_queue.${m[1]}`);
      if (q) lines.push(`  fn_${nodeId(fnName.get(`aws_lambda_function.${k}`)!)}[[${label(`λ ${fnName.get(`aws_lambda_function.${k}`)}`)}]] -->|${label("SendMessage")}| ${queueNode(q)}`);
    }
  }
  for (const [, m] of resources(json, "aws_lambda_event_source_mapping")) {
    const q = queues.get(refTarget(m.event_source_arn) ?? "");
    const fn = fnName.get(refTarget(m.function_name) ?? "");
    if (q && fn) lines.push(`  ${queueNode(q)} -->|${label("event source mapping")}| fn_${nodeId(fn)}[[${label(`λ ${fn}`)}]]`);
  }
  const rules = new Map(resources(json, "aws_cloudwatch_event_rule").map(([k, r]) => [`aws_cloudwatch_event_rule.${k}`, r]));
  for (const [, t] of resources(json, "aws_cloudwatch_event_target")) {
    const rule = rules.get(refTarget(t.rule) ?? "");
    const fn = fnName.get(refTarget(t.arn) ?? "");
    if (rule && fn && /provisioning/.test(pathOf(rule))) lines.push(`  sched_${nodeId(fn)}(${label(`schedule ${rule.schedule_expression}`)}) --> fn_${nodeId(fn)}[[${label(`λ ${fn}`)}]]`);
  }
  if (app) {
    // Functions whose security group the app's group admits call it directly, inside the VPC.
    for (const e of edges.filter((x) => x.to.id === app.id && x.from.shape === "fn")) {
      lines.push(`  ${e.from.id}${shapeOf(e.from)} -->|${label(`:${e.ports}, inside the VPC`)}| ${app.id}${shapeOf(app)}`);
    }
    if (routed?.env.get("ENABLE_SCIM") === "true" || routed?.env.get("SCIM_ENABLED") === "true") {
      lines.push(`  scim(${label(routed.env.get("OAUTH_PROVIDER_NAME") === "Microsoft" ? "Entra ID provisioning (SCIM 2.0)" : "SCIM 2.0 client")}) -->|${label("HTTPS /api/v1/scim/v2/ via the ALB, bearer SCIM token")}| ${app.id}${shapeOf(app)}`);
    }
  }
  if (lines.length === 1) lines.push(`  none(${label("no provisioning path in this stack")})`);
  return [lines[0]!, ...sortedUnique(lines.slice(1))].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

const fence = (body: string) => ["```mermaid", body, "```"].join("\n");

/** Env stacks: those that run ECS services. */
export function envStacks(app: SynthesizedApp): SynthesizedStack[] {
  return [...app.stacks.values()].filter((s) => Object.keys(s.json.resource?.aws_ecs_service ?? {}).length > 0).sort(byKey((s) => s.name));
}

export function renderArchitecture(app: SynthesizedApp): string {
  const out = [
    "# Architecture",
    "",
    "<!-- Generated by `pnpm ops diagram` from the synthesized stacks (ops/lib/diagram.ts); do not edit by hand. test/ops-diagram.test.ts fails when this file is stale. -->",
    "",
    "Rendered from the synthesized Terraform JSON of every stack: the manifest's stack dependencies, the",
    "construct paths in each resource's metadata (`<stack>/<layer>/…`), the ECS services, data stores and",
    "functions, and every security-group ingress rule. Regenerate with `pnpm ops diagram`.",
    "",
    "## Stacks",
    "",
    fence(stacksDiagram(app)),
  ];
  for (const stack of envStacks(app)) {
    // Every path is read from the security-group edges and the ALB-routed service: computed once per stack.
    const edges = securityGroupEdges(stack);
    const routed = routedService(stack, edges);
    out.push(
      "",
      `## \`${stack.name}\``,
      "",
      "### Layers",
      "",
      "Each layer is a construct (`modules/<layer>`); an arrow means the layer's resources reference the other layer's.",
      "",
      fence(layersDiagram(stack.json)),
      "",
      "### Services, data stores and security-group edges",
      "",
      "Every arrow is an ingress rule of the target's security group, labelled with its ports; round nodes are CIDR sources.",
      "",
      fence(servicesDiagram(stack, edges)),
      "",
      "### Request path",
      "",
      fence(requestPath(stack, edges, routed)),
      "",
      "### Sign-in path",
      "",
      fence(signInPath(routed)),
      "",
      "### Provisioning path",
      "",
      fence(provisioningPath(stack, edges, routed)),
    );
  }
  return `${out.join("\n")}\n`;
}
