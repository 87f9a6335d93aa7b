/**
 * ONE table of facts per container image the task definitions name, keyed by image repository; the
 * version is the task definition's tag. Each fact cites the upstream file it comes from at the pinned
 * tag, and says what was actually read (`verified`): where the tagged file could not be read, the
 * nearest copy that could is named, and the fact is only as good as that copy.
 *
 * `executables` says how a program the image would run maps to the locally installed one
 * (the manifest's), and `runs` reproduces scripts of the image (Open WebUI's start.sh, LiteLLM's
 * prod_entrypoint.sh) as documented substitutions.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import type { Manifest } from "./manifest.js";

/** A fact with where it comes from. */
export interface Cited<T> {
  readonly value: T;
  /** Upstream file (and lines) at the pinned tag: `{tag}` is replaced by the task definition's tag. */
  readonly source: string;
  /** What was read to check it (tag + commit, or the nearest readable copy when the tag was not). */
  readonly verified: string;
}

/** How a program of the image runs locally. */
export interface LocalProgram {
  /** Absolute path of the local executable. */
  readonly file: string;
  /** Arguments to put before the image's own arguments (documented bind substitutions). */
  readonly prependArgs?: readonly string[];
  /** Environment the image's script derives and passes on (e.g. start.sh's WEBUI_SECRET_KEY). */
  readonly env?: Readonly<Record<string, string>>;
  /** Replaces the argument list entirely (the local form of an image script). */
  readonly args?: readonly string[];
  /** Why this is the faithful local equivalent. */
  readonly reason: string;
}

/** What a mapping needs to know about the launch. */
export interface ProgramContext {
  readonly manifest: Manifest;
  /** The environment the container gets (after substitutions). */
  readonly env: Readonly<Record<string, string>>;
  /** The container's working directory, mapped to the local per-container directory. */
  readonly cwd: string;
  /** The task's own loopback address (its "ENI"). */
  readonly taskIp: string;
}

/** One image program (argv[0] as the image resolves it) and its local equivalent. */
export interface ExecutableMapping {
  /** argv[0] values (as written in ENTRYPOINT/CMD/command) this mapping serves. */
  readonly names: readonly string[];
  /** The local program for argv (argv[0] included). */
  local(argv: readonly string[], ctx: ProgramContext): LocalProgram;
  /** The documented substitution, for the table. */
  readonly substitution: string;
}

export interface ImageFacts {
  /** Image repository without tag: `ghcr.io/open-webui/open-webui`. */
  readonly repository: string;
  /** The upstream source repository. */
  readonly upstream: string;
  /** The tag the facts were checked at. */
  readonly checkedTag: string;
  /** `null`: no ENTRYPOINT. */
  readonly entrypoint: Cited<readonly string[] | null>;
  /** `null`: no CMD. */
  readonly cmd: Cited<readonly string[] | null>;
  /** `uid:gid` the image runs as. */
  readonly user: Cited<string>;
  readonly workdir: Cited<string>;
  /** Image ENV (what every container of the image starts with, before the task definition's environment). */
  readonly env: Cited<Readonly<Record<string, string>>>;
  /** `/bin/sh` present (CMD-SHELL health checks and `sh -c` commands need it). */
  readonly shell: Cited<boolean>;
  readonly curl: Cited<boolean>;
  readonly jq: Cited<boolean>;
  /** Paths the image expects to write (the harness maps each to the per-container directory). */
  readonly writablePaths: Cited<readonly string[]>;
  /** EXPOSE, or the program's default listen port. */
  readonly exposedPort: Cited<number | null>;
  /** The image's programs → local ones. */
  readonly executables: readonly ExecutableMapping[];
}

const gh = (repo: string, path: string, lines?: string) => `https://github.com/${repo}/blob/{tag}/${path}${lines ? `#${lines}` : ""}`;

/** Debian `python:*-slim-bookworm` base: PATH, LANG (the image's ENV before its own). */
const PYTHON_SLIM_PATH = "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** `sh` inside an image that ships one → the host's POSIX shell. */
const shellMapping: ExecutableMapping = {
  names: ["sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/bash"],
  local: (argv) => ({ file: argv[0]!.includes("bash") ? "/bin/bash" : "/bin/sh", reason: "the image's shell → the host's shell of the same name" }),
  substitution: "`sh`/`bash` of the image → the host's `/bin/sh`/`/bin/bash`",
};

function bindFlag(argv: readonly string[], flags: readonly string[], taskIp: string): readonly string[] {
  // An explicit --host is already in argv: the bind substitution maps its value; otherwise the CLI's
  // default 0.0.0.0 is made explicit as the task's address.
  return argv.some((a, i) => i > 0 && flags.some((f) => a === f || a.startsWith(`${f}=`))) ? [] : [flags[0]!, taskIp];
}

// ---------------------------------------------------------------------------------------------
// Open WebUI
// ---------------------------------------------------------------------------------------------

const OWUI = "open-webui/open-webui";
const OWUI_VERIFIED =
  "tag v0.10.2 not readable here (repository too large to mirror; index holds untagged copies): checked against the indexed Dockerfile @08d67bf0 and start.sh @059cf821/@8b020075, which agree on these lines; the start line's `--workers \"$UVICORN_WORKERS\"` is the brief's (lead's) reading of v0.10.2";

/**
 * start.sh at v0.10.2, reproduced: `cd` to its directory (WORKDIR /app/backend); PORT/HOST defaults
 * (8080, 0.0.0.0 → the task's address); when WEBUI_SECRET_KEY and WEBUI_JWT_SECRET_KEY are both empty,
 * generate `.webui_secret_key` in that directory and use it; USE_OLLAMA_DOCKER/USE_CUDA_DOCKER/SPACE_ID
 * branches are off in this image/task (refused if on); then
 * `uvicorn open_webui.main:app --host "$HOST" --port "$PORT" --forwarded-allow-ips '*' --workers "$UVICORN_WORKERS"`.
 */
const openWebUiStartSh: ExecutableMapping = {
  names: ["start.sh", "./start.sh", "/app/backend/start.sh"],
  local(argv, ctx) {
    const e = ctx.env;
    for (const [name, on] of [["USE_OLLAMA_DOCKER", e.USE_OLLAMA_DOCKER?.toLowerCase() === "true"], ["USE_CUDA_DOCKER", e.USE_CUDA_DOCKER?.toLowerCase() === "true"], ["SPACE_ID", !!e.SPACE_ID]] as const) {
      if (on) throw new Error(`start.sh branch ${name} is not reproduced by the harness (the task definition does not use it)`);
    }
    if ((e.WEB_LOADER_ENGINE ?? "").toLowerCase() === "playwright" && !e.PLAYWRIGHT_WS_URL) throw new Error("start.sh's playwright install branch is not reproduced by the harness");
    const derived: Record<string, string> = {};
    if (`${e.WEBUI_SECRET_KEY ?? ""} ${e.WEBUI_JWT_SECRET_KEY ?? ""}` === " ") {
      const keyFile = join(ctx.cwd, ".webui_secret_key");
      if (!existsSync(keyFile)) writeFileSync(keyFile, `${randomBytes(12).toString("base64")}\n`);
      derived.WEBUI_SECRET_KEY = readFileSync(keyFile, "utf8").trim();
    }
    const port = e.PORT || "8080";
    // HOST unset → start.sh's 0.0.0.0, which the bind substitution makes the task's address.
    const host = !e.HOST || e.HOST === "0.0.0.0" || e.HOST === "127.0.0.1" ? ctx.taskIp : e.HOST;
    const venv = ctx.manifest.components.openwebui.venv;
    const uvicorn = join(venv, "bin", "uvicorn");
    const extra = argv.slice(2);
    return {
      file: existsSync(uvicorn) ? uvicorn : ctx.manifest.components.openwebui.python,
      args: [...(existsSync(uvicorn) ? [] : ["-m", "uvicorn"]), "open_webui.main:app", "--host", host, "--port", port, "--forwarded-allow-ips", "*", "--workers", e.UVICORN_WORKERS || "1", ...extra],
      env: derived,
      reason: "start.sh reproduced: the venv's uvicorn with start.sh's arguments and the environment it derives",
    };
  },
  substitution: "`bash start.sh` (CMD) → the venv's `uvicorn open_webui.main:app --host $HOST --port $PORT --forwarded-allow-ips '*' --workers $UVICORN_WORKERS`, with start.sh's defaults (PORT 8080, HOST 0.0.0.0 → task IP) and secret-key-file logic",
};

const openWebUi: ImageFacts = {
  repository: "ghcr.io/open-webui/open-webui",
  upstream: OWUI,
  checkedTag: "v0.10.2",
  entrypoint: { value: null, source: gh(OWUI, "Dockerfile"), verified: `no ENTRYPOINT instruction; ${OWUI_VERIFIED}` },
  cmd: { value: ["bash", "start.sh"], source: gh(OWUI, "Dockerfile"), verified: `CMD [ "bash", "start.sh"] (last line); ${OWUI_VERIFIED}` },
  user: { value: "0:0", source: gh(OWUI, "Dockerfile"), verified: `ARG UID=0, ARG GID=0, USER $UID:$GID; ${OWUI_VERIFIED}` },
  workdir: { value: "/app/backend", source: gh(OWUI, "Dockerfile"), verified: `WORKDIR /app/backend; ${OWUI_VERIFIED}` },
  env: {
    value: {
      PATH: PYTHON_SLIM_PATH,
      LANG: "C.UTF-8",
      HOME: "/root",
      ENV: "prod",
      PORT: "8080",
      USE_OLLAMA_DOCKER: "false",
      USE_CUDA_DOCKER: "false",
      USE_CUDA_DOCKER_VER: "cu128",
      USE_EMBEDDING_MODEL_DOCKER: "sentence-transformers/all-MiniLM-L6-v2",
      USE_RERANKING_MODEL_DOCKER: "",
      OLLAMA_BASE_URL: "/ollama",
      OPENAI_API_BASE_URL: "",
      OPENAI_API_KEY: "",
      WEBUI_SECRET_KEY: "",
      SCARF_NO_ANALYTICS: "true",
      DO_NOT_TRACK: "true",
      ANONYMIZED_TELEMETRY: "false",
      WHISPER_MODEL: "base",
      WHISPER_MODEL_DIR: "/app/backend/data/cache/whisper/models",
      RAG_EMBEDDING_MODEL: "sentence-transformers/all-MiniLM-L6-v2",
      RAG_RERANKING_MODEL: "",
      SENTENCE_TRANSFORMERS_HOME: "/app/backend/data/cache/embedding/models",
      TIKTOKEN_ENCODING_NAME: "cl100k_base",
      TIKTOKEN_CACHE_DIR: "/app/backend/data/cache/tiktoken",
      HF_HOME: "/app/backend/data/cache/embedding/models",
      DOCKER: "true",
    },
    source: gh(OWUI, "Dockerfile"),
    verified: `ENV lines of the runtime stage (PATH/LANG from python:3.11-slim-bookworm; HOME=/root set explicitly); BUILD_HASH-derived WEBUI_BUILD_VERSION left out (build metadata); ${OWUI_VERIFIED}`,
  },
  shell: { value: true, source: gh(OWUI, "Dockerfile"), verified: `FROM python:3.11-slim-bookworm (Debian: dash as /bin/sh, bash); ${OWUI_VERIFIED}` },
  curl: { value: true, source: gh(OWUI, "Dockerfile"), verified: `apt-get install ... curl jq (non-Ollama branch); ${OWUI_VERIFIED}; also CONTRACTS.md "The image ships curl and jq"` },
  jq: { value: true, source: gh(OWUI, "Dockerfile"), verified: `apt-get install ... curl jq; ${OWUI_VERIFIED}` },
  writablePaths: { value: ["/app/backend/data", "/app/backend", "/root", "/tmp"], source: gh(OWUI, "Dockerfile"), verified: `chown -R $UID:$GID /app $HOME; data under /app/backend/data; start.sh writes .webui_secret_key in /app/backend; ${OWUI_VERIFIED}` },
  exposedPort: { value: 8080, source: gh(OWUI, "Dockerfile"), verified: `EXPOSE 8080; ${OWUI_VERIFIED}` },
  executables: [
    openWebUiStartSh,
    {
      names: ["open-webui"],
      local: (_, ctx) => ({ file: ctx.manifest.components.openwebui.bin["open-webui"], reason: "the image's open-webui console script → the venv's" }),
      substitution: "`open-webui` → the venv's console script",
    },
    {
      names: ["uvicorn"],
      local: (_, ctx) => ({ file: join(ctx.manifest.components.openwebui.venv, "bin", "uvicorn"), reason: "the image's uvicorn → the venv's" }),
      substitution: "`uvicorn` → the venv's",
    },
    {
      // The image installs Open WebUI into python:3.11-slim's own interpreter (pip install, no venv),
      // so its `python3` imports open_webui: the venv's interpreter is the same program here.
      names: ["python3", "python", "/usr/local/bin/python3", "/usr/local/bin/python"],
      local: (_, ctx) => ({ file: ctx.manifest.components.openwebui.python, reason: "the image's python3 (with open_webui installed) → the venv's interpreter" }),
      substitution: "`python3` → the venv's interpreter",
    },
    shellMapping,
  ],
};

// Under `bash start.sh`, argv[0] is bash; the mapping that applies is start.sh's (see resolveProgram).

// ---------------------------------------------------------------------------------------------
// LiteLLM
// ---------------------------------------------------------------------------------------------

const LITELLM = "BerriAI/litellm";
const LITELLM_VERIFIED =
  "tag v1.80.0-stable not readable here (repository too large to mirror, index holds untagged copies): checked against the indexed Dockerfile of the Chainguard/Wolfi era (ENTRYPOINT [\"docker/prod_entrypoint.sh\"], CMD [\"--port\", \"4000\"], WORKDIR /app, USER root, EXPOSE 4000/tcp) and docker/prod_entrypoint.sh @129d2ba5";

/** docker/prod_entrypoint.sh reproduced: SEPARATE_HEALTH_APP/USE_DDTRACE/USE_NEWRELIC branches refused; else `exec litellm "$@"`. */
const litellmEntrypoint: ExecutableMapping = {
  names: ["docker/prod_entrypoint.sh", "/app/docker/prod_entrypoint.sh", "./docker/prod_entrypoint.sh"],
  local(argv, ctx) {
    if (ctx.env.SEPARATE_HEALTH_APP === "1") throw new Error("prod_entrypoint.sh's SEPARATE_HEALTH_APP (supervisord) branch is not reproduced by the harness");
    if (ctx.env.USE_DDTRACE === "true" || ctx.env.USE_NEWRELIC === "true") throw new Error("prod_entrypoint.sh's ddtrace/newrelic branches are not reproduced by the harness");
    return {
      file: ctx.manifest.components.litellm.bin.litellm,
      prependArgs: bindFlag(argv, ["--host"], ctx.taskIp),
      reason: "prod_entrypoint.sh reproduced: `exec litellm \"$@\"`; the CLI's default --host 0.0.0.0 made explicit as the task's address",
    };
  },
  substitution: "`docker/prod_entrypoint.sh ARGS` (ENTRYPOINT) → local `litellm --host <task IP> ARGS` (the script's default branch; the CLI's default host 0.0.0.0 → task IP)",
};

const litellm: ImageFacts = {
  repository: "ghcr.io/berriai/litellm",
  upstream: LITELLM,
  checkedTag: "v1.80.0-stable",
  entrypoint: { value: ["docker/prod_entrypoint.sh"], source: gh(LITELLM, "Dockerfile"), verified: LITELLM_VERIFIED },
  cmd: { value: ["--port", "4000"], source: gh(LITELLM, "Dockerfile"), verified: LITELLM_VERIFIED },
  user: { value: "0:0", source: gh(LITELLM, "Dockerfile"), verified: `runtime stage \`USER root\`; ${LITELLM_VERIFIED}` },
  workdir: { value: "/app", source: gh(LITELLM, "Dockerfile"), verified: LITELLM_VERIFIED },
  env: {
    value: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" },
    source: gh(LITELLM, "Dockerfile"),
    verified: `no ENV in the runtime stage; PATH/HOME from the base image cgr.dev/chainguard/python:latest-dev and Docker's default for root (UNVERIFIED against the base image); ${LITELLM_VERIFIED}`,
  },
  shell: { value: true, source: gh(LITELLM, "Dockerfile"), verified: `runtime \`apk add --no-cache bash ...\`; prod_entrypoint.sh is #!/bin/sh; ${LITELLM_VERIFIED}` },
  curl: { value: false, source: gh(LITELLM, "Dockerfile"), verified: `curl is installed in the builder stage only (UNVERIFIED whether the -dev base ships it); ${LITELLM_VERIFIED}` },
  jq: { value: false, source: gh(LITELLM, "Dockerfile"), verified: `no jq installed; ${LITELLM_VERIFIED}` },
  writablePaths: { value: ["/app", "/root", "/tmp"], source: gh(LITELLM, "Dockerfile"), verified: `prisma generate/migrate write under the Python packages and $HOME/.cache; ${LITELLM_VERIFIED}` },
  exposedPort: { value: 4000, source: gh(LITELLM, "Dockerfile"), verified: `EXPOSE 4000/tcp; ${LITELLM_VERIFIED}` },
  executables: [
    litellmEntrypoint,
    {
      names: ["litellm"],
      local: (argv, ctx) => ({ file: ctx.manifest.components.litellm.bin.litellm, prependArgs: bindFlag(argv, ["--host"], ctx.taskIp), reason: "the image's litellm → the local one; default host 0.0.0.0 → task IP" }),
      substitution: "`litellm ARGS` → local `litellm --host <task IP> ARGS`",
    },
    shellMapping,
  ],
};

// ---------------------------------------------------------------------------------------------
// mcpo
// ---------------------------------------------------------------------------------------------

const MCPO = "open-webui/mcpo";
const MCPO_VERIFIED = "read at tag v0.0.20 (commit 788ff92e5288a899a743a252edd5748f4ad4ab1f)";

const mcpoProgram: ExecutableMapping = {
  names: ["mcpo", "/app/.venv/bin/mcpo"],
  local: (argv, ctx) => ({
    file: ctx.manifest.components.mcpo.bin.mcpo,
    // src/mcpo/__init__.py @v0.0.20: --host/-h defaults to "0.0.0.0".
    prependArgs: bindFlag(argv, ["--host", "-h"], ctx.taskIp),
    reason: "the image's venv mcpo → the local venv's; its default --host 0.0.0.0 made explicit as the task's address",
  }),
  substitution: "`mcpo ARGS` (ENTRYPOINT) → local `mcpo --host <task IP> ARGS` (mcpo's default host 0.0.0.0 → task IP; a later explicit --host wins)",
};

const mcpo: ImageFacts = {
  repository: "ghcr.io/open-webui/mcpo",
  upstream: MCPO,
  checkedTag: "v0.0.20",
  entrypoint: { value: ["mcpo"], source: gh(MCPO, "Dockerfile", "L39"), verified: MCPO_VERIFIED },
  cmd: { value: ["--help"], source: gh(MCPO, "Dockerfile", "L42"), verified: MCPO_VERIFIED },
  user: { value: "0:0", source: gh(MCPO, "Dockerfile"), verified: `no USER instruction (root of python:3.12-slim-bookworm); ${MCPO_VERIFIED}` },
  workdir: { value: "/app", source: gh(MCPO, "Dockerfile", "L22"), verified: MCPO_VERIFIED },
  env: {
    value: { PATH: `/app/.venv/bin:${PYTHON_SLIM_PATH}`, LANG: "C.UTF-8", HOME: "/root", VIRTUAL_ENV: "/app/.venv" },
    source: gh(MCPO, "Dockerfile", "L25-L27"),
    verified: `ENV VIRTUAL_ENV=/app/.venv, ENV PATH="$VIRTUAL_ENV/bin:$PATH" over python:3.12-slim-bookworm's PATH/LANG; HOME is Docker's default for root; ${MCPO_VERIFIED}`,
  },
  shell: { value: true, source: gh(MCPO, "Dockerfile", "L1"), verified: `FROM python:3.12-slim-bookworm (Debian); ${MCPO_VERIFIED}` },
  curl: { value: true, source: gh(MCPO, "Dockerfile", "L6-L10"), verified: `apt-get install git curl ca-certificates; ${MCPO_VERIFIED}` },
  jq: { value: false, source: gh(MCPO, "Dockerfile", "L6-L10"), verified: `no jq installed; ${MCPO_VERIFIED}` },
  writablePaths: { value: ["/root", "/tmp"], source: gh(MCPO, "Dockerfile"), verified: `uvx/npx caches under $HOME; ${MCPO_VERIFIED}` },
  exposedPort: { value: 8000, source: gh(MCPO, "Dockerfile", "L36"), verified: MCPO_VERIFIED },
  executables: [
    mcpoProgram,
    {
      names: ["uvx", "/bin/uvx"],
      local: (_, ctx) => ({ file: ctx.manifest.components.mcpo.bin.uvx, reason: "the image's /bin/uvx (COPY --from=ghcr.io/astral-sh/uv) → the local uvx" }),
      substitution: "`uvx` → the local uvx",
    },
    shellMapping,
  ],
};

// ---------------------------------------------------------------------------------------------
// oauth2-proxy
// ---------------------------------------------------------------------------------------------

const PROXY = "oauth2-proxy/oauth2-proxy";
const PROXY_VERIFIED = "read at tag v7.15.3 (commit 66b3a17db09f0b51a4bc3159d4c7fe3fbeca1288)";
const DISTROLESS = "runtime image gcr.io/distroless/static:nonroot (Makefile DOCKER_BUILD_RUNTIME_IMAGE, L61)";

const oauth2Proxy: ImageFacts = {
  repository: "quay.io/oauth2-proxy/oauth2-proxy",
  upstream: PROXY,
  checkedTag: "v7.15.3",
  entrypoint: { value: ["/bin/oauth2-proxy"], source: gh(PROXY, "Dockerfile", "L74"), verified: PROXY_VERIFIED },
  cmd: { value: null, source: gh(PROXY, "Dockerfile"), verified: `no CMD instruction; ${PROXY_VERIFIED}` },
  user: { value: "65532:65532", source: gh(PROXY, "Makefile", "L61"), verified: `no USER in the Dockerfile; ${DISTROLESS} runs as nonroot 65532; ${PROXY_VERIFIED}` },
  workdir: { value: "/home/nonroot", source: gh(PROXY, "Makefile", "L61"), verified: `no WORKDIR in the runtime stage; distroless :nonroot's is /home/nonroot (UNVERIFIED against the base image); ${PROXY_VERIFIED}` },
  env: {
    value: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt", HOME: "/home/nonroot" },
    source: gh(PROXY, "Makefile", "L61"),
    verified: `no ENV in the runtime stage; PATH/SSL_CERT_FILE/HOME from ${DISTROLESS} (UNVERIFIED against the base image); ${PROXY_VERIFIED}`,
  },
  shell: { value: false, source: gh(PROXY, "Makefile", "L61"), verified: `${DISTROLESS}: no shell; ${PROXY_VERIFIED}` },
  curl: { value: false, source: gh(PROXY, "Makefile", "L61"), verified: `${DISTROLESS}; ${PROXY_VERIFIED}` },
  jq: { value: false, source: gh(PROXY, "Makefile", "L61"), verified: `${DISTROLESS}; ${PROXY_VERIFIED}` },
  writablePaths: { value: [], source: gh(PROXY, "Dockerfile"), verified: `writes nothing (the task definition gives a read-only root and no scratch); ${PROXY_VERIFIED}` },
  exposedPort: { value: 4180, source: gh(PROXY, "pkg/apis/options/legacy_options.go", "L494"), verified: `no EXPOSE; --http-address defaults to 127.0.0.1:4180; ${PROXY_VERIFIED}` },
  executables: [
    {
      names: ["/bin/oauth2-proxy", "oauth2-proxy"],
      local: (_, ctx) => ({ file: ctx.manifest.components["oauth2-proxy"].bin["oauth2-proxy"], reason: "the image's /bin/oauth2-proxy → the installed binary of the same version" }),
      substitution: "`/bin/oauth2-proxy` (ENTRYPOINT) → the installed oauth2-proxy binary (it listens where OAUTH2_PROXY_HTTP_ADDRESS says, bind-substituted)",
    },
  ],
};

/** The table: every image the task definitions use, keyed by repository. */
export const IMAGES: Readonly<Record<string, ImageFacts>> = Object.fromEntries([openWebUi, litellm, mcpo, oauth2Proxy].map((f) => [f.repository, f]));

/** `repo:tag` or `repo@sha256:…` → its parts. */
export function parseImage(image: string): { repository: string; tag: string } {
  const at = image.indexOf("@");
  if (at >= 0) return { repository: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: "latest" };
}

/** The facts of an image, with citations at its tag; `warnings` when the tag is not the one checked. */
export function factsFor(image: string): { facts: ImageFacts; tag: string; warnings: string[] } {
  const { repository, tag } = parseImage(image);
  const facts = IMAGES[repository];
  if (!facts) throw new Error(`no image facts for ${repository} (images.ts knows ${Object.keys(IMAGES).join(", ")}); add its row with citations`);
  const warnings = tag === facts.checkedTag ? [] : [`${repository}: the task definition pins ${tag}, the facts were checked at ${facts.checkedTag}; re-check the cited files at ${tag}`];
  return { facts, tag, warnings };
}

/** A fact's citation at a tag. */
export const citationAt = (fact: Cited<unknown>, tag: string) => fact.source.replace("{tag}", tag);

/**
 * The mapping for an argv as the image would run it. `bash start.sh` / `sh script` runs the script,
 * so a script mapping is looked up by argv[1] first; otherwise by argv[0].
 */
export function resolveProgram(facts: ImageFacts, argv: readonly string[]): { mapping: ExecutableMapping; argv: readonly string[] } {
  if (argv.length === 0) throw new Error(`${facts.repository}: empty command (no ENTRYPOINT and no CMD)`);
  const isShell = shellMapping.names.includes(argv[0]!);
  if (isShell && argv[1] && !argv[1].startsWith("-")) {
    const script = facts.executables.find((m) => m !== shellMapping && m.names.includes(argv[1]!));
    if (script) return { mapping: script, argv: argv.slice(1) };
  }
  const mapping = facts.executables.find((m) => m.names.includes(argv[0]!));
  if (!mapping) {
    if (isShell && !facts.shell.value) throw new ExecNotFound(facts, argv[0]!);
    throw new ExecNotFound(facts, argv[0]!);
  }
  if (mapping === shellMapping && !facts.shell.value) throw new ExecNotFound(facts, argv[0]!);
  return { mapping, argv };
}

/** What the container runtime reports when argv[0] is not in the image (the container never starts). */
export class ExecNotFound extends Error {
  constructor(facts: ImageFacts, program: string) {
    super(`${facts.repository}: exec: "${program}": executable file not found in $PATH (the image has no such program; the container fails to start)`);
    this.name = "ExecNotFound";
  }
}

/** The directory each local program lives in (for PATH inside the "container"). */
export function localBinDirs(facts: ImageFacts, manifest: Manifest): string[] {
  const dirs = new Set<string>();
  const fake: ProgramContext = { manifest, env: {}, cwd: "/nonexistent", taskIp: "127.0.0.1" };
  for (const m of facts.executables) {
    if (m === shellMapping || m === openWebUiStartSh || m === litellmEntrypoint) continue;
    try {
      dirs.add(dirname(m.local([m.names[0]!], fake).file));
    } catch {
      /* a mapping that needs a real context */
    }
  }
  return [...dirs];
}
