/**
 * Delegations (out of office) and reassignment. A delegation in force re-points the open stages
 * of its member to the delegate (the end of the chain) at once; stages that open later go to the
 * delegate when they open (see applyStageDelegations). A delegation that starts later, or ends,
 * has a durable job at each edge (DELEGATION_EDGE_JOB) that re-points open stages then. Every
 * change is audited in its transaction, and each re-pointed request emits
 * `approval_request.reassigned`.
 */
import { DomainError, applyDelegations, assertNoDelegationLoop, newId } from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  and,
  decisions,
  delegations,
  desc,
  eq,
  executePrepared,
  gt,
  isNull,
  lt,
  lte,
  members,
  or,
  requestStages,
  requests,
  sql,
} from "@approvalmatrix/db";
import { cancelJobs, enqueueJobs } from "@approvalmatrix/jobs";
import { type Actor, actorAudit } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";
import { requestEventData } from "../events/request-events";
import { queueMessages } from "../notifications/queue-messages";
import { eventSubjectOf, lockRequest } from "../request-transition";

/** The job that re-points open stages when a delegation starts or ends (jobs/handlers.ts). */
export const DELEGATION_EDGE_JOB = "delegations.edge";
export type DelegationEdge = "start" | "end";

const edgeKey = (delegationId: string, edge?: DelegationEdge) => `${DELEGATION_EDGE_JOB}:${delegationId}:${edge ?? ""}`;

/**
 * Plans the jobs of a delegation's future edges, in the transaction that writes it: one at its
 * start when that is later than now, one at its end. Deduped per delegation and edge.
 */
async function planDelegationEdges(tx: Queryable, tenantId: string, delegationId: string, startsAt: Date, endsAt: Date | null, now: Date) {
  const edges: { edge: DelegationEdge; at: Date }[] = [];
  if (startsAt > now) edges.push({ edge: "start", at: startsAt });
  if (endsAt) edges.push({ edge: "end", at: endsAt });
  await enqueueJobs(
    tx,
    edges.map(({ edge, at }) => ({
      kind: DELEGATION_EDGE_JOB,
      payload: { delegationId, edge },
      runAt: at,
      dedupeKey: edgeKey(delegationId, edge),
      tenantId,
    })),
  );
}

/**
 * Serializes, per tenant and until the transaction ends, everything that writes delegations or
 * moves seats between people across requests (creating and revoking delegations, their edge jobs,
 * a deactivation's handover): each reads the delegations in force and then locks stages request by
 * request, so taken first, this lock also keeps two of them from locking stages in opposite orders.
 */
export async function lockTenantDelegations(tx: Queryable, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`delegations:${tenantId}`}))`);
}

/**
 * The edge job: brings the tenant's open stages in line with the delegations in force at `now`
 * (the delegate takes the seats at the start, the member gets them back at the end). Idempotent:
 * a second run finds nothing to move. A revoked delegation's jobs were cancelled; one already
 * claimed finds its delegation revoked and does nothing at the start.
 */
export async function runDelegationEdge(db: Database, tenantId: string, delegationId: string, edge: DelegationEdge, now: Date) {
  return db.transaction(async (tx) => {
    await lockTenantDelegations(tx, tenantId);
    const [row] = await tx
      .select()
      .from(delegations)
      .where(and(eq(delegations.tenantId, tenantId), eq(delegations.id, delegationId)));
    if (!row || (edge === "start" && row.revokedAt)) return 0;
    const actor: Actor = { kind: "system", tenantId, reason: edge === "start" ? "delegation started" : "delegation ended" };
    const moved = await repointOpenStages(tx, actor, now);
    await writeAudit(tx, actor, {
      action: edge === "start" ? "delegation.started" : "delegation.ended",
      targetType: "member",
      targetId: row.memberId,
      data: { delegationId, delegateId: row.delegateId, seatsMoved: moved },
    });
    return moved;
  });
}

const delegationsInForce = (db: Queryable) =>
  db
    .select({ memberId: delegations.memberId, delegateId: delegations.delegateId })
    .from(delegations)
    .where(
      and(
        eq(delegations.tenantId, sql.placeholder("tenantId")),
        isNull(delegations.revokedAt),
        lte(delegations.startsAt, sql.placeholder("now")),
        or(isNull(delegations.endsAt), gt(delegations.endsAt, sql.placeholder("now"))),
      ),
    )
    .orderBy(delegations.createdAt);

/**
 * The delegations in force at `now`: member → delegate (the newest wins when two overlap). Every
 * submission reads them, so the statement is prepared once (executePrepared).
 */
export async function activeDelegationEdges(db: Queryable, tenantId: string, now: Date): Promise<Map<string, string>> {
  const rows = await executePrepared(db, "delegations_in_force", delegationsInForce, { tenantId, now: now.toISOString() });
  return new Map(rows.map((r) => [r.memberId, r.delegateId]));
}

export interface DelegationView {
  id: string;
  member: { id: string; ref: string; name: string };
  delegate: { id: string; ref: string; name: string };
  startsAt: string;
  endsAt: string | null;
  reason: string | null;
  active: boolean;
  revokedAt: string | null;
  createdAt: string;
}

async function memberByRef(db: Queryable, tenantId: string, ref: { ref: string } | { id: string }, field: string) {
  const [row] = await db
    .select({ id: members.id, ref: members.externalRef, name: members.name, active: members.active })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), "ref" in ref ? eq(members.externalRef, ref.ref) : eq(members.id, ref.id)));
  if (!row || !row.active) {
    throw new DomainError("unknown_approver", `No active member is ${"ref" in ref ? `"${ref.ref}"` : ref.id}.`, [
      { field, message: "unknown member" },
    ]);
  }
  return row;
}

/** Approvers manage only their own delegation; admins, owners, keys and the operator anyone's. */
function mayManage(actor: Actor, memberId: string): boolean {
  if (actor.kind !== "user") return true;
  return actor.role !== "approver" || actor.memberId === memberId;
}

export async function listDelegations(db: Queryable, actor: Actor, now = new Date()): Promise<DelegationView[]> {
  const rows = await db
    .select()
    .from(delegations)
    .where(
      and(
        eq(delegations.tenantId, actor.tenantId),
        actor.kind === "user" && actor.role === "approver" ? eq(delegations.memberId, actor.memberId ?? "") : undefined,
      ),
    )
    .orderBy(desc(delegations.createdAt))
    .limit(200);
  const ids = [...new Set(rows.flatMap((r) => [r.memberId, r.delegateId]))];
  const people = ids.length
    ? await db
        .select({ id: members.id, ref: members.externalRef, name: members.name })
        .from(members)
        .where(and(eq(members.tenantId, actor.tenantId), sql`${members.id} = any(${sql.param(ids)}::text[])`))
    : [];
  const byId = new Map(people.map((p) => [p.id, p]));
  const who = (id: string) => byId.get(id) ?? { id, ref: "(removed)", name: "(removed member)" };
  return rows.map((r) => ({
    id: r.id,
    member: who(r.memberId),
    delegate: who(r.delegateId),
    startsAt: r.startsAt.toISOString(),
    endsAt: r.endsAt?.toISOString() ?? null,
    reason: r.reason,
    active: !r.revokedAt && r.startsAt <= now && (!r.endsAt || r.endsAt > now),
    revokedAt: r.revokedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  }));
}

export interface CreateDelegationInput {
  member: { ref: string } | { id: string };
  delegate: { ref: string } | { id: string };
  startsAt?: string | undefined;
  endsAt?: string | null | undefined;
  reason?: string | null | undefined;
}

export async function createDelegation(
  db: Database,
  actor: Actor,
  input: CreateDelegationInput,
  now = new Date(),
): Promise<DelegationView> {
  const id = await db.transaction(async (tx) => {
    const member = await memberByRef(tx, actor.tenantId, input.member, "memberRef");
    const delegate = await memberByRef(tx, actor.tenantId, input.delegate, "delegateRef");
    if (!mayManage(actor, member.id)) throw new DomainError("forbidden", "Approvers can set a delegate only for themselves.");
    const startsAt = input.startsAt ? new Date(input.startsAt) : now;
    const endsAt = input.endsAt ? new Date(input.endsAt) : null;
    if (endsAt && endsAt <= startsAt) {
      throw new DomainError("invalid_request", "The delegation must end after it starts.", [
        { field: "endsAt", message: "before startsAt" },
      ]);
    }
    // Two concurrent halves of a loop must not both pass.
    await lockTenantDelegations(tx, actor.tenantId);
    // A loop is refused if it would exist at any moment of the new range: check against every
    // delegation that overlaps it.
    const overlapping = await tx
      .select({ memberId: delegations.memberId, delegateId: delegations.delegateId })
      .from(delegations)
      .where(
        and(
          eq(delegations.tenantId, actor.tenantId),
          isNull(delegations.revokedAt),
          or(isNull(delegations.endsAt), gt(delegations.endsAt, startsAt)),
          // lt(), not a raw sql`` template: postgres.js cannot bind a raw Date parameter.
          endsAt ? lt(delegations.startsAt, endsAt) : undefined,
        ),
      );
    assertNoDelegationLoop(new Map(overlapping.map((r) => [r.memberId, r.delegateId])), member.id, delegate.id);
    const delegationId = newId("delegation");
    const { actorType, actorId } = actorAudit(actor);
    await tx.insert(delegations).values({
      id: delegationId,
      tenantId: actor.tenantId,
      memberId: member.id,
      delegateId: delegate.id,
      startsAt,
      endsAt,
      reason: input.reason?.trim() || null,
      createdBy: `${actorType}:${actorId}`,
      createdAt: now,
    });
    await writeAudit(tx, actor, {
      action: "delegation.created",
      targetType: "member",
      targetId: member.id,
      data: { delegationId, delegateRef: delegate.ref, startsAt: startsAt.toISOString(), endsAt: endsAt?.toISOString() ?? null },
    });
    if (startsAt <= now) await repointOpenStages(tx, actor, now);
    await planDelegationEdges(tx, actor.tenantId, delegationId, startsAt, endsAt, now);
    return delegationId;
  });
  return must1(await listDelegations(db, { kind: "operator", tenantId: actor.tenantId }, now), id);
}

function must1(list: DelegationView[], id: string): DelegationView {
  const found = list.find((d) => d.id === id);
  if (!found) throw new DomainError("not_found", `No delegation ${id}.`);
  return found;
}

export async function revokeDelegation(db: Database, actor: Actor, delegationId: string, now = new Date()): Promise<DelegationView> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(delegations)
      .where(and(eq(delegations.tenantId, actor.tenantId), eq(delegations.id, delegationId)))
      .for("update");
    if (!row || !mayManage(actor, row.memberId)) throw new DomainError("not_found", `No delegation ${delegationId}.`);
    if (row.revokedAt) return;
    await tx.update(delegations).set({ revokedAt: now }).where(eq(delegations.id, delegationId));
    await writeAudit(tx, actor, { action: "delegation.revoked", targetType: "member", targetId: row.memberId, data: { delegationId } });
    // Revoked: its start and end no longer happen; the seats move back now.
    await cancelJobs(tx, { dedupeKeyPrefix: edgeKey(delegationId) });
    await repointOpenStages(tx, actor, now);
  });
  return must1(await listDelegations(db, { kind: "operator", tenantId: actor.tenantId }, now), delegationId);
}

/**
 * Brings every open stage of the tenant in line with the delegations in force: seats of an
 * approver who delegates go to the delegate; a delegate whose delegation ended hands the seat
 * back. Each move is audited on its request and the new holder is e-mailed.
 */
export async function repointOpenStages(tx: Queryable, actor: Actor, now: Date): Promise<number> {
  const edges = await activeDelegationEdges(tx, actor.tenantId, now);
  const delegatorIds = [...edges.keys()];
  // Open stages touched by a delegation in force, or holding a delegate (whose delegation may have ended).
  const stages = await tx
    .select({ requestId: requestStages.requestId, position: requestStages.position })
    .from(requestStages)
    .innerJoin(requests, and(eq(requests.id, requestStages.requestId), eq(requests.currentStage, requestStages.position)))
    .where(
      and(
        eq(requestStages.tenantId, actor.tenantId),
        eq(requestStages.status, "open"),
        or(
          sql`${requestStages.delegatedFrom} <> '{}'::jsonb`,
          delegatorIds.length ? sql`${requestStages.approverIds} && ${sql.param(delegatorIds)}::text[]` : sql`false`,
        ),
      ),
    );
  let moved = 0;
  for (const { requestId, position } of stages) moved += await applyStageDelegations(tx, actor, requestId, position, now, edges);
  return moved;
}

/**
 * Re-points one open stage: first hands back seats whose delegation no longer holds, then applies
 * the delegations in force. Returns how many seats moved.
 */
export async function applyStageDelegations(
  tx: Queryable,
  actor: Actor,
  requestId: string,
  position: number,
  now: Date,
  edges?: Map<string, string>,
): Promise<number> {
  const tenantId = actor.tenantId;
  const locked = await lockRequest(tx, tenantId, requestId);
  if (locked.request.currentStage !== position) return 0;
  const [stage] = await tx
    .select()
    .from(requestStages)
    .where(and(eq(requestStages.tenantId, tenantId), eq(requestStages.requestId, requestId), eq(requestStages.position, position)));
  const request = locked.request;
  if (!stage || stage.status !== "open") return 0;
  const inForce = edges ?? (await activeDelegationEdges(tx, tenantId, now));
  const decided = new Set(
    (
      await tx
        .select({ approverId: decisions.approverId })
        .from(decisions)
        .where(and(eq(decisions.tenantId, tenantId), eq(decisions.requestId, requestId), eq(decisions.stage, position)))
    ).map((d) => d.approverId),
  );
  // Hand back: a delegate whose chain from the original approver no longer ends at them.
  const approverIds = [...stage.approverIds];
  const delegatedFrom = { ...stage.delegatedFrom };
  for (const [delegate, original] of Object.entries(stage.delegatedFrom)) {
    if (decided.has(delegate)) continue;
    const index = approverIds.indexOf(delegate);
    if (index === -1) continue;
    const target = applyDelegations({ approverIds: [original] }, inForce, { submitterId: request.submitterId });
    if (target.approverIds[0] !== delegate && !approverIds.includes(original)) {
      approverIds[index] = original;
      delete delegatedFrom[delegate];
    }
  }
  const next = applyDelegations({ approverIds, delegatedFrom }, inForce, { submitterId: request.submitterId, decided });
  // Seat by seat: who held it, who holds it now (a delegate, or the member handed it back).
  const moves = stage.approverIds.flatMap((from, i) => {
    const to = next.approverIds[i];
    return to !== undefined && to !== from ? [{ from, to, handedBack: next.delegatedFrom[to] === undefined }] : [];
  });
  if (moves.length === 0 && sameMarks(next.delegatedFrom, stage.delegatedFrom)) return 0;
  await tx
    .update(requestStages)
    .set({ approverIds: next.approverIds, delegatedFrom: next.delegatedFrom })
    .where(and(eq(requestStages.tenantId, tenantId), eq(requestStages.requestId, requestId), eq(requestStages.position, position)));
  if (moves.length === 0) return 0;
  const people = await tx
    .select({ id: members.id, ref: members.externalRef })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), sql`${members.id} = any(${sql.param(moves.flatMap((m) => [m.from, m.to]))}::text[])`));
  const refOf = (id: string) => people.find((p) => p.id === id)?.ref ?? id;
  await writeAudit(
    tx,
    actor,
    moves.map((m) => ({
      action: m.handedBack ? "request.stage_handed_back" : "request.stage_delegated",
      targetType: "request",
      targetId: requestId,
      data: m.handedBack
        ? { stage: position, approverId: m.to, delegateId: m.from }
        : { stage: position, approverId: next.delegatedFrom[m.to] ?? m.from, delegateId: m.to },
    })),
  );
  await emitEvents(
    tx,
    tenantId,
    [
      {
        type: "approval_request.reassigned",
        data: requestEventData(eventSubjectOf(locked), position, {
          reassignments: moves.map((m) => ({
            fromRef: refOf(m.from),
            toRef: refOf(m.to),
            reason: m.handedBack ? "delegation_ended" : "delegation",
          })),
        }),
      },
    ],
    now,
  );
  await queueMessages(
    tx,
    tenantId,
    moves.map((m) => ({
      memberId: m.to,
      kind: "reassigned" as const,
      requestId,
      stage: position,
      data: { reason: m.handedBack ? "your delegation ended" : "delegated to you" },
    })),
    now,
  );
  return moves.length;
}

export interface ReassignInput {
  requestId: string;
  fromRef: string;
  toRef: string;
  reason: string;
}

/** An admin moves an open stage's seat from one approver to another, with a reason (audited). */
export async function reassignApprover(db: Database, actor: Actor, input: ReassignInput, now = new Date()) {
  return db.transaction(async (tx) => {
    const locked = await lockRequest(tx, actor.tenantId, input.requestId);
    const position = locked.request.currentStage;
    if (position === null)
      throw new DomainError("request_closed", `The request is already ${locked.request.status} and can no longer change.`);
    const from = await memberByRef(tx, actor.tenantId, { ref: input.fromRef }, "fromRef").catch(async () => {
      // A deactivated approver is exactly who gets reassigned away from.
      const [row] = await tx
        .select({ id: members.id, ref: members.externalRef, name: members.name, active: members.active })
        .from(members)
        .where(and(eq(members.tenantId, actor.tenantId), eq(members.externalRef, input.fromRef)));
      if (!row)
        throw new DomainError("unknown_approver", `No member is "${input.fromRef}".`, [{ field: "fromRef", message: "unknown member" }]);
      return row;
    });
    const to = await memberByRef(tx, actor.tenantId, { ref: input.toRef }, "toRef");
    const stage = locked.state.stages.find((s) => s.position === position);
    const decidedFrom = locked.state.decisions.some((d) => d.stage === position && d.approverId === from.id);
    if (!stage || !stage.approverIds.includes(from.id) || decidedFrom) {
      throw new DomainError("invalid_reassignment", `${from.name} is not an approver still to decide on the open stage ${position}.`);
    }
    if (to.id === locked.request.submitterId)
      throw new DomainError("invalid_reassignment", "The submitter cannot approve their own request.");
    if (stage.approverIds.includes(to.id))
      throw new DomainError("invalid_reassignment", `${to.name} is already an approver of this stage.`);
    const approverIds = stage.approverIds.map((id) => (id === from.id ? to.id : id));
    const [row] = await tx
      .select({ delegatedFrom: requestStages.delegatedFrom })
      .from(requestStages)
      .where(and(eq(requestStages.requestId, input.requestId), eq(requestStages.position, position)));
    const delegatedFrom = { ...row?.delegatedFrom };
    delete delegatedFrom[from.id];
    await tx
      .update(requestStages)
      .set({ approverIds, delegatedFrom })
      .where(
        and(eq(requestStages.tenantId, actor.tenantId), eq(requestStages.requestId, input.requestId), eq(requestStages.position, position)),
      );
    await writeAudit(tx, actor, {
      action: "request.approver_reassigned",
      targetType: "request",
      targetId: input.requestId,
      data: { stage: position, fromRef: from.ref, toRef: to.ref, reason: input.reason },
    });
    await emitEvents(
      tx,
      actor.tenantId,
      [
        {
          type: "approval_request.reassigned",
          data: requestEventData(eventSubjectOf(locked), position, {
            reassignments: [{ fromRef: from.ref, toRef: to.ref, reason: input.reason }],
          }),
        },
      ],
      now,
    );
    await queueMessages(
      tx,
      actor.tenantId,
      [{ memberId: to.id, kind: "reassigned", requestId: input.requestId, stage: position, data: { reason: input.reason } }],
      now,
    );
    return { requestId: input.requestId, stage: position, fromRef: from.ref, toRef: to.ref, reason: input.reason };
  });
}

/** Two stand-in maps (delegate → member) hold the same pairs, in whatever key order (jsonb reorders keys). */
function sameMarks(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
