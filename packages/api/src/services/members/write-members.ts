import { DomainError, describeManagerLoop, findManagerLoops, newId } from "@approvalmatrix/core";
import { type Database, type Queryable, and, eq, members, ne, sql, users } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";
import { memberEvent } from "../events/member-events";
import { loadManagerChains } from "./manager-chain";
import { type MemberView, toMemberView } from "./read-members";

export interface MemberFields {
  name: string;
  email?: string | null | undefined;
  externalRef: string;
  department?: string | null | undefined;
  /** The manager's externalRef. */
  managerRef?: string | null | undefined;
}

async function memberIdByRef(db: Queryable, tenantId: string, ref: string, field: string): Promise<string> {
  const [row] = await db
    .select({ id: members.id })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.externalRef, ref)));
  if (!row) throw new DomainError("invalid_request", `No member has externalRef "${ref}".`, [{ field, message: "unknown externalRef" }]);
  return row.id;
}

/**
 * How every member write ends, inside its transaction: the audit row (naming the externalRef), the
 * member event, then the member as the API shows it.
 */
async function auditedMember(tx: Queryable, actor: Actor, action: string, row: typeof members.$inferSelect): Promise<MemberView> {
  await writeAudit(tx, actor, { action, targetType: "member", targetId: row.id, data: { externalRef: row.externalRef } });
  await emitEvents(tx, actor.tenantId, [memberEvent(action, row)]);
  return toMemberView(row);
}

const externalRefTaken = (ref: string) =>
  new DomainError("conflict", `A member with externalRef "${ref}" already exists.`, [{ field: "externalRef", message: "already in use" }]);

/**
 * A new member cannot close a management loop: nobody reports to them yet. Their manager must
 * exist already.
 */
export function createMember(db: Database, actor: Actor, input: MemberFields): Promise<MemberView> {
  return db.transaction(async (tx) => {
    const managerId = input.managerRef ? await memberIdByRef(tx, actor.tenantId, input.managerRef, "managerRef") : null;
    const [row] = await tx
      .insert(members)
      .values({
        id: newId("member"),
        tenantId: actor.tenantId,
        name: input.name,
        email: input.email ?? null,
        externalRef: input.externalRef,
        department: input.department ?? null,
        managerId,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) throw externalRefTaken(input.externalRef);
    return auditedMember(tx, actor, "member.created", row);
  });
}

/** Refuses a manager whose own chain of managers leads back to the member (A → B → A, or longer). */
async function assertNoManagerLoop(
  db: Queryable,
  tenantId: string,
  member: { id: string; externalRef: string },
  managerId: string,
): Promise<void> {
  const memberId = member.id;
  const chain = await loadManagerChains(db, tenantId, { ids: [managerId] });
  const byId = new Map(chain.map((link) => [link.id, link]));
  const loop = findManagerLoops([memberId], (id) => (id === memberId ? managerId : byId.get(id)?.managerId)).find((l) =>
    l.includes(memberId),
  );
  if (!loop) return;
  const path = describeManagerLoop(loop, (id) => (id === memberId ? member.externalRef : (byId.get(id)?.externalRef ?? id)));
  throw new DomainError("invalid_request", `That manager would make a management loop: ${path}.`, [
    { field: "managerRef", message: `would make a loop: ${path}` },
  ]);
}

export function updateMember(
  db: Database,
  actor: Actor,
  input: MemberFields & { id: string; userId?: string | null | undefined },
): Promise<MemberView> {
  const tenantId = actor.tenantId;
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, tenantId), eq(members.id, input.id)));
    if (!existing) throw new DomainError("not_found", `No member ${input.id}.`);
    const managerId = input.managerRef ? await memberIdByRef(tx, tenantId, input.managerRef, "managerRef") : null;
    if (managerId === input.id)
      throw new DomainError("invalid_request", "A member cannot be their own manager.", [
        { field: "managerRef", message: "cannot be the member" },
      ]);
    if (managerId) await assertNoManagerLoop(tx, tenantId, input, managerId);
    if (input.userId) {
      const [user] = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.tenantId, tenantId), eq(users.id, input.userId)));
      if (!user) throw new DomainError("invalid_request", "No such user in this tenant.", [{ field: "userId", message: "unknown user" }]);
      const [taken] = await tx
        .select({ ref: members.externalRef })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), eq(members.userId, input.userId), ne(members.id, input.id)));
      if (taken)
        throw new DomainError("conflict", `That user is already linked to member ${taken.ref}.`, [
          { field: "userId", message: "already linked" },
        ]);
    }
    const [clash] = await tx
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, tenantId), eq(members.externalRef, input.externalRef), ne(members.id, input.id)));
    if (clash) throw externalRefTaken(input.externalRef);
    const [row] = await tx
      .update(members)
      .set({
        name: input.name,
        email: input.email ?? null,
        externalRef: input.externalRef,
        department: input.department ?? null,
        managerId,
        userId: input.userId ?? null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(members.tenantId, tenantId), eq(members.id, input.id)))
      .returning();
    if (!row) throw new DomainError("not_found", `No member ${input.id}.`);
    return auditedMember(tx, actor, "member.updated", row);
  });
}

export function setMemberActive(db: Database, actor: Actor, id: string, active: boolean): Promise<MemberView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(members)
      .set({ active, updatedAt: sql`now()` })
      .where(and(eq(members.tenantId, actor.tenantId), eq(members.id, id)))
      .returning();
    if (!row) throw new DomainError("not_found", `No member ${id}.`);
    return auditedMember(tx, actor, active ? "member.reactivated" : "member.deactivated", row);
  });
}
