/**
 * The receipts of one request transition: one per recorded decision and one per terminal outcome
 * (with a signed checkpoint). saveTransition calls this in the transition's transaction, so every
 * writer of a transition (decide, cancel, expiry, …) writes its receipts, or nothing commits.
 */
import {
  DECISION_MEANINGS,
  type Decision,
  OUTCOME_MEANINGS,
  RECEIPT_OUTCOMES,
  type ReceiptActor,
  type ReceiptOutcome,
  type Transition,
  requestContentDigest,
  sha256Digest,
} from "@approvalmatrix/core";
import type { Queryable } from "@approvalmatrix/db";
import type { LockedRequest } from "../request-transition";
import type { ReceiptSigner } from "./keys";
import type { ReceiptDraft } from "./log";

export interface TransitionReceipts {
  signer: ReceiptSigner;
  /** Who pressed the button (describeActor). */
  actor: ReceiptActor;
  /** The decision of a decide transition: its row id, the approver (the subject) and the comment. */
  decision?: { id: string; approverRef: string; approverName: string; comment: string | null };
  /** A cancellation's reason: its digest goes into the outcome receipt. */
  reason?: string | null;
}

function isReceiptOutcome(status: string): status is ReceiptOutcome {
  return (RECEIPT_OUTCOMES as readonly string[]).includes(status);
}

export async function writeTransitionReceipts(
  tx: Queryable,
  locked: LockedRequest,
  transition: Transition,
  now: Date,
  receipts: TransitionReceipts,
): Promise<void> {
  const { request } = locked;
  const common = {
    requestId: request.id,
    contentDigest: requestContentDigest({
      type: request.requestType,
      title: request.title,
      amount: request.amount,
      currency: request.currency,
      metadata: request.metadata,
      submitterRef: locked.submitterRef,
    }),
    matrix: { id: request.matrixId, name: request.matrixName },
    actor: receipts.actor,
    decidedAt: now.toISOString(),
  };
  const stage = (position: number | null) =>
    position === null ? null : { position, name: locked.stageNames.get(position) ?? `Stage ${position}` };

  const drafts: ReceiptDraft[] = [];
  let lastStage: number | null = locked.state.currentStage;
  let terminal = false;
  for (const event of transition.events) {
    if (event.type === "decision_recorded") {
      const detail = receipts.decision;
      if (!detail) throw new Error("A decision's receipt needs the decision's details.");
      const decision: Decision = event.decision;
      drafts.push({
        kind: "decision",
        ...common,
        stage: stage(event.stage),
        decision,
        meaning: DECISION_MEANINGS[decision],
        approver: { ref: detail.approverRef, name: detail.approverName },
        commentDigest: detail.comment ? sha256Digest(detail.comment) : null,
        decisionId: detail.id,
      });
    } else if (event.type === "status_changed") {
      if (!isReceiptOutcome(event.to)) continue;
      terminal = true;
      drafts.push({
        kind: "outcome",
        ...common,
        stage: stage(lastStage),
        outcome: event.to,
        meaning: OUTCOME_MEANINGS[event.to],
        reasonDigest: receipts.reason ? sha256Digest(receipts.reason) : null,
      });
    } else if ("stage" in event) {
      lastStage = event.stage;
    }
  }
  await receipts.signer.append(tx, request.tenantId, request.id, drafts, { now, checkpoint: terminal });
}
