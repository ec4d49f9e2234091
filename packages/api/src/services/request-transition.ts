/**
 * The adapter around the pure state machine (core/request-flow.ts): lock one request, rebuild its
 * flow state from the database, and after a transition write back exactly what changed, with one
 * audit row per event, in the caller's transaction. Decide and cancel both go through here, so two
 * writers on one request are serialized by its row lock and the second sees the first's outcome.
 */
import {
  DomainError,
  type FlowEvent,
  type FlowState,
  type RequestStatus,
  type StageDeadline,
  type Transition,
  applyDelegations,
  isTerminal,
} from "@approvalmatrix/core";
import { type Queryable, and, asc, decisions, eq, members, requestStages, requests } from "@approvalmatrix/db";
import type { Actor } from "../context";
import { type AuditEntry, writeAudit } from "./audit";
import { type TransitionReceipts, writeTransitionReceipts } from "./receipts/transition";
import { deadlineColumns } from "./deadlines/deadlines";
import { activeDelegationEdges } from "./delegations/delegations";
import { emitEvents } from "./events/emit";
import { cancelRequestExpiry } from "./request-expiry";
import { type DecisionDetail, type RequestEventSubject, requestTransitionEvents } from "./events/request-events";
import { type QueuedMessage, queueMessages, stageMessages } from "./notifications/queue-messages";

export interface LockedRequest {
  request: typeof requests.$inferSelect;
  submitterRef: string;
  /** Stage names by position (for events). */
  stageNames: Map<number, string>;
  state: FlowState;
  /** Per stage position: delegate → the approver they stand in for. */
  delegatedFrom: Map<number, Record<string, string>>;
  /** Per stage position: its deadline rules (null: none). */
  deadlines: Map<number, StageDeadline | null>;
}

/** What a locked request's events say about it (requestEventData's subject), with its status `status`. */
export function eventSubjectOf(locked: LockedRequest, status: RequestStatus = locked.request.status): RequestEventSubject {
  const { request } = locked;
  return {
    tenantId: request.tenantId,
    requestId: request.id,
    requestType: request.requestType,
    title: request.title,
    amount: request.amount,
    currency: request.currency,
    submitterRef: locked.submitterRef,
    status,
    totalStages: request.totalStages,
    stageNames: locked.stageNames,
  };
}

/** Answers like GET /v1/requests/{id}: another tenant's id and a missing one look the same. */
export function requestNotFound(requestId: string): DomainError {
  return new DomainError("not_found", `No request ${requestId}.`);
}

/**
 * SELECT … FOR UPDATE on the request row, then its stages and decisions. Must run inside a
 * transaction: the lock is held until it ends, so concurrent deciders and cancellers queue here.
 */
export async function lockRequest(
  tx: Queryable,
  tenantId: string,
  requestId: string,
  opts: { lock?: boolean } = {},
): Promise<LockedRequest> {
  const query = tx
    .select({ request: requests, submitterRef: members.externalRef })
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(and(eq(requests.tenantId, tenantId), eq(requests.id, requestId)));
  // { lock: false }: the same read without the lock, for pages that only look.
  const [row] = opts.lock === false ? await query : await query.for("update", { of: requests });
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
    delegatedFrom: new Map(stages.map((s) => [s.position, s.delegatedFrom])),
    deadlines: new Map(stages.map((s) => [s.position, s.deadline])),
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
 * `readAfter` reads what the caller answers with (after every write but the receipts, which do not
 * change what it reads); its queries go out alongside the receipt write, and its result is returned.
 */
export async function saveTransition<T = undefined>(
  tx: Queryable,
  actor: Actor,
  locked: LockedRequest,
  transition: Transition,
  opts: {
    now: Date;
    cancelReason?: string;
    eventData?: (event: FlowEvent) => Record<string, unknown>;
    /** Required: a transition without its signed receipts cannot be written (services/receipts). */
    receipts: TransitionReceipts;
    decision?: DecisionDetail;
    readAfter?: () => Promise<T>;
  },
): Promise<T | undefined> {
  const { request, state: before } = locked;
  const { state: after, events } = transition;
  // A stage that opens goes to the delegates in force of its approvers.
  const opened = events.filter((e) => e.type === "stage_opened");
  const edges = opened.length ? await activeDelegationEdges(tx, request.tenantId, opts.now) : new Map<string, string>();
  const delegatedFrom = new Map<number, Record<string, string>>();
  for (const event of opened) {
    const stage = after.stages.find((s) => s.position === event.stage);
    if (!stage) continue;
    const next = applyDelegations(stage, edges, { submitterId: request.submitterId });
    stage.approverIds = next.approverIds;
    delegatedFrom.set(stage.position, next.delegatedFrom);
  }
  for (const stage of after.stages) {
    const previous = before.stages.find((s) => s.position === stage.position);
    if (previous?.status === stage.status) continue;
    const delegated = delegatedFrom.get(stage.position);
    // A stage that opens starts its deadline clock; one that closes leaves the sweep's queue.
    const deadline =
      stage.status === "open"
        ? deadlineColumns(locked.deadlines.get(stage.position) ?? null, opts.now)
        : { nextActionAt: null, nextAction: null };
    await tx
      .update(requestStages)
      .set({ status: stage.status, ...deadline, ...(delegated ? { approverIds: stage.approverIds, delegatedFrom: delegated } : {}) })
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
  const subject = eventSubjectOf(locked, after.status);
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
  await queueMessages(tx, request.tenantId, transitionMessages(request, after, events), opts.now);
  // Last: the tenant's log head stays locked from here to the commit, as briefly as possible. The
  // caller's read is sent at the same time (postgres.js pipelines one connection's queries), so
  // the receipts cost no round trip of their own; both must succeed before the commit.
  const [, read] = await Promise.all([writeTransitionReceipts(tx, locked, transition, opts.now, opts.receipts), opts.readAfter?.()]);
  return read;
}

/** The e-mails a transition causes: the approvers of a stage that opened, the submitter of an outcome. */
function transitionMessages(request: LockedRequest["request"], after: FlowState, events: FlowEvent[]): QueuedMessage[] {
  const list: QueuedMessage[] = [];
  for (const event of events) {
    if (event.type === "stage_opened") {
      const stage = after.stages.find((s) => s.position === event.stage);
      if (stage) list.push(...stageMessages(request.id, stage.position, stage.approverIds));
    } else if (event.type === "status_changed" && (event.to === "approved" || event.to === "rejected")) {
      list.push({ memberId: request.submitterId, kind: "outcome", requestId: request.id, data: { outcome: event.to } });
    }
  }
  return list;
}
