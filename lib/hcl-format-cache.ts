/**
 * A content-addressed cache for the cdktf CLI's HCL format pass, used by `pnpm synth`
 * (scripts/synth.ts).
 *
 * `format()` of `@cdktf/hcl-tools` (Go's hclwrite compiled to WASM) is a pure function of its input
 * text. It is also the slowest part of `pnpm synth` after the app: about 1.5 s of CPU for the three
 * envs' stacks. Most synths re-format stacks that did not change, so `pnpm synth` keeps each output
 * under the SHA-256 of the formatter's identity and the input text, and formats only texts it has
 * never seen.
 *
 * A wrong answer is impossible by construction, not by expiry:
 *  - the key covers the input text byte for byte, and the formatter's identity: every file of the
 *    `@cdktf/hcl-tools` the CLI loads (its WASM, its JS bridge and Go runtime shim, its
 *    package.json), so a new version or a new patch of the formatter starts a new key space;
 *  - an entry is written to a temporary file and renamed into place, so a reader never sees half of
 *    one, even with parallel synths;
 *  - an entry holds the SHA-256 of its own text, checked on every read: a damaged entry is a miss.
 * The cache is bounded: after each synth it keeps the newest `maxEntries` entries (a hit refreshes
 * an entry's time).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface HclFormatCacheProps {
  /** Folder of the entries (created on first write). */
  readonly dir: string;
  /** `src/index.js` of the `@cdktf/hcl-tools` in use (what `require.resolve` gives). */
  readonly hclToolsEntry: string;
  /** Entries kept by {@link HclFormatCache.prune}. @default 256 (about 25 synths in which all 10 stacks changed) */
  readonly maxEntries?: number;
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/**
 * The identity of one `@cdktf/hcl-tools` build: every file of the package (its WASM, its JS bridge
 * and Go runtime shim, patched or not, and its package.json), by path and content.
 */
export function hclToolsIdentity(hclToolsEntry: string): string {
  const pkg = dirname(dirname(hclToolsEntry));
  const hash = createHash("sha256");
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path, name);
      else if (entry.isFile()) hash.update(name).update("\0").update(readFileSync(path)).update("\0");
    }
  };
  walk(pkg, "");
  return hash.digest("hex");
}

export class HclFormatCache {
  private readonly dir: string;
  private readonly identity: string;
  private readonly maxEntries: number;
  /** Entries read or written by this process (keys). */
  private readonly used = new Set<string>();
  hits = 0;
  misses = 0;

  constructor(props: HclFormatCacheProps) {
    this.dir = props.dir;
    this.identity = hclToolsIdentity(props.hclToolsEntry);
    this.maxEntries = props.maxEntries ?? 256;
  }

  private key(text: string): string {
    return sha256(`${this.identity}\n${text}`);
  }

  /** The formatted text of `text` if this formatter formatted it before, else undefined. */
  get(text: string): string | undefined {
    const key = this.key(text);
    const file = join(this.dir, key);
    let entry: string;
    try {
      entry = readFileSync(file, "utf8");
    } catch {
      this.misses++;
      return undefined;
    }
    const newline = entry.indexOf("\n");
    const out = entry.slice(newline + 1);
    if (newline !== 64 || entry.slice(0, 64) !== sha256(out)) {
      this.misses++;
      return undefined;
    }
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      // Read-only cache: still a hit.
    }
    this.used.add(key);
    this.hits++;
    return out;
  }

  /** Stores `formatted` as the format of `text`. A cache that cannot be written is skipped. */
  set(text: string, formatted: string): void {
    const key = this.key(text);
    const tmp = join(this.dir, `.${key}.${process.pid}.${Date.now()}`);
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, `${sha256(formatted)}\n${formatted}`);
      renameSync(tmp, join(this.dir, key));
      this.used.add(key);
    } catch {
      // Unwritable (read-only checkout, full disk): the synth itself is unaffected.
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nothing was written.
      }
    }
  }

  /**
   * Keeps the newest `maxEntries` entries and every entry this process used; removes the rest, and
   * temporary files an interrupted synth left behind (older than an hour).
   */
  prune(): void {
    let all: string[];
    try {
      all = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of all.filter((f) => f.startsWith("."))) {
      try {
        if (Date.now() - statSync(join(this.dir, n)).mtimeMs > 3_600_000) rmSync(join(this.dir, n), { force: true, recursive: true });
      } catch {
        // Gone meanwhile.
      }
    }
    const names = all.filter((n) => /^[0-9a-f]{64}$/.test(n));
    if (names.length <= this.maxEntries) return;
    const byAge = names
      .filter((n) => !this.used.has(n))
      .map((n) => {
        try {
          return { n, t: statSync(join(this.dir, n)).mtimeMs };
        } catch {
          return { n, t: 0 };
        }
      })
      .sort((a, b) => b.t - a.t);
    const keep = Math.max(0, this.maxEntries - this.used.size);
    for (const { n } of byAge.slice(keep)) rmSync(join(this.dir, n), { force: true });
  }
}
