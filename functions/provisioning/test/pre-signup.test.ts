/**
 * The PreSignUp allow-list: its env contract, the pure decision (exact domain, case, subdomains,
 * look-alikes, missing email), the handler for every trigger source and when misconfigured, and
 * the shipped esbuild bundle run black-box.
 */
import { readFileSync } from "node:fs";
import type { PreSignUpTriggerEvent } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, ENV_CONTRACT, loadPreSignUpConfig } from "../src/config.js";
import { decide, emailDomain, MISCONFIGURED_MESSAGE, PRE_SIGN_UP_SOURCES, refusalMessage } from "../src/pre-signup.js";
import { bundle, captureStdout, importFresh, setEnv, type Capture } from "./support/harness.js";

type Source = (typeof PRE_SIGN_UP_SOURCES)[number];
type PreSignUpModule = { handler: (event: PreSignUpTriggerEvent) => Promise<PreSignUpTriggerEvent> };

function event(email: string | undefined, triggerSource: Source = "PreSignUp_SignUp"): PreSignUpTriggerEvent {
  return {
    version: "1",
    region: "us-east-1",
    userPoolId: "us-east-1_FakePool1",
    userName: triggerSource === "PreSignUp_ExternalProvider" ? "Google_109876543210" : "7d1e0f55-1111-4222-8333-444455556666",
    callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "fakeclient" },
    triggerSource,
    request: { userAttributes: email === undefined ? {} : { email } },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
}

const TWO = { allowedDomains: ["example.com", "example.org"] };
const REFUSAL_TWO = "Sign-up is limited to email addresses at example.com or example.org. Use an address at one of these domains.";

let capture: Capture | undefined;
let restoreEnv: (() => void) | undefined;
afterEach(() => {
  capture?.restore();
  capture = undefined;
  restoreEnv?.();
  restoreEnv = undefined;
});

describe("env contract", () => {
  it("documents exactly ALLOWED_EMAIL_DOMAINS, required", () => {
    expect(ENV_CONTRACT["pre-signup"].map((v) => [v.name, v.required])).toEqual([["ALLOWED_EMAIL_DOMAINS", true]]);
  });

  it("trims, lower-cases and de-duplicates the list, keeping its order", () => {
    expect(loadPreSignUpConfig({ ALLOWED_EMAIL_DOMAINS: " Example.COM, example.org ,example.com,," })).toEqual({ allowedDomains: ["example.com", "example.org"] });
  });

  it.each([
    [{}, "ALLOWED_EMAIL_DOMAINS is required"],
    [{ ALLOWED_EMAIL_DOMAINS: "   " }, "ALLOWED_EMAIL_DOMAINS is required"],
    [{ ALLOWED_EMAIL_DOMAINS: " , ," }, "ALLOWED_EMAIL_DOMAINS lists no domain"],
    [{ ALLOWED_EMAIL_DOMAINS: "*" }, 'must not contain "*"'],
    [{ ALLOWED_EMAIL_DOMAINS: "example.com,@example.org" }, '"@example.org" is not a domain'],
    [{ ALLOWED_EMAIL_DOMAINS: "localhost" }, '"localhost" is not a domain'],
  ])("refuses %j: %s", (env, problem) => {
    let err: unknown;
    try {
      loadPreSignUpConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).handler).toBe("pre-signup");
    expect((err as Error).message).toContain(problem);
  });

  it("names every bad entry at once", () => {
    expect(() => loadPreSignUpConfig({ ALLOWED_EMAIL_DOMAINS: "*,bad domain,ok.example" })).toThrow(/must not contain "\*".*"bad domain" is not a domain/);
  });
});

describe("decision", () => {
  it("allows an address at a listed domain and returns that domain", () => {
    expect(decide(event("ada@example.org"), TWO)).toEqual({ allowed: true, domain: "example.org" });
  });

  it("refuses another domain with a message naming every allowed domain, never the address", () => {
    const d = decide(event("mallory@evil.test"), TWO);
    expect(d).toEqual({ allowed: false, domain: "evil.test", message: REFUSAL_TWO });
    expect(JSON.stringify(d)).not.toContain("mallory");
  });

  it("compares case-insensitively (and ignores surrounding spaces)", () => {
    expect(decide(event(" Ada.Lovelace@EXAMPLE.Com "), TWO)).toEqual({ allowed: true, domain: "example.com" });
  });

  it.each([
    ["a subdomain of a listed domain", "ada@mail.example.com", { allowedDomains: ["example.com"] }],
    ["the parent of a listed subdomain", "ada@example.com", { allowedDomains: ["mail.example.com"] }],
    ["a listed domain as a prefix", "ada@example.com.evil.test", { allowedDomains: ["example.com"] }],
    ["a listed domain as a suffix", "ada@notexample.com", { allowedDomains: ["example.com"] }],
    ["a trailing dot", "ada@example.com.", { allowedDomains: ["example.com"] }],
  ])("refuses %s (exact match only)", (_what, email, config) => {
    const d = decide(event(email), config);
    expect(d.allowed).toBe(false);
    expect(d).toMatchObject({ message: refusalMessage(config.allowedDomains) });
  });

  it.each([
    ["no email attribute", undefined],
    ["an empty email", ""],
    ["two @", "a@b@example.com"],
    ["no domain dot", "ada@localhost"],
    ["spaces inside", "ada lovelace@example.com"],
  ])("refuses %s, saying a valid address is needed", (_what, email) => {
    expect(decide(event(email), TWO)).toEqual({ allowed: false, message: `A valid email address is required. ${REFUSAL_TWO}` });
  });

  it("words the refusal for one domain and for three", () => {
    expect(refusalMessage(["example.com"])).toBe("Sign-up is limited to email addresses at example.com. Use an address at this domain.");
    expect(refusalMessage(["a.example", "b.example", "c.example"])).toBe("Sign-up is limited to email addresses at a.example, b.example or c.example. Use an address at one of these domains.");
  });

  it("extracts the lower-cased domain, or nothing from a non-address", () => {
    expect(emailDomain("X@Sub.Example.COM")).toBe("sub.example.com");
    expect(emailDomain(42)).toBeUndefined();
    expect(emailDomain("no-at-sign.example.com")).toBeUndefined();
  });
});

/** A fresh copy of the source module (its config cache starts empty). */
async function sourceHandler(): Promise<PreSignUpModule["handler"]> {
  vi.resetModules();
  return ((await import("../src/pre-signup.js")) as PreSignUpModule).handler;
}

describe("handler (source)", () => {
  it.each(PRE_SIGN_UP_SOURCES)("%s: returns the very event when allowed, throws the refusal otherwise", async (source) => {
    restoreEnv = setEnv({ ALLOWED_EMAIL_DOMAINS: "example.com,example.org" });
    capture = captureStdout();
    const handler = await sourceHandler();
    const ok = event("grace@example.com", source);
    const before = structuredClone(ok);
    await expect(handler(ok)).resolves.toBe(ok);
    expect(ok).toEqual(before); // response untouched: no auto-confirm, no auto-verify
    await expect(handler(event("eve@evil.test", source))).rejects.toThrow(REFUSAL_TWO);
    expect(capture.find((l) => l.msg === "sign-up allowed")).toMatchObject({ level: "info", triggerSource: source, domain: "example.com" });
    expect(capture.find((l) => l.msg === "sign-up refused: email domain not allowed")).toMatchObject({ level: "warn", triggerSource: source, domain: "evil.test" });
    expect(JSON.stringify(capture.lines)).not.toMatch(/grace|eve@/);
  });

  it("fails closed when misconfigured: every sign-up refused with a generic message, the details logged", async () => {
    restoreEnv = setEnv({ ALLOWED_EMAIL_DOMAINS: "*" });
    capture = captureStdout();
    const handler = await sourceHandler();
    for (const source of PRE_SIGN_UP_SOURCES) {
      await expect(handler(event("grace@example.com", source))).rejects.toThrow(MISCONFIGURED_MESSAGE);
    }
    const errors = capture.lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(PRE_SIGN_UP_SOURCES.length);
    expect(errors[0]).toMatchObject({ msg: "pre-sign-up misconfigured; sign-up refused", error: "ConfigError" });
    expect(String(errors[0]!.errorMessage)).toContain('must not contain "*"');
  });

  it("picks up a fixed environment on the next invocation (a failed load is not cached)", async () => {
    restoreEnv = setEnv({ ALLOWED_EMAIL_DOMAINS: undefined });
    capture = captureStdout();
    const handler = await sourceHandler();
    await expect(handler(event("grace@example.com"))).rejects.toThrow(MISCONFIGURED_MESSAGE);
    process.env.ALLOWED_EMAIL_DOMAINS = "example.com";
    await expect(handler(event("grace@example.com"))).resolves.toMatchObject({ triggerSource: "PreSignUp_SignUp" });
  });
});

describe("bundle (black box)", () => {
  it("is small, imports no SDK, and enforces the list for every trigger source", async () => {
    const b = bundle("pre-signup");
    expect(b.bytes).toBeLessThanOrEqual(20 * 1024);
    expect(readFileSync(b.file, "utf8")).not.toMatch(/@aws-sdk\/|@smithy\//);

    restoreEnv = setEnv({ ALLOWED_EMAIL_DOMAINS: "Example.com" });
    capture = captureStdout();
    const { handler } = await importFresh<PreSignUpModule>(b.file);
    for (const source of PRE_SIGN_UP_SOURCES) {
      const ok = event("Ada@EXAMPLE.com", source);
      await expect(handler(ok)).resolves.toBe(ok);
      await expect(handler(event("ada@mail.example.com", source))).rejects.toThrow(
        "Sign-up is limited to email addresses at example.com. Use an address at this domain.",
      );
      await expect(handler(event(undefined, source))).rejects.toThrow("A valid email address is required.");
    }
    expect(capture.lines.filter((l) => l.msg === "sign-up allowed")).toHaveLength(3);
    expect(capture.lines.filter((l) => l.level === "warn").map((l) => l.triggerSource)).toEqual(PRE_SIGN_UP_SOURCES.flatMap((s) => [s, s]));
  });

  it("refuses every sign-up when its environment is missing", async () => {
    restoreEnv = setEnv({ ALLOWED_EMAIL_DOMAINS: undefined });
    capture = captureStdout();
    const { handler } = await importFresh<PreSignUpModule>(bundle("pre-signup").file);
    await expect(handler(event("ada@example.com", "PreSignUp_AdminCreateUser"))).rejects.toThrow(MISCONFIGURED_MESSAGE);
    expect(capture.find((l) => l.level === "error")).toMatchObject({ errorMessage: expect.stringContaining("ALLOWED_EMAIL_DOMAINS is required") });
  });
});
