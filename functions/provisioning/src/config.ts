/**
 * The environment contract of the provisioning functions: every variable each handler reads,
 * its default, and its validation. The infra author imports `ENV_CONTRACT` (or reads the README,
 * which mirrors it) to know exactly what to set; a handler that is misconfigured fails its first
 * invocation with a `ConfigError` naming every bad variable at once.
 *
 * Pure data + validation: no AWS SDK import, so infra code may import it at synth time.
 */

export type HandlerName = "producer" | "worker" | "reconciler" | "pre-signup";

export interface EnvVarSpec {
  readonly name: string;
  /** Required whenever {@link when} holds (always, without `when`). */
  readonly required: boolean;
  /** As a string, the way it would be set in the function's environment. */
  readonly default?: string;
  readonly description: string;
  /**
   * Read only when another variable has this value (e.g. the SCIM variables only when
   * `OPENWEBUI_PROVISIONING=scim`); set otherwise, it is ignored, which the synth check refuses.
   */
  readonly when?: { readonly name: string; readonly value: string };
}

/** How the worker and the reconciler create Open WebUI users (`OPENWEBUI_PROVISIONING`). */
export const PROVISIONING_PATHS = ["scim", "trusted-header"] as const;
export type ProvisioningPath = (typeof PROVISIONING_PATHS)[number];

/** CloudWatch metrics the functions emit through Embedded Metric Format log lines. */
export const METRICS = {
  /** Override with `METRIC_NAMESPACE`. */
  namespace: "OpenWebUI/Provisioning",
  /** Every metric carries exactly this one dimension; alarms must use it too. */
  dimensionName: "Function",
  /** producer: SendMessage failed after all retries (the sign-up still succeeded). Alarm on Sum > 0. */
  enqueueFailed: "EnqueueFailed",
  /** producer: a confirmed sign-up was put on the queue. */
  enqueued: "Enqueued",
  /** worker: items handed back to SQS for redelivery (and eventually the DLQ). */
  provisionFailed: "ProvisionFailed",
  /** worker/reconciler: users created in Open WebUI. */
  created: "UsersCreated",
  /** worker/reconciler: users that already existed (SCIM 409). */
  existed: "UsersExisted",
  /**
   * worker/reconciler: users that exist now after a trusted-header sign-in (200), which does not
   * tell whether it created them; never counted as created or existed.
   */
  ensured: "UsersEnsured",
  /** reconciler: users it could not ensure this run. Alarm on Sum > 0. */
  reconcileFailed: "ReconcileFailed",
  /** reconciler: users it had to create, i.e. whose event path lost them. Worth a look when > 0. */
  reconcileHealed: "ReconcileHealed",
} as const;

const COMMON: readonly EnvVarSpec[] = [
  { name: "METRIC_NAMESPACE", required: false, default: METRICS.namespace, description: "CloudWatch namespace of the EMF metrics." },
];

const SCIM_ONLY = { name: "OPENWEBUI_PROVISIONING", value: "scim" } as const;
const TRUSTED_HEADER_ONLY = { name: "OPENWEBUI_PROVISIONING", value: "trusted-header" } as const;

/** The worker's and the reconciler's way to Open WebUI. */
const OPENWEBUI: readonly EnvVarSpec[] = [
  {
    name: "OPENWEBUI_PROVISIONING",
    required: false,
    default: "scim",
    description:
      "How users are created: \"scim\" (POST /Users of Open WebUI's SCIM API; native OIDC modes) or \"trusted-header\" (POST /api/v1/auths/signin with the trusted email header, as a first visit through oauth2-proxy does; SCIM-created users cannot sign in through a trusted header).",
  },
  {
    name: "SCIM_BASE_URL",
    required: true,
    when: SCIM_ONLY,
    description: "Open WebUI SCIM 2.0 base, e.g. http://openwebui.owui.internal:8080/api/v1/scim/v2 (no trailing /Users).",
  },
  { name: "SCIM_TOKEN_SECRET_ARN", required: true, when: SCIM_ONLY, description: "Secrets Manager ARN (or name) of the SCIM bearer token (plain string, or JSON with a `token` key)." },
  { name: "SCIM_TOKEN_TTL_SECONDS", required: false, when: SCIM_ONLY, default: "300", description: "How long a fetched token is cached in the execution environment." },
  {
    name: "OPENWEBUI_URL",
    required: true,
    when: TRUSTED_HEADER_ONLY,
    description: "Open WebUI's own base URL on its port 8080, e.g. http://openwebui.owui-sandbox.internal:8080 (no path; never the proxy's 4180 or the ALB).",
  },
  {
    name: "TRUSTED_EMAIL_HEADER",
    required: true,
    when: TRUSTED_HEADER_ONLY,
    description: "Open WebUI's WEBUI_AUTH_TRUSTED_EMAIL_HEADER, e.g. X-Forwarded-Email: the header the sign-in carries the email in.",
  },
  {
    name: "TRUSTED_NAME_HEADER",
    required: false,
    when: TRUSTED_HEADER_ONLY,
    description: "Open WebUI's WEBUI_AUTH_TRUSTED_NAME_HEADER when it differs from the email header: the display name is sent in it (URL-encoded). Unset or equal to the email header: the user is named by the email, as on a first visit.",
  },
  { name: "REQUEST_TIMEOUT_MS", required: false, default: "5000", description: "Timeout of each HTTP request to Open WebUI; keep well under the function timeout." },
  {
    name: "WEBHOOK_URL",
    required: false,
    description: "Optional post-provision webhook (e.g. an n8n invitation): after a SCIM 201, or after the worker's trusted-header sign-in of a queued sign-up. Off when unset.",
  },
  { name: "WEBHOOK_TIMEOUT_MS", required: false, default: "2000", description: "Timeout of the webhook call; its failure is only logged." },
];

/** Every variable each handler reads. `AWS_REGION` and the `AWS_ENDPOINT_URL_*` overrides are read by the SDK itself. */
export const ENV_CONTRACT: Readonly<Record<HandlerName, readonly EnvVarSpec[]>> = {
  producer: [
    { name: "QUEUE_URL", required: true, description: "URL of the provisioning SQS queue." },
    {
      name: "ENQUEUE_BUDGET_MS",
      required: false,
      default: "3000",
      description: "Total time SendMessage may take, retries included; Cognito gives the trigger 5 s.",
    },
    { name: "ENQUEUE_MAX_ATTEMPTS", required: false, default: "3", description: "SendMessage attempts within the budget." },
    ...COMMON,
  ],
  worker: [
    ...OPENWEBUI,
    { name: "WORKER_CONCURRENCY", required: false, default: "5", description: "Records of one batch processed at once." },
    ...COMMON,
  ],
  reconciler: [
    { name: "USER_POOL_ID", required: true, description: "Cognito user pool to reconcile from." },
    ...OPENWEBUI,
    { name: "RECONCILE_CONCURRENCY", required: false, default: "5", description: "Requests to Open WebUI in flight at once." },
    ...COMMON,
  ],
  "pre-signup": [
    {
      name: "ALLOWED_EMAIL_DOMAINS",
      required: true,
      description: 'Comma-separated email domains that may sign up, e.g. "example.com,example.org" (exact match, case-insensitive; "*" is refused: attach no trigger instead).',
    },
  ],
};

export class ConfigError extends Error {
  constructor(
    readonly handler: HandlerName,
    readonly problems: readonly string[],
  ) {
    super(`${handler}: invalid environment: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Where and how users are created (`OPENWEBUI_PROVISIONING` and its variables). */
export type OpenWebUiTarget =
  | {
      readonly path: "scim";
      readonly scimBaseUrl: string;
      readonly scimTokenSecretArn: string;
      readonly scimTokenTtlSeconds: number;
    }
  | {
      readonly path: "trusted-header";
      /** Open WebUI's base URL, without a trailing slash. */
      readonly openWebUiUrl: string;
      readonly emailHeader: string;
      readonly nameHeader?: string;
    };

/** What the worker and the reconciler share. */
export interface ClientConfig {
  readonly openwebui: OpenWebUiTarget;
  readonly requestTimeoutMs: number;
  readonly webhookUrl?: string;
  readonly webhookTimeoutMs: number;
  readonly metricNamespace: string;
}
/** @deprecated the name of {@link ClientConfig} before the trusted-header path. */
export type ScimConfig = ClientConfig;
export interface ProducerConfig {
  readonly queueUrl: string;
  readonly enqueueBudgetMs: number;
  readonly enqueueMaxAttempts: number;
  readonly metricNamespace: string;
}
export interface PreSignUpConfig {
  /** Lower-case, de-duplicated, in the order given. */
  readonly allowedDomains: readonly string[];
}
export interface WorkerConfig extends ClientConfig {
  readonly concurrency: number;
}
export interface ReconcilerConfig extends ClientConfig {
  readonly userPoolId: string;
  readonly concurrency: number;
}

type Env = Readonly<Record<string, string | undefined>>;

class Reader {
  readonly problems: string[] = [];
  constructor(
    private readonly env: Env,
    private readonly specs: readonly EnvVarSpec[],
  ) {}
  private spec(name: string): EnvVarSpec {
    const s = this.specs.find((x) => x.name === name);
    if (!s) throw new Error(`BUG: ${name} is not in the env contract`);
    return s;
  }
  private raw(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === "" ? undefined : v;
  }
  str(name: string): string {
    const s = this.spec(name);
    const v = this.raw(name) ?? s.default;
    if (v === undefined) {
      if (s.required) this.problems.push(`${name} is required (${s.description})`);
      return "";
    }
    return v;
  }
  optional(name: string): string | undefined {
    this.spec(name);
    return this.raw(name);
  }
  /**
   * A variable of one provisioning path, read while that path (`active`) is chosen: required then
   * when its spec says so. Unset → undefined (after recording the problem).
   */
  when(name: string, active: string): string | undefined {
    const s = this.spec(name);
    if (s.when && s.when.value !== active) return undefined;
    const v = this.raw(name) ?? s.default;
    if (v === undefined && s.required) this.problems.push(`${name} is required with ${s.when ? `${s.when.name}=${s.when.value}` : "this handler"} (${s.description})`);
    return v;
  }
  int(name: string, min: number, max: number): number {
    const v = this.str(name);
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return min;
    }
    return n;
  }
  url(name: string, value: string | undefined): string | undefined {
    if (value === undefined || value === "") return value;
    try {
      const u = new URL(value);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
      return value.replace(/\/+$/, "");
    } catch {
      this.problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
      return value;
    }
  }
}

/** RFC 9110 field-name: a token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function openWebUiTarget(r: Reader): OpenWebUiTarget {
  const raw = r.str("OPENWEBUI_PROVISIONING");
  if (!(PROVISIONING_PATHS as readonly string[]).includes(raw)) {
    r.problems.push(`OPENWEBUI_PROVISIONING must be one of ${PROVISIONING_PATHS.map((p) => `"${p}"`).join(", ")}, got ${JSON.stringify(raw)}`);
    return { path: "scim", scimBaseUrl: "", scimTokenSecretArn: "", scimTokenTtlSeconds: 0 };
  }
  if (raw === "trusted-header") {
    const url = r.url("OPENWEBUI_URL", r.when("OPENWEBUI_URL", raw)) ?? "";
    if (url) {
      try {
        const u = new URL(url);
        if (u.pathname !== "/" && u.pathname !== "") {
          r.problems.push(`OPENWEBUI_URL must be Open WebUI's base URL without a path (the worker adds /api/v1/auths/signin), got ${JSON.stringify(url)}`);
        }
      } catch {
        // r.url already reported it
      }
    }
    const emailHeader = r.when("TRUSTED_EMAIL_HEADER", raw) ?? "";
    const nameHeader = r.when("TRUSTED_NAME_HEADER", raw);
    for (const [name, value] of [["TRUSTED_EMAIL_HEADER", emailHeader], ["TRUSTED_NAME_HEADER", nameHeader]] as const) {
      if (value && !HEADER_NAME.test(value)) r.problems.push(`${name} must be an HTTP header name such as X-Forwarded-Email, got ${JSON.stringify(value)}`);
    }
    return { path: "trusted-header", openWebUiUrl: url, emailHeader, ...(nameHeader ? { nameHeader } : {}) };
  }
  const base = r.url("SCIM_BASE_URL", r.when("SCIM_BASE_URL", "scim")) ?? "";
  if (/\/Users$/i.test(base)) r.problems.push("SCIM_BASE_URL must be the SCIM base, without the trailing /Users");
  return {
    path: "scim",
    scimBaseUrl: base,
    scimTokenSecretArn: r.when("SCIM_TOKEN_SECRET_ARN", "scim") ?? "",
    scimTokenTtlSeconds: r.int("SCIM_TOKEN_TTL_SECONDS", 0, 86_400),
  };
}

function clientConfig(r: Reader): ClientConfig {
  const openwebui = openWebUiTarget(r);
  const requestTimeoutMs = r.int("REQUEST_TIMEOUT_MS", 50, 60_000);
  const webhookUrl = r.url("WEBHOOK_URL", r.optional("WEBHOOK_URL"));
  return {
    openwebui,
    requestTimeoutMs,
    ...(webhookUrl ? { webhookUrl } : {}),
    webhookTimeoutMs: r.int("WEBHOOK_TIMEOUT_MS", 50, 30_000),
    metricNamespace: r.str("METRIC_NAMESPACE"),
  };
}

function finish<T>(handler: HandlerName, r: Reader, value: T): T {
  if (r.problems.length > 0) throw new ConfigError(handler, r.problems);
  return value;
}

export function loadProducerConfig(env: Env = process.env): ProducerConfig {
  const r = new Reader(env, ENV_CONTRACT.producer);
  const queueUrl = r.url("QUEUE_URL", r.str("QUEUE_URL")) ?? "";
  return finish("producer", r, {
    queueUrl,
    enqueueBudgetMs: r.int("ENQUEUE_BUDGET_MS", 100, 4_500),
    enqueueMaxAttempts: r.int("ENQUEUE_MAX_ATTEMPTS", 1, 10),
    metricNamespace: r.str("METRIC_NAMESPACE"),
  });
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const r = new Reader(env, ENV_CONTRACT.worker);
  return finish("worker", r, { ...clientConfig(r), concurrency: r.int("WORKER_CONCURRENCY", 1, 100) });
}

export function loadReconcilerConfig(env: Env = process.env): ReconcilerConfig {
  const r = new Reader(env, ENV_CONTRACT.reconciler);
  return finish("reconciler", r, {
    ...clientConfig(r),
    userPoolId: r.str("USER_POOL_ID"),
    concurrency: r.int("RECONCILE_CONCURRENCY", 1, 50),
  });
}

/** A lower-case DNS domain with at least two labels (the env schema's rule, without its `*`). */
const EMAIL_DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function loadPreSignUpConfig(env: Env = process.env): PreSignUpConfig {
  const r = new Reader(env, ENV_CONTRACT["pre-signup"]);
  const entries = r
    .str("ALLOWED_EMAIL_DOMAINS")
    .split(",")
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== "");
  const raw = env.ALLOWED_EMAIL_DOMAINS?.trim() ?? "";
  if (raw !== "" && entries.length === 0) r.problems.push("ALLOWED_EMAIL_DOMAINS lists no domain");
  for (const d of entries) {
    if (d === "*") r.problems.push('ALLOWED_EMAIL_DOMAINS must not contain "*" (any address): attach no pre-sign-up trigger instead');
    else if (!EMAIL_DOMAIN.test(d)) r.problems.push(`ALLOWED_EMAIL_DOMAINS: ${JSON.stringify(d)} is not a domain such as "example.com"`);
  }
  return finish("pre-signup", r, { allowedDomains: [...new Set(entries)] });
}

/**
 * How each function is bundled (see README "Bundling"): the AWS SDK v3 is left to the nodejs22.x
 * runtime. Pass these to `bundleFunction` from `lib/bundle.ts`.
 */
export const BUNDLES: Readonly<Record<HandlerName, { readonly pkg: "provisioning"; readonly entry: string; readonly external: readonly string[] }>> = {
  producer: { pkg: "provisioning", entry: "src/producer.ts", external: ["@aws-sdk/*"] },
  worker: { pkg: "provisioning", entry: "src/worker.ts", external: ["@aws-sdk/*"] },
  reconciler: { pkg: "provisioning", entry: "src/reconciler.ts", external: ["@aws-sdk/*"] },
  // Uses no SDK; the same options keep one bundling rule for the package.
  "pre-signup": { pkg: "provisioning", entry: "src/pre-signup.ts", external: ["@aws-sdk/*"] },
};
