import { createHash } from "node:crypto";
import { DEMO_TENANT_SLUG } from "@approvalmatrix/api";
import { createAdminAuth, hashPassword, sessionIdOf } from "@approvalmatrix/auth";
import { newId, must } from "@approvalmatrix/core";
import { and, eq, members, sessions, users } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserFetch, createUserIn, sessionCookie } from "./admin-fixtures";
import { SEED_SUBMISSION, type TestApp, api, startTestApp } from "./harness";

let app: TestApp;
let ownerCookie: string;
let approverCookie: string;

beforeAll(async () => {
  // One proxy in front (X-Forwarded-For is read one hop deep); requests without the header count
  // from the socket's address, as before.
  app = await startTestApp({ TRUST_PROXY: "1" }, { web: true });
  ownerCookie = await sessionCookie(app, "admin@acme.example");
  approverCookie = await sessionCookie(app, "jane.smith@acme.example");
});
afterAll(() => app.close());

const ADMIN_PAGES = [
  "/keys",
  "/members",
  "/members/new",
  "/members/import",
  "/members/export.csv",
  "/matrices",
  "/matrices/new",
  "/users",
  "/audit",
];
const ANY_USER_PAGES = ["/inbox", "/requests", "/account"];

describe("without a session", () => {
  it.each([...ADMIN_PAGES, ...ANY_USER_PAGES])("GET %s redirects to sign-in", async (path) => {
    const res = await browserFetch(app, null)(path);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`/sign-in?redirectTo=${encodeURIComponent(path)}`);
  });

  it.each([
    ["/keys", { intent: "create", name: "x", scopes: "requests:read" }],
    ["/members/new", { name: "X", externalRef: "EMP-X" }],
    ["/members/import-stream", { csv: "externalRef,name" }],
    ["/account", { currentPassword: "a", newPassword: "b" }],
  ])("POST %s is refused and changes nothing", async (path, form) => {
    const res = await browserFetch(app, null)(path, { form });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toMatch(/^\/sign-in/);
    const keys = await app.operator(app.demoTenantId).admin.apiKeys.list();
    expect(keys.map((k) => k.name)).not.toContain("x");
  });

  it("POST /matrices/preview answers 401 (no redirect: the editor's fetcher must not leave the draft)", async () => {
    const res = await browserFetch(app, null)("/matrices/preview", { form: { matrix: "{}" } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ok: false, signedOut: true });
  });

  it("a forged or expired session cookie counts as no session", async () => {
    const res = await browserFetch(app, "am_session=forgedsessionid0000000000000000000000")("/keys");
    expect(res.status).toBe(302);
  });
});

describe("sign-in", () => {
  it("sets an httpOnly SameSite=Lax session cookie and lands admins on requests", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const res = await browserFetch(app, null)("/sign-in", { form: { email, password: "correct horse battery" } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/requests");
    const cookie = must(res.headers.get("set-cookie"));
    expect(cookie).toMatch(/^am_session=\w+/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    const page = await browserFetch(app, must(cookie.split(";")[0]))("/requests");
    expect(page.status).toBe(200);
  });

  it("refuses a wrong password with an inline message, then rate limits the email+address", async () => {
    const go = () => browserFetch(app, null)("/sign-in", { form: { email: "admin@acme.example", password: "wrong password!" } });
    const first = await go();
    expect(first.status).toBe(401);
    expect(await first.text()).toContain("do not match");
    let last = first;
    for (let i = 0; i < 8; i++) last = await go();
    expect(last.status).toBe(429);
    expect(await last.text()).toContain("Too many sign-in attempts");
  });

  it("sign-out ends the session on the server", async () => {
    const cookie = await sessionCookie(app, "admin@acme.example");
    expect((await browserFetch(app, cookie)("/keys")).status).toBe(200);
    const out = await browserFetch(app, cookie)("/sign-out", { form: {} });
    expect(out.status).toBe(302);
    expect((await browserFetch(app, cookie)("/keys")).status).toBe(302);
  });

  it("a password change ends every other session", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const other = await sessionCookie(app, email);
    const current = await sessionCookie(app, email);
    const res = await browserFetch(app, current)("/account", {
      form: { currentPassword: "correct horse battery", newPassword: "a much better pass", confirmPassword: "a much better pass" },
    });
    expect(res.status).toBe(200);
    const fresh = must(must(res.headers.get("set-cookie")).split(";")[0]);
    expect((await browserFetch(app, other)("/account")).status).toBe(302);
    expect((await browserFetch(app, current)("/account")).status).toBe(302);
    expect((await browserFetch(app, fresh)("/account")).status).toBe(200);
  });
});

describe("CSRF", () => {
  it("refuses a form post from another origin, and one without Origin or Referer", async () => {
    const evil = await browserFetch(app, ownerCookie)("/keys", {
      form: { intent: "create", name: "csrf", scopes: "requests:read" },
      origin: "https://evil.example",
    });
    expect(evil.status).toBe(403);
    const bare = await browserFetch(app, ownerCookie)("/keys", {
      form: { intent: "create", name: "csrf", scopes: "requests:read" },
      origin: null,
    });
    expect(bare.status).toBe(403);
    const keys = await app.operator(app.demoTenantId).admin.apiKeys.list();
    expect(keys.map((k) => k.name)).not.toContain("csrf");
  });

  it("accepts the same post from the app's own origin", async () => {
    const res = await browserFetch(app, ownerCookie)("/keys", { form: { intent: "create", name: "same-origin", scopes: "requests:read" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("apx_live_");
  });
});

describe("members import stream", () => {
  /** 56 MB in 1.4 MB chunks: fetch sends a stream body chunked, with no Content-Length. */
  const overLimit = () => {
    const rows = new TextEncoder().encode("EMP-1,Someone\n".repeat(100_000));
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(new TextEncoder().encode("externalRef,name\n")),
      pull: (c) => (sent++ < 40 ? c.enqueue(rows) : c.close()),
    });
  };

  // The page reads the answer line by line: a refusal must be a complete result line too.
  it.each([
    ["with a Content-Length", () => "x".repeat(50_000_001)],
    ["streamed without a Content-Length", overLimit],
  ])("refuses a file over 50 MB %s with 413 and one result line", async (_, body) => {
    const res = await fetch(`${app.url}/members/import-stream`, {
      method: "POST",
      headers: { Cookie: ownerCookie, Origin: app.url, "Content-Type": "text/csv" },
      body: body(),
      duplex: "half",
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toMatchObject({
      type: "result",
      result: { ok: false, errors: [{ message: "The file is larger than 50 MB." }] },
    });
  });
});

describe("roles", () => {
  it.each(ADMIN_PAGES)("an approver gets 403 on %s, saying why", async (path) => {
    const res = await browserFetch(app, approverCookie)(path);
    expect(res.status).toBe(403);
    // Pages and resource routes (the CSV export) alike: the reason, not "Unexpected Server Error".
    expect(await res.text()).toContain("This page is for tenant admins");
  });

  it("an approver cannot post admin actions", async () => {
    const res = await browserFetch(app, approverCookie)("/keys", {
      form: { intent: "create", name: "by-approver", scopes: "requests:read" },
    });
    expect(res.status).toBe(403);
    const keys = await app.operator(app.demoTenantId).admin.apiKeys.list();
    expect(keys.map((k) => k.name)).not.toContain("by-approver");
  });

  it("an approver sees only requests they may decide", async () => {
    const submit = api(app, app.demoKey);
    // EMP-1042's manager is Jane (EMP-2001): Jane approves stage 1. EMP-3002's manager is Bob.
    const mine = await submit("POST", "/v1/requests", SEED_SUBMISSION);
    const notMine = await submit("POST", "/v1/requests", {
      ...SEED_SUBMISSION,
      submitterRef: "EMP-3002",
      requestType: "time_off",
      title: "Holiday",
      amount: undefined,
    });
    expect(mine.status).toBe(201);
    expect(notMine.status).toBe(201);
    const inbox = await browserFetch(app, approverCookie)("/inbox");
    expect(await inbox.text()).toContain("Office Supplies Q3");
    expect((await browserFetch(app, approverCookie)(`/requests/${mine.body.requestId}`)).status).toBe(200);
    expect((await browserFetch(app, approverCookie)(`/requests/${notMine.body.requestId}`)).status).toBe(404);
    const list = await (await browserFetch(app, approverCookie)("/requests")).text();
    expect(list).toContain("Office Supplies Q3");
    expect(list).not.toContain("Holiday");
  });
});

describe("tenants", () => {
  it("another tenant's owner cannot open this tenant's members, matrices or requests", async () => {
    const other = await app.createOtherTenant();
    const otherOwner = await sessionCookie(app, await createUserIn(app, other.tenantId, "owner"));
    const [member] = await app.deps.db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, app.demoTenantId), eq(members.externalRef, "EMP-1042")));
    const matrices = await app.operator(app.demoTenantId).admin.matrices.list();
    const request = await api(app, app.demoKey)("POST", "/v1/requests", SEED_SUBMISSION);
    const get = browserFetch(app, otherOwner);
    expect((await get(`/members/${must(member).id}`)).status).toBe(404);
    expect((await get(`/matrices/${must(matrices[0]).id}`)).status).toBe(404);
    expect((await get(`/requests/${request.body.requestId}`)).status).toBe(404);
    const list = await (await get("/members")).text();
    expect(list).toContain("Other Person");
    expect(list).not.toContain("Alex Kim");
    // Editing another tenant's member by id changes nothing.
    const edit = await get(`/members/${must(member).id}`, { form: { intent: "save", name: "Hijacked", externalRef: "EMP-1042" } });
    expect(edit.status).toBe(404);
    const [after] = await app.deps.db
      .select({ name: members.name })
      .from(members)
      .where(eq(members.id, must(member).id));
    expect(must(after).name).toBe("Alex Kim");
    void users;
    void DEMO_TENANT_SLUG;
  });
});

/** A sign-in form post; `from` is the address a proxy in front reports in X-Forwarded-For. */
function signIn(form: Record<string, string>, from?: string) {
  return browserFetch(app, null)("/sign-in", { form, ...(from ? { headers: { "X-Forwarded-For": from } } : {}) });
}

describe("redirect after sign-in", () => {
  it.each([
    ["/\t/evil.example", "a TAB browsers strip"],
    ["/\n/evil.example", "a newline"],
    ["/\r\n/evil.example", "CR LF"],
    ["/\\evil.example", "a backslash"],
    ["/.//evil.example", "a dot segment that serializes to //"],
    ["//evil.example", "a scheme-relative URL"],
    ["https://evil.example/", "an absolute URL"],
    ["/%09/evil.example", "an encoded TAB"],
  ])("never leaves the app for %j (%s)", async (redirectTo) => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const res = await signIn({ email, password: "correct horse battery", redirectTo });
    expect(res.status).toBe(302);
    const location = must(res.headers.get("location"));
    expect(new URL(location, app.url).origin).toBe(app.url);
    expect(location).toMatch(/^\/(?![/\\])/);
  });

  it("keeps a path of the app, with its query and fragment", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const res = await signIn({ email, password: "correct horse battery", redirectTo: "/requests?status=pending#top" });
    expect(res.headers.get("location")).toBe("/requests?status=pending#top");
  });
});

describe("sign-in throttling", () => {
  it("never locks out the right password: only failures count", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    for (let i = 0; i < 12; i++) {
      const res = await signIn({ email, password: "correct horse battery" }, "203.0.113.10");
      expect(res.status).toBe(302);
    }
  });

  it("locks an email+address after 8 failures, the right password included", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    for (let i = 0; i < 8; i++) expect((await signIn({ email, password: "wrong password!" }, "203.0.113.20")).status).toBe(401);
    const locked = await signIn({ email, password: "correct horse battery" }, "203.0.113.20");
    expect(locked.status).toBe(429);
    expect(await locked.text()).toContain("Too many sign-in attempts");
  });

  it("behind TRUST_PROXY, counts per client address from X-Forwarded-For, not per proxy", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    // The attacker varies what they claim; the proxy appends what it saw (198.51.100.7).
    for (let i = 0; i < 8; i++) await signIn({ email, password: "wrong password!" }, `10.0.0.${i}, 198.51.100.7`);
    expect((await signIn({ email, password: "wrong password!" }, "10.9.9.9, 198.51.100.7")).status).toBe(429);
    // Everyone else behind the same proxy still signs in.
    expect((await signIn({ email, password: "correct horse battery" }, "198.51.100.8")).status).toBe(302);
  });
});

describe("password change", () => {
  it("is throttled per user: after 5 wrong current passwords even the right one waits", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const cookie = await sessionCookie(app, email);
    const change = (currentPassword: string) =>
      browserFetch(app, cookie)("/account", {
        form: { currentPassword, newPassword: "a much better pass", confirmPassword: "a much better pass" },
      });
    for (let i = 0; i < 5; i++) expect((await change(`guess number ${i}`)).status).toBe(400);
    const refused = await change("correct horse battery");
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/Too many wrong current passwords. Try again in \d+ minute\(s\)/);
  });
});

describe("users belong to one tenant", () => {
  it("inviting an email another tenant uses succeeds, and a duplicate names no other tenant", async () => {
    const other = await app.createOtherTenant();
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const invite = (address: string) =>
      app.operator(other.tenantId).admin.users.create({ email: address, name: "Their admin", role: "admin" });
    expect((await invite(email.toUpperCase())).email).toBe(email);
    await expect(invite(email)).rejects.toThrow(`This tenant already has a user with email ${email}.`);
  });

  it("signs in to the one tenant whose account the password opens", async () => {
    const other = await app.createOtherTenant();
    const email = `shared-${newId("user").slice(4, 12).toLowerCase()}@both.example`;
    await insertUser(app.demoTenantId, email, "password of acme");
    await insertUser(other.tenantId, email, "password of globex");
    const res = await signIn({ email, password: "password of globex" }, "203.0.113.30");
    expect(res.status).toBe(302);
    const page = await browserFetch(app, must(must(res.headers.get("set-cookie")).split(";")[0]))("/requests");
    expect(await page.text()).toContain("Globex");
  });

  it("asks which organization when the password opens accounts in several", async () => {
    const other = await app.createOtherTenant();
    const email = `twice-${newId("user").slice(4, 12).toLowerCase()}@both.example`;
    await insertUser(app.demoTenantId, email, "one password for all");
    await insertUser(other.tenantId, email, "one password for all");
    const ask = await signIn({ email, password: "one password for all" }, "203.0.113.31");
    expect(ask.status).toBe(200);
    expect(ask.headers.get("set-cookie")).toBeNull();
    const html = await ask.text();
    expect(html).toContain("several organizations");
    expect(html).toContain(`<option value="acme">`);
    const slug = must(must(/<option value="(globex-[a-z0-9]+)">/.exec(html))[1]);
    const chosen = await signIn({ email, password: "one password for all", tenant: slug }, "203.0.113.31");
    expect(chosen.status).toBe(302);
    const page = await browserFetch(app, must(must(chosen.headers.get("set-cookie")).split(";")[0]))("/requests");
    expect(await page.text()).toContain("Globex");
  });

  it("costs the same scrypt work whether or not the email exists", async () => {
    // Both answers are the same refusal; neither may skip hashing (a fast refusal would tell).
    const time = async (email: string) => {
      const start = performance.now();
      const res = await signIn({ email, password: "wrong password!" }, `203.0.113.${40 + Math.floor(Math.random() * 50)}`);
      expect(res.status).toBe(401);
      return performance.now() - start;
    };
    const known = await createUserIn(app, app.demoTenantId, "admin");
    await time(known);
    const [unknownMs, knownMs] = [await time("nobody-at-all@nowhere.example"), await time(known)];
    expect(unknownMs).toBeGreaterThan(knownMs * 0.25);
  });
});

describe("forced password change", () => {
  it("a user invited with a one-time password must choose their own before anything else", async () => {
    const invited = await app.operator(app.demoTenantId).admin.users.create({
      email: `invited-${newId("user").slice(4, 12).toLowerCase()}@acme.example`,
      name: "New Admin",
      role: "admin",
    });
    const res = await signIn({ email: invited.email, password: must(invited.initialPassword), redirectTo: "/keys" }, "203.0.113.50");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/account");
    const cookie = must(must(res.headers.get("set-cookie")).split(";")[0]);
    const go = browserFetch(app, cookie);
    expect((await go("/keys")).headers.get("location")).toBe("/account");
    const post = await go("/keys", { form: { intent: "create", name: "before-change", scopes: "requests:read" } });
    expect(post.headers.get("location")).toBe("/account");
    expect(await (await go("/account")).text()).toContain("You signed in with a one-time password");
    const changed = await go("/account", {
      form: { currentPassword: must(invited.initialPassword), newPassword: "my own new password", confirmPassword: "my own new password" },
    });
    expect(changed.status).toBe(302);
    expect(changed.headers.get("location")).toBe("/requests");
    const fresh = browserFetch(app, must(must(changed.headers.get("set-cookie")).split(";")[0]));
    expect((await fresh("/keys")).status).toBe(200);
  });

  it("the demo sign-ins need no change", async () => {
    const [owner] = await app.deps.db.select().from(users).where(eq(users.email, "admin@acme.example"));
    expect(must(owner).mustChangePassword).toBe(false);
  });
});

describe("sessions", () => {
  it("are stored by the SHA-256 of the cookie's token, never the token", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const res = await signIn({ email, password: "correct horse battery" }, "203.0.113.60");
    const token = must(must(/^am_session=([^;]+)/.exec(must(res.headers.get("set-cookie"))))[1]);
    const [user] = await app.deps.db.select({ id: users.id }).from(users).where(eq(users.email, email));
    const rows = await app.deps.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(eq(sessions.userId, must(user).id));
    expect(rows.map((r) => r.id)).toEqual([createHash("sha256").update(token).digest("hex")]);
    expect(must(rows[0]).id).not.toContain(token);
    // The row id itself, sent as a cookie, opens nothing.
    expect((await browserFetch(app, `am_session=${must(rows[0]).id}`)("/requests")).status).toBe(302);
    expect((await browserFetch(app, `am_session=${token}`)("/requests")).status).toBe(200);
  });

  it("expired sessions are refused and deleted", async () => {
    const email = await createUserIn(app, app.demoTenantId, "admin");
    const [user] = await app.deps.db.select({ id: users.id }).from(users).where(eq(users.email, email));
    // Opened eight days ago (a week's lifetime): expired now, unlike every other test's sessions.
    let now = Date.now() - 8 * 24 * 60 * 60_000;
    const auth = createAdminAuth(app.deps.db, app.deps.rateLimiter, { secureCookies: false, now: () => now });
    const first = await auth.sessions.create(must(user).id);
    const second = await auth.sessions.create(must(user).id);
    now = Date.now();
    expect(await auth.sessions.validate(must(first.setCookie.split(";")[0]))).toBeNull();
    const left = async () =>
      (
        await app.deps.db
          .select({ id: sessions.id })
          .from(sessions)
          .where(eq(sessions.userId, must(user).id))
      ).map((r) => r.id);
    expect(await left()).toEqual([second.sessionId]);
    expect(await auth.sessions.deleteExpired()).toBeGreaterThanOrEqual(1);
    expect(await left()).toEqual([]);
    expect(sessionIdOf("x")).toHaveLength(64);
  });
});

describe("security headers", () => {
  it("admin pages have a nonce-based Content-Security-Policy that their inline scripts carry", async () => {
    const res = await browserFetch(app, ownerCookie)("/requests");
    const csp = must(res.headers.get("content-security-policy"));
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = must(must(/'nonce-([^']+)'/.exec(csp))[1]);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const again = await browserFetch(app, ownerCookie)("/requests");
    expect(again.headers.get("content-security-policy")).not.toContain(nonce);
  });

  it("/docs has a policy for the Scalar page and the usual headers", async () => {
    const res = await fetch(`${app.url}/docs`);
    const csp = must(res.headers.get("content-security-policy"));
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-eval");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it.each(["/v1/requests", "/v1/openapi.json", "/healthz"])("%s (JSON) forbids everything", async (path) => {
    const res = await fetch(`${app.url}${path}`);
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

async function insertUser(tenantId: string, email: string, password: string): Promise<void> {
  await app.deps.db
    .insert(users)
    .values({ id: newId("user"), tenantId, email, name: "Shared Person", role: "admin", passwordHash: await hashPassword(password) });
}
