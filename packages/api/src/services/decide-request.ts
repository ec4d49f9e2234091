import { type Decision, DomainError, decide, must, newId } from "@approvalmatrix/core";
import { type Database, type Transaction, and, decisions, eq, members, requestStages } from "@approvalmatrix/db";
import type { Actor } from "../context";
import type { RequestView } from "../contracts/requests";
import { type ActorView, describeActor } from "./actor";
import { loadRequestView } from "./request-view";
import { lockRequest, saveTransition } from "./request-transition";
import type { ReceiptSigner } from "./receipts/keys";

export interface DecideRequestInput {
  requestId: string;
  /** Who decides: by externalRef (REST, tRPC) or by member id (the admin app's signed-in approver). */
  approver: { ref: string } | { memberId: string };
  decision: Decision;
  comment?: string | null;
}

/** True when `error` (or what it wraps) is PostgreSQL's unique violation on `constraint`. */
function isUniqueViolation(error: unknown, constraint: string): boolean {
  // drizzle wraps the driver's error in `cause`; PGlite names the constraint `constraint`, postgres.js `constraint_name`.
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e && typeof e === "object"; depth++, e = (e as { cause?: unknown }).cause) {
    const { code, constraint: pgliteName, constraint_name: postgresName } = e as Record<string, unknown>;
    if (code === "23505" && (pgliteName === constraint || postgresName === constraint)) return true;
  }
  return false;
}

/**
 * Records one approver's decision and advances the request, in one transaction under the
 * request's row lock: the decision row, the stage and request statuses and the audit rows commit
 * together. Refusals, in order: not_found, unknown_approver, request_closed, not_an_approver,
 * already_decided. Returns the request as GET /v1/requests/{id} shows it after the decision.
 */
export async function decideRequest(db: Database, actor: Actor, input: DecideRequestInput, signer: ReceiptSigner): Promise<RequestView> {
  return db.transaction((tx) => decideInTransaction(tx, actor, input, signer));
}

/** decideRequest inside the caller's transaction (a one-click link marks itself used in the same one). */
export async function decideInTransaction(
  tx: Transaction,
  actor: Actor,
  input: DecideRequestInput,
  signer: ReceiptSigner,
  now = new Date(),
): Promise<RequestView> {
  const tenantId = actor.tenantId;
  {
    const locked = await lockRequest(tx, tenantId, input.requestId);

    const [approver] = await tx
      .select({ id: members.id, ref: members.externalRef, name: members.name, active: members.active })
      .from(members)
      .where(
        and(
          eq(members.tenantId, tenantId),
          "ref" in input.approver ? eq(members.externalRef, input.approver.ref) : eq(members.id, input.approver.memberId),
        ),
      )
      .limit(1);
    if (!approver || !approver.active) {
      const who = "ref" in input.approver ? `externalRef "${input.approver.ref}"` : `id ${input.approver.memberId}`;
      throw new DomainError("unknown_approver", `No active member has ${who}.`, [{ field: "approverRef", message: "unknown externalRef" }]);
    }

    // A delegate sitting in for an approver decides for them: the decision stays the approver's
    // (of record) and the delegate is its actor — "Bob Lee for Jane Smith". The seat goes back to
    // the approver, who has now decided, so quorum and pending counts stay in people of record.
    const open = locked.state.stages.find((s) => s.position === locked.state.currentStage);
    const standsFor = open?.approverIds.includes(approver.id) ? locked.delegatedFrom.get(open.position)?.[approver.id] : undefined;
    let ofRecord = approver;
    if (open && standsFor) {
      const [original] = await tx
        .select({ id: members.id, ref: members.externalRef, name: members.name, active: members.active })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), eq(members.id, standsFor)));
      ofRecord = must(original, "the approver a delegate stands in for");
      open.approverIds = open.approverIds.map((id) => (id === approver.id ? standsFor : id));
    }
    const delegate = ofRecord === approver ? null : approver;

    const transition = decide(locked.state, ofRecord.id, input.decision);
    const comment = input.comment?.trim() || null;
    // decide() above refused a closed request, so a stage is open.
    const stage = must(locked.state.currentStage, "the open stage");
    const decisionId = newId("decision");
    const pressedBy = await describeActor(tx, actor);
    const actedBy: ActorView = delegate ? { type: "delegate", id: delegate.id, name: delegate.name } : pressedBy;
    if (delegate && open) {
      // The seat goes back, and so does the stand-in mark: the decision row keeps who acted.
      const { [delegate.id]: _returned, ...stillDelegated } = locked.delegatedFrom.get(open.position) ?? {};
      await tx
        .update(requestStages)
        .set({ approverIds: open.approverIds, delegatedFrom: stillDelegated })
        .where(and(eq(requestStages.tenantId, tenantId), eq(requestStages.requestId, input.requestId), eq(requestStages.position, stage)));
    }
    try {
      await tx.insert(decisions).values({
        id: decisionId,
        tenantId,
        requestId: input.requestId,
        stage,
        approverId: ofRecord.id,
        // The approver the actor (a delegate) acted for: the approver of record.
        onBehalfOfId: delegate ? ofRecord.id : null,
        decision: input.decision,
        comment,
        actorType: actedBy.type,
        actorId: actedBy.id,
        actorName: actedBy.name,
        decidedAt: now,
      });
    } catch (error) {
      // The row lock makes this unreachable; the unique index is the last line of defence.
      if (isUniqueViolation(error, "decisions_one_per_approver_stage")) {
        throw new DomainError("already_decided", `This approver already decided on stage ${stage}.`);
      }
      throw error;
    }
    const delegateRef = delegate ? { ref: delegate.ref, name: delegate.name } : null;
    const view = await saveTransition(tx, actor, locked, transition, {
      now,
      decision: {
        approverRef: ofRecord.ref,
        approverName: ofRecord.name,
        comment,
        actor: actedBy,
        ...(delegateRef ? { delegate: delegateRef } : {}),
      },
      receipts: {
        signer,
        actor: actedBy,
        decision: { id: decisionId, approverRef: ofRecord.ref, approverName: ofRecord.name, comment },
      },
      eventData: (event) =>
        event.type === "decision_recorded"
          ? {
              approverId: ofRecord.id,
              approverRef: ofRecord.ref,
              ...(comment ? { comment } : {}),
              // The audit row's actor is whoever pressed (a key, a session); the delegate is named here.
              ...(delegate ? { delegateId: delegate.id, delegateRef: delegate.ref, display: `${delegate.name} for ${ofRecord.name}` } : {}),
            }
          : {},
      readAfter: () => loadRequestView(tx, tenantId, input.requestId),
    });
    return must(view, "the decided request");
  }
}
