/**
 * The e2e suite runs what the envs deploy: each product's version in the installer's lock
 * (e2e/lock/components.json) is the one the env configs' image tags pin (e2e/versions.ts), and each
 * lock file pins that exact release. A new pin in config without a new lock fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../envs/schema.js";
import { ENVIRONMENTS } from "../envs/index.js";
import { pinnedVersions, versionOfImage } from "../e2e/versions.js";
import { baseEnvInput } from "./support/synth.js";

const LOCK_DIR = join(import.meta.dirname, "..", "e2e", "lock");
const components = JSON.parse(readFileSync(join(LOCK_DIR, "components.json"), "utf8")) as {
  python: Record<string, { version: string; image?: string; requirement: string; lock: string }>;
  go: Record<string, { version: string; image?: string; module: string }>;
};

describe("e2e versions come from the image pins", () => {
  const pinned = pinnedVersions();

  it("derives one version per product from the envs' images", () => {
    expect(pinned).toEqual({ openwebui: "0.10.2", litellm: "1.80.0", mcpo: "0.0.20", "oauth2-proxy": "v7.15.6" });
  });

  it("the installer's lock names exactly those versions and images", () => {
    for (const product of ["openwebui", "litellm", "mcpo"] as const) {
      const c = components.python[product]!;
      expect(c.version, product).toBe(pinned[product]);
      expect(c.requirement, product).toMatch(new RegExp(`==${pinned[product].replace(/\./g, "\\.")}$`));
      const image = ENVIRONMENTS.map((e) => e.services[product].image)[0]!;
      expect(c.image, product).toBe(image);
    }
    expect(components.go["oauth2-proxy"]!.version).toBe(pinned["oauth2-proxy"]);
    const proxyImage = ENVIRONMENTS.flatMap((e) => (e.auth.mode === "oauth2-proxy" ? [e.auth.proxy.image] : []))[0];
    expect(components.go["oauth2-proxy"]!.image).toBe(proxyImage);
  });

  it("each hashed lock file pins the release itself", () => {
    const pins: Record<string, RegExp> = { openwebui: /^open-webui==0\.10\.2\b/m, litellm: /^litellm==1\.80\.0\b/m, mcpo: /^mcpo==0\.0\.20\b/m };
    for (const [product, re] of Object.entries(pins)) {
      const lock = readFileSync(join(LOCK_DIR, components.python[product]!.lock), "utf8");
      expect(lock, product).toMatch(re);
      expect(lock, `${product} is hashed`).toMatch(/--hash=sha256:[0-9a-f]{64}/);
    }
  });

  it("maps image tags to registry versions, and refuses tags it cannot map", () => {
    expect(versionOfImage("litellm", "ghcr.io/berriai/litellm:v1.80.0-stable")).toBe("1.80.0");
    expect(versionOfImage("openwebui", `ghcr.io/open-webui/open-webui:v0.10.2@sha256:${"a".repeat(64)}`)).toBe("0.10.2");
    expect(() => versionOfImage("openwebui", "ghcr.io/someone/else:v1.0.0")).toThrow(/is not ghcr\.io\/open-webui\/open-webui:<tag>/);
    expect(() => versionOfImage("mcpo", "ghcr.io/open-webui/mcpo:git-1234")).toThrow(/names no release version/);
  });

  it("refuses envs that pin different versions of one product (the suite proves one)", () => {
    // Each env's name is its state key's file name (envs/schema.ts, checkStateKey).
    const a = parseEnv({ ...baseEnvInput(), name: "aaa", state: { key: "open-webui/aws/aaa.tfstate" } });
    const b = parseEnv({ ...baseEnvInput(), name: "bbb", state: { key: "open-webui/aws/bbb.tfstate" }, services: { openwebui: { image: "ghcr.io/open-webui/open-webui:v0.10.1" } } } as never);
    expect(() => pinnedVersions([a, b])).toThrow(/openwebui: the envs pin different versions \(0\.10\.2 in aaa; 0\.10\.1 in bbb\)/);
  });
});
