import type { EventType } from "@approvalmatrix/core";
import type { members } from "@approvalmatrix/db";
import type { NewEvent } from "./emit";

type MemberRow = typeof members.$inferSelect;

/** A member event's payload: who the member is now (never a user's credentials). */
export function memberEventData(row: MemberRow): Record<string, unknown> {
  return {
    memberId: row.id,
    tenantId: row.tenantId,
    externalRef: row.externalRef,
    name: row.name,
    email: row.email,
    department: row.department,
    managerId: row.managerId,
    active: row.active,
  };
}

/** The event of an audited member action; a reactivation is an update (active is true again). */
export function memberEvent(action: string, row: MemberRow): NewEvent {
  const type: EventType =
    action === "member.created" ? "member.created" : action === "member.deactivated" ? "member.deactivated" : "member.updated";
  return { type, data: memberEventData(row) };
}
