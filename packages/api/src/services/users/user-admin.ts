/**
 * Managing the people who sign in: role changes, suspension, removal, password reset links and
 * sessions. Every change is audited; suspension and removal end the user's sessions in the same
 * transaction, so they lose access on their very next request. A tenant always keeps an active owner.
 */
import { createHash, randomBytes } from "node:crypto";
import { hashPassword, passwordProblem } from "@approvalmatrix/auth";
import { DomainError, type TenantRole, mayGrantRole, newId } from "@approvalmatrix/core";
import { type Database, type Queryable, and, count, desc, eq, gt, isNull, ne, passwordResets, sessions, users } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../../context";
import { writeAudit } from "../audit";

/** How long a password reset link works. */
export const PASSWORD_RESET_TTL_MS = 24 * 60 * 60_000;

const granter = (actor: Actor): TenantRole => (actor.kind === "user" ? actor.role : "owner");

async function loadUser(db: Queryable, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));
  if (!row) throw new DomainError("not_found", `No user ${id}.`);
  return row;
}

/** Only owners manage owners and admins; admins manage approvers (core/roles.ts). */
function assertMayManage(actor: Actor, target: { role: TenantRole }) {
  if (!mayGrantRole(granter(actor), target.role)) throw new DomainError("forbidden", `Only an owner can change ${target.role}s.`);
}

/** Refuses a change that would leave the tenant without an active owner. */
async function assertAnotherActiveOwner(db: Queryable, tenantId: string, userId: string, what: string) {
  const [others] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.role, "owner"), isNull(users.suspendedAt), ne(users.id, userId)));
  if ((others?.n ?? 0) === 0)
    throw new DomainError("conflict", `${what} would leave this tenant without an owner. Make someone else an owner first.`);
}

const isSelf = (actor: Actor, id: string) => actor.kind === "user" && actor.userId === id;

export function changeUserRole(db: Database, actor: Actor, id: string, role: TenantRole) {
  return db.transaction(async (tx) => {
    const user = await loadUser(tx, actor.tenantId, id);
    assertMayManage(actor, user);
    assertMayManage(actor, { role });
    if (user.role === role) return { id, role };
    if (user.role === "owner") await assertAnotherActiveOwner(tx, actor.tenantId, id, "Changing the last owner's role");
    await tx.update(users).set({ role }).where(eq(users.id, id));
    await writeAudit(tx, actor, { action: "user.role_changed", targetType: "user", targetId: id, data: { from: user.role, to: role } });
    return { id, role };
  });
}

export function setUserSuspended(db: Database, actor: Actor, id: string, suspended: boolean) {
  return db.transaction(async (tx) => {
    const user = await loadUser(tx, actor.tenantId, id);
    assertMayManage(actor, user);
    if (suspended && isSelf(actor, id)) throw new DomainError("conflict", "You cannot suspend yourself.");
    if (suspended && user.role === "owner" && !user.suspendedAt)
      await assertAnotherActiveOwner(tx, actor.tenantId, id, "Suspending the last owner");
    await tx
      .update(users)
      .set({ suspendedAt: suspended ? (user.suspendedAt ?? new Date()) : null })
      .where(eq(users.id, id));
    if (suspended) await tx.delete(sessions).where(eq(sessions.userId, id));
    await writeAudit(tx, actor, {
      action: suspended ? "user.suspended" : "user.unsuspended",
      targetType: "user",
      targetId: id,
      data: { email: user.email },
    });
    return { id, suspended };
  });
}

/** Removes the user (their member stays, unlinked; their decisions stay, made as that member). */
export function removeUser(db: Database, actor: Actor, id: string) {
  return db.transaction(async (tx) => {
    const user = await loadUser(tx, actor.tenantId, id);
    assertMayManage(actor, user);
    if (isSelf(actor, id)) throw new DomainError("conflict", "You cannot remove yourself.");
    if (user.role === "owner") await assertAnotherActiveOwner(tx, actor.tenantId, id, "Removing the last owner");
    // Sessions and reset links go with the row (ON DELETE CASCADE); the member is unlinked (SET NULL).
    await tx.delete(users).where(eq(users.id, id));
    await writeAudit(tx, actor, { action: "user.removed", targetType: "user", targetId: id, data: { email: user.email, role: user.role } });
    return { id };
  });
}

export interface SessionView {
  id: string;
  createdAt: string;
  expiresAt: string;
  userAgent: string | null;
}

/** The user's sessions that have not expired; `id` is the row id (a hash), never a cookie. */
export async function listUserSessions(db: Queryable, tenantId: string, userId: string): Promise<SessionView[]> {
  await loadUser(db, tenantId, userId);
  const rows = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, new Date())))
    .orderBy(desc(sessions.createdAt));
  return rows.map((s) => ({
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    userAgent: s.userAgent,
  }));
}

/** Ends one session of the user, or all of them when `sessionId` is absent. */
export function endUserSessions(db: Database, actor: Actor, userId: string, sessionId?: string) {
  return db.transaction(async (tx) => {
    const user = await loadUser(tx, actor.tenantId, userId);
    if (!isSelf(actor, userId)) assertMayManage(actor, user);
    const ended = await tx
      .delete(sessions)
      .where(and(eq(sessions.userId, userId), sessionId ? eq(sessions.id, sessionId) : undefined))
      .returning({ id: sessions.id });
    await writeAudit(tx, actor, { action: "user.sessions_ended", targetType: "user", targetId: userId, data: { count: ended.length } });
    return { ended: ended.length };
  });
}

const tokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * A single-use password reset link for the user: the token is in the answer (shown to the admin
 * until e-mail exists) and stored only hashed. A new link replaces the user's earlier unused ones.
 */
export function createPasswordReset(db: Database, actor: Actor, userId: string, now = new Date()) {
  return db.transaction(async (tx) => {
    const user = await loadUser(tx, actor.tenantId, userId);
    assertMayManage(actor, user);
    const token = randomBytes(32).toString("base64url");
    const expiresAt = new Date(now.getTime() + PASSWORD_RESET_TTL_MS);
    const who = actorAudit(actor);
    await tx.delete(passwordResets).where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt)));
    await tx.insert(passwordResets).values({
      id: newId("passwordReset"),
      tenantId: actor.tenantId,
      userId,
      tokenHash: tokenHash(token),
      createdBy: `${who.actorType}:${who.actorId}`,
      expiresAt,
    });
    await writeAudit(tx, actor, {
      action: "user.password_reset_created",
      targetType: "user",
      targetId: userId,
      data: { email: user.email },
    });
    return { token, path: `/reset-password/${token}`, expiresAt: expiresAt.toISOString() };
  });
}

/** Who a reset link is for, while it is unused and unexpired; null otherwise. */
export async function findPasswordReset(db: Queryable, token: string, now = new Date()) {
  const [row] = await db
    .select({ id: passwordResets.id, userId: passwordResets.userId, email: users.email, name: users.name })
    .from(passwordResets)
    .innerJoin(users, eq(users.id, passwordResets.userId))
    .where(and(eq(passwordResets.tokenHash, tokenHash(token)), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)));
  return row ?? null;
}

/** Uses a reset link once: sets the password, ends every session of the user. */
export async function usePasswordReset(
  db: Database,
  token: string,
  password: string,
  now = new Date(),
): Promise<{ ok: true; userId: string } | { ok: false; message: string }> {
  const problem = passwordProblem(password);
  if (problem) return { ok: false, message: problem };
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const [used] = await tx
      .update(passwordResets)
      .set({ usedAt: now })
      .where(and(eq(passwordResets.tokenHash, tokenHash(token)), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)))
      .returning({ userId: passwordResets.userId, tenantId: passwordResets.tenantId });
    if (!used) return { ok: false as const, message: "This link has expired or was already used. Ask an admin for a new one." };
    await tx.update(users).set({ passwordHash, mustChangePassword: false }).where(eq(users.id, used.userId));
    await tx.delete(sessions).where(eq(sessions.userId, used.userId));
    await writeAudit(
      tx,
      { kind: "user", tenantId: used.tenantId, userId: used.userId, role: "approver", memberId: null },
      {
        action: "user.password_reset_used",
        targetType: "user",
        targetId: used.userId,
      },
    );
    return { ok: true as const, userId: used.userId };
  });
}
