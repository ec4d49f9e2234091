import { createAdminAuth, hashPassword } from "@approvalmatrix/auth";
import { newId, must } from "@approvalmatrix/core";
import { eq, members, users } from "@approvalmatrix/db";
import type { TestApp } from "./harness";

/** A signed-in session for a seeded user, without going through the sign-in form. */
export async function sessionCookie(app: TestApp, email: string): Promise<string> {
  const [user] = await app.deps.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  if (!user) throw new Error(`no user ${email}`);
  const auth = createAdminAuth(app.deps.db, app.deps.rateLimiter, { secureCookies: false });
  const { setCookie } = await auth.sessions.create(user.id);
  return must(setCookie.split(";")[0]);
}

/** An owner user of another tenant, to prove tenants cannot see each other. */
export async function createUserIn(
  app: TestApp,
  tenantId: string,
  role: "owner" | "admin" | "approver",
  memberRef?: string,
): Promise<string> {
  const email = `${role}-${newId("user").slice(4, 12).toLowerCase()}@other.example`;
  const userId = newId("user");
  await app.deps.db
    .insert(users)
    .values({ id: userId, tenantId, email, name: `Other ${role}`, role, passwordHash: await hashPassword("correct horse battery") });
  if (memberRef) {
    const [m] = await app.deps.db.select({ id: members.id }).from(members).where(eq(members.externalRef, memberRef));
    if (m) await app.deps.db.update(members).set({ userId }).where(eq(members.id, m.id));
  }
  return email;
}

/** fetch as a browser of the app would: same-origin, no redirect following. */
export function browserFetch(app: { url: string }, cookie: string | null) {
  return (
    path: string,
    init: { method?: string; form?: Record<string, string>; origin?: string | null; body?: string; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (cookie) headers.Cookie = cookie;
    const method = init.method ?? (init.form ? "POST" : "GET");
    if (method !== "GET" && init.origin !== null) headers.Origin = init.origin ?? app.url;
    let body: string | undefined = init.body;
    if (init.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    return fetch(`${app.url}${path}`, { method, headers, body, redirect: "manual" });
  };
}
