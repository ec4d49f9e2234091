/**
 * One-click decisions from an e-mail. The link's page (GET) only reads; the confirm form (POST)
 * decides, once: the link row is locked, checked and marked used in the decision's transaction.
 */
import type { ReceiptSigner } from "../receipts/keys";
import {
  DECISION_LINK_STATE_MESSAGES,
  type Decision,
  type DecisionLinkState,
  decisionLinkState,
  hashDecisionLinkToken,
  isWellFormedDecisionLinkToken,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, decisionLinks, eq, members, tenants } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { decideInTransaction } from "../decide-request";
import { loadRequestView } from "../request-view";
import { lockRequest } from "../request-transition";

export interface DecisionLinkPage {
  state: DecisionLinkState | "unknown";
  /** Why the link cannot decide, in plain words; null when it can. */
  message: string | null;
  tenantName: string | null;
  approverName: string | null;
  request: {
    title: string;
    requestType: string;
    amount: number | null;
    currency: string | null;
    submitterName: string;
    matrixName: string;
    status: string;
    stage: { position: number; name: string; total: number } | null;
  } | null;
  /** After a POST: what was recorded. */
  decided?: Decision;
}

const UNKNOWN: DecisionLinkPage = {
  state: "unknown",
  message: "This link is not valid. Open the request in ApprovalMatrix instead.",
  tenantName: null,
  approverName: null,
  request: null,
};

async function findLink(db: Queryable, token: string, forUpdate: boolean) {
  if (!isWellFormedDecisionLinkToken(token)) return null;
  const query = db
    .select()
    .from(decisionLinks)
    .where(eq(decisionLinks.tokenHash, hashDecisionLinkToken(token)));
  const [link] = forUpdate ? await query.for("update") : await query;
  return link ?? null;
}

async function describe(db: Queryable, link: typeof decisionLinks.$inferSelect, now: Date): Promise<DecisionLinkPage> {
  const view = await loadRequestView(db, link.tenantId, link.requestId);
  const [approver] = await db
    .select({ name: members.name, ref: members.externalRef, tenantName: tenants.name })
    .from(members)
    .innerJoin(tenants, eq(tenants.id, members.tenantId))
    .where(and(eq(members.tenantId, link.tenantId), eq(members.id, link.approverId)));
  if (!view || !approver) return UNKNOWN;
  const locked = await lockRequest(db, link.tenantId, link.requestId, { lock: false });
  const stage = locked.state.stages.find((s) => s.position === link.stage);
  const state = decisionLinkState({
    usedAt: link.usedAt,
    expiresAt: link.expiresAt,
    now,
    requestOpen: view.status === "pending" || view.status === "in_progress",
    currentStage: view.currentStage,
    linkStage: link.stage,
    stageApproverIds: stage?.approverIds ?? [],
    approverId: link.approverId,
    approverDecided: locked.state.decisions.some((d) => d.stage === link.stage && d.approverId === link.approverId),
  });
  const stageView = view.stages.find((s) => s.stage === link.stage);
  const [submitter] = await db
    .select({ name: members.name })
    .from(members)
    .where(and(eq(members.tenantId, link.tenantId), eq(members.externalRef, view.submitterRef)));
  return {
    state,
    message: state === "usable" ? null : DECISION_LINK_STATE_MESSAGES[state],
    tenantName: approver.tenantName,
    approverName: approver.name,
    request: {
      title: view.title,
      requestType: view.requestType,
      amount: view.amount,
      currency: view.currency,
      submitterName: submitter?.name ?? view.submitterRef,
      matrixName: view.matrixName,
      status: view.status,
      stage: stageView ? { position: stageView.stage, name: stageView.name, total: view.totalStages } : null,
    },
  };
}

/** The page behind a link (GET): reads only, whatever a mail scanner does with it. */
export async function viewDecisionLink(db: Database, token: string, now = new Date()): Promise<DecisionLinkPage> {
  const link = await findLink(db, token, false);
  return link ? describe(db, link, now) : UNKNOWN;
}

/** The confirm form (POST): decides once as the link's approver, or says why it cannot. */
export async function decideByLink(
  db: Database,
  signer: ReceiptSigner,
  input: { token: string; decision: Decision; comment?: string | null },
  now = new Date(),
): Promise<DecisionLinkPage> {
  return db.transaction(async (tx) => {
    const link = await findLink(tx, input.token, true);
    if (!link) return UNKNOWN;
    // The request's row lock first (as every decider takes it), then re-read under it.
    await lockRequest(tx, link.tenantId, link.requestId);
    const page = await describe(tx, link, now);
    if (page.state !== "usable") return page;
    await tx.update(decisionLinks).set({ usedAt: now }).where(eq(decisionLinks.id, link.id));
    const actor: Actor = { kind: "emailLink", tenantId: link.tenantId, linkId: link.id, memberId: link.approverId };
    await decideInTransaction(
      tx,
      actor,
      { requestId: link.requestId, approver: { memberId: link.approverId }, decision: input.decision, comment: input.comment ?? null },
      signer,
      now,
    );
    return { ...(await describe(tx, { ...link, usedAt: now }, now)), decided: input.decision };
  });
}
