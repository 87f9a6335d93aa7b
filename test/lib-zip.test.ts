import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { zipDeterministic } from "../lib/zip.js";

describe("zipDeterministic", () => {
  const content = Buffer.from("export const handler = async () => 'ok';\n".repeat(50));

  it("is byte-identical for identical input", () => {
    expect(zipDeterministic({ "index.mjs": content }).equals(zipDeterministic({ "index.mjs": content }))).toBe(true);
  });

  it("produces an archive a standard unzip extracts to the exact bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "zip-"));
    writeFileSync(join(dir, "a.zip"), zipDeterministic({ "index.mjs": content }));
    // python3's zipfile is on every machine this runs on; it checks the CRC while reading.
    const out = execFileSync("python3", ["-c", "import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;sys.stdout.buffer.write(z.read('index.mjs'))", join(dir, "a.zip")]);
    expect(out.equals(content)).toBe(true);
  });

  it("changes when the content changes", () => {
    const other = Buffer.concat([content, Buffer.from("x")]);
    expect(zipDeterministic({ "index.mjs": content }).equals(zipDeterministic({ "index.mjs": other }))).toBe(false);
  });
});
