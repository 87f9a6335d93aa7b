/**
 * Every `pnpm …` command the README names (in code blocks and inline code) exists: each is looked up
 * in the table below, which says how to check it without running it for real, and the check runs.
 * A README command that is not in the table fails, so a new command needs a line here.
 *
 * - `script`: a package.json script (`pnpm synth`, `pnpm test`, …): it must exist; it is not run
 *   (those take minutes and are run by .ci/run).
 * - `help`: a `pnpm ops` command: it must exist in the CLI's commander program (ops/index.ts
 *   `buildProgram`, read in-process: its `--help` text), and every option the README passes
 *   (`--force`, `--only`, …) must be in that help. `pnpm ops --help` itself is spawned once, so the
 *   script and the entry point are proven too.
 * - `pnpm`: pnpm's own command: `pnpm <command> --help` must exit 0.
 * - `exec-file`: `pnpm exec tsx <file>`: the file must exist.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../ops/index.js";

const root = join(import.meta.dirname, "..");
const run = promisify(execFile);

type Invocation = "script" | "help" | "pnpm" | "exec-file";

/** Every command the README may name, and how it is checked. */
const TABLE: Readonly<Record<string, Invocation>> = {
  "pnpm install": "pnpm",
  "pnpm synth": "script",
  "pnpm test": "script",
  "pnpm test:unit": "script",
  "pnpm test:e2e": "script",
  "pnpm e2e:install": "script",
  "pnpm checkov": "script",
  "pnpm typecheck": "script",
  "pnpm bench": "script",
  "pnpm exec tsx": "exec-file",
  "pnpm ops": "help",
  "pnpm ops secrets status": "help",
  "pnpm ops secrets init": "help",
  "pnpm ops doctor": "help",
  "pnpm ops bedrock models": "help",
  "pnpm ops bedrock check": "help",
  "pnpm ops keys recover": "help",
  "pnpm ops keys user-id": "help",
  "pnpm ops diagram": "help",
  "pnpm ops cost": "help",
};

/** The `pnpm …` commands in a markdown text: fenced code blocks and inline code spans, split at `&&`, `;`, `|`. */
export function readmeCommands(markdown: string): string[] {
  const code: string[] = [];
  // Fences may be indented (a code block inside a numbered step).
  const fenced = /^[ \t]*```[^\n]*\n([\s\S]*?)^[ \t]*```/gm;
  for (const m of markdown.matchAll(fenced)) code.push(...m[1]!.split("\n").map((l) => l.replace(/(^|\s)#.*$/, "")));
  const prose = markdown.replace(fenced, "");
  for (const m of prose.matchAll(/(`+)([^`]+?)\1/g)) code.push(m[2]!);
  const out = new Set<string>();
  for (const snippet of code) {
    for (const part of snippet.replace(/\\\|/g, "|").split(/&&|\|\||;|\|/)) {
      const cmd = part.trim().replace(/^\w+=\S+\s+/, "");
      if (/^pnpm\s+\S/.test(cmd)) out.add(cmd.replace(/\s+/g, " "));
    }
  }
  return [...out].sort();
}

/**
 * The longest table key the command starts with (whole words), or undefined. A plain word after a
 * key that has longer keys (`pnpm ops keys user-id` after `pnpm ops`) is an unlisted subcommand,
 * not an argument: undefined too, so it cannot pass as the parent's help.
 */
export function tableKeyOf(command: string): string | undefined {
  const words = command.split(" ");
  for (let n = words.length; n >= 2; n--) {
    const key = words.slice(0, n).join(" ");
    if (!(key in TABLE)) continue;
    const next = words[n];
    const hasChildren = Object.keys(TABLE).some((k) => k.startsWith(`${key} `));
    return next !== undefined && hasChildren && /^[a-z][\w-]*$/.test(next) ? undefined : key;
  }
  return undefined;
}

const readme = readFileSync(join(root, "README.md"), "utf8");
const commands = readmeCommands(readme);
const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

describe("the README's pnpm commands", () => {
  it("are found (the operator path's among them)", () => {
    expect(commands.length).toBeGreaterThan(10);
    for (const c of ["pnpm synth", "pnpm test", "pnpm ops doctor <env>", "pnpm ops bedrock check <env>", "pnpm ops secrets init <env>"]) expect(commands).toContain(c);
  });

  it.each(commands)("%s is in the table", (command) => {
    expect(tableKeyOf(command), `add "${command}" to TABLE in test/readme-commands.test.ts with how to check it`).toBeDefined();
  });

  /** `pnpm <args> --help`, spawned (pnpm's own commands, and `pnpm ops` once). */
  const spawned = new Map<string, Promise<{ ok: boolean; text: string }>>();
  const spawnHelp = (args: string[]) => {
    const key = args.join(" ");
    if (!spawned.has(key)) {
      spawned.set(
        key,
        run("pnpm", ["--silent", ...args, "--help"], { cwd: root, timeout: 120_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } }).then(
          ({ stdout }) => ({ ok: true, text: stdout }),
          (e: { stdout?: string; stderr?: string; message: string }) => ({ ok: false, text: `${e.stdout ?? ""}${e.stderr ?? e.message}` }),
        ),
      );
    }
    return spawned.get(key)!;
  };

  /** The help of an `ops` (sub)command from the program itself, or a failure naming the missing command. */
  let program: Command;
  const opsHelp = (path: string[]): { ok: boolean; text: string } => {
    let cmd: Command | undefined = program;
    for (const name of path) {
      cmd = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!cmd) return { ok: false, text: `ops has no command "${path.join(" ")}" (ops/commands/index.ts)` };
    }
    return { ok: true, text: cmd.helpInformation() };
  };

  beforeAll(async () => {
    program = buildProgram();
    const keys = [...new Set(commands.map(tableKeyOf).filter((k): k is string => k !== undefined && TABLE[k] === "pnpm"))];
    await Promise.all([spawnHelp(["ops"]), ...keys.map((k) => spawnHelp(k.split(" ").slice(1)))]);
  }, 300_000);

  it("`pnpm ops --help` runs the CLI", async () => {
    const { ok, text } = await spawnHelp(["ops"]);
    expect(ok, text).toBe(true);
    expect(text).toMatch(/^Usage: ops /m);
  });

  it.each(commands)("%s works (--help, script or file)", async (command) => {
    const key = tableKeyOf(command);
    if (!key) return; // reported by "is in the table"
    const rest = command.slice(key.length).trim().split(" ").filter(Boolean);
    switch (TABLE[key]) {
      case "script":
        expect(scripts[key.slice("pnpm ".length)], `package.json has no script "${key.slice(5)}"`).toBeDefined();
        break;
      case "exec-file":
        expect(existsSync(join(root, rest[0] ?? "")), `${rest[0]} does not exist`).toBe(true);
        break;
      case "pnpm":
      case "help": {
        const args = key.split(" ").slice(1);
        if (TABLE[key] === "help") expect(scripts.ops, 'package.json has no "ops" script').toBeDefined();
        const { ok, text } = TABLE[key] === "help" ? opsHelp(args.slice(1)) : await spawnHelp(args);
        expect(ok, `\`${key} --help\` failed:\n${text}`).toBe(true);
        if (TABLE[key] === "help") expect(text).toMatch(new RegExp(`^Usage: ops ${args.slice(1).map((a) => `${a} `).join("")}`, "m"));
        for (const option of rest.map((t) => t.replace(/^\[|\]$/g, "")).filter((t) => t.startsWith("--"))) {
          const name = option.replace(/=.*$/, "").slice(2);
          expect(text, `\`${key} --help\` does not list ${option}`).toMatch(new RegExp(`--(\\[no-\\])?${name}\\b`));
        }
        break;
      }
    }
  });
});

describe("the extraction itself", () => {
  it("reads fenced blocks (minus comments) and inline code, splits chained commands, ignores npm and prose", () => {
    const md = [
      "Run `pnpm ops doctor <env>` then `pnpm ops cost --json`; never pnpm in prose.",
      "```sh",
      "# pnpm commented",
      "npm i -g pnpm@10 && pnpm install --frozen-lockfile && pnpm synth  # pnpm trailing comment",
      "CLOUDFLARE_API_TOKEN=x pnpm ops diagram | tee out",
      "```",
      "| `pnpm ops secrets status\\|init <env>` |",
      "1. **Step.**",
      "   ```sh",
      "   pnpm ops doctor <env> --json   # indented, inside a list item",
      "   ```",
    ].join("\n");
    expect(readmeCommands(md)).toEqual(["pnpm install --frozen-lockfile", "pnpm ops cost --json", "pnpm ops diagram", "pnpm ops doctor <env>", "pnpm ops doctor <env> --json", "pnpm ops secrets status", "pnpm synth"]);
  });

  it("maps a command to its longest table key", () => {
    expect(tableKeyOf("pnpm ops secrets init <env> --force")).toBe("pnpm ops secrets init");
    expect(tableKeyOf("pnpm ops <command>")).toBe("pnpm ops");
    expect(tableKeyOf("pnpm test:unit")).toBe("pnpm test:unit");
    expect(tableKeyOf("pnpm nonexistent")).toBeUndefined();
    // an unlisted subcommand does not pass as its parent's help
    expect(tableKeyOf("pnpm ops keys rotate <env>")).toBeUndefined();
    expect(tableKeyOf("pnpm ops nonexistent")).toBeUndefined();
    expect(tableKeyOf("pnpm ops keys user-id <env> <email>")).toBe("pnpm ops keys user-id");
  });
});
