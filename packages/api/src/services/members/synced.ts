import { DomainError } from "@approvalmatrix/core";
import { type Queryable, eq, scimIdentities } from "@approvalmatrix/db";
import type { MemberFields } from "./write-members";
import { getMember } from "./read-members";

/** The members fields an identity provider owns once it syncs a member. */
const SYNCED_FIELDS = ["name", "email", "externalRef", "department", "managerRef"] as const;

/** The identity provider that syncs a member, or null. */
export async function syncedFrom(db: Queryable, memberId: string): Promise<string | null> {
  const [row] = await db.select({ provider: scimIdentities.provider }).from(scimIdentities).where(eq(scimIdentities.memberId, memberId));
  return row?.provider ?? null;
}

/**
 * Admin edits of a synced member may only change what the identity provider does not own (the
 * linked sign-in user); the rest would be overwritten on its next sync, so it is refused.
 */
export async function assertEditableByAdmin(
  db: Queryable,
  tenantId: string,
  id: string,
  change: Partial<MemberFields> | { active: boolean },
): Promise<void> {
  const member = await getMember(db, tenantId, id);
  if (!member.syncedFrom) return;
  const changed =
    "active" in change
      ? change.active !== member.active
        ? ["active"]
        : []
      : SYNCED_FIELDS.filter((field) => field in change && (change[field] ?? null) !== (member[field] ?? null));
  if (changed.length)
    throw new DomainError(
      "conflict",
      `${member.name} is synced from ${member.syncedFrom}: change ${changed.join(", ")} there.`,
      changed.map((field) => ({ field, message: `synced from ${member.syncedFrom}` })),
    );
}
