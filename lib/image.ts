/** Container image references: pinned by tag or digest, never `latest`. Shared by the env schema and the service factory. */

const IMAGE_RE = /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)+)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

export const PIN_FIX = `pin it, e.g. "ghcr.io/open-webui/open-webui:v0.10.2" or "…@sha256:<64 hex digits>"`;

/** Why `ref` is not a pinned image, or undefined when it is. */
export function imageProblem(ref: string): string | undefined {
  const m = IMAGE_RE.exec(ref);
  if (!m) return `"${ref}" is not a valid image reference`;
  if (!m[2] && !m[3]) return `"${ref}" has no tag or digest, so every deploy may pull a different image`;
  if (m[2] === "latest" && !m[3]) return `"${ref}" is tagged "latest", which moves`;
  return undefined;
}
