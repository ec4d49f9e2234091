import { type Queryable, and, asc, decisions, eq, inArray, members, requestStages, requests } from "@approvalmatrix/db";
import type { RequestView } from "../routers/requests/schemas";

/** The full public view of one request, or null when the tenant has no such request. */
export async function loadRequestView(db: Queryable, tenantId: string, requestId: string): Promise<RequestView | null> {
  const [rows, stages, decisionRows] = await Promise.all([
    db
      .select({ request: requests, submitterRef: members.externalRef })
      .from(requests)
      .innerJoin(members, eq(members.id, requests.submitterId))
      .where(and(eq(requests.tenantId, tenantId), eq(requests.id, requestId)))
      .limit(1),
    db
      .select()
      .from(requestStages)
      .where(and(eq(requestStages.tenantId, tenantId), eq(requestStages.requestId, requestId)))
      .orderBy(asc(requestStages.position)),
    db
      .select({
        stage: decisions.stage,
        approverId: decisions.approverId,
        decidedBy: members.name,
        decidedByRef: members.externalRef,
        decision: decisions.decision,
        comment: decisions.comment,
        decidedAt: decisions.decidedAt,
      })
      .from(decisions)
      .innerJoin(members, eq(members.id, decisions.approverId))
      .where(and(eq(decisions.tenantId, tenantId), eq(decisions.requestId, requestId)))
      .orderBy(asc(decisions.decidedAt), asc(decisions.id)),
  ]);
  const row = rows[0];
  if (!row) return null;
  const { request, submitterRef } = row;

  const approverIds = [...new Set(stages.flatMap((s) => s.approverIds))];
  const approverRows = approverIds.length
    ? await db
        .select({ id: members.id, ref: members.externalRef, name: members.name })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), inArray(members.id, approverIds)))
    : [];
  const approverById = new Map(approverRows.map((m) => [m.id, { ref: m.ref, name: m.name }]));
  const refOf = (id: string) => approverById.get(id) ?? { ref: "(removed)", name: "(removed member)" };

  const stageViews = stages.map((stage) => {
    const decided = new Set(decisionRows.filter((d) => d.stage === stage.position).map((d) => d.approverId));
    const open = stage.status === "open" && request.currentStage === stage.position;
    return {
      stage: stage.position,
      name: stage.name,
      rule: stage.rule,
      quorum: stage.quorum,
      status: stage.status,
      approvers: stage.approverIds.map(refOf),
      pendingApprovers: open ? stage.approverIds.filter((id) => !decided.has(id)).map(refOf) : [],
    };
  });

  return {
    requestId: request.id,
    status: request.status,
    title: request.title,
    submitterRef,
    requestType: request.requestType,
    amount: request.amount,
    currency: request.currency,
    metadata: request.metadata,
    matrixId: request.matrixId,
    matrixName: request.matrixName,
    currentStage: request.currentStage,
    totalStages: request.totalStages,
    decisions: decisionRows.map((d) => ({
      stage: d.stage,
      decidedBy: d.decidedBy,
      decidedByRef: d.decidedByRef,
      decision: d.decision,
      comment: d.comment,
      decidedAt: d.decidedAt.toISOString(),
    })),
    stages: stageViews,
    pendingApprovers: stageViews.find((s) => s.stage === request.currentStage)?.pendingApprovers ?? [],
    cancelReason: request.cancelReason,
    createdAt: request.createdAt.toISOString(),
    updatedAt: request.updatedAt.toISOString(),
  };
}
