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
