/**
 * The optional Cloudflare DNS stacks (issue 13, part 4): `<env>-dns-validation` and `<env>-dns`.
 * What they read through remote state is exactly what the other stacks export; the manifest orders
 * certificate → dns-validation → env → dns and nothing else; validation records are never proxied;
 * no token and no Cloudflare provider reach the AWS stacks; bad DNS config is refused at synth.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { App } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../envs/index.js";
import { parseEnv, type EnvConfig } from "../envs/schema.js";
import { crossEnvProblems } from "../envs/cross-env.js";
import { inZone, uncoveredCloudflareRanges } from "../envs/dns-checks.js";
import { CLOUDFLARE_IPV4_RANGES } from "../lib/cloudflare-ips.js";
import { contains, parseCidr, type Cidr } from "../lib/cidr.js";
import { addEnvStacks, buildApp } from "../stacks/app.js";
import { baseEnvInput, followRename, refusal, type Json } from "./support/synth.js";

// ---------------------------------------------------------------------------------------------
// Helpers: synthesize an app into a temp dir and read every stack's JSON and the manifest
// ---------------------------------------------------------------------------------------------

interface Synth {
  readonly outdir: string;
  readonly stacks: Record<string, Json>;
  /** Stack → the stacks it depends on, from manifest.json (what `cdktf deploy` orders by). */
  readonly dependencies: Record<string, string[]>;
}

function synthApp(build: (outdir: string) => App): Synth {
  const outdir = mkdtempSync(join(tmpdir(), "dns-test-"));
  build(outdir).synth();
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, { synthesizedStackPath: string; dependencies: string[] }> };
  const stacks: Record<string, Json> = {};
  const dependencies: Record<string, string[]> = {};
  for (const [name, s] of Object.entries(manifest.stacks)) {
    stacks[name] = JSON.parse(readFileSync(join(outdir, s.synthesizedStackPath), "utf8")) as Json;
    dependencies[name] = [...s.dependencies].sort();
  }
  return { outdir, stacks, dependencies };
}

/** Every file under `dir`, by relative path. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What a stack reads through `terraform_remote_state`: per data source, the state key and the output names referenced. */
function remoteReads(stack: Json): { id: string; config: Json; outputs: string[] }[] {
  const text = JSON.stringify(stack);
  return Object.entries((stack.data?.terraform_remote_state ?? {}) as Record<string, Json>).map(([id, d]) => {
    const re = new RegExp(`data\\.terraform_remote_state\\.${escapeRe(id)}\\.outputs\\.([A-Za-z0-9_-]+)`, "g");
    return { id, config: d.config as Json, outputs: [...new Set([...text.matchAll(re)].map((m) => m[1]!))].sort() };
  });
}

/**
 * Every remote-state read of `stacks` that does not meet an export: a state key no stack writes,
 * an output the producing stack does not declare, or backend settings that differ from the
 * producer's own (so the read would look in another store). Empty when everything lines up.
 */
function remoteStateProblems(stacks: Record<string, Json>): string[] {
  const problems: string[] = [];
  const byKey = new Map(Object.entries(stacks).map(([name, s]) => [s.terraform?.backend?.s3?.key as string | undefined, name]));
  for (const [name, stack] of Object.entries(stacks)) {
    for (const read of remoteReads(stack)) {
      const producer = byKey.get(read.config.key as string);
      if (!producer) {
        problems.push(`${name}: remote state "${read.id}" reads key ${String(read.config.key)}, which no stack writes`);
        continue;
      }
      const { use_lockfile: _lock, ...backend } = stacks[producer]!.terraform.backend.s3 as Json;
      if (JSON.stringify(read.config) !== JSON.stringify(backend)) problems.push(`${name}: remote state "${read.id}" has settings ${JSON.stringify(read.config)}, but ${producer} keeps its state with ${JSON.stringify(backend)}`);
      for (const output of read.outputs) {
        if (!(output in (stacks[producer]!.output ?? {}))) problems.push(`${name}: reads output "${output}" of ${producer}, which ${producer} does not export`);
      }
    }
  }
  return problems;
}

/** Cloudflare `proxied` of a DNS stack's records, by logical name. */
const records = (stack: Json) => Object.entries((stack.resource?.cloudflare_dns_record ?? {}) as Record<string, Json>);

// ---------------------------------------------------------------------------------------------
// The app `pnpm synth` writes (nonprod configures Cloudflare; prod and sandbox do not)
// ---------------------------------------------------------------------------------------------

const TOKEN_SENTINEL = "cf-token-sentinel-7d1e9b0c4a";
const savedToken = process.env.CLOUDFLARE_API_TOKEN;
// A token in the environment of the synth must never end up in what it writes.
process.env.CLOUDFLARE_API_TOKEN = TOKEN_SENTINEL;
const real = synthApp((outdir) => buildApp({ outdir, hclOutput: false }));
if (savedToken === undefined) delete process.env.CLOUDFLARE_API_TOKEN;
else process.env.CLOUDFLARE_API_TOKEN = savedToken;
afterAll(() => rmSync(real.outdir, { recursive: true, force: true }));

const withDns = ENVIRONMENTS.filter((e) => e.dns?.cloudflare);
const withoutDns = ENVIRONMENTS.filter((e) => !e.dns?.cloudflare);
const dnsStackNames = withDns.flatMap((e) => [`${e.name}-dns-validation`, `${e.name}-dns`]);
const awsStackNames = Object.keys(real.stacks).filter((n) => !dnsStackNames.includes(n));

describe("the app's DNS stacks", () => {
  it("nonprod configures Cloudflare (its zone holds the hostname); prod and sandbox do not, and get no DNS stack", () => {
    expect(withDns.map((e) => e.name)).toEqual(["nonprod"]);
    const nonprod = withDns[0]!;
    expect(nonprod.dns!.cloudflare.zoneName).toBe("oremuslabs.app");
    expect(inZone(nonprod.hostname, nonprod.dns!.cloudflare.zoneName)).toBe(true);
    expect(Object.keys(real.stacks).filter((n) => /-dns(-validation)?$/.test(n)).sort()).toEqual([...dnsStackNames].sort());
    for (const env of withoutDns) {
      expect(real.stacks[`${env.name}-dns`], env.name).toBeUndefined();
      expect(real.stacks[`${env.name}-dns-validation`], env.name).toBeUndefined();
    }
  });

  it("read exactly the outputs the certificate and env stacks export (every remote-state read of the app lines up)", () => {
    expect(remoteStateProblems(real.stacks)).toEqual([]);
    for (const env of withDns) {
      const validation = remoteReads(real.stacks[`${env.name}-dns-validation`]!);
      expect(validation.map((r) => [r.id, r.config.key, r.outputs])).toEqual([["certificate", `open-webui/aws/${env.name}-certificate.tfstate`, ["certificate_validation_records"]]]);
      const app = remoteReads(real.stacks[`${env.name}-dns`]!);
      expect(app.map((r) => [r.id, r.config.key, r.outputs])).toEqual([["platform", env.stateKey, ["alb_dns_name"]]]);
      // The outputs read are the named ones, with the values the DNS records need.
      expect(real.stacks[`${env.name}-certificate`]!.output.certificate_validation_records.value).toMatch(/^\$\{tolist\(aws_acm_certificate\.[\w]+\.domain_validation_options\)\}$/);
      expect(real.stacks[env.name]!.output.alb_dns_name.value).toMatch(/^\$\{aws_lb\.compute_alb_\w+\.dns_name\}$/);
    }
  });

  it("a rename on either side is caught: an output the producer no longer exports, or a reference to a name it never had", () => {
    const env = withDns[0]!;
    const renamedExport = structuredClone(real.stacks);
    const certificateOutputs = renamedExport[`${env.name}-certificate`]!.output as Json;
    certificateOutputs.validation_records = certificateOutputs.certificate_validation_records;
    delete certificateOutputs.certificate_validation_records;
    expect(remoteStateProblems(renamedExport)).toEqual([`${env.name}-dns-validation: reads output "certificate_validation_records" of ${env.name}-certificate, which ${env.name}-certificate does not export`]);

    const renamedRead = structuredClone(real.stacks);
    renamedRead[`${env.name}-dns`] = JSON.parse(JSON.stringify(renamedRead[`${env.name}-dns`]).replaceAll(".outputs.alb_dns_name", ".outputs.alb_dns")) as Json;
    expect(remoteStateProblems(renamedRead)).toEqual([`${env.name}-dns: reads output "alb_dns" of ${env.name}, which ${env.name} does not export`]);

    const otherStore = structuredClone(real.stacks);
    otherStore[`${env.name}-dns`]!.data.terraform_remote_state.platform.config.bucket = "elsewhere";
    expect(remoteStateProblems(otherStore)).toEqual([expect.stringContaining(`${env.name}-dns: remote state "platform" has settings`)]);
  });

  it("the manifest orders <env>-certificate → <env>-dns-validation → <env> → <env>-dns, and no dependency points the other way", () => {
    for (const env of withDns) {
      const order = [`${env.name}-certificate`, `${env.name}-dns-validation`, env.name, `${env.name}-dns`];
      expect(Object.fromEntries(order.map((s) => [s, real.dependencies[s]]))).toEqual({
        [`${env.name}-certificate`]: [],
        [`${env.name}-dns-validation`]: [`${env.name}-certificate`],
        [env.name]: [`${env.name}-certificate`, `${env.name}-dns-validation`].sort(),
        [`${env.name}-dns`]: [env.name],
      });
      // Each stack depends on the one before it, so the order above is the only one cdktf can deploy in.
      order.slice(1).forEach((s, i) => expect(real.dependencies[s], s).toContain(order[i]));
      // No stack of the app depends on a later stack of this chain (or on a stack outside the app).
      for (const [stack, deps] of Object.entries(real.dependencies)) {
        for (const dep of deps) {
          expect(Object.keys(real.stacks), `${stack} → ${dep}`).toContain(dep);
          if (order.includes(stack) && order.includes(dep)) expect(order.indexOf(dep), `${stack} → ${dep}`).toBeLessThan(order.indexOf(stack));
          if (!order.includes(stack)) expect(order, `${stack} → ${dep}`).not.toContain(dep);
        }
      }
    }
  });

  it("with Cloudflare off the order stays <env>-certificate → <env> (records by hand)", () => {
    for (const env of withoutDns) {
      expect(real.dependencies[env.name], env.name).toEqual([`${env.name}-certificate`]);
      expect(real.dependencies[`${env.name}-certificate`], env.name).toEqual([]);
    }
  });

  it("writes the validation records never proxied, from the certificate's output, one per domain", () => {
    for (const env of withDns) {
      const stack = real.stacks[`${env.name}-dns-validation`]!;
      const [[, record], ...rest] = records(stack) as [[string, Json], ...[string, Json][]];
      expect(rest).toEqual([]);
      expect(record).toMatchObject({
        for_each: "${{ for key, val in data.terraform_remote_state.certificate.outputs.certificate_validation_records: val.domain_name => val }}",
        zone_id: env.dns!.cloudflare.zoneId,
        name: '${trimsuffix(each.value.resource_record_name, ".")}',
        type: "${each.value.resource_record_type}",
        content: '${trimsuffix(each.value.resource_record_value, ".")}',
        proxied: false,
        ttl: 1,
      });
    }
  });

  it("writes the app's CNAME to the ALB's DNS name, proxied as configured", () => {
    for (const env of withDns) {
      const app = records(real.stacks[`${env.name}-dns`]!);
      expect(app.map(([, r]) => ({ ...r, "//": undefined }))).toEqual([
        {
          "//": undefined,
          zone_id: env.dns!.cloudflare.zoneId,
          name: env.hostname,
          type: "CNAME",
          content: "${data.terraform_remote_state.platform.outputs.alb_dns_name}",
          proxied: env.dns!.cloudflare.proxied,
          ttl: 1,
          comment: `Open WebUI; managed by cdktf stack ${env.name}-dns`,
        },
      ]);
    }
  });

  it("keeps each DNS stack's state beside the env's, in the same store", () => {
    for (const env of withDns) {
      const envBackend = real.stacks[env.name]!.terraform.backend.s3 as Json;
      for (const [stack, key] of [[`${env.name}-dns-validation`, `open-webui/aws/${env.name}-dns-validation.tfstate`], [`${env.name}-dns`, `open-webui/aws/${env.name}-dns.tfstate`]] as const) {
        expect(real.stacks[stack]!.terraform.backend.s3, stack).toEqual({ ...envBackend, key });
      }
    }
  });

  it("only the DNS stacks have the Cloudflare provider, and they have no AWS provider", () => {
    expect(awsStackNames.length).toBeGreaterThan(dnsStackNames.length);
    for (const name of awsStackNames) {
      const text = JSON.stringify(real.stacks[name]);
      expect(real.stacks[name]!.provider?.cloudflare, name).toBeUndefined();
      expect(real.stacks[name]!.terraform?.required_providers?.cloudflare, name).toBeUndefined();
      expect(text, name).not.toMatch(/cloudflare_/);
    }
    for (const name of dnsStackNames) {
      const stack = real.stacks[name]!;
      expect(Object.keys(stack.provider), name).toEqual(["cloudflare"]);
      expect(Object.keys(stack.terraform.required_providers), name).toEqual(["cloudflare"]);
      // Provider v5 (13.9.1 of the prebuilt package wraps cloudflare/cloudflare 5.14.0): cloudflare_dns_record exists only from v5 on.
      expect(stack.terraform.required_providers.cloudflare).toEqual({ source: "cloudflare/cloudflare", version: "5.14.0" });
      expect(Object.keys(stack.resource ?? {}), name).toEqual(["cloudflare_dns_record"]);
    }
  });

  it("puts no token anywhere: an empty provider block, and a token in the synth's environment appears in no file", () => {
    for (const name of dnsStackNames) expect(real.stacks[name]!.provider.cloudflare, name).toEqual([{}]);
    const files = filesUnder(real.outdir);
    expect(Object.keys(files).length).toBeGreaterThan(Object.keys(real.stacks).length);
    for (const [file, text] of Object.entries(files)) {
      expect(text, file).not.toContain(TOKEN_SENTINEL);
      expect(text, file).not.toMatch(/api_token|api_key|CLOUDFLARE_API_TOKEN|api_user_service_key/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A proxied env (its ALB admits Cloudflare's ranges), built with the same wiring as buildApp
// ---------------------------------------------------------------------------------------------

const ZONE_ID = "0123456789abcdef0123456789abcdef";

function proxiedEnv(): EnvConfig {
  const raw = structuredClone(baseEnvInput()) as any;
  raw.security.albIngressCidrs = ["198.51.100.0/24", ...CLOUDFLARE_IPV4_RANGES];
  raw.dns = { cloudflare: { zoneId: ZONE_ID, zoneName: "example.com", proxied: true } };
  return parseEnv(raw);
}

describe("a proxied env", () => {
  const env = proxiedEnv();
  const synth = synthApp((outdir) => {
    const app = new App({ outdir, hclOutput: false, skipValidation: false });
    addEnvStacks(app, env);
    return app;
  });
  afterAll(() => rmSync(synth.outdir, { recursive: true, force: true }));

  it("proxies the app's record and still never the validation records", () => {
    expect(records(synth.stacks["test-dns"]!).map(([, r]) => [r.name, r.proxied, r.ttl])).toEqual([["owui-test.example.com", true, 1]]);
    expect(records(synth.stacks["test-dns-validation"]!).map(([, r]) => r.proxied)).toEqual([false]);
    expect(synth.stacks["test-dns"]!.output.app_record_proxied).toEqual({ value: true, description: expect.stringContaining("Full (strict)") });
  });

  it("has the same four stacks, order and remote-state agreement as the app's Cloudflare env", () => {
    expect(synth.dependencies).toEqual({ "test-certificate": [], "test-dns-validation": ["test-certificate"], test: ["test-certificate", "test-dns-validation"], "test-dns": ["test"] });
    expect(remoteStateProblems(synth.stacks)).toEqual([]);
  });

  it("admits every Cloudflare range on the ALB's security group (443 and the 80 redirect)", () => {
    const rules = Object.values((synth.stacks.test!.resource.aws_vpc_security_group_ingress_rule ?? {}) as Record<string, Json>).map((r) => `${String(r.cidr_ipv4)}:${String(r.from_port)}`);
    for (const range of CLOUDFLARE_IPV4_RANGES) {
      expect(rules, range).toContain(`${range}:443`);
      expect(rules, range).toContain(`${range}:80`);
    }
  });
});

describe("without Cloudflare", () => {
  it("addEnvStacks adds only the certificate and env stacks", () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), "dns-off-")) });
    const stacks = addEnvStacks(app, parseEnv(baseEnvInput()));
    expect(stacks.dnsValidation).toBeUndefined();
    expect(stacks.dns).toBeUndefined();
    expect(app.node.children.map((c) => c.node.id).sort()).toEqual(["test", "test-certificate"]);
    rmSync(app.outdir, { recursive: true, force: true });
  });
});

describe("cross-env collisions with the DNS stacks (envs/cross-env.ts)", () => {
  const named = (name: string, vpcCidr: string, withDns: boolean) => {
    const raw = structuredClone(baseEnvInput()) as any;
    raw.name = name;
    raw.hostname = `owui-${name}.example.com`;
    raw.network.vpcCidr = vpcCidr;
    if (withDns) raw.dns = { cloudflare: { zoneId: ZONE_ID, zoneName: "example.com" } };
    return parseEnv(followRename(raw));
  };

  it("refuses an env whose name is another env's DNS stack (one stack id, one state key)", () => {
    const messages = crossEnvProblems([named("alpha", "10.10.0.0/16", true), named("alpha-dns", "10.20.0.0/16", false)]).map((e) => e.message);
    expect(messages).toEqual([
      expect.stringMatching(/^alpha-dns: name: "alpha-dns" gives a stack the id "alpha-dns", which env "alpha" already uses/),
      expect.stringMatching(/^alpha-dns: state: stack "alpha-dns" keeps its state at .*\/alpha-dns\.tfstate, where env "alpha"'s stack "alpha-dns" keeps its own/),
    ]);
  });

  it("accepts the same pair when the first env has no DNS stacks", () => {
    expect(crossEnvProblems([named("alpha", "10.10.0.0/16", false), named("alpha-dns", "10.20.0.0/16", false)])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Refusals at synth (path, bad value, fix) and what is accepted
// ---------------------------------------------------------------------------------------------

const dns = (cloudflare: Record<string, unknown>) => (r: any) => (r.dns = { cloudflare });

describe("dns.cloudflare refusals", () => {
  it("a missing zone id", () => {
    const message = refusal(dns({ zoneName: "example.com" }));
    expect(message).toMatch(/test: dns\.cloudflare\.zoneId: expected string, got nothing \(the field is missing\)\. Fix: copy the zone's id from the Cloudflare dashboard \(the zone's Overview page, API section, "Zone ID"\): 32 lower-case hex characters/);
  });

  it("a zone id that is not one (an empty string, the zone's name, upper case)", () => {
    expect(refusal(dns({ zoneId: "", zoneName: "example.com" }))).toMatch(/dns\.cloudflare\.zoneId: "" is not a Cloudflare zone id\. Fix: copy the zone's id/);
    expect(refusal(dns({ zoneId: "example.com", zoneName: "example.com" }))).toMatch(/dns\.cloudflare\.zoneId: "example\.com" is not a Cloudflare zone id/);
    expect(refusal(dns({ zoneId: ZONE_ID.toUpperCase(), zoneName: "example.com" }))).toMatch(/"0123456789ABCDEF0123456789ABCDEF" is not a Cloudflare zone id/);
  });

  it("a record name (the hostname) outside the zone", () => {
    const message = refusal(dns({ zoneId: ZONE_ID, zoneName: "example.org" }));
    expect(message).toMatch(
      /test: hostname: "owui-test\.example\.com" lies outside the Cloudflare zone "example\.org" \(dns\.cloudflare\.zoneName\), so neither the app's record nor the certificate's validation records can be written there\. Fix: use a hostname under example\.org, e\.g\. "owui-test\.example\.org", or set dns\.cloudflare\.zoneName and zoneId to the zone that holds "owui-test\.example\.com"/,
    );
    // A zone that merely ends with the same letters is another zone.
    expect(refusal(dns({ zoneId: ZONE_ID, zoneName: "ple.com" }))).toMatch(/lies outside the Cloudflare zone "ple\.com"/);
    expect(refusal(dns({ zoneId: ZONE_ID, zoneName: "test.example.com" }))).toMatch(/lies outside the Cloudflare zone "test\.example\.com"/);
  });

  it("proxied while the ALB admits none or only some of Cloudflare's ranges", () => {
    const none = refusal(dns({ zoneId: ZONE_ID, zoneName: "example.com", proxied: true }));
    expect(none).toMatch(
      /test: dns\.cloudflare\.proxied: is true, but security\.albIngressCidrs does not admit 15 of Cloudflare's 15 published IPv4 ranges \(173\.245\.48\.0\/20, 103\.21\.244\.0\/22, .*131\.0\.72\.0\/22\); a proxied record makes every request reach the ALB from Cloudflare's addresses, and its security group would drop them\. Fix: add the missing ranges to security\.albIngressCidrs \(the list in lib\/cloudflare-ips\.ts, from https:\/\/www\.cloudflare\.com\/ips-v4 as of \d{4}-\d{2}-\d{2}\), or set proxied to false/,
    );
    const some = refusal((r) => {
      r.security.albIngressCidrs = ["198.51.100.0/24", ...CLOUDFLARE_IPV4_RANGES.filter((c) => c !== "131.0.72.0/22" && c !== "104.24.0.0/14")];
      dns({ zoneId: ZONE_ID, zoneName: "example.com", proxied: true })(r);
    });
    expect(some).toMatch(/does not admit 2 of Cloudflare's 15 published IPv4 ranges \(104\.24\.0\.0\/14, 131\.0\.72\.0\/22\)/);
  });

  it("unknown keys and a malformed zone name", () => {
    expect(refusal(dns({ zoneId: ZONE_ID, zoneName: "example.com", apiToken: "x" }))).toMatch(/dns\.cloudflare: unknown key "apiToken"\. Fix: remove it/);
    expect(refusal(dns({ zoneId: ZONE_ID, zoneName: "Example.com." }))).toMatch(/dns\.cloudflare\.zoneName: "Example\.com\." is not a DNS zone name\. Fix: the zone as Cloudflare lists it/);
  });
});

describe("dns.cloudflare accepted", () => {
  const accepted = (patch: (r: any) => void) => {
    const raw = structuredClone(baseEnvInput()) as any;
    patch(raw);
    return parseEnv(followRename(raw));
  };

  it("absent by default (no DNS stacks)", () => {
    expect(parseEnv(baseEnvInput()).dns).toBeUndefined();
  });

  it("DNS only by default, at the apex or under the zone", () => {
    expect(accepted(dns({ zoneId: ZONE_ID, zoneName: "example.com" })).dns).toEqual({ cloudflare: { zoneId: ZONE_ID, zoneName: "example.com", proxied: false } });
    expect(accepted((r) => {
      r.hostname = "example.com";
      dns({ zoneId: ZONE_ID, zoneName: "example.com" })(r);
    }).hostname).toBe("example.com");
  });

  it("proxied when a wider CIDR admits the ranges", () => {
    const env = accepted((r) => {
      r.security.albIngressCidrs = ["0.0.0.0/0"];
      dns({ zoneId: ZONE_ID, zoneName: "example.com", proxied: true })(r);
    });
    expect(env.dns!.cloudflare.proxied).toBe(true);
    expect(uncoveredCloudflareRanges(["0.0.0.0/0"])).toEqual([]);
  });
});

describe("lib/cloudflare-ips.ts", () => {
  it("holds 15 distinct, disjoint, public IPv4 networks", () => {
    const parsed = CLOUDFLARE_IPV4_RANGES.map((c) => parseCidr(c));
    expect(parsed.every((p) => typeof p !== "string")).toBe(true);
    const cidrs = parsed as Cidr[];
    expect(CLOUDFLARE_IPV4_RANGES).toHaveLength(15);
    cidrs.forEach((a, i) => cidrs.forEach((b, j) => i !== j && expect(contains(a, b), `${CLOUDFLARE_IPV4_RANGES[i]} ⊇ ${CLOUDFLARE_IPV4_RANGES[j]}`).toBe(false)));
    const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((c) => parseCidr(c) as Cidr);
    for (const c of cidrs) expect(privateRanges.some((p) => contains(p, c))).toBe(false);
  });
});
