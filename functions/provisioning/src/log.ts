/**
 * Structured JSON logs and Embedded Metric Format (EMF) lines.
 *
 * Both are written straight to stdout, one JSON object per line, not through `console.log`: the
 * Lambda runtime patches `console` to prefix "<time>\t<requestId>\tINFO\t" (text log format) or to
 * wrap the line in its own JSON (JSON log format), and either way CloudWatch no longer sees a bare
 * EMF document. (Powertools made the same change: aws-powertools/powertools-lambda-typescript#1786.)
 *
 * Never pass a secret in `fields`; nothing here redacts.
 */
import { METRICS } from "./config.js";

export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

function write(obj: Fields): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

export function log(level: Level, msg: string, fields: Fields = {}): void {
  write({ level, msg, time: new Date().toISOString(), ...fields });
}

export function errorFields(err: unknown): Fields {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const code = (cause as { code?: string } | undefined)?.code ?? (err as { code?: string }).code;
    return { error: err.name, errorMessage: err.message, ...(code ? { errorCode: code } : {}) };
  }
  return { error: String(err) };
}

/**
 * One EMF document: each key of `metrics` becomes a metric (unit Count unless given) in `namespace`
 * with the single dimension `Function=<fn>`. `fields` are extra, searchable properties.
 */
export function emitMetrics(
  namespace: string,
  fn: string,
  metrics: Record<string, number>,
  fields: Fields = {},
  msg = "metrics",
): void {
  const names = Object.keys(metrics);
  if (names.length === 0) return;
  write({
    ...fields,
    level: fields.level ?? "info",
    msg,
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[METRICS.dimensionName]],
          Metrics: names.map((Name) => ({ Name, Unit: "Count" })),
        },
      ],
    },
    [METRICS.dimensionName]: fn,
    ...metrics,
  });
}
