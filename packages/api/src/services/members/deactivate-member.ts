import { type DeactivationPolicy, type Handover, chooseHandover } from "@approvalmatrix/core";
import { type Database, type Queryable, and, eq, members, rowsOf, sql } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { activeDelegationEdges, lockTenantDelegations } from "../delegations/delegations";
import { getDirectorySettings } from "../directory/settings";
import type { MemberView } from "./read-members";
import { setMemberActive } from "./write-members";

export interface RepointedStage {
  requestId: string;
  stage: number;
  /** Who now holds the approval: the delegate (end of the chain) or the manager. */
  toMemberId: string;
  via: "delegate" | "manager";
}

/**
 * Hands a deactivated member's open approvals on, per the tenant's policy (see chooseHandover):
 * every open stage of a request in flight that waits on them (they have not decided on it) names
 * the delegate or the manager instead, and an audit row on the request records it, with the
 * chain followed or, when `delegate` fell back to the manager, why. Under either policy, seats their
 * delegate already holds for them (an out-of-office delegation) become the delegate's for good, so
 * the end of that delegation does not hand them back to someone who has left; a handover that
 * would make a submitter approve their own request is skipped (and audited). Decisions already
 * made stay as they are (history is never lost). Without anyone to take them the stages are left
 * as they are. Runs in the caller's transaction.
 */
export async function handOverOpenStages(
  tx: Queryable,
  actor: Actor,
  memberId: string,
  policy: DeactivationPolicy,
  now: Date = new Date(),
): Promise<RepointedStage[]> {
  const tenantId = actor.tenantId;
  if (policy === "none") return [];
  // Before any stage is locked, as the delegation writers do (a handover moves seats as they do).
  await lockTenantDelegations(tx, tenantId);
  const [member] = await tx
    .select({ externalRef: members.externalRef, managerId: members.managerId })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.id, memberId)));
  if (!member) return [];
  const edges = policy === "delegate" ? await activeDelegationEdges(tx, tenantId, now) : new Map<string, string>();
  // Everyone the handover may look at: the chain from the member (bounded by the edges) and the manager.
  const chain = new Set([memberId]);
  for (let next = edges.get(memberId); next !== undefined && !chain.has(next); next = edges.get(next)) chain.add(next);
  const involved = [...chain, ...(member.managerId ? [member.managerId] : [])];
  const people = await tx
    .select({ id: members.id, externalRef: members.externalRef, active: members.active })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), sql`${members.id} = any(${sql.param(involved)}::text[])`));
  const byId = new Map(people.map((p) => [p.id, p]));
  const kept = await keepSeatsWithDelegates(tx, actor, memberId, member.externalRef);
  const handover: Handover = chooseHandover({
    memberId,
    policy,
    managerId: member.managerId,
    edges,
    isActive: (id) => byId.get(id)?.active === true,
  });
  if (!handover.to || !handover.via) return kept;
  const to = handover.to;
  const via = handover.via;
  const refOf = (id: string) => byId.get(id)?.externalRef ?? id;
  const why = {
    reason: "member_deactivated",
    via,
    ...(via === "delegate" ? { chain: handover.chain.map(refOf) } : {}),
    ...(handover.fallback ? { fallback: handover.fallback } : {}),
  };

  const open = rowsOf<{ requestId: string; position: number; approverIds: string[]; submitterId: string }>(
    await tx.execute(sql`
      select s.request_id as "requestId", s.position, s.approver_ids as "approverIds", r.submitter_id as "submitterId"
      from request_stages s join requests r on r.id = s.request_id
      where s.tenant_id = ${tenantId} and s.status = 'open' and r.status in ('pending', 'in_progress')
        and s.approver_ids @> array[${memberId}]::text[]
        and not exists (select 1 from decisions d where d.request_id = s.request_id and d.stage = s.position and d.approver_id = ${memberId})
      for update of s`),
  );
  const repointed: RepointedStage[] = [...kept];
  for (const stage of open) {
    if (stage.submitterId === to) {
      // Never make someone the approver of their own request: the seat stays where it was, for an
      // admin to reassign (requests.reassign), and the audit says why.
      await writeAudit(tx, actor, {
        action: "request.stage_repoint_skipped",
        targetType: "request",
        targetId: stage.requestId,
        data: { stage: stage.position, from: member.externalRef, to: refOf(to), ...why, skipped: "submitter" },
      });
      continue;
    }
    const approverIds = [...new Set(stage.approverIds.map((id) => (id === memberId ? to : id)))];
    await tx.execute(sql`
      update request_stages set approver_ids = ${`{${approverIds.join(",")}}`}::text[]
      where request_id = ${stage.requestId} and position = ${stage.position}`);
    await writeAudit(tx, actor, {
      action: "request.stage_repointed",
      targetType: "request",
      targetId: stage.requestId,
      data: { stage: stage.position, from: member.externalRef, to: refOf(to), ...why },
    });
    repointed.push({ requestId: stage.requestId, stage: stage.position, toMemberId: to, via });
  }

  return repointed;
}

/**
 * Deactivates a member (the members service: audit and member event) and, per the tenant's
 * directory setting, hands their open approvals on, all in one transaction. `db` may be an open
 * transaction (SCIM runs it inside its own). `now` decides which delegations are in force.
 */
export function deactivateMember(
  db: Database,
  actor: Actor,
  id: string,
  now: Date = new Date(),
): Promise<{ member: MemberView; repointed: RepointedStage[] }> {
  return db.transaction(async (tx) => {
    const member = await setMemberActive(tx, actor, id, false);
    const { deactivationPolicy } = await getDirectorySettings(tx, actor.tenantId);
    const repointed = await handOverOpenStages(tx, actor, id, deactivationPolicy, now);
    return { member, repointed };
  });
}

/**
 * Seats a delegate holds for the deactivated member (an out-of-office delegation) become the
 * delegate's for good, under any policy that hands approvals on: the end of that delegation must
 * not hand them back to someone who has left.
 */
async function keepSeatsWithDelegates(tx: Queryable, actor: Actor, memberId: string, memberRef: string): Promise<RepointedStage[]> {
  const tenantId = actor.tenantId;
  const kept: RepointedStage[] = [];
  const held = rowsOf<{ requestId: string; position: number; holders: string[] }>(
    await tx.execute(sql`
      select s.request_id as "requestId", s.position,
        array(select e.key from jsonb_each_text(s.delegated_from) e where e.value = ${memberId}) as holders
      from request_stages s join requests r on r.id = s.request_id
      where s.tenant_id = ${tenantId} and s.status = 'open' and r.status in ('pending', 'in_progress')
        and exists (select 1 from jsonb_each_text(s.delegated_from) e where e.value = ${memberId})
      for update of s`),
  );
  const holderIds = [...new Set(held.flatMap((stage) => stage.holders))];
  const refs = new Map(
    holderIds.length
      ? (
          await tx
            .select({ id: members.id, externalRef: members.externalRef })
            .from(members)
            .where(and(eq(members.tenantId, tenantId), sql`${members.id} = any(${sql.param(holderIds)}::text[])`))
        ).map((m) => [m.id, m.externalRef])
      : [],
  );
  for (const stage of held) {
    await tx.execute(sql`
      update request_stages set delegated_from = delegated_from - ${sql.param(stage.holders)}::text[]
      where request_id = ${stage.requestId} and position = ${stage.position}`);
    for (const holder of stage.holders) {
      await writeAudit(tx, actor, {
        action: "request.stage_repointed",
        targetType: "request",
        targetId: stage.requestId,
        data: {
          stage: stage.position,
          from: memberRef,
          to: refs.get(holder) ?? holder,
          reason: "member_deactivated",
          via: "delegate",
          kept: true,
        },
      });
      kept.push({ requestId: stage.requestId, stage: stage.position, toMemberId: holder, via: "delegate" });
    }
  }
  return kept;
}
