/**
 * lib/app-build.ts: the precompiled app is reused only while every source file it was built from is
 * unchanged, and each file's `import.meta.url` is its own source file's URL in the CommonJS bundle.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BUILDER_SOURCE, buildAppBundle } from "../lib/app-build.js";
import { REPO_ROOT } from "../lib/bundle.js";

const dir = join(REPO_ROOT, ".gen", `app-build-test-${process.pid}`);
const rel = (f: string) => join(dir, f).slice(REPO_ROOT.length + 1);
const outDir = join(dir, "out");
const run = (file: string) => execFileSync(process.execPath, [file], { encoding: "utf8" }).trim();

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("buildAppBundle", () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "dep.ts"), 'export const word: string = "one";\nexport const here = import.meta.url;\n');
  writeFileSync(
    join(dir, "entry.ts"),
    'import { here, word } from "./dep.js";\n' +
      '// "import.meta.url" in a string stays text\n' +
      'console.log(JSON.stringify({ word, here, mine: import.meta.url, text: "import.meta.url" }));\n',
  );

  it("builds, then reuses while no input changed, then rebuilds when an imported file changes", async () => {
    const first = await buildAppBundle({ entry: rel("entry.ts"), outDir });
    expect(first.rebuilt).toBe(true);
    expect(first.inputs).toEqual([rel("dep.ts"), rel("entry.ts")].sort());
    expect(JSON.parse(run(first.file))).toEqual({
      word: "one",
      here: pathToFileURL(join(dir, "dep.ts")).href,
      mine: pathToFileURL(join(dir, "entry.ts")).href,
      text: "import.meta.url",
    });

    const again = await buildAppBundle({ entry: rel("entry.ts"), outDir });
    expect(again.rebuilt).toBe(false);

    writeFileSync(join(dir, "dep.ts"), readFileSync(join(dir, "dep.ts"), "utf8").replace('"one"', '"two"'));
    const changed = await buildAppBundle({ entry: rel("entry.ts"), outDir });
    expect(changed.rebuilt).toBe(true);
    expect(JSON.parse(run(changed.file)).word).toBe("two");
  });

  it("rebuilds when the bundle on disk was altered", async () => {
    const built = await buildAppBundle({ entry: rel("entry.ts"), outDir });
    writeFileSync(built.file, "console.log('tampered')\n");
    const again = await buildAppBundle({ entry: rel("entry.ts"), outDir });
    expect(again.rebuilt).toBe(true);
    expect(JSON.parse(run(again.file)).word).toBe("two");
  });

  it("keys every build on the builder's own source (lib/app-build.ts) as well as its inputs", async () => {
    const built = await buildAppBundle({ entry: rel("entry.ts"), outDir });
    const manifest = JSON.parse(readFileSync(join(outDir, "entry.inputs.json"), "utf8")) as { optionsKey: string };
    const builderHash = createHash("sha256").update(readFileSync(join(REPO_ROOT, BUILDER_SOURCE))).digest("hex");
    expect(JSON.parse(manifest.optionsKey)).toMatchObject({ builder: builderHash });
    // A key written by another builder is not reused.
    writeFileSync(join(outDir, "entry.inputs.json"), JSON.stringify({ ...manifest, optionsKey: manifest.optionsKey.replace(builderHash, "0".repeat(64)) }));
    expect((await buildAppBundle({ entry: rel("entry.ts"), outDir })).rebuilt).toBe(true);
    expect(built.file).toBe(join(outDir, "entry.cjs"));
  });
});
