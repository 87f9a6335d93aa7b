/** Container image references: pinned by tag or digest, never a tag that moves. Shared by the env schema and the service factory. */

const IMAGE_RE = /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)+)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

export const PIN_FIX = `pin it, e.g. "ghcr.io/open-webui/open-webui:v0.10.2" or "…@sha256:<64 hex digits>"`;

/**
 * Tags registries move to the newest build of a branch or channel (Open WebUI publishes `main`,
 * `dev`, `cuda`, `ollama`; many projects `stable`, `nightly`, `edge`).
 */
const MOVING_TAGS = new Set([
  "latest", "main", "master", "stable", "nightly", "dev", "develop", "development", "edge", "head", "ollama", "cuda",
  "canary", "beta", "alpha", "next", "unstable", "testing", "rolling", "snapshot", "current", "release", "prod", "production",
]);
/** Branch/channel prefixes (`main-cuda`, `dev-ollama`) and suffixes (`3.12-latest`, `v1-nightly`). */
const MOVING_AFFIX_RE = /^(main|master|dev|develop|nightly|latest|edge|head|canary|stable)-|-(latest|nightly|dev|edge|main|master|head|canary|snapshot)$/i;
/** `1`, `v1`, `1.2`, `v1.2`: the newest patch of a major or minor line. */
const PARTIAL_VERSION_RE = /^v?\d+(\.\d+)?$/;

/** Why `tag` moves, or undefined when it names one build. */
function movingTagReason(tag: string): string | undefined {
  if (tag === "latest") return `is tagged "latest", which moves`;
  if (MOVING_TAGS.has(tag.toLowerCase())) return `is tagged "${tag}", a branch or channel tag that moves with every build`;
  if (MOVING_AFFIX_RE.test(tag)) return `is tagged "${tag}", a branch or channel tag that moves with every build`;
  if (PARTIAL_VERSION_RE.test(tag)) return `is tagged "${tag}", a major${tag.includes(".") ? ".minor" : ""}-only version that moves to each new release of that line`;
  return undefined;
}

/** Why `ref` is not a pinned image, or undefined when it is. A digest pins whatever the tag says. */
export function imageProblem(ref: string): string | undefined {
  const m = IMAGE_RE.exec(ref);
  if (!m) return `"${ref}" is not a valid image reference`;
  if (!m[2] && !m[3]) return `"${ref}" has no tag or digest, so every deploy may pull a different image`;
  const reason = m[2] && !m[3] ? movingTagReason(m[2]) : undefined;
  return reason ? `"${ref}" ${reason}` : undefined;
}
