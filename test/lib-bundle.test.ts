import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleFunction, clearBundleMemo, hashInputs } from "../lib/bundle.js";

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

describe("hashInputs", () => {
  const root = mkdtempSync(join(tmpdir(), "hash-inputs-"));
  const storeFile = "node_modules/.pnpm/pg@8.16.3/node_modules/pg/lib/index.js";
  mkdirSync(join(root, dirname(storeFile)), { recursive: true });
  writeFileSync(join(root, storeFile), "module.exports = 1;");
  mkdirSync(join(root, "functions"), { recursive: true });
  writeFileSync(join(root, "functions/a.ts"), "export const a = 1;");
  const inputs = ["functions/a.ts", storeFile];

  it("counts a project file by its content", () => {
    const before = hashInputs(inputs, undefined, root);
    writeFileSync(join(root, "functions/a.ts"), "export const a = 2;");
    expect(hashInputs(inputs, undefined, root)).not.toBe(before);
    expect(hashInputs(inputs, (i) => (i === "functions/a.ts" ? Buffer.from("export const a = 2;") : Buffer.alloc(0)), root)).toBe(hashInputs(inputs, undefined, root));
  });

  it("counts a pnpm store file by path, size and mtime, without reading it", () => {
    const before = hashInputs(inputs, undefined, root);
    const read: string[] = [];
    hashInputs(inputs, (i) => (read.push(i), readFileSync(join(root, i))), root);
    expect(read).toEqual(["functions/a.ts"]);
    // An edit in place changes the size or the mtime.
    writeFileSync(join(root, storeFile), "module.exports = 22;");
    expect(hashInputs(inputs, undefined, root)).not.toBe(before);
    const edited = hashInputs(inputs, undefined, root);
    utimesSync(join(root, storeFile), new Date(1_000_000), new Date(1_000_000));
    expect(hashInputs(inputs, undefined, root)).not.toBe(edited);
    // Another version of the package is another path, even with the same bytes and mtime.
    const other = storeFile.replace("8.16.3", "8.16.4");
    mkdirSync(join(root, dirname(other)), { recursive: true });
    writeFileSync(join(root, other), readFileSync(join(root, storeFile)));
    utimesSync(join(root, other), new Date(1_000_000), new Date(1_000_000));
    expect(hashInputs(["functions/a.ts", other], () => Buffer.alloc(0), root)).not.toBe(
      hashInputs(inputs, () => Buffer.alloc(0), root),
    );
  });
});
