import { type Database, type Queryable, and, eq, members, rowsOf, sql } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { getDirectorySettings } from "../directory/settings";
import type { MemberView } from "./read-members";
import { setMemberActive } from "./write-members";

export interface RepointedStage {
  requestId: string;
  stage: number;
  /** The manager who now holds the approval. */
  toMemberId: string;
}

/**
 * Hands a deactivated member's open approvals to their manager: every open stage of a request in
 * flight that waits on them (they have not decided on it) names the manager instead, and an audit
 * row on the request records it. Decisions already made stay as they are (history is never lost).
 * Without an active manager the stages are left as they are. Runs in the caller's transaction.
 */
export async function repointOpenStagesToManager(tx: Queryable, actor: Actor, memberId: string): Promise<RepointedStage[]> {
  const tenantId = actor.tenantId;
  const [member] = await tx
    .select({ externalRef: members.externalRef, managerId: members.managerId })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.id, memberId)));
  if (!member?.managerId) return [];
  const [manager] = await tx
    .select({ id: members.id, externalRef: members.externalRef, active: members.active })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.id, member.managerId)));
  if (!manager?.active) return [];
  const open = rowsOf<{ requestId: string; position: number; approverIds: string[] }>(
    await tx.execute(sql`
      select s.request_id as "requestId", s.position, s.approver_ids as "approverIds"
      from request_stages s join requests r on r.id = s.request_id
      where s.tenant_id = ${tenantId} and s.status = 'open' and r.status in ('pending', 'in_progress')
        and s.approver_ids @> array[${memberId}]::text[]
        and not exists (select 1 from decisions d where d.request_id = s.request_id and d.stage = s.position and d.approver_id = ${memberId})
      for update of s`),
  );
  const repointed: RepointedStage[] = [];
  for (const stage of open) {
    const approverIds = [...new Set(stage.approverIds.map((id) => (id === memberId ? manager.id : id)))];
    await tx.execute(sql`
      update request_stages set approver_ids = ${`{${approverIds.join(",")}}`}::text[]
      where request_id = ${stage.requestId} and position = ${stage.position}`);
    await writeAudit(tx, actor, {
      action: "request.stage_repointed",
      targetType: "request",
      targetId: stage.requestId,
      data: { stage: stage.position, from: member.externalRef, to: manager.externalRef, reason: "member_deactivated" },
    });
    repointed.push({ requestId: stage.requestId, stage: stage.position, toMemberId: manager.id });
  }
  return repointed;
}

/**
 * Deactivates a member (the members service: audit and member event) and, per the tenant's
 * directory setting, re-points their open approvals, all in one transaction. `db` may be an open
 * transaction (SCIM runs it inside its own).
 */
export function deactivateMember(db: Database, actor: Actor, id: string): Promise<{ member: MemberView; repointed: RepointedStage[] }> {
  return db.transaction(async (tx) => {
    const member = await setMemberActive(tx, actor, id, false);
    const { deactivationPolicy } = await getDirectorySettings(tx, actor.tenantId);
    const repointed = deactivationPolicy === "manager" ? await repointOpenStagesToManager(tx, actor, id) : [];
    return { member, repointed };
  });
}
