/**
 * lib/hcl-format-cache.ts, the format cache of `pnpm synth`. The HCL gate proves the cache's answers
 * equal the real CLI's output for every stack (test/hcl-gate.test.ts, a cold and a warm run); these
 * tests pin what makes a wrong answer impossible: the key, damaged entries, and the bound.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HclFormatCache, hclToolsIdentity } from "../lib/hcl-format-cache.js";

const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A stand-in `@cdktf/hcl-tools` package folder; returns its `src/index.js`. */
function fakeHclTools(wasm: string): string {
  const pkg = tmp("hcl-tools-");
  mkdirSync(join(pkg, "src"));
  writeFileSync(join(pkg, "main.wasm.gz"), wasm);
  writeFileSync(join(pkg, "src", "index.js"), "exports.format = async (s) => s;");
  writeFileSync(join(pkg, "package.json"), '{"name":"@cdktf/hcl-tools","version":"0.21.0"}');
  return join(pkg, "src", "index.js");
}

const entries = (dir: string) => readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n));

describe("HclFormatCache", () => {
  it("answers a text it stored, and nothing else", () => {
    const dir = tmp("fmt-cache-");
    const cache = new HclFormatCache({ dir, hclToolsEntry: fakeHclTools("wasm v1") });
    expect(cache.get('a="b"')).toBeUndefined();
    cache.set('a="b"', 'a = "b"\n');
    expect(cache.get('a="b"')).toBe('a = "b"\n');
    expect(cache.get('a="b" ')).toBeUndefined();
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 1, misses: 2 });
    expect(entries(dir)).toHaveLength(1);
  });

  it("keys on the formatter's bytes: another WASM build never sees the entries of this one", () => {
    const dir = tmp("fmt-cache-");
    const v1 = fakeHclTools("wasm v1");
    new HclFormatCache({ dir, hclToolsEntry: v1 }).set("x=1", "x = 1\n");
    expect(new HclFormatCache({ dir, hclToolsEntry: fakeHclTools("wasm v2") }).get("x=1")).toBeUndefined();
    expect(new HclFormatCache({ dir, hclToolsEntry: fakeHclTools("wasm v1") }).get("x=1")).toBe("x = 1\n");
    expect(hclToolsIdentity(v1)).toBe(hclToolsIdentity(fakeHclTools("wasm v1")));
    expect(hclToolsIdentity(v1)).not.toBe(hclToolsIdentity(fakeHclTools("wasm v1 ")));
    // A patch to the JS bridge or the Go runtime shim is another formatter too.
    const patched = fakeHclTools("wasm v1");
    mkdirSync(join(dirname(dirname(patched)), "wasm"));
    writeFileSync(join(dirname(dirname(patched)), "wasm", "wasm_exec.js"), "// patched");
    expect(hclToolsIdentity(patched)).not.toBe(hclToolsIdentity(v1));
    writeFileSync(join(dirname(patched), "bridge.js"), "// bridge");
    const withBridge = hclToolsIdentity(patched);
    writeFileSync(join(dirname(patched), "bridge.js"), "// bridge, patched");
    expect(hclToolsIdentity(patched)).not.toBe(withBridge);
  });

  it("treats a damaged entry (truncated, edited) as a miss", () => {
    const dir = tmp("fmt-cache-");
    const cache = new HclFormatCache({ dir, hclToolsEntry: fakeHclTools("w") });
    cache.set("k=1", "k = 1\n");
    const [name] = entries(dir);
    const file = join(dir, name!);
    const entry = readFileSync(file, "utf8");
    writeFileSync(file, entry.slice(0, -2));
    expect(cache.get("k=1")).toBeUndefined();
    writeFileSync(file, entry.replace("k = 1", "k = 2"));
    expect(cache.get("k=1")).toBeUndefined();
    writeFileSync(file, entry);
    expect(cache.get("k=1")).toBe("k = 1\n");
  });

  it("prune keeps the newest entries and every entry this synth used", () => {
    const dir = tmp("fmt-cache-");
    const tools = fakeHclTools("w");
    const old = new HclFormatCache({ dir, hclToolsEntry: tools });
    for (let i = 0; i < 6; i++) old.set(`t${i}`, `f${i}`);
    // Ages: t0 oldest … t5 newest.
    const names = entries(dir);
    expect(names).toHaveLength(6);
    const byText = new Map([0, 1, 2, 3, 4, 5].map((i) => [i, names.find((n) => readFileSync(join(dir, n), "utf8").endsWith(`\nf${i}`))!]));
    for (const [i, n] of byText) utimesSync(join(dir, n), new Date(1_000_000 + i * 1000), new Date(1_000_000 + i * 1000));
    const cache = new HclFormatCache({ dir, hclToolsEntry: tools, maxEntries: 3 });
    expect(cache.get("t0")).toBe("f0"); // used now (and refreshed)
    cache.set("t6", "f6"); // used now
    cache.prune();
    const left = new Set(entries(dir));
    expect(left.size).toBe(3);
    expect(left.has(byText.get(0)!)).toBe(true);
    expect(left.has(byText.get(5)!)).toBe(true); // the newest one not used
    expect(left.has(byText.get(4)!)).toBe(false);
    expect(cache.get("t6")).toBe("f6");
  });

  it("prune removes the temporary files an interrupted synth left, once they are an hour old", () => {
    const dir = tmp("fmt-cache-");
    const cache = new HclFormatCache({ dir, hclToolsEntry: fakeHclTools("w") });
    cache.set("a", "b");
    const stale = join(dir, `.${"0".repeat(64)}.123.456`);
    const fresh = join(dir, `.${"1".repeat(64)}.123.789`);
    writeFileSync(stale, "half");
    writeFileSync(fresh, "half");
    utimesSync(stale, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    cache.prune();
    expect(readdirSync(dir).sort()).toEqual([...entries(dir), fresh.slice(dir.length + 1)].sort());
    expect(cache.get("a")).toBe("b");
  });

  it("an unwritable cache location (a file where the folder should be) costs nothing but the cache", () => {
    const parent = tmp("fmt-cache-");
    const dir = join(parent, "not-a-dir");
    writeFileSync(dir, "");
    const cache = new HclFormatCache({ dir, hclToolsEntry: fakeHclTools("w") });
    expect(() => cache.set("a", "b")).not.toThrow();
    expect(cache.get("a")).toBeUndefined();
    expect(() => cache.prune()).not.toThrow();
  });
});
