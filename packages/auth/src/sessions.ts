import { createHash, randomBytes } from "node:crypto";
import { type Database, and, eq, isNull, lt, members, sessions, tenants, users } from "@approvalmatrix/db";
import type { TenantRole } from "@approvalmatrix/core";

/**
 * Admin sessions, written out as Lucia's own guide now recommends (its v3 library is deprecated):
 * the cookie carries a random token, the table stores only its SHA-256. A leaked `sessions`
 * table (a backup, a read-only SQL injection) therefore yields no usable cookie.
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
  /** Signed in with a one-time password: the app asks for a new one before anything else. */
  mustChangePassword: boolean;
}

export interface ValidatedSession {
  /** The session's row id (the token's hash): what sign-out and invalidation take. */
  sessionId: string;
  user: SignedInUser;
  /** Set when the expiry slid forward: send it back to the browser. */
  setCookie: string | null;
}

export interface SessionStore {
  readonly cookieName: string;
  create(userId: string, userAgent?: string | null): Promise<{ sessionId: string; setCookie: string }>;
  /** Reads the session cookie from a Cookie header; null when absent, unknown or expired. */
  validate(cookieHeader: string | null): Promise<ValidatedSession | null>;
  invalidate(sessionId: string): Promise<void>;
  invalidateAllFor(userId: string): Promise<void>;
  /** Deletes every expired session; returns how many. */
  deleteExpired(): Promise<number>;
  blankCookie(): string;
}

export interface SessionOptions {
  /** Secure cookies (HTTPS only): on in production. */
  secureCookies: boolean;
  /** Idle lifetime; every use in the second half of it slides the expiry forward. */
  lifetimeDays?: number;
  /** Clock, for tests of expiry. */
  now?: () => number;
}

export const SESSION_COOKIE_NAME = "am_session";
const DAY_MS = 24 * 60 * 60_000;
/** Expired rows are swept at most this often per process, on the next sign-in. */
const SWEEP_INTERVAL_MS = 60 * 60_000;

/** 160 random bits, base32 (lowercase, no padding) as in Lucia's guide. */
function generateToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = randomBytes(20);
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** The row id of the session a token opens. */
export function sessionIdOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function readCookie(header: string, name: string): string | null {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function createSessionStore(db: Database, options: SessionOptions): SessionStore {
  const lifetimeMs = (options.lifetimeDays ?? 7) * DAY_MS;
  const now = options.now ?? Date.now;
  let sweptAt = 0;

  // httpOnly and path=/; SameSite=Lax keeps cross-site posts cookie-less.
  const cookie = (value: string, expires: Date) =>
    `${SESSION_COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Lax; Expires=${expires.toUTCString()}` +
    `${options.secureCookies ? "; Secure" : ""}`;

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
        mustChangePassword: users.mustChangePassword,
      })
      .from(users)
      .innerJoin(tenants, eq(tenants.id, users.tenantId))
      .leftJoin(members, and(eq(members.userId, users.id), eq(members.tenantId, users.tenantId)))
      // A suspended user's sessions open nothing (they are also deleted when suspended).
      .where(and(eq(users.id, userId), isNull(users.suspendedAt)))
      .limit(1);
    return row ?? null;
  }

  async function deleteExpired(): Promise<number> {
    const gone = await db
      .delete(sessions)
      .where(lt(sessions.expiresAt, new Date(now())))
      .returning({ id: sessions.id });
    return gone.length;
  }

  return {
    cookieName: SESSION_COOKIE_NAME,
    async create(userId, userAgent) {
      if (now() - sweptAt > SWEEP_INTERVAL_MS) {
        sweptAt = now();
        // Off the sign-in's path: a failed sweep only leaves rows for the next one.
        deleteExpired().catch((error: unknown) => console.warn("could not delete expired sessions:", error));
      }
      const token = generateToken();
      const expiresAt = new Date(now() + lifetimeMs);
      const sessionId = sessionIdOf(token);
      await db.insert(sessions).values({ id: sessionId, userId, expiresAt, userAgent: userAgent?.slice(0, 200) ?? null });
      return { sessionId, setCookie: cookie(token, expiresAt) };
    },
    async validate(cookieHeader) {
      const token = cookieHeader ? readCookie(cookieHeader, SESSION_COOKIE_NAME) : null;
      if (!token) return null;
      const sessionId = sessionIdOf(token);
      const [row] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
      if (!row) return null;
      const current = now();
      if (row.expiresAt.getTime() <= current) {
        await db.delete(sessions).where(eq(sessions.id, sessionId));
        return null;
      }
      const user = await loadUser(row.userId);
      if (!user) return null;
      let setCookie: string | null = null;
      // Sliding expiry: used in the second half of its life, the session gets a full one again.
      if (row.expiresAt.getTime() - current < lifetimeMs / 2) {
        const expiresAt = new Date(current + lifetimeMs);
        await db.update(sessions).set({ expiresAt }).where(eq(sessions.id, sessionId));
        setCookie = cookie(token, expiresAt);
      }
      return { sessionId, user, setCookie };
    },
    async invalidate(sessionId) {
      await db.delete(sessions).where(eq(sessions.id, sessionId));
    },
    async invalidateAllFor(userId) {
      await db.delete(sessions).where(eq(sessions.userId, userId));
    },
    deleteExpired,
    blankCookie: () => cookie("", new Date(0)).replace("Expires=", "Max-Age=0; Expires="),
  };
}
