/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { API_KEY_SCOPES, API_KEY_SCOPE_DESCRIPTIONS, must } from "@approvalmatrix/core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { browserFetch, createUserIn, sessionCookie } from "./admin-fixtures";
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
  await browser.close();
  await app.close();
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
    key = must(await shown.textContent()).trim();
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

  it("imports a members CSV: a bad file imports nothing, a good one is previewed, then upserts every row", async () => {
    await page.goto(`${app.url}/members/import`);
    const bad =
      "externalRef,name,email,department,managerRef\nEMP-9001,Ok Person,ok@x.example,Ops,\n,No Ref,,Ops,\nEMP-9003,Bad Mail,not-an-email,Ops,\nEMP-9004,Lost Manager,,Ops,EMP-NOPE\n";
    await page.setInputFiles("#csv-file", { name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await page.getByRole("button", { name: "Preview changes" }).click();
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
    await page.getByRole("button", { name: "Preview changes" }).click();
    await page.getByTestId("import-preview").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("import-preview").textContent()).toContain("3,001 rows. 3,000 to create, 1 to update, 0 unchanged");
    expect(await page.getByTestId("import-preview").textContent()).toContain("EMP-1042");
    expect((await app.operator(app.demoTenantId).admin.members.search({ search: "EMP-90000" })).total).toBe(0);
    await page.getByRole("button", { name: "Apply import" }).click();
    await page.getByText("Import complete").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("import-result").textContent()).toContain("3,001 rows imported: 3,000 new, 1 updated");
    await shot(page, "05-import-done");
    await page.goto(`${app.url}/members?q=Person+2999`);
    await page.getByText("EMP-92999").waitFor();
    await shot(page, "06-members-search");
    // Column headings sort the list (server-side), keeping the search; a second click reverses it.
    const members = page.getByRole("region", { name: "Members" });
    await members.getByRole("link", { name: /^Name/ }).click();
    await page.waitForURL(/sort=name&dir=asc/);
    expect(new URL(page.url()).searchParams.get("q")).toBe("Person 2999");
    // The URL changes before the sorted page has rendered: wait for the heading to say so.
    await members.locator('th[aria-sort="ascending"]').filter({ hasText: /^Name/ }).waitFor();
    await members.getByRole("link", { name: /^Name/ }).click();
    await page.waitForURL(/sort=name&dir=desc/);
    await members.locator('th[aria-sort="descending"]').filter({ hasText: /^Name/ }).waitFor();
    expect(await members.getByRole("columnheader", { name: /^Name/ }).getAttribute("aria-sort")).toBe("descending");
    await page.getByText("EMP-92999").waitFor();
  });

  it("a failed upload ends with a message, and the file can be imported again", async () => {
    await page.goto(`${app.url}/members/import`);
    const csv = "externalRef,name\nEMP-1042,Alex Kim\n";
    await page.setInputFiles("#csv-file", { name: "retry.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    const button = page.getByRole("button", { name: "Preview changes" });
    for (const [answer, message] of [
      [{ status: 500, contentType: "text/html", body: "<h1>Internal Server Error</h1>" }, "The server answered with an error (HTTP 500)."],
      [
        { contentType: "application/x-ndjson", body: '{"type":"progress","phase":"validating","done":0,"total":1}\n' },
        "lost before the import",
      ],
    ] as const) {
      await page.route("**/members/import-stream**", (route) => route.fulfill(answer));
      await button.click();
      await page.getByTestId("import-result").getByText(message).waitFor();
      await page.unroute("**/members/import-stream**");
    }
    await shot(page, "05b-import-failed");
    await button.click();
    await page.getByRole("button", { name: "Apply import" }).click();
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
    // Finance has two working days: counted in business hours.
    await stage2.getByLabel("Due in (optional)").fill("2d");
    await stage2.getByLabel(/Count in business hours/).check();
    const preview = page.getByTestId("matrix-preview");
    await preview.getByText("this matrix").waitFor();
    const text = await preview.textContent();
    expect(text).toContain("Jane Smith (EMP-2001)");
    expect(text).toContain("Bob Lee (EMP-3001)");
    await shot(page, "07-matrix-editor");
    await page.getByRole("button", { name: "Create matrix" }).click();
    await page.getByText("Matrix created.").waitFor();
    const matrices = await app.operator(app.demoTenantId).admin.matrices.list();
    const created = matrices.find((m) => m.name === "E2E two-stage");
    expect(created?.stages.map((s) => s.name)).toEqual(["Engineering lead", "Finance"]);
    expect(created?.stages[1]?.deadline).toMatchObject({ dueIn: "2d", businessHours: true });
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

describe.skipIf(!chromiumPath)("the admin app as people use it", () => {
  let owner = "";
  let page: Page;
  let context: BrowserContext;
  const desktop = { width: 1280, height: 900 };
  const phone = { width: 390, height: 844 };

  beforeAll(async () => {
    owner = await createUserIn(app, app.demoTenantId, "owner");
    // The tour above re-imports EMP-1042 without a manager; these tests route to Jane Smith, its manager.
    await app.operator(app.demoTenantId).admin.members.importCsv({
      csv: "externalRef,name,email,department,managerRef\nEMP-1042,Alex Kim,alex.kim@acme.example,Engineering,EMP-2001\n",
    });
    ({ context, page } = await signedIn(owner));
    await page.setViewportSize(desktop);
  });
  afterAll(async () => {
    await context.close();
  });
  // Each test starts signed in at desktop size, whatever the one before it did to the session.
  beforeEach(async () => {
    await page.setViewportSize(desktop);
    const [name, value] = (await sessionCookie(app, owner)).split("=") as [string, string];
    await context.clearCookies();
    await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
    // Nor any draft an earlier test left in this tab.
    await page.goto(`${app.url}/inbox`);
    await page.evaluate(() => window.sessionStorage.clear());
  });
  afterEach(async ({ task }) => {
    if (task.result?.state === "fail") await shot(page, `failed-${task.name.slice(0, 40).replace(/\W+/g, "-")}`);
  });

  /** The page does not scroll sideways (a wide table scrolls inside its own box). */
  const pageOverflow = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  it("the Revoke dialog shows its whole warning, inside the dialog", async () => {
    await app.operator(app.demoTenantId).admin.apiKeys.create({ name: "Dialog check", scopes: ["requests:read"] });
    await page.goto(`${app.url}/keys`);
    await page.locator("tr", { hasText: "Dialog check" }).getByRole("button", { name: "Revoke" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const fit = await dialog.evaluate((d) => {
      const box = d.getBoundingClientRect();
      return [...d.querySelectorAll("p, h2")].every((el) => {
        const r = el.getBoundingClientRect();
        return r.left >= box.left && r.right <= box.right + 0.5 && el.scrollWidth <= el.clientWidth;
      });
    });
    await shot(page, "20-revoke-dialog");
    expect(fit).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });

  it("scope hints come from the scope table in core (cancel is requests:write)", async () => {
    await page.goto(`${app.url}/keys`);
    for (const scope of API_KEY_SCOPES)
      expect(await page.getByTestId(`scope-hint-${scope}`).textContent()).toBe(API_KEY_SCOPE_DESCRIPTIONS[scope]);
    expect(await page.getByTestId("scope-hint-decisions:write").textContent()).not.toMatch(/cancel/i);
    expect(await page.getByTestId("scope-hint-requests:write").textContent()).toMatch(/cancel/i);
  });

  it("form errors: in people's words, next to each field, all at once, cleared when fixed; focus goes to the first", async () => {
    await page.goto(`${app.url}/members/new`);
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByRole("button", { name: "Add member" }).click();
    const name = page.getByLabel("Name", { exact: true });
    await expect.poll(() => name.getAttribute("aria-invalid")).toBe("true");
    const described = async (label: string) => {
      const input = page.getByLabel(label, { exact: true });
      const ids = ((await input.getAttribute("aria-describedby")) ?? "").split(" ").filter(Boolean);
      const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
      return texts.join(" | ");
    };
    expect(await described("Name")).toContain("Enter the member's name.");
    expect(await described("externalRef")).toContain("Enter the member's externalRef");
    expect(await described("Email")).toContain("Enter an email address like name@example.com.");
    expect(await page.getByLabel("externalRef", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("main").textContent()).not.toMatch(/Too small|expected string|Invalid input/);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("name");
    await shot(page, "21-member-form-errors");
    // Fixing a field clears its message at once; the others stay.
    await name.fill("Pat Doe");
    expect(await name.getAttribute("aria-invalid")).toBeNull();
    expect(await described("Name")).not.toContain("Enter the member's name.");
    expect(await page.getByLabel("externalRef", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    // A key without name and scopes: both problems at once, by their fields.
    await page.goto(`${app.url}/keys`);
    for (const box of await page.getByRole("checkbox").all()) await box.uncheck();
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("form-error").waitFor();
    const summary = await page.getByTestId("form-error").textContent();
    expect(summary).toContain("Give the key a name");
    expect(summary).toContain("Pick at least one scope.");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("name");
    await page.getByLabel("Name", { exact: true }).fill("Fixed");
    await page.getByRole("checkbox", { name: /requests:read/ }).check();
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("new-key").waitFor();
    expect(await page.getByTestId("form-error").count()).toBe(0);
    // The new key is announced (a live region holds it) and focus moves to it.
    expect(
      await page
        .getByRole("status")
        .filter({ has: page.getByTestId("new-key") })
        .count(),
    ).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.textContent ?? "")).toContain("Your new key");
  });

  it("an empty matrix shows a neutral hint; metadata rows test conditions", async () => {
    await page.goto(`${app.url}/matrices/new`);
    await page.getByLabel("Name", { exact: true }).fill("");
    await page.getByLabel("Request type").fill("");
    await page.getByLabel("Stage name").fill("");
    const preview = page.getByTestId("matrix-preview");
    await preview.getByText("Fill in the matrix").waitFor();
    await page.waitForTimeout(600);
    expect(await preview.textContent()).not.toMatch(/highlighted|Too small/);
    await page.getByLabel("Name", { exact: true }).fill("EU laptops");
    await page.getByLabel("Request type").fill("eu_equipment");
    await page.getByLabel("Stage name").fill("Manager");
    await page.getByLabel("Conditions on metadata").fill("region = EU");
    await preview.getByText("no matching matrix", { exact: false }).waitFor();
    await page.getByLabel("Metadata field 1", { exact: true }).fill("region");
    await page.getByLabel("Value 1", { exact: true }).fill("EU");
    await preview.getByText("this matrix").waitFor();
    await shot(page, "22-preview-metadata");
  });

  it("an expired session keeps the matrix draft and returns to it after sign-in; leaving warns", async () => {
    await page.goto(`${app.url}/matrices/new`);
    await page.waitForLoadState("networkidle");
    await page.getByLabel("Name", { exact: true }).fill("Kept across sign-in");
    await page.getByLabel("Request type").fill("kept_type");
    // Leaving through a link asks first.
    await page.getByRole("link", { name: "Requests" }).click();
    await page.getByRole("dialog", { name: "Leave without saving?" }).waitFor();
    await page.getByRole("button", { name: "Stay on this page" }).click();
    expect(new URL(page.url()).pathname).toBe("/matrices/new");
    // The session ends: the preview says so and the page stays.
    await context.clearCookies();
    await page.getByLabel("Stage name").fill("Manager check");
    await page.getByTestId("matrix-preview").getByText("Your session has expired").waitFor();
    expect(new URL(page.url()).pathname).toBe("/matrices/new");
    await page.getByRole("button", { name: "Create matrix" }).click();
    await page.waitForURL(/\/sign-in\?redirectTo=%2Fmatrices%2Fnew/);
    await page.getByLabel("Email").fill(owner);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.url}/matrices/new`);
    await page.getByTestId("draft-restored").waitFor();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Kept across sign-in");
    expect(await page.getByLabel("Stage name").inputValue()).toBe("Manager check");
    await page.getByRole("button", { name: "Create matrix" }).click();
    await page.getByText("Matrix created.").waitFor();
    // Saved: the draft is gone.
    await page.goto(`${app.url}/matrices/new`);
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("");
    expect(await page.getByTestId("draft-restored").count()).toBe(0);
  });

  it("a member form survives an expired session too", async () => {
    await page.goto(`${app.url}/members/new`);
    await page.getByLabel("Name", { exact: true }).fill("Draft Person");
    await page.getByLabel("externalRef", { exact: true }).fill("EMP-DRAFT");
    await context.clearCookies();
    await page.getByRole("button", { name: "Add member" }).click();
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel("Email").fill(owner);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.url}/members/new`);
    await page.getByTestId("draft-restored").waitFor();
    expect(await page.getByLabel("externalRef", { exact: true }).inputValue()).toBe("EMP-DRAFT");
    await page.getByRole("button", { name: "Add member" }).click();
    await page.getByText("Member added.").waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent ?? "")).toContain("Member added.");
  });

  it("the import progress streams while the import runs", async () => {
    const cookie = await sessionCookie(app, owner);
    const rows = ["externalRef,name,department"];
    for (let i = 0; i < 20_000; i++) rows.push(`EMP-S${String(i).padStart(5, "0")},Streamed ${i},Ops`);
    const started = Date.now();
    const res = await browserFetch(app, cookie)("/members/import-stream", {
      method: "POST",
      body: rows.join("\n"),
      headers: { "Content-Type": "text/csv" },
    });
    expect(res.status).toBe(200);
    const arrivals: { type: string; phase?: string; at: number }[] = [];
    const reader = must(res.body).pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const event = JSON.parse(buffer.slice(0, nl)) as { type: string; phase?: string };
        buffer = buffer.slice(nl + 1);
        arrivals.push({ ...event, at: Date.now() - started });
      }
    }
    const result = must(arrivals.find((a) => a.type === "result"));
    const writing = arrivals.filter((a) => a.phase === "writing");
    expect(writing.length).toBeGreaterThanOrEqual(4);
    // Live: the first write report arrives well before the result, not bunched with it.
    expect(result.at - must(writing[0]).at).toBeGreaterThan(Math.max(100, (result.at - must(arrivals[0]).at) * 0.3));
  });

  it("unknown URLs, bad cursors and bad dates get pages for people", async () => {
    const notFound = await page.goto(`${app.url}/no-such-page`);
    expect(notFound?.status()).toBe(404);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(1);
    expect(await page.getByRole("main").count()).toBe(1);
    await shot(page, "23-not-found");
    const missing = await page.goto(`${app.url}/requests/req_doesnotexist`);
    expect(missing?.status()).toBe(404);
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(1);
    expect((await page.goto(`${app.url}/members?after=%00%00`))?.status()).toBe(200);
    await page.getByRole("heading", { name: "Members", level: 1 }).waitFor();
    const audit = await page.goto(`${app.url}/audit?from=2026-13-45`);
    expect(audit?.status()).toBe(200);
    expect(await page.getByLabel("From").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("main").textContent()).toContain("is not a date");
    expect(await page.locator("main").textContent()).not.toContain("{");
  });

  it("invite empties the form and offers to copy the one-time password; deactivate and reject ask first", async () => {
    await page.goto(`${app.url}/users`);
    await page.getByLabel("Name", { exact: true }).fill("New Approver");
    await page.getByLabel("Email").fill("new.approver@acme.example");
    await page.getByRole("button", { name: "Invite" }).click();
    await page.getByTestId("initial-password").waitFor();
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("");
    expect(await page.getByLabel("Email").inputValue()).toBe("");
    await page.getByRole("button", { name: "Copy password" }).waitFor();

    const matrices = await app.operator(app.demoTenantId).admin.matrices.list();
    const matrix = must(matrices.find((m) => m.active));
    await page.goto(`${app.url}/matrices/${matrix.id}`);
    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByRole("dialog", { name: /Deactivate/ }).waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    expect((await app.operator(app.demoTenantId).admin.matrices.get({ id: matrix.id })).active).toBe(true);

    const submitted = await api(app, app.demoKey)("POST", "/v1/requests", {
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      title: "Reject me",
      amount: 50,
      currency: "USD",
    });
    expect(submitted.status).toBe(201);
    const requestId = submitted.body.requestId as string;
    const approver = await signedIn("jane.smith@acme.example");
    await approver.page.goto(`${app.url}/requests/${requestId}`);
    await approver.page.getByLabel("Comment").fill("Not in budget.");
    await approver.page.getByRole("button", { name: "Reject", exact: true }).click();
    const confirm = approver.page.getByRole("dialog", { name: "Reject this request?" });
    await confirm.waitFor();
    await confirm.getByRole("button", { name: "Cancel" }).click();
    expect((await approver.page.goto(`${app.url}/requests/${requestId}`))?.status()).toBe(200);
    expect(await approver.page.getByTestId("stage-tracker").textContent()).not.toContain("Rejected");
    await approver.page.getByLabel("Comment").fill("Not in budget.");
    await approver.page.getByRole("button", { name: "Reject", exact: true }).click();
    await approver.page.getByRole("button", { name: "Reject request" }).click();
    await approver.page.getByText("Your decision (rejected) was recorded.").waitFor();
    await approver.context.close();
  });

  it("on a phone nothing runs off the screen: the key's Copy button, audit, request tracker, decisions", async () => {
    await page.setViewportSize(phone);
    await page.goto(`${app.url}/keys`);
    await page.getByLabel("Name", { exact: true }).fill("Phone key");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("new-key").waitFor();
    const copy = await page.getByRole("button", { name: "Copy key" }).boundingBox();
    expect(must(copy).x + must(copy).width).toBeLessThanOrEqual(phone.width);
    await shot(page, "24-phone-key");
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await page.goto(`${app.url}/audit`);
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await shot(page, "25-phone-audit");
    const submitted = await api(app, app.demoKey)("POST", "/v1/requests", {
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      title: "Phone decision",
      amount: 50,
      currency: "USD",
    });
    expect(submitted.status).toBe(201);
    const approver = await signedIn("jane.smith@acme.example");
    await approver.page.setViewportSize(phone);
    await approver.page.goto(`${app.url}/requests/${submitted.body.requestId as string}`);
    await approver.page.getByRole("button", { name: "Approve" }).waitFor();
    expect(await pageOverflow(approver.page)).toBeLessThanOrEqual(0);
    for (const name of ["Approve", "Reject"]) {
      const box = await approver.page.getByRole("button", { name, exact: true }).boundingBox();
      expect(must(box).x + must(box).width).toBeLessThanOrEqual(phone.width);
    }
    await shot(approver.page, "26-phone-request");
    await approver.context.close();
    await page.setViewportSize(desktop);
  });

  it("audit details never break inside an id", async () => {
    await page.goto(`${app.url}/audit`);
    await page.locator("td.audit-details").first().waitFor();
    const broken = await page.evaluate(() => {
      const out: string[] = [];
      for (const cell of document.querySelectorAll("td.audit-details")) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (const match of (node.textContent ?? "").matchAll(/[a-z]+_[A-Za-z0-9]{10,}/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            if (lines.size > 1) out.push(match[0]);
          }
        }
      }
      return out;
    });
    expect(broken).toEqual([]);
  });

  it("axe finds no serious or critical violation on any page", async () => {
    const ids = {
      matrix: must((await app.operator(app.demoTenantId).admin.matrices.list())[0]).id,
      member: must((await app.operator(app.demoTenantId).admin.members.search({ search: "EMP-1042" })).members[0]).id,
      request: (
        await api(app, app.demoKey)("POST", "/v1/requests", {
          submitterRef: "EMP-1042",
          requestType: "purchase_order",
          title: "Axe check",
          amount: 50,
          currency: "USD",
        })
      ).body.requestId as string,
    };
    const pages = [
      "/inbox",
      "/requests",
      `/requests/${ids.request}`,
      "/matrices",
      "/matrices/new",
      `/matrices/${ids.matrix}`,
      "/members",
      "/members/new",
      `/members/${ids.member}`,
      "/members/import",
      "/keys",
      "/users",
      "/audit",
      "/account",
      "/no-such-page",
    ];
    const found: string[] = [];
    const check = async (p: Page, path: string) => {
      await p.goto(`${app.url}${path}`);
      await p.waitForLoadState("networkidle");
      const { violations } = await new AxeBuilder({ page: p }).analyze();
      for (const v of violations)
        if (v.impact === "serious" || v.impact === "critical")
          found.push(
            `${path}: ${v.id} (${v.impact}) ${v.nodes
              .map((n) => n.target.join(" "))
              .slice(0, 3)
              .join(", ")}`,
          );
    };
    for (const path of pages) await check(page, path);
    const anonymous = await browser.newContext({ viewport: desktop });
    await check(await anonymous.newPage(), "/sign-in");
    await anonymous.close();
    expect(found).toEqual([]);
  }, 180_000);
});
