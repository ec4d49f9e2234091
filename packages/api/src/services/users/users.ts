import { generateOneTimePassword, hashPassword, normalizeEmail, passwordProblem } from "@approvalmatrix/auth";
import { DomainError, type TenantRole, mayGrantRole, newId } from "@approvalmatrix/core";
import { type Database, type Queryable, and, asc, eq, members, sql, users } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: TenantRole;
  memberRef: string | null;
  createdAt: string;
}

export interface UserListItem extends UserView {
  suspended: boolean;
  lastSignInAt: string | null;
  /** Sessions that have not expired. */
  activeSessions: number;
}

export async function listUsers(db: Queryable, tenantId: string): Promise<UserListItem[]> {
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      role: users.role,
      memberRef: members.externalRef,
      createdAt: users.createdAt,
      suspendedAt: users.suspendedAt,
      lastSignInAt: users.lastSignInAt,
      activeSessions: sql<number>`(select count(*)::int from sessions s where s.user_id = ${users.id} and s.expires_at > now())`,
    })
    .from(users)
    .leftJoin(members, and(eq(members.userId, users.id), eq(members.tenantId, users.tenantId)))
    .where(eq(users.tenantId, tenantId))
    .orderBy(asc(users.createdAt));
  return rows.map(({ suspendedAt, lastSignInAt, ...r }) => ({
    ...r,
    createdAt: r.createdAt.toISOString(),
    suspended: suspendedAt !== null,
    lastSignInAt: lastSignInAt?.toISOString() ?? null,
    activeSessions: Number(r.activeSessions),
  }));
}

export interface Invitation {
  email: string;
  name: string;
  role: TenantRole;
  memberRef?: string | null | undefined;
  password?: string | undefined;
}

/** The role the actor grants with: the operator (CLI, seed) counts as owner. */
function granterRole(actor: Actor): TenantRole {
  return actor.kind === "user" ? actor.role : "owner";
}

/**
 * Invites a person: creates the user with a one-time password (shown once to the inviter) or
 * the password given, and links it to a member so an approver can decide as that member.
 * Only owners may create owners and admins (core/roles.ts).
 */
export async function inviteUser(db: Database, actor: Actor, input: Invitation): Promise<UserView & { initialPassword: string | null }> {
  if (!mayGrantRole(granterRole(actor), input.role)) throw new DomainError("forbidden", "Only an owner can add owners and admins.");
  if (input.password) {
    const problem = passwordProblem(input.password);
    if (problem) throw new DomainError("invalid_request", problem, [{ field: "password", message: problem }]);
  }
  // A one-time password must be replaced at the first sign-in (users.must_change_password).
  const initialPassword = input.password ? null : generateOneTimePassword();
  const passwordHash = await hashPassword(input.password ?? initialPassword ?? "");
  const email = normalizeEmail(input.email);
  const tenantId = actor.tenantId;
  return db.transaction(async (tx) => {
    let memberId: string | null = null;
    if (input.memberRef) {
      const [member] = await tx
        .select({ id: members.id, userId: members.userId })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), eq(members.externalRef, input.memberRef)));
      if (!member)
        throw new DomainError("invalid_request", `No member has externalRef "${input.memberRef}".`, [
          { field: "memberRef", message: "unknown externalRef" },
        ]);
      if (member.userId)
        throw new DomainError("conflict", `Member ${input.memberRef} is already linked to a user.`, [
          { field: "memberRef", message: "already linked" },
        ]);
      memberId = member.id;
    }
    const [row] = await tx
      .insert(users)
      .values({
        id: newId("user"),
        tenantId,
        email,
        name: input.name,
        role: input.role,
        passwordHash,
        mustChangePassword: initialPassword !== null,
      })
      // Unique per tenant (tenant_id, email): another tenant's user with this email is no conflict.
      .onConflictDoNothing({ target: [users.tenantId, users.email] })
      .returning();
    if (!row)
      throw new DomainError("conflict", `This tenant already has a user with email ${email}.`, [
        { field: "email", message: "already in use" },
      ]);
    if (memberId)
      await tx
        .update(members)
        .set({ userId: row.id })
        .where(and(eq(members.tenantId, tenantId), eq(members.id, memberId)));
    await writeAudit(tx, actor, {
      action: "user.invited",
      targetType: "user",
      targetId: row.id,
      data: { email, role: input.role, memberRef: input.memberRef ?? null },
    });
    return {
      id: row.id,
      email,
      name: row.name,
      role: row.role,
      memberRef: input.memberRef ?? null,
      createdAt: row.createdAt.toISOString(),
      initialPassword,
    };
  });
}
