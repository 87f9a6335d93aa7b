import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleFunction, clearBundleMemo } from "../lib/bundle.js";

describe("bundleFunction", () => {
  const outRoot = mkdtempSync(join(tmpdir(), "bundle-"));
  const props = { pkg: "provisioning", entry: "src/producer.ts", external: ["@aws-sdk/*"], outRoot };

  it("reuses an unchanged build across processes, with the same hash", () => {
    const first = bundleFunction(props);
    const manifest = JSON.parse(readFileSync(`${first.dir}.inputs.json`, "utf8"));
    expect(manifest.inputs).toContain("functions/provisioning/src/producer.ts");
    clearBundleMemo();
    const again = bundleFunction(props);
    expect(again.sha256).toBe(first.sha256);
    expect(readFileSync(again.zip).equals(readFileSync(first.zip))).toBe(true);
  });

  it("rebuilds when an input's recorded hash no longer matches", () => {
    const first = bundleFunction(props);
    const manifestPath = `${first.dir}.inputs.json`;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, inputsHash: "stale" }));
    clearBundleMemo();
    bundleFunction(props);
    expect(JSON.parse(readFileSync(manifestPath, "utf8")).inputsHash).not.toBe("stale");
  });

  it("rebuilds when the output was tampered with", () => {
    const first = bundleFunction(props);
    writeFileSync(first.file, "tampered");
    clearBundleMemo();
    const again = bundleFunction(props);
    expect(readFileSync(again.file, "utf8")).not.toBe("tampered");
    expect(again.sha256).toBe(first.sha256);
  });
});
