/**
 * A real browser: Debian's Chromium driven by playwright-core, routed to the world's stand-ins with
 * the deployed hostnames (`World.chromiumArgs`), trusting the test CA by its key pin.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { World } from "./world.js";
import type { OidcUser } from "../standins/oidc.js";

/** Flags every headless run here needs (the machine's network is closed; see the env notes). */
const QUIET = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

/** One person's browser: its own Chromium profile (cookies, localStorage). */
export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Starts a browser for one person. The test CA's key pin (`--ignore-certificate-errors-spki-list`)
 * is honoured only with a user data dir, so each person is a persistent context of their own.
 */
export async function newPerson(world: Pick<World, "manifest" | "chromiumArgs">): Promise<Person> {
  const profile = mkdtempSync(join(tmpdir(), "owui-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: world.manifest.components.chromium.bin, headless: true, args: [...QUIET, ...world.chromiumArgs], viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Fills the IdP stand-in's sign-in form (Cognito hosted UI / Entra login page). */
export async function submitIdpLogin(page: Page, user: Pick<OidcUser, "email" | "password">): Promise<void> {
  await page.waitForSelector("#username", { timeout: 30_000 });
  await page.fill("#username", user.email);
  await page.fill("#password", user.password);
  await Promise.all([page.waitForLoadState("domcontentloaded"), page.click("#signin")]);
}

/**
 * Signs a person in from the app URL the way they would: in mode P oauth2-proxy sends the browser
 * straight to the IdP; in the OIDC modes Open WebUI's sign-in page offers the provider's button.
 * Resolves once Open WebUI's chat UI has loaded (its JWT is in localStorage).
 */
export async function signIn(world: Pick<World, "appUrl" | "mode" | "env">, page: Page, user: Pick<OidcUser, "email" | "password">): Promise<void> {
  await page.goto(world.appUrl, { waitUntil: "domcontentloaded" });
  if (world.mode !== "P") {
    // Older releases (the upgrade scenario's 0.6.41) open on an onboarding page while no user exists.
    const onboarding = page.getByText("Get started", { exact: true });
    if (await onboarding.isVisible({ timeout: 5_000 }).catch(() => false)) await onboarding.click();
    const button = page.locator("button:visible, a:visible").filter({ hasText: new RegExp(`Continue with|${world.env.auth.idp === "entra" ? "Microsoft" : "SSO|OIDC|Cognito"}`, "i") }).first();
    await button.waitFor({ timeout: 60_000 });
    await button.click();
  }
  await submitIdpLogin(page, user);
  await page.waitForFunction(() => Boolean(localStorage.getItem("token")), undefined, { timeout: 60_000 });
  await page.waitForURL((u) => !u.pathname.startsWith("/auth") && !u.pathname.startsWith("/oauth"), { timeout: 60_000 });
}

/** Calls Open WebUI's API from inside the page (same origin, the user's own session and JWT). */
export async function api<T = unknown>(page: Page, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  return await page.evaluate(
    async ({ path, init }) => {
      const token = localStorage.getItem("token");
      const res = await fetch(path, {
        method: init.method ?? "GET",
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body };
    },
    { path, init },
  ) as { status: number; body: T };
}
