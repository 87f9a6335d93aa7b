/**
 * Runs a bundled Lambda handler (the exact `index.mjs` the stack ships, lib/bundle.ts) in a child
 * Node process with the environment the synthesized `aws_lambda_function` gives it, after the
 * world's substitutions. A child per invocation keeps each function's environment its own, as
 * Lambda does.
 */
import { spawn } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

/**
 * The Node.js 22 Lambda runtime ships the AWS SDK v3, so bundles leave `@aws-sdk/*` external; here
 * the function's own workspace package provides it (the versions its package.json pins), linked
 * beside the bundle.
 */
export function provideRuntimeSdk(bundleFile: string, pkg: string): void {
  const link = join(dirname(bundleFile), "node_modules");
  if (!existsSync(link)) symlinkSync(join(ROOT, "functions", pkg, "node_modules"), link, "dir");
}

export interface LambdaRun<T> {
  readonly result: T;
  /** What the function logged (its CloudWatch log lines). */
  readonly logs: string;
}

export async function invokeBundle<T = unknown>(bundleFile: string, env: Readonly<Record<string, string>>, event: unknown, timeoutMs = 60_000): Promise<LambdaRun<T>> {
  const script = `
    const { handler } = await import(${JSON.stringify(bundleFile)});
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    const ctx = { getRemainingTimeInMillis: () => ${timeoutMs}, awsRequestId: "e2e-" + Date.now() };
    const out = await handler(JSON.parse(input), ctx);
    process.stdout.write("\\n@@RESULT@@" + JSON.stringify(out ?? null));`;
  return await new Promise((ok, fail) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const at = out.lastIndexOf("@@RESULT@@");
      if (code !== 0 || at < 0) return fail(new Error(`${bundleFile} failed (exit ${code}):\n${err.slice(-3000)}\n${out.slice(-2000)}`));
      ok({ result: JSON.parse(out.slice(at + "@@RESULT@@".length)) as T, logs: out.slice(0, at) + err });
    });
    child.stdin.end(JSON.stringify(event));
  });
}
