/** The shipped bundles: size goal, the SDK left to the runtime, one `handler` export each. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUNDLES, type HandlerName } from "../src/config.js";
import { bundle, importFresh } from "./support/harness.js";

const SDK_IMPORTS: Record<HandlerName, string[]> = {
  producer: ["@aws-sdk/client-sqs"],
  worker: ["@aws-sdk/client-secrets-manager"],
  reconciler: ["@aws-sdk/client-cognito-identity-provider", "@aws-sdk/client-secrets-manager"],
  "pre-signup": [],
};

describe("bundles", () => {
  it.each(Object.keys(BUNDLES) as HandlerName[])("%s: ≤ 250 KB, SDK external, exports handler", async (name) => {
    const b = bundle(name);
    expect(b.bytes).toBeLessThanOrEqual(250 * 1024);
    const code = readFileSync(b.file, "utf8");
    for (const mod of SDK_IMPORTS[name]) expect(code).toContain(`"${mod}"`);
    // Nothing of the SDK's own code inlined (smithy is what a bundled client drags in).
    expect(code).not.toMatch(/@smithy\/|smithy-client/);
    const mod = await importFresh<Record<string, unknown>>(b.file);
    expect(typeof mod.handler).toBe("function");
  });
});
