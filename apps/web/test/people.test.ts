import { eq, users } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserFetch, createUserIn, sessionCookie } from "./admin-fixtures";
import { type TestApp, startTestApp } from "./harness";

/** People management over real HTTP: a removed or suspended user loses access on their next request; reset links. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({}, { web: true });
});
afterAll(async () => {
  await app.close();
});

async function userIdOf(email: string): Promise<string> {
  const [row] = await app.deps.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  if (!row) throw new Error(`no user ${email}`);
  return row.id;
}

describe("a user removed or suspended mid-session", () => {
  it("loses access on the next request when removed", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const cookie = await sessionCookie(app, email);
    const as = browserFetch(app, cookie);
    expect((await as("/members")).status).toBe(200);
    await app.operator(app.demoTenantId).admin.users.remove({ id: await userIdOf(email) });
    const next = await as("/members");
    expect(next.status).toBe(302);
    expect(next.headers.get("location")).toBe("/sign-in?redirectTo=%2Fmembers");
  });

  it("loses access on the next request when suspended", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const cookie = await sessionCookie(app, email);
    const as = browserFetch(app, cookie);
    expect((await as("/users")).status).toBe(200);
    await app.operator(app.demoTenantId).admin.users.setSuspended({ id: await userIdOf(email), suspended: true });
    expect((await as("/users")).status).toBe(302);
  });
});

describe("password reset links", () => {
  it("an admin makes a link on the Users page; it sets a password once", async () => {
    const email = await createUserIn(app, app.demoTenantId, "approver");
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const made = await owner("/users?index", { form: { intent: "reset-password", id: await userIdOf(email) } });
    expect(made.status).toBe(200);
    const page = await made.text();
    const link = /\/reset-password\/[A-Za-z0-9_-]{43}/.exec(page)?.[0];
    expect(link).toBeDefined();
    const anonymous = browserFetch(app, null);
    const form = await anonymous(String(link));
    expect(form.status).toBe(200);
    expect(await form.text()).toContain(email);
    const set = await anonymous(String(link), { form: { password: "a fresh passphrase 1", confirmPassword: "a fresh passphrase 1" } });
    expect(set.status).toBe(200);
    expect(await set.text()).toContain("Password set");
    const again = await anonymous(String(link));
    expect(await again.text()).toContain("This link does not work");
  });
});

describe("members: the member page, filters, the manager picker and bulk deactivation", () => {
  it("shows direct reports, approvals waiting on the member and the requests they submitted", async () => {
    const submitted = await fetch(`${app.url}/v1/requests`, {
      method: "POST",
      headers: { Authorization: `Bearer ${app.demoKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ submitterRef: "EMP-1043", requestType: "time_off", title: "Friday off" }),
    });
    expect(submitted.status).toBe(201);
    const requestId = ((await submitted.json()) as { requestId: string }).requestId;
    const members = app.operator(app.demoTenantId).admin.members;
    const jane = (await members.search({ search: "EMP-2001", limit: 1 })).members[0];
    const maria = (await members.search({ search: "EMP-1043", limit: 1 })).members[0];
    const janePage = await members.overview({ id: String(jane?.id) });
    expect(janePage.directReports.map((r) => r.externalRef).sort()).toEqual(["EMP-1042", "EMP-1043"]);
    expect(janePage.openApprovals).toEqual([expect.objectContaining({ id: requestId, title: "Friday off" })]);
    expect((await members.overview({ id: String(maria?.id) })).submitted).toEqual([expect.objectContaining({ id: requestId })]);
    // The page renders them.
    const page = await browserFetch(app, await sessionCookie(app, "admin@acme.example"))(`/members/${String(jane?.id)}`);
    const html = await page.text();
    expect(html).toContain("Direct reports");
    expect(html).toContain("Friday off");
  });

  it("filters by department and manager, suggests managers by name or ref, and deactivates in bulk", async () => {
    const members = app.operator(app.demoTenantId).admin.members;
    expect((await members.search({ department: "Finance", limit: 50 })).members.map((m) => m.externalRef)).toEqual([
      "EMP-3001",
      "EMP-3002",
    ]);
    expect((await members.search({ managerRef: "EMP-3001", limit: 50 })).members.map((m) => m.externalRef)).toEqual([
      "EMP-2001",
      "EMP-3002",
      "EMP-4001",
    ]);
    expect((await members.lookup({ q: "jan" })).map((m) => m.externalRef)).toEqual(["EMP-2001"]);
    expect((await members.lookup({ q: "smi" })).map((m) => m.externalRef)).toEqual(["EMP-2001"]);
    expect((await members.lookup({ q: "emp-300" })).map((m) => m.externalRef)).toEqual(["EMP-3001", "EMP-3002"]);
    await members.create({ name: "Bulk One", externalRef: "BULK-1" });
    await members.create({ name: "Bulk Two", externalRef: "BULK-2" });
    const ids = (await members.search({ search: "bulk", limit: 10 })).members.map((m) => m.id);
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const form = new URLSearchParams({ intent: "bulk-deactivate" });
    for (const id of ids) form.append("ids", id);
    const res = await owner("/members?index", {
      body: form.toString(),
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(200);
    expect((await members.search({ search: "bulk", status: "inactive", limit: 10 })).total).toBe(2);
  });

  it("sorts by a column heading, either way, keeping the filters", async () => {
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const listed = async (query: string) => {
      const res = await owner(`/members?${query}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      return { html, refs: [...html.matchAll(/<code>(EMP-\d+)<\/code>/g)].map((m) => m[1]) };
    };
    // By manager's name (Bob Lee, then Jane Smith), ties by externalRef, members without a manager last.
    const byManager = await listed("status=active&sort=manager&dir=asc");
    expect(byManager.refs).toEqual(["EMP-2001", "EMP-3002", "EMP-4001", "EMP-1042", "EMP-1043", "EMP-3001"]);
    expect((await listed("status=active&sort=manager&dir=desc")).refs).toEqual([...byManager.refs].reverse());
    // The sorted heading says so and links to the other direction, keeping the filters; the others sort ascending.
    expect(byManager.html).toMatch(
      /<th[^>]*aria-sort="ascending"[^>]*><a[^>]*href="\/members\?q=&amp;status=active&amp;department=&amp;manager=&amp;sort=manager&amp;dir=desc"/,
    );
    expect(byManager.html).toContain('href="/members?q=&amp;status=active&amp;department=&amp;manager=&amp;sort=name&amp;dir=asc"');
    // Filters and sort together: Finance by name, descending.
    expect((await listed("department=Finance&sort=name&dir=desc")).refs).toEqual(["EMP-3002", "EMP-3001"]);
    // A hand-edited sort is the default order, not an error.
    expect((await listed("department=Finance&sort=salary")).refs).toEqual(["EMP-3001", "EMP-3002"]);
  });
});

describe("directory sync settings", () => {
  it("an admin chooses where a deactivated member's approvals go, the delegate among them", async () => {
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const save = (deactivationPolicy: string) =>
      owner("/directory", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ intent: "settings", externalRefSource: "externalId", deactivationPolicy }).toString(),
      });
    expect((await save("delegate")).status).toBe(200);
    const settings = app.operator(app.demoTenantId).admin.directory;
    expect((await settings.settings()).deactivationPolicy).toBe("delegate");
    expect(await (await owner("/directory")).text()).toMatch(/<option value="delegate" selected="">/);
    expect((await save("none")).status).toBe(200);
    expect((await settings.settings()).deactivationPolicy).toBe("none");
    await settings.updateSettings({ deactivationPolicy: "manager" });
  });
});

describe("the manager picker", () => {
  it("suggests active members by name or externalRef to signed-in admins only", async () => {
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const res = await owner("/members/lookup?q=bob");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([expect.objectContaining({ externalRef: "EMP-3001", name: "Bob Lee" })]);
    const approver = browserFetch(app, await sessionCookie(app, "jane.smith@acme.example"));
    expect((await approver("/members/lookup?q=bob")).status).toBe(403);
    expect((await browserFetch(app, null)("/members/lookup?q=bob")).status).toBe(302);
  });
});
