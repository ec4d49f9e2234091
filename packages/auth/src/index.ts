import { type Database, and, eq, isNull, tenants, users } from "@approvalmatrix/db";
import { decoyPasswordHash, hashPassword, passwordProblem, verifyPassword } from "./password";
import { type SessionOptions, type SessionStore, type SignedInUser, createSessionStore } from "./sessions";

export { hashPassword, verifyPassword, passwordProblem, generateOneTimePassword, PASSWORD_MIN_LENGTH } from "./password";
export { SESSION_COOKIE_NAME, sessionIdOf, type SessionStore, type SignedInUser, type UserRole, type ValidatedSession } from "./sessions";

/** What sign-in needs from a rate limiter (the API's RateLimiter fits). */
export interface AttemptLimiter {
  /** Counts one failure on `bucket` (GCRA: `limit` failures per `windowMs`, refilled one at a time). */
  hit(bucket: string, limit: number, windowMs?: number): Promise<unknown>;
  /** Whether `bucket` is under `limit` failures, counting nothing. */
  check(bucket: string, limit: number, windowMs?: number): Promise<{ allowed: boolean; retryAfter: number }>;
}

/**
 * Failed sign-ins allowed per email and client address, and per address alone, in the window.
 * Only failures count: a person who types the right password is never locked out by their own
 * sign-ins, while a locked bucket refuses every attempt (the right password too) until it ends.
 */
export const SIGN_IN_LIMITS = { perEmailAndIp: 8, perIp: 60, windowMs: 15 * 60_000 } as const;

/** Wrong current passwords allowed per user in the window of the password change. */
export const PASSWORD_CHANGE_LIMITS = { perUser: 5, windowMs: 15 * 60_000 } as const;

export interface TenantChoice {
  slug: string;
  name: string;
}

export type SignInResult =
  | { ok: true; user: SignedInUser; sessionId: string; setCookie: string }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "rate_limited"; retryAfter: number }
  /** The password opens accounts in several tenants: the person picks one (sent back as `tenant`). */
  | { ok: false; reason: "choose_tenant"; tenants: TenantChoice[] };

export type ChangePasswordResult =
  | { ok: true; setCookie: string }
  | { ok: false; field: "currentPassword" | "newPassword"; message: string }
  | { ok: false; field: "currentPassword"; message: string; reason: "rate_limited"; retryAfter: number };

export interface AdminAuth {
  sessions: SessionStore;
  /** `tenant` (a slug) narrows the sign-in to one tenant, after a `choose_tenant` answer. */
  signIn(input: {
    email: string;
    password: string;
    clientIp: string;
    tenant?: string | null;
    userAgent?: string | null;
  }): Promise<SignInResult>;
  signOut(sessionId: string): Promise<string>;
  /** Checks the current password, stores the new one and ends every session, then opens a fresh one. */
  changePassword(userId: string, currentPassword: string, newPassword: string): Promise<ChangePasswordResult>;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const minutes = (seconds: number) => Math.max(1, Math.ceil(seconds / 60));

export function createAdminAuth(db: Database, limiter: AttemptLimiter, options: SessionOptions): AdminAuth {
  const sessions = createSessionStore(db, options);

  return {
    sessions,
    async signIn({ email, password, clientIp, tenant, userAgent }) {
      const normalized = normalizeEmail(email);
      const buckets = [
        { bucket: `signin:${normalized}:${clientIp}`, limit: SIGN_IN_LIMITS.perEmailAndIp },
        { bucket: `signin-ip:${clientIp}`, limit: SIGN_IN_LIMITS.perIp },
      ];
      const checks = await Promise.all(buckets.map((b) => limiter.check(b.bucket, b.limit, SIGN_IN_LIMITS.windowMs)));
      if (checks.some((c) => !c.allowed)) {
        return { ok: false, reason: "rate_limited", retryAfter: Math.max(...checks.map((c) => (c.allowed ? 0 : c.retryAfter))) };
      }
      const rows = await db
        .select({ id: users.id, passwordHash: users.passwordHash, tenantSlug: tenants.slug, tenantName: tenants.name })
        .from(users)
        .innerJoin(tenants, eq(tenants.id, users.tenantId))
        // A suspended user signs in nowhere: to the caller, like a wrong password.
        .where(and(eq(users.email, normalized), isNull(users.suspendedAt)));
      const candidates = tenant ? rows.filter((r) => r.tenantSlug === tenant) : rows;
      // One hash per account with this email, and one for none: whether an email exists (in any
      // tenant) does not show in the time an answer takes.
      const hashes = candidates.length ? candidates.map((r) => r.passwordHash) : [null];
      const decoy = await decoyPasswordHash();
      const valid = await Promise.all(hashes.map((h) => verifyPassword(h ?? decoy, password).then((ok) => ok && h !== null)));
      const matches = candidates.filter((_, i) => valid[i]);
      if (matches.length === 0) {
        await Promise.all(buckets.map((b) => limiter.hit(b.bucket, b.limit, SIGN_IN_LIMITS.windowMs)));
        return { ok: false, reason: "invalid_credentials" };
      }
      if (matches.length > 1) {
        return {
          ok: false,
          reason: "choose_tenant",
          tenants: matches.map((m) => ({ slug: m.tenantSlug, name: m.tenantName })).sort((a, b) => a.name.localeCompare(b.name)),
        };
      }
      const [match] = matches;
      if (!match) return { ok: false, reason: "invalid_credentials" };
      const created = await sessions.create(match.id, userAgent);
      await db.update(users).set({ lastSignInAt: new Date() }).where(eq(users.id, match.id));
      const [cookiePair = ""] = created.setCookie.split(";");
      const validated = await sessions.validate(cookiePair);
      if (!validated) return { ok: false, reason: "invalid_credentials" };
      return { ok: true, user: validated.user, sessionId: created.sessionId, setCookie: created.setCookie };
    },
    async signOut(sessionId) {
      await sessions.invalidate(sessionId);
      return sessions.blankCookie();
    },
    async changePassword(userId, currentPassword, newPassword) {
      // Throttled per user: a stolen session must not become a way to guess the password.
      const bucket = `password-change:${userId}`;
      const check = await limiter.check(bucket, PASSWORD_CHANGE_LIMITS.perUser, PASSWORD_CHANGE_LIMITS.windowMs);
      if (!check.allowed) {
        return {
          ok: false,
          field: "currentPassword",
          reason: "rate_limited",
          retryAfter: check.retryAfter,
          message: `Too many wrong current passwords. Try again in ${minutes(check.retryAfter)} minute(s).`,
        };
      }
      const [row] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId)).limit(1);
      if (!row?.passwordHash || !(await verifyPassword(row.passwordHash, currentPassword))) {
        await limiter.hit(bucket, PASSWORD_CHANGE_LIMITS.perUser, PASSWORD_CHANGE_LIMITS.windowMs);
        return { ok: false, field: "currentPassword", message: "That is not your current password." };
      }
      const problem = passwordProblem(newPassword);
      if (problem) return { ok: false, field: "newPassword", message: problem };
      if (newPassword === currentPassword)
        return { ok: false, field: "newPassword", message: "Choose a new password, not the current one." };
      await db
        .update(users)
        .set({ passwordHash: await hashPassword(newPassword), mustChangePassword: false })
        .where(eq(users.id, userId));
      await sessions.invalidateAllFor(userId);
      const created = await sessions.create(userId);
      return { ok: true, setCookie: created.setCookie };
    },
  };
}
