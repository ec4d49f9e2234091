/**
 * The adapter around the pure state machine (core/request-flow.ts): lock one request, rebuild its
 * flow state from the database, and after a transition write back exactly what changed, with one
 * audit row per event, in the caller's transaction. Decide and cancel both go through here, so two
 * writers on one request are serialized by its row lock and the second sees the first's outcome.
 */
import { DomainError, type FlowEvent, type FlowState, type Transition, isTerminal } from "@approvalmatrix/core";
import { type Queryable, and, asc, decisions, eq, members, requestStages, requests } from "@approvalmatrix/db";
import type { Actor } from "../context";
import { type AuditEntry, writeAudit } from "./audit";
import { emitEvents } from "./events/emit";
import { cancelRequestExpiry } from "./request-expiry";
import { type DecisionDetail, type RequestEventSubject, requestTransitionEvents } from "./events/request-events";

export interface LockedRequest {
  request: typeof requests.$inferSelect;
  submitterRef: string;
  /** Stage names by position (for events). */
  stageNames: Map<number, string>;
  state: FlowState;
}

/** Answers like GET /v1/requests/{id}: another tenant's id and a missing one look the same. */
export function requestNotFound(requestId: string): DomainError {
  return new DomainError("not_found", `No request ${requestId}.`);
}

/**
 * SELECT … FOR UPDATE on the request row, then its stages and decisions. Must run inside a
 * transaction: the lock is held until it ends, so concurrent deciders and cancellers queue here.
 */
export async function lockRequest(tx: Queryable, tenantId: string, requestId: string): Promise<LockedRequest> {
  const [row] = await tx
    .select({ request: requests, submitterRef: members.externalRef })
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(and(eq(requests.tenantId, tenantId), eq(requests.id, requestId)))
    .for("update", { of: requests });
  if (!row) throw requestNotFound(requestId);
  const { request, submitterRef } = row;
  const stages = await tx
    .select()
    .from(requestStages)
    .where(and(eq(requestStages.tenantId, tenantId), eq(requestStages.requestId, requestId)))
    .orderBy(asc(requestStages.position));
  const decided = await tx
    .select({ stage: decisions.stage, approverId: decisions.approverId, decision: decisions.decision })
    .from(decisions)
    .where(and(eq(decisions.tenantId, tenantId), eq(decisions.requestId, requestId)));
  return {
    request,
    submitterRef,
    stageNames: new Map(stages.map((stage) => [stage.position, stage.name])),
    state: {
      status: request.status,
      currentStage: request.currentStage,
      stages: stages.map(({ position, rule, quorum, approverIds, status }) => ({ position, rule, quorum, approverIds, status })),
      decisions: decided,
    },
  };
}

/** Audit action names: `request.stage_approved`, `request.status_changed`, … */
function auditEntry(requestId: string, event: FlowEvent, extra: Record<string, unknown>): AuditEntry {
  const { type, ...data } = event;
  return { action: `request.${type}`, targetType: "request", targetId: requestId, data: { ...data, ...extra } };
}

/**
 * Writes a transition: the stages whose status changed, the request row, an audit row per flow
 * event and the integrators' events (the outbox). `eventData` adds fields to an event's audit row
 * (the approver's ref, a comment, a reason); `decision` and `cancelReason` go into the events.
 */
export async function saveTransition(
  tx: Queryable,
  actor: Actor,
  locked: LockedRequest,
  transition: Transition,
  opts: {
    now: Date;
    cancelReason?: string;
    eventData?: (event: FlowEvent) => Record<string, unknown>;
    decision?: DecisionDetail;
  },
): Promise<void> {
  const { request, state: before } = locked;
  const { state: after, events } = transition;
  for (const stage of after.stages) {
    const previous = before.stages.find((s) => s.position === stage.position);
    if (previous?.status === stage.status) continue;
    await tx
      .update(requestStages)
      .set({ status: stage.status })
      .where(
        and(
          eq(requestStages.tenantId, request.tenantId),
          eq(requestStages.requestId, request.id),
          eq(requestStages.position, stage.position),
        ),
      );
  }
  await tx
    .update(requests)
    .set({
      status: after.status,
      currentStage: after.currentStage,
      updatedAt: opts.now,
      ...(opts.cancelReason !== undefined ? { cancelReason: opts.cancelReason } : {}),
    })
    .where(and(eq(requests.tenantId, request.tenantId), eq(requests.id, request.id)));
  await writeAudit(
    tx,
    actor,
    events.map((event) => auditEntry(request.id, event, opts.eventData?.(event) ?? {})),
  );
  const subject: RequestEventSubject = {
    tenantId: request.tenantId,
    requestId: request.id,
    requestType: request.requestType,
    title: request.title,
    amount: request.amount,
    currency: request.currency,
    submitterRef: locked.submitterRef,
    status: after.status,
    totalStages: request.totalStages,
    stageNames: locked.stageNames,
  };
  // A request closed before its ttlSeconds ran out needs no expiry job any more.
  if (request.expiresAt && isTerminal(after.status) && after.status !== "expired") await cancelRequestExpiry(tx, request.id);
  await emitEvents(
    tx,
    request.tenantId,
    requestTransitionEvents(subject, events, {
      ...(opts.decision ? { decision: opts.decision } : {}),
      ...(opts.cancelReason !== undefined ? { cancelReason: opts.cancelReason } : {}),
    }),
    opts.now,
  );
}
