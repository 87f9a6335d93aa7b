/**
 * Two synths in a row write byte-identical files, in both modes (JSON, and HCL
 * as `pnpm synth` formats it). Runs on buildApp() and on the hostile fixture.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { buildHostileApp } from "./fixtures/hostile-stack.js";
import { type AppFactory, type SynthOutput, synthHcl, synthJson } from "./support/hcl-gate.js";

const buildApp: AppFactory | undefined = existsSync(new URL("../stacks/app.ts", import.meta.url))
  ? ((await import("../stacks/app.js")) as { buildApp: AppFactory }).buildApp
  : undefined;

/** Every file under the outdir, by relative path. */
function files(out: SynthOutput): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else result[relative(out.outdir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(out.outdir);
  return result;
}

async function twice(synth: () => SynthOutput | Promise<SynthOutput>): Promise<[Record<string, string>, Record<string, string>]> {
  const a = await synth();
  const b = await synth();
  try {
    return [files(a), files(b)];
  } finally {
    a.cleanup();
    b.cleanup();
  }
}

const apps: [string, AppFactory][] = [["hostile fixture", buildHostileApp]];
if (buildApp) apps.unshift(["buildApp()", buildApp]);

describe.each(apps)("%s", (_name, factory) => {
  it("JSON synth is byte-identical twice in a row", async () => {
    const [a, b] = await twice(() => synthJson(factory));
    expect(Object.keys(a).length).toBeGreaterThan(1);
    expect(b).toEqual(a);
  });

  it("HCL synth (formatted like the CLI) is byte-identical twice in a row", async () => {
    const [a, b] = await twice(() => synthHcl(factory));
    expect(Object.keys(a).some((f) => f.endsWith("cdk.tf"))).toBe(true);
    expect(b).toEqual(a);
  });
});
