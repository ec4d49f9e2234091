import { type Database, eq, users } from "@approvalmatrix/db";
import { decoyPasswordHash, hashPassword, passwordProblem, verifyPassword } from "./password";
import { type SessionOptions, type SessionStore, type SignedInUser, createSessionStore } from "./sessions";

export { hashPassword, verifyPassword, passwordProblem, PASSWORD_MIN_LENGTH } from "./password";
export { SESSION_COOKIE_NAME, type SessionStore, type SignedInUser, type UserRole, type ValidatedSession } from "./sessions";

/** What sign-in needs from a rate limiter (the API's RateLimiter fits). */
export interface AttemptLimiter {
  consume(bucket: string, limit: number, windowMs?: number): Promise<{ allowed: boolean; retryAfter: number }>;
}

/** Sign-in attempts allowed per email and client address, and per address alone, in the window. */
export const SIGN_IN_LIMITS = { perEmailAndIp: 8, perIp: 60, windowMs: 15 * 60_000 } as const;

export type SignInResult =
  | { ok: true; user: SignedInUser; sessionId: string; setCookie: string }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "rate_limited"; retryAfter: number };

export type ChangePasswordResult =
  { ok: true; setCookie: string } | { ok: false; field: "currentPassword" | "newPassword"; message: string };

export interface AdminAuth {
  sessions: SessionStore;
  signIn(input: { email: string; password: string; clientIp: string }): Promise<SignInResult>;
  signOut(sessionId: string): Promise<string>;
  /** Checks the current password, stores the new one and ends every session, then opens a fresh one. */
  changePassword(userId: string, currentPassword: string, newPassword: string): Promise<ChangePasswordResult>;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createAdminAuth(db: Database, limiter: AttemptLimiter, options: SessionOptions): AdminAuth {
  const sessions = createSessionStore(db, options);

  return {
    sessions,
    async signIn({ email, password, clientIp }) {
      const normalized = normalizeEmail(email);
      const [perPair, perIp] = await Promise.all([
        limiter.consume(`signin:${normalized}:${clientIp}`, SIGN_IN_LIMITS.perEmailAndIp, SIGN_IN_LIMITS.windowMs),
        limiter.consume(`signin-ip:${clientIp}`, SIGN_IN_LIMITS.perIp, SIGN_IN_LIMITS.windowMs),
      ]);
      if (!perPair.allowed || !perIp.allowed) {
        return {
          ok: false,
          reason: "rate_limited",
          retryAfter: Math.max(perPair.allowed ? 0 : perPair.retryAfter, perIp.allowed ? 0 : perIp.retryAfter),
        };
      }
      const [row] = await db
        .select({ id: users.id, passwordHash: users.passwordHash })
        .from(users)
        .where(eq(users.email, normalized))
        .limit(1);
      // Unknown emails cost a full hash too, so timing does not tell which emails exist.
      const valid = await verifyPassword(row?.passwordHash ?? (await decoyPasswordHash()), password);
      if (!row || !row.passwordHash || !valid) return { ok: false, reason: "invalid_credentials" };
      const created = await sessions.create(row.id);
      const validated = await sessions.validate(created.setCookie.split(";")[0]!);
      if (!validated) return { ok: false, reason: "invalid_credentials" };
      return { ok: true, user: validated.user, sessionId: created.sessionId, setCookie: created.setCookie };
    },
    async signOut(sessionId) {
      await sessions.invalidate(sessionId);
      return sessions.blankCookie();
    },
    async changePassword(userId, currentPassword, newPassword) {
      const [row] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId)).limit(1);
      if (!row?.passwordHash || !(await verifyPassword(row.passwordHash, currentPassword))) {
        return { ok: false, field: "currentPassword", message: "That is not your current password." };
      }
      const problem = passwordProblem(newPassword);
      if (problem) return { ok: false, field: "newPassword", message: problem };
      await db
        .update(users)
        .set({ passwordHash: await hashPassword(newPassword) })
        .where(eq(users.id, userId));
      await sessions.invalidateAllFor(userId);
      const created = await sessions.create(userId);
      return { ok: true, setCookie: created.setCookie };
    },
  };
}
