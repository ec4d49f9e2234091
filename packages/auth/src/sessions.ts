import { DrizzlePostgreSQLAdapter } from "@lucia-auth/adapter-drizzle";
import { type Database, and, eq, members, sessions, tenants, users } from "@approvalmatrix/db";
import { Lucia, TimeSpan } from "lucia";
import type { TenantRole } from "@approvalmatrix/core";

/**
 * The only file that knows lucia. Everything else sees `SessionStore`, so lucia v3 (deprecated
 * by its author) can be replaced by the hand-written form of its guide without touching callers.
 */

export type UserRole = TenantRole;

export interface SignedInUser {
  id: string;
  tenantId: string;
  tenantName: string;
  email: string;
  name: string;
  role: UserRole;
  /** The member this user decides as (approvers), or null. */
  memberId: string | null;
}

export interface ValidatedSession {
  sessionId: string;
  user: SignedInUser;
  /** Set when the expiry slid forward (or the session ended): send it back to the browser. */
  setCookie: string | null;
}

export interface SessionStore {
  readonly cookieName: string;
  create(userId: string): Promise<{ sessionId: string; setCookie: string }>;
  /** Reads the session cookie from a Cookie header; null when absent, unknown or expired. */
  validate(cookieHeader: string | null): Promise<ValidatedSession | null>;
  invalidate(sessionId: string): Promise<void>;
  invalidateAllFor(userId: string): Promise<void>;
  blankCookie(): string;
}

export interface SessionOptions {
  /** Secure cookies (HTTPS only): on in production. */
  secureCookies: boolean;
  /** Idle lifetime; every use in the second half of it slides the expiry forward. */
  lifetimeDays?: number;
}

export const SESSION_COOKIE_NAME = "am_session";

export function createSessionStore(db: Database, options: SessionOptions): SessionStore {
  const lucia = new Lucia(new DrizzlePostgreSQLAdapter(db, sessions, users), {
    sessionExpiresIn: new TimeSpan(options.lifetimeDays ?? 7, "d"),
    sessionCookie: {
      name: SESSION_COOKIE_NAME,
      expires: true,
      // httpOnly and path=/ are lucia's defaults; SameSite=Lax keeps cross-site posts cookie-less.
      attributes: { sameSite: "lax", secure: options.secureCookies },
    },
  });

  async function loadUser(userId: string): Promise<SignedInUser | null> {
    const [row] = await db
      .select({
        id: users.id,
        tenantId: users.tenantId,
        tenantName: tenants.name,
        email: users.email,
        name: users.name,
        role: users.role,
        memberId: members.id,
      })
      .from(users)
      .innerJoin(tenants, eq(tenants.id, users.tenantId))
      .leftJoin(members, and(eq(members.userId, users.id), eq(members.tenantId, users.tenantId)))
      .where(eq(users.id, userId))
      .limit(1);
    return row ?? null;
  }

  return {
    cookieName: SESSION_COOKIE_NAME,
    async create(userId) {
      const session = await lucia.createSession(userId, {});
      return { sessionId: session.id, setCookie: lucia.createSessionCookie(session.id).serialize() };
    },
    async validate(cookieHeader) {
      const sessionId = cookieHeader ? lucia.readSessionCookie(cookieHeader) : null;
      if (!sessionId) return null;
      const { session } = await lucia.validateSession(sessionId);
      if (!session) return null;
      const user = await loadUser(session.userId);
      if (!user) return null;
      return { sessionId: session.id, user, setCookie: session.fresh ? lucia.createSessionCookie(session.id).serialize() : null };
    },
    invalidate: (sessionId) => lucia.invalidateSession(sessionId),
    invalidateAllFor: (userId) => lucia.invalidateUserSessions(userId),
    blankCookie: () => lucia.createBlankSessionCookie().serialize(),
  };
}
