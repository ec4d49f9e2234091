import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserIn, sessionCookie } from "./admin-fixtures";
import { chromiumForTests, launchChromium } from "./browser";
import { type TestApp, api, startTestApp } from "./harness";

const SHOTS = join(import.meta.dirname, "..", "test-results", "admin");
let app: TestApp;
let browser: Browser;
// No browser: the suite is skipped with one line saying how to enable it (a failure under CI=true).
const chromiumPath = chromiumForTests();

beforeAll(async () => {
  if (!chromiumPath) return;
  mkdirSync(SHOTS, { recursive: true });
  app = await startTestApp({}, { web: true });
  browser = await launchChromium(chromiumPath);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A browser context already signed in as `email` (the fixture skips the sign-in form). */
async function signedIn(email: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = watchCsp(await browser.newContext({ viewport: { width: 1360, height: 900 } }));
  const [name, value] = (await sessionCookie(app, email)).split("=") as [string, string];
  await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
  return { context, page: await context.newPage() };
}

/** Content-Security-Policy refusals any page of any context printed (checked at the end). */
const cspViolations: string[] = [];
function watchCsp(context: BrowserContext): BrowserContext {
  context.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return context;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!chromiumPath)("an admin sets up a tenant and routes a request to approval", () => {
  let page: Page;
  let context: BrowserContext;

  it("signs in through the form", async () => {
    const email = await createUserIn(app, app.demoTenantId, "owner");
    context = watchCsp(await browser.newContext({ viewport: { width: 1360, height: 900 } }));
    page = await context.newPage();
    await page.goto(`${app.url}/keys`);
    expect(page.url()).toContain("/sign-in?redirectTo=%2Fkeys");
    await shot(page, "01-sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.url}/keys`);
    await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
  });

  let key = "";
  it("creates a key, sees it once, and uses it over REST", async () => {
    await page.getByLabel("Name").fill("E2E integration");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-key");
    await shown.waitFor();
    key = (await shown.textContent())!.trim();
    expect(key).toMatch(/^apx_live_[A-Za-z0-9]{32}$/);
    await shot(page, "02-key-created");
    const res = await api(app, key)("POST", "/v1/requests/test", {
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      title: "Check",
      amount: 10,
    });
    expect(res.status).toBe(200);
    await page.reload();
    expect(await page.getByTestId("new-key").count()).toBe(0); // never shown again
    await expect(page.locator("tr", { hasText: "E2E integration" }).textContent()).resolves.toContain(key.slice(0, 12));
  });

  it("revokes the key after confirming, and the API answers 401", async () => {
    const row = page.locator("tr", { hasText: "E2E integration" });
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Revoke key" }).click();
    await page.getByText("was revoked").waitFor();
    // The banner and the row's status re-render separately: wait for the row itself.
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain("revoked");
    await shot(page, "03-key-revoked");
    const res = await api(app, key)("POST", "/v1/requests/test", {
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      title: "Check",
      amount: 10,
    });
    expect(res.status).toBe(401);
  });

  it("imports a members CSV: a bad file imports nothing, a good one upserts every row", async () => {
    await page.goto(`${app.url}/members/import`);
    const bad =
      "externalRef,name,email,department,managerRef\nEMP-9001,Ok Person,ok@x.example,Ops,\n,No Ref,,Ops,\nEMP-9003,Bad Mail,not-an-email,Ops,\nEMP-9004,Lost Manager,,Ops,EMP-NOPE\n";
    await page.setInputFiles("#csv-file", { name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await page.getByRole("button", { name: "Import members" }).click();
    await page.getByTestId("import-result").waitFor();
    const report = await page.getByTestId("import-result").textContent();
    expect(report).toContain("Nothing was imported");
    expect(report).toContain("not an email address");
    expect(report).toContain("EMP-NOPE");
    await shot(page, "04-import-errors");
    expect((await app.operator(app.demoTenantId).admin.members.search({ search: "EMP-9001" })).total).toBe(0);

    const rows = [
      "externalRef,name,email,department,managerRef,active",
      "EMP-1042,Alex Kim (updated),alex.kim@acme.example,Engineering,EMP-2001,true",
    ];
    for (let i = 0; i < 3000; i++)
      rows.push(`EMP-9${String(i).padStart(4, "0")},Person ${i},p${i}@acme.example,Operations,${i ? "EMP-90000" : "EMP-3001"},true`);
    await page.setInputFiles("#csv-file", { name: "members.csv", mimeType: "text/csv", buffer: Buffer.from(rows.join("\n")) });
    await page.getByRole("button", { name: "Import members" }).click();
    await page.getByText("Import complete").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("import-result").textContent()).toContain("3,001 rows imported: 3,000 new, 1 updated");
    await shot(page, "05-import-done");
    await page.goto(`${app.url}/members?q=Person+2999`);
    await page.getByText("EMP-92999").waitFor();
    await shot(page, "06-members-search");
  });

  it("a failed upload ends with a message, and the file can be imported again", async () => {
    await page.goto(`${app.url}/members/import`);
    const csv = "externalRef,name\nEMP-1042,Alex Kim\n";
    await page.setInputFiles("#csv-file", { name: "retry.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    const button = page.getByRole("button", { name: "Import members" });
    for (const [answer, message] of [
      [{ status: 500, contentType: "text/html", body: "<h1>Internal Server Error</h1>" }, "The server answered with an error (HTTP 500)."],
      [
        { contentType: "application/x-ndjson", body: '{"type":"progress","phase":"validating","done":0,"total":1}\n' },
        "lost before the import",
      ],
    ] as const) {
      await page.route("**/members/import-stream", (route) => route.fulfill(answer));
      await button.click();
      await page.getByTestId("import-result").getByText(message).waitFor();
      await page.unroute("**/members/import-stream");
    }
    await shot(page, "05b-import-failed");
    await button.click();
    await page.getByText("Import complete").waitFor();
  });

  it("builds a two-stage matrix with a live preview", async () => {
    await page.goto(`${app.url}/matrices/new`);
    await page.getByLabel("Name", { exact: true }).fill("E2E two-stage");
    await page.getByLabel("Request type").fill("equipment");
    await page.getByLabel("Currency").fill("");
    await page.getByLabel("Stage name").fill("Engineering lead");
    await page.getByLabel("Approvers").selectOption("members");
    await page.getByLabel("Members' externalRefs").fill("EMP-2001");
    await page.getByRole("button", { name: "+ Add stage" }).click();
    const stage2 = page.getByRole("group", { name: "Stage 2" });
    await stage2.getByLabel("Stage name").fill("Finance");
    await stage2.getByLabel("Approvers").selectOption("members");
    await stage2.getByLabel("Members' externalRefs").fill("EMP-3001");
    const preview = page.getByTestId("matrix-preview");
    await preview.getByText("this matrix").waitFor();
    const text = await preview.textContent();
    expect(text).toContain("Jane Smith (EMP-2001)");
    expect(text).toContain("Bob Lee (EMP-3001)");
    await shot(page, "07-matrix-editor");
    await page.getByRole("button", { name: "Create matrix" }).click();
    await page.getByText("Matrix created.").waitFor();
    const matrices = await app.operator(app.demoTenantId).admin.matrices.list();
    expect(matrices.find((m) => m.name === "E2E two-stage")?.stages.map((s) => s.name)).toEqual(["Engineering lead", "Finance"]);
  });

  it("routes a REST request through both approvers' inboxes to approved, and shows the timeline", async () => {
    const submitted = await api(app, app.demoKey)("POST", "/v1/requests", {
      submitterRef: "EMP-1042",
      requestType: "equipment",
      title: "New laptop",
      amount: 2400,
      currency: "USD",
    });
    expect(submitted.status).toBe(201);
    const requestId = submitted.body.requestId as string;

    for (const [email, comment] of [
      ["jane.smith@acme.example", "Needed for the new hire."],
      ["bob.lee@acme.example", "Within budget."],
    ] as const) {
      const approver = await signedIn(email);
      await approver.page.goto(`${app.url}/`);
      await approver.page.waitForURL(`${app.url}/inbox`);
      await approver.page.getByRole("link", { name: "New laptop" }).waitFor();
      if (email.startsWith("jane")) await shot(approver.page, "08-inbox");
      await approver.page.getByRole("link", { name: "Review" }).click();
      await approver.page.getByLabel("Comment").fill(comment);
      await approver.page.getByRole("button", { name: "Approve" }).click();
      await approver.page.getByText("Your decision (approved) was recorded.").waitFor();
      // An approver cannot reach admin pages.
      const admin = await approver.page.goto(`${app.url}/keys`);
      expect(admin?.status()).toBe(403);
      await approver.context.close();
    }

    await page.goto(`${app.url}/requests/${requestId}`);
    const tracker = page.getByTestId("stage-tracker");
    await expect(tracker.textContent()).resolves.toContain("Approved");
    const timeline = await page.getByTestId("timeline").textContent();
    expect(timeline).toContain("Jane Smith approved stage 1");
    expect(timeline).toContain("Bob Lee approved stage 2");
    expect(timeline).toContain("Within budget.");
    expect(timeline).toContain("Request approved");
    await shot(page, "09-request-timeline");
    await page.goto(`${app.url}/requests`);
    await shot(page, "10-requests");
    await page.goto(`${app.url}/audit`);
    await page.getByText("member.imported").first().waitFor();
    await shot(page, "11-audit");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${app.url}/members`);
    await shot(page, "12-members-phone");
  });
});

describe("Content-Security-Policy", () => {
  it("no page of the walk-through reported a violation", () => {
    expect(cspViolations).toEqual([]);
  });
});
