/// <reference lib="dom" />
/**
 * Agent bootstrap with consent over real HTTP (issue 11): an agent with no key asks by email, the
 * account holder consents in Chromium (fewer scopes, an expiry), the agent collects its key
 * exactly once and uses it; a denial, an expiry, pacing and the per-email limit.
 */
import { createCaller } from "@approvalmatrix/api";
import { must } from "@approvalmatrix/core";
import { auditLog, bootstrapRequests, eq, users } from "@approvalmatrix/db";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserIn, sessionCookie } from "./admin-fixtures";
import { chromiumForTests, launchChromium } from "./browser";
import { type TestApp, api, startTestApp } from "./harness";

let app: TestApp;
let browser: Browser | null = null;
const chromiumPath = chromiumForTests();

beforeAll(async () => {
  app = await startTestApp({}, { web: true });
  if (chromiumPath) browser = await launchChromium(chromiumPath);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app.close();
});

const agent = () => api(app, null);
const poll = (id: string, secret: string) => api(app, secret)("GET", `/v1/bootstrap/${id}/status`);
const start = (email: string, scopes = ["requests:read", "requests:write"]) =>
  agent()("POST", "/v1/bootstrap", { email, agentName: "Claude travel agent", scopes, note: "Book trips under 500 EUR" });

async function userCaller(email: string) {
  const [user] = await app.deps.db.select().from(users).where(eq(users.email, email));
  const u = must(user);
  return createCaller({
    deps: app.deps,
    requestId: "test",
    authorization: null,
    credentialInQuery: false,
    response: { headers: {} },
    actor: { kind: "user", tenantId: u.tenantId, userId: u.id, role: u.role, memberId: null },
  });
}

describe("starting a bootstrap", () => {
  it("answers the same shape whether or not the account exists, and never says which", async () => {
    const owner = await createUserIn(app, app.demoTenantId, "owner");
    const known = await start(owner);
    const unknown = await start("nobody-at-all@nowhere.example");
    for (const res of [known, unknown]) {
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(["bootstrapId", "expiresAt", "interval", "pollSecret", "userCode", "verificationUrl"]);
      expect(res.body.userCode).toMatch(/^[B-Z]{4}-[B-Z]{4}$/);
      expect(res.body.verificationUrl).toBe(`${app.url}/consent?code=${res.body.userCode}`);
    }
    expect((await poll(unknown.body.bootstrapId, unknown.body.pollSecret)).body.status).toBe("pending");
  });

  it("allows 5 starts an hour per email, then 429 with Retry-After", async () => {
    const email = `limit-${Date.now()}@acme.example`;
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await start(email)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const refused = await start(email);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(600);
    expect(refused.headers.get("x-ratelimit-limit")).toBe("5");
  });

  it("answers the status only to the poll secret's holder, and 429 when polled too fast", async () => {
    const started = await start(`pace-${Date.now()}@acme.example`);
    const wrong = await poll(started.body.bootstrapId, "bps_" + "x".repeat(32));
    expect(wrong.status).toBe(404);
    const second = await start(`pace2-${Date.now()}@acme.example`);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await poll(second.body.bootstrapId, second.body.pollSecret));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(Number(answers[2]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("the account holder's answer", () => {
  it("a denial: the agent learns it and gets no key", async () => {
    const owner = await createUserIn(app, app.demoTenantId, "owner");
    const started = await start(owner);
    await (await userCaller(owner)).bootstrap.deny({ bootstrapId: started.body.bootstrapId });
    const res = await poll(started.body.bootstrapId, started.body.pollSecret);
    expect(res.body).toMatchObject({ status: "denied", apiKey: null });
  });

  it("an expiry: unanswered in time, the bootstrap is expired and can no longer be approved", async () => {
    const owner = await createUserIn(app, app.demoTenantId, "owner");
    const started = await start(owner);
    await app.deps.db
      .update(bootstrapRequests)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(bootstrapRequests.id, started.body.bootstrapId));
    expect((await poll(started.body.bootstrapId, started.body.pollSecret)).body.status).toBe("expired");
    await expect((await userCaller(owner)).bootstrap.approve({ bootstrapId: started.body.bootstrapId })).rejects.toThrow(
      /expired|no agent/i,
    );
  });

  it("only scopes the person's role may grant, and only the person whose email it is", async () => {
    const approver = await createUserIn(app, app.demoTenantId, "approver");
    const started = await start(approver, ["requests:read", "decisions:write"]);
    const caller = await userCaller(approver);
    const [pending] = (await caller.bootstrap.pending()).filter((p) => p.id === started.body.bootstrapId);
    expect(pending?.grantableScopes).toEqual(["requests:read"]);
    await expect(caller.bootstrap.approve({ bootstrapId: started.body.bootstrapId, scopes: ["decisions:write"] })).rejects.toThrow(
      /may not grant/,
    );
    const someoneElse = await userCaller(await createUserIn(app, app.demoTenantId, "owner"));
    await expect(someoneElse.bootstrap.approve({ bootstrapId: started.body.bootstrapId })).rejects.toThrow(/No agent request/);
  });
});

describe("collecting the key", () => {
  it("hands the key out exactly once to concurrent polls, and the agent can use it (consent given in-process)", async () => {
    const owner = await createUserIn(app, app.demoTenantId, "owner");
    const started = await start(owner);
    await (
      await userCaller(owner)
    ).bootstrap.approve({ bootstrapId: started.body.bootstrapId, scopes: ["requests:read"], keyExpiresInDays: 7 });
    const answers = await Promise.all([
      poll(started.body.bootstrapId, started.body.pollSecret),
      poll(started.body.bootstrapId, started.body.pollSecret),
    ]);
    expect(answers.map((a) => a.body.status)).toEqual(["approved", "approved"]);
    const keys = answers.map((a) => a.body.apiKey).filter((k) => k !== null);
    expect(keys).toHaveLength(1);
    expect(keys[0].scopes).toEqual(["requests:read"]);
    expect((await api(app, keys[0].key)("GET", "/v1/requests?limit=1")).status).toBe(200);
    const [created] = await app.deps.db.select().from(auditLog).where(eq(auditLog.targetId, keys[0].id));
    expect(created?.data).toMatchObject({ createdByConsentOf: `Other owner <${owner}>` });
  });
});

describe.skipIf(!chromiumPath)("an agent goes from no key to a working key, with the owner's consent in the browser", () => {
  it("the owner approves fewer scopes; the agent collects the key exactly once and uses it", async () => {
    const owner = await createUserIn(app, app.demoTenantId, "owner");
    const started = await start(owner);
    expect(started.status).toBe(201);

    const context = await must(browser).newContext({ viewport: { width: 1280, height: 900 } });
    const [name, value] = (await sessionCookie(app, owner)).split("=") as [string, string];
    await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
    const page = await context.newPage();
    await page.goto(started.body.verificationUrl as string);
    const card = page.locator(`[data-bootstrap-id="${started.body.bootstrapId}"]`);
    await expect(card.locator("h2").textContent()).resolves.toContain("Claude travel agent");
    await expect(card.getByTestId("user-code").textContent()).resolves.toBe(started.body.userCode);
    // Fewer scopes than asked: read only, for 7 days.
    await card.locator('input[value="requests:write"]').uncheck();
    await card.locator('select[name="days"]').selectOption("7");
    await card.getByRole("button", { name: "Approve" }).click();
    await page.getByTestId("consent-result").waitFor();
    await expect(page.getByTestId("consent-result").textContent()).resolves.toContain("requests:read");

    // Two polls at once: exactly one carries the key.
    const [a, b] = await Promise.all([
      poll(started.body.bootstrapId, started.body.pollSecret),
      poll(started.body.bootstrapId, started.body.pollSecret),
    ]);
    const answers = [a.body, b.body];
    expect(answers.map((x) => x.status)).toEqual(["approved", "approved"]);
    const withKey = answers.filter((x) => x.apiKey !== null);
    expect(withKey).toHaveLength(1);
    const key = must(withKey[0]).apiKey;
    expect(key.scopes).toEqual(["requests:read"]);
    expect(Date.parse(key.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(key.name).toContain("Claude travel agent");

    // The agent uses it: reads work, writes were not granted.
    expect((await api(app, key.key)("GET", "/v1/requests?limit=1")).status).toBe(200);
    expect(
      (await api(app, key.key)("POST", "/v1/requests/test", { submitterRef: "EMP-1042", requestType: "purchase_order", title: "x" }))
        .status,
    ).toBe(403);

    // The keys page and the audit log say whose consent created it.
    await page.goto(`${app.url}/keys`);
    const row = page.locator(`tr[data-key-id="${key.id}"]`);
    await expect(row.getByTestId("key-consent").textContent()).resolves.toMatch(
      /Created by consent of Other owner for agent “Claude travel agent”/,
    );
    const [created] = await app.deps.db.select().from(auditLog).where(eq(auditLog.targetId, key.id));
    expect(created?.data).toMatchObject({ createdByConsentOf: `Other owner <${owner}>`, agentName: "Claude travel agent" });
    await context.close();
  });
});
