import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserIn } from "./admin-fixtures";
import { type TestApp, startTestApp } from "./harness";

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp({}, { web: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});
afterAll(async () => {
  await browser.close();
  await app.close();
});

/** Every Content-Security-Policy violation the page reports, from the console and the DOM event. */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.exposeFunction("reportCspViolation", (text: string) => violations.push(text));
  // A string: it runs in the page, where `document` is (this file is typed for Node).
  await page.addInitScript(`
    document.addEventListener("securitypolicyviolation", (event) => {
      window.reportCspViolation(event.violatedDirective + ": " + event.blockedURI + " from " + event.sourceFile);
    });
  `);
  return violations;
}

describe("Content-Security-Policy in a real browser", () => {
  it("the admin app signs in, hydrates and navigates with no violation", async () => {
    const email = await createUserIn(app, app.demoTenantId, "owner");
    const page = await browser.newPage();
    const violations = await watchViolations(page);
    await page.goto(`${app.url}/sign-in?redirectTo=%2Fkeys`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.url}/keys`);
    // Client-side navigation works only once Remix's inline bootstrap ran under the nonce.
    await page.getByRole("link", { name: "Members" }).click();
    await page.waitForURL(`${app.url}/members`);
    await page.getByRole("link", { name: "Matrices" }).click();
    await page.waitForURL(`${app.url}/matrices`);
    await page.goto(`${app.url}/matrices/new`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.waitForLoadState("networkidle");
    expect(violations).toEqual([]);
    await page.close();
  });

  it("the API reference (/docs) renders with no violation", async () => {
    const page = await browser.newPage();
    const violations = await watchViolations(page);
    await page.goto(`${app.url}/docs`);
    await page.getByText("Submit a new approval request").first().waitFor({ timeout: 30_000 });
    await page.getByText("Dry-run: validate a request without creating it").first().waitFor();
    // The one refusal allowed: zod 4 inside Scalar probes `Function("")` to choose its JIT and
    // falls back when eval is refused. 'unsafe-eval' is not worth granting for it.
    const zodProbe = new RegExp(`^script-src: eval from ${app.url}/docs/scalar\\.js$`);
    expect(violations.filter((v) => !zodProbe.test(v))).toEqual([]);
    await page.close();
  });
});
