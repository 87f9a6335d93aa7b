/**
 * The speed parts of patches/cdktf@0.21.0.patch keep cdktf's behaviour; only the cost moves.
 *  - PATCH(lazy-stack): every token still records where it was created, and a resolution error still
 *    prints that stack, frame by frame, as upstream's captureStackTrace() did; the frames are turned
 *    into text when something reads them instead of for every token (about 0.4 s of a 3-env synth).
 *  - PATCH(lazy-archiver): `archiver` (and its stream libraries, about 0.25 s of module loading) loads
 *    only when an AssetType.ARCHIVE asset is zipped; this app ships its own zips as AssetType.FILE.
 *  - PATCH(lazy-path): resolve() joins the path it reports in its errors only when it throws one.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, AssetType, Lazy, TerraformAsset, TerraformOutput, TerraformStack, Token } from "cdktf";
import { describe, expect, it } from "vitest";

function stackWith(fill: (stack: TerraformStack) => void): App {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), "cdktf-patches-")), skipValidation: true });
  fill(new TerraformStack(app, "s"));
  return app;
}

describe("PATCH(lazy-stack)", () => {
  function makeFailingToken(): string {
    return Lazy.stringValue({
      produce: () => {
        throw new Error("boom");
      },
    });
  }

  it("a resolution error still names the token's creation stack, starting at the code that made it", () => {
    const app = stackWith((stack) => new TerraformOutput(stack, "o", { value: makeFailingToken() }));
    let message = "";
    try {
      app.synth();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("Resolution error: boom.");
    const frames = message.split("Object creation stack:\n")[1]?.split("\n") ?? [];
    expect(frames.length).toBeGreaterThan(3);
    for (const frame of frames) expect(frame).toMatch(/^ {2}at /);
    // Upstream hid captureStackTrace itself; the patch hides its own helper the same way.
    expect(frames[0]).not.toContain("defineLazyCreationStack");
    expect(frames.some((f) => f.includes("makeFailingToken"))).toBe(true);
  });

  it("creationStack is an enumerable array of frames, read and written like upstream's data property", () => {
    const token = Token.asAny(Lazy.anyValue({ produce: () => 1 })) as unknown as { creationStack: string[] };
    expect(Object.keys(token)).toContain("creationStack");
    const frames = token.creationStack;
    expect(Array.isArray(frames)).toBe(true);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((f) => typeof f === "string" && !f.startsWith("at "))).toBe(true);
    expect(token.creationStack).toBe(frames); // formatted once
    token.creationStack = ["replaced"];
    expect(token.creationStack).toEqual(["replaced"]);
  });
});

describe("PATCH(lazy-archiver)", () => {
  // cdktf zips in a child process (lib/private/fs.js runs itself as a CLI), which now loads archiver there.
  it("`require('cdktf')` does not load archiver; zipping a directory (AssetType.ARCHIVE) still works", () => {
    const script = `
      const cdktf = require("cdktf");
      const loaded = () => Object.keys(require.cache).some((p) => p.includes("/archiver/"));
      const before = loaded();
      const { mkdtempSync, writeFileSync, readdirSync } = require("node:fs");
      const { join } = require("node:path");
      const dir = mkdtempSync(join(require("node:os").tmpdir(), "zip-src-"));
      writeFileSync(join(dir, "index.js"), "exports.x = 1;");
      const out = mkdtempSync(join(require("node:os").tmpdir(), "zip-out-"));
      const app = new cdktf.App({ outdir: out, skipValidation: true });
      const stack = new cdktf.TerraformStack(app, "s");
      new cdktf.TerraformAsset(stack, "a", { path: dir, type: cdktf.AssetType.ARCHIVE });
      app.synth();
      const zips = require("node:child_process").execSync("find " + out + " -name '*.zip'").toString().trim().split("\\n").filter(Boolean);
      process.stdout.write(JSON.stringify({ before, after: loaded(), zips: zips.length, bytes: zips.length ? require("node:fs").statSync(zips[0]).size : 0 }));
    `;
    const result = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: process.cwd(), encoding: "utf8" })) as {
      before: boolean;
      after: boolean;
      zips: number;
      bytes: number;
    };
    expect(result).toMatchObject({ before: false, after: false, zips: 1 });
    expect(result.bytes).toBeGreaterThan(100);
  });

  it("a FILE asset (what lib/node-function.ts ships) is copied without archiver", () => {
    const dir = mkdtempSync(join(tmpdir(), "file-asset-"));
    const file = join(dir, "code.zip");
    writeFileSync(file, "zip bytes");
    const app = stackWith((stack) => new TerraformAsset(stack, "code", { path: file, type: AssetType.FILE }));
    try {
      app.synth();
      expect(readdirSync(join(app.outdir, "stacks", "s", "assets"))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(app.outdir, { recursive: true, force: true });
    }
  });
});

describe("PATCH(lazy-path)", () => {
  it("resolve() errors still give the path of the value that failed", () => {
    const app = stackWith((stack) => new TerraformOutput(stack, "o", { value: { nested: { fn: (() => 1) as unknown as string } } }));
    expect(() => app.synth()).toThrow(/\/nested\/fn/);
  });
});
