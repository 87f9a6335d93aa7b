/**
 * Which config values look like a credential, or point at a cloud metadata service. Used where a
 * value ends up in plain text (a task definition's environment, Terraform state), e.g. mcpo's
 * server list, so a pasted token or an SSRF-to-credentials target fails at synth.
 */

/** Well-known credential shapes: [what, pattern]. */
const SECRET_SHAPES: readonly [string, RegExp][] = [
  ["an OpenAI/Anthropic-style API key (sk-…)", /(^|[^A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}/],
  ["a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_/github_pat_…)", /(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/],
  ["a GitLab token (glpat-…)", /glpat-[A-Za-z0-9_-]{20,}/],
  ["an AWS access key id (AKIA…/ASIA…)", /(^|[^A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}([^A-Z0-9]|$)/],
  ["a Slack token (xox…)", /xox[abposr]-[A-Za-z0-9-]{10,}/],
  ["a Google API key (AIza…)", /AIza[A-Za-z0-9_-]{35}/],
  ["a JSON Web Token", /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./],
  ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["a bearer credential", /\bBearer\s+[A-Za-z0-9._~+/-]{8,}/i],
  ["credentials in a URL (user:password@)", /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i],
  ["a credential option (--api-key=…, --token …, password=…)", /(^|[\s?&;-])(api[_-]?key|apikey|access[_-]?token|auth[_-]?token|token|secret|client[_-]?secret|password|passwd|pwd)[=:]\s*[^\s&]{4,}/i],
];

/** Shannon entropy of `s`, in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A run of 32+ token characters with letters and digits and ≥ 3.5 bits/char: a generated secret, not a word or a path. */
function highEntropyToken(value: string): string | undefined {
  return value
    .split(/[^A-Za-z0-9+_=]+/)
    .find((t) => t.length >= 32 && /[A-Za-z]/.test(t) && /\d/.test(t) && !UUID_RE.test(t) && entropy(t) >= 3.5);
}

/** What kind of credential `value` looks like, or undefined. */
export function secretValueProblem(value: string): string | undefined {
  const shape = SECRET_SHAPES.find(([, re]) => re.test(value));
  if (shape) return `looks like ${shape[0]}`;
  const token = highEntropyToken(value);
  if (token) return `holds a ${token.length}-character high-entropy string, which looks like a generated key or token`;
  return undefined;
}

/**
 * Instance and task metadata endpoints (EC2 IMDS over IPv4 and IPv6, its hostname, the ECS task
 * metadata and credentials endpoint, GCP's metadata host) and the encodings SSRF payloads use for
 * them. Anything reaching them from a task can read the task role's credentials.
 */
const METADATA_TARGETS: readonly [string, RegExp][] = [
  ["the EC2 instance metadata service (169.254.169.254)", /169\.254\.169\.254|\b2852039166\b|0xa9fea9fe|0251\.0376\.0251\.0376|instance-data(\.ec2\.internal)?\b/i],
  ["the EC2 instance metadata service over IPv6 (fd00:ec2::254)", /fd00:ec2::254/i],
  ["the ECS task metadata and credentials endpoint (169.254.170.2)", /169\.254\.170\.2(?!\d)/],
  ["a cloud metadata host (metadata.google.internal)", /metadata\.google\.internal|metadata\.azure\.com/i],
  ["a link-local address (169.254.0.0/16), where metadata services live", /(^|[^\d.])169\.254\.\d{1,3}\.\d{1,3}/],
];

/** Which metadata service `value` points at, or undefined. */
export function metadataAddressProblem(value: string): string | undefined {
  return METADATA_TARGETS.find(([, re]) => re.test(value))?.[0];
}
