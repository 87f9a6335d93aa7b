/**
 * `cdktf synth --hcl` formats every stack with `@cdktf/hcl-tools`, a Go program compiled to WASM.
 * Go's runtime arms its own timers (GC, scavenger: 1–3.5 s) through `setTimeout`, which kept the
 * CLI alive for seconds after its work was done. `patches/@cdktf__hcl-tools@0.21.0.patch` unrefs
 * those timers. This checks the effect structurally (no timing): once `format` has answered,
 * nothing Go scheduled keeps the process alive, and formatting still works.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const cliDir = createRequire(import.meta.url).resolve("cdktf-cli/package.json");

/** Runs `format` in a fresh Node process and reports its result and what keeps the loop alive afterwards. */
function formatInChild(): { formatted: string; alive: string[] } {
  const script = `
    const tools = require("module").createRequire(${JSON.stringify(cliDir)})("@cdktf/hcl-tools");
    const block = (i) => 'resource "a" "b' + i + '" {\\nx = 1\\nlonger_name = "v"\\n}\\n';
    // A stack-sized input (~150 KB): enough work for Go's runtime to arm its GC timers.
    const big = Array.from({ length: 3000 }, (_, i) => block(i)).join("");
    tools.format(big).then(() => tools.format(block(0))).then((formatted) => {
      setImmediate(() => {
        const alive = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap");
        process.stdout.write(JSON.stringify({ formatted, alive }));
      });
    });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000 })) as { formatted: string; alive: string[] };
}

describe("the HCL formatter of the cdktf CLI", () => {
  const { formatted, alive } = formatInChild();

  it("still formats as terraform fmt does (aligned equals, two-space indent)", () => {
    expect(formatted).toBe('resource "a" "b0" {\n  x           = 1\n  longer_name = "v"\n}\n');
  });

  it("leaves no timer of Go's runtime holding the process once format has answered", () => {
    expect(alive).not.toContain("Timeout");
  });
});
