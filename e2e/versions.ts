/**
 * The versions the end-to-end suite runs, derived from the one source of truth: the image tags the
 * env configs pin (`services.<name>.image`, `auth.proxy.image`). The installer's lock
 * (`e2e/lock/components.json`) must name the same versions; `test/e2e-versions.test.ts` fails when
 * they drift, so a new pin is proven by the suite before it ships.
 */
import { ENVIRONMENTS } from "../envs/index.js";
import type { EnvConfig } from "../envs/schema.js";

/** A product the suite installs from a registry, and the image whose tag pins it. */
export type Product = "openwebui" | "litellm" | "mcpo" | "oauth2-proxy";

/** How an image tag maps to the registry's version of the same release. */
const TAG_TO_VERSION: Record<Product, { readonly repository: string; readonly version: (tag: string) => string | undefined }> = {
  // ghcr.io/open-webui/open-webui:v0.10.2 → PyPI open-webui 0.10.2
  openwebui: { repository: "ghcr.io/open-webui/open-webui", version: (t) => /^v?(\d+\.\d+\.\d+)$/.exec(t)?.[1] },
  // ghcr.io/berriai/litellm:v1.80.0-stable → PyPI litellm 1.80.0 (the -stable image is built from that release)
  litellm: { repository: "ghcr.io/berriai/litellm", version: (t) => /^v?(\d+\.\d+\.\d+)(?:-stable)?$/.exec(t)?.[1] },
  // ghcr.io/open-webui/mcpo:v0.0.20 → PyPI mcpo 0.0.20
  mcpo: { repository: "ghcr.io/open-webui/mcpo", version: (t) => /^v?(\d+\.\d+\.\d+)$/.exec(t)?.[1] },
  // quay.io/oauth2-proxy/oauth2-proxy:v7.15.6 → Go module github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6
  "oauth2-proxy": { repository: "quay.io/oauth2-proxy/oauth2-proxy", version: (t) => (/^v\d+\.\d+\.\d+$/.test(t) ? t : undefined) },
};

/** The image of `product` an env runs, or undefined when the env does not run it (no proxy). */
export function imageOf(env: EnvConfig, product: Product): string | undefined {
  switch (product) {
    case "openwebui":
      return env.services.openwebui.image;
    case "litellm":
      return env.services.litellm.image;
    case "mcpo":
      return env.services.mcpo.image;
    case "oauth2-proxy":
      return env.auth.mode === "oauth2-proxy" ? env.auth.proxy.image : undefined;
  }
}

/** The registry version of an image (`repo:tag`, optionally `@sha256:…`); throws on an image of another repository. */
export function versionOfImage(product: Product, image: string): string {
  const { repository, version } = TAG_TO_VERSION[product];
  const m = /^([^@]+?):([^:@/]+)(?:@sha256:[0-9a-f]{64})?$/.exec(image);
  if (!m || m[1] !== repository) throw new Error(`${product}: image "${image}" is not ${repository}:<tag>; the e2e suite cannot know which release it runs`);
  const v = version(m[2]!);
  if (!v) throw new Error(`${product}: tag "${m[2]}" of ${image} names no release version the suite can install`);
  return v;
}

/**
 * The version of each product, from every env that runs it. Envs that pin different versions of one
 * product are refused: the suite proves one version of each, the one all envs deploy.
 */
export function pinnedVersions(envs: readonly EnvConfig[] = ENVIRONMENTS): Record<Product, string> {
  const out: Partial<Record<Product, string>> = {};
  const problems: string[] = [];
  for (const product of Object.keys(TAG_TO_VERSION) as Product[]) {
    const seen = new Map<string, string[]>();
    for (const env of envs) {
      const image = imageOf(env, product);
      if (!image) continue;
      const v = versionOfImage(product, image);
      seen.set(v, [...(seen.get(v) ?? []), env.name]);
    }
    if (seen.size > 1) problems.push(`${product}: the envs pin different versions (${[...seen].map(([v, e]) => `${v} in ${e.join(", ")}`).join("; ")}); pin one, so the e2e suite proves what every env runs`);
    const first = [...seen.keys()][0];
    if (first) out[product] = first;
    else problems.push(`${product}: no env runs it, so the suite cannot derive its version`);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return out as Record<Product, string>;
}
