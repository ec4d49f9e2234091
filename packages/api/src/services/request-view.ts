import { type Queryable, alias, and, asc, decisions, eq, executePrepared, members, requestStages, requests, sql } from "@approvalmatrix/db";
import type { RequestView } from "../contracts/requests";

/** The member a delegate decided for (the approver of record). */
const standIn = alias(members, "on_behalf_of");
/** The delegate who decided (the actor of a `delegate` decision). */
const delegateMember = alias(members, "delegate");

const onRequest = { tenantId: sql.placeholder("tenantId"), requestId: sql.placeholder("requestId") };

const requestWithSubmitter = (db: Queryable) =>
  db
    .select({ request: requests, submitterRef: members.externalRef })
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(and(eq(requests.tenantId, onRequest.tenantId), eq(requests.id, onRequest.requestId)))
    .limit(1);

/** Each stage with its approvers' refs and names, in the stage's order, in one query. */
const stagesWithApprovers = (db: Queryable) =>
  db
    .select({
      position: requestStages.position,
      name: requestStages.name,
      rule: requestStages.rule,
      quorum: requestStages.quorum,
      status: requestStages.status,
      approverIds: requestStages.approverIds,
      delegatedFrom: requestStages.delegatedFrom,
      dueAt: requestStages.dueAt,
      approvers: sql<{ id: string; ref: string; name: string }[]>`coalesce((
        select json_agg(json_build_object('id', m.id, 'ref', m.external_ref, 'name', m.name))
        from ${members} m where m.tenant_id = ${requestStages.tenantId}
          and (m.id = any(${requestStages.approverIds}) or m.id in (select jsonb_each_text.value from jsonb_each_text(${requestStages.delegatedFrom})))), '[]'::json)`,
    })
    .from(requestStages)
    .where(and(eq(requestStages.tenantId, onRequest.tenantId), eq(requestStages.requestId, onRequest.requestId)))
    .orderBy(asc(requestStages.position));

const decisionsWithApprovers = (db: Queryable) =>
  db
    .select({
      stage: decisions.stage,
      approverId: decisions.approverId,
      decidedBy: members.name,
      decidedByRef: members.externalRef,
      decision: decisions.decision,
      comment: decisions.comment,
      actorType: decisions.actorType,
      actorId: decisions.actorId,
      actorName: decisions.actorName,
      decidedAt: decisions.decidedAt,
      onBehalfOfRef: standIn.externalRef,
      onBehalfOfName: standIn.name,
      delegateRef: delegateMember.externalRef,
      delegateName: delegateMember.name,
    })
    .from(decisions)
    .innerJoin(members, eq(members.id, decisions.approverId))
    .leftJoin(standIn, eq(standIn.id, decisions.onBehalfOfId))
    .leftJoin(delegateMember, and(eq(decisions.actorType, "delegate"), eq(delegateMember.id, decisions.actorId)))
    .where(and(eq(decisions.tenantId, onRequest.tenantId), eq(decisions.requestId, onRequest.requestId)))
    .orderBy(asc(decisions.decidedAt), asc(decisions.id));

/** The full public view of one request, or null when the tenant has no such request. */
export async function loadRequestView(db: Queryable, tenantId: string, requestId: string): Promise<RequestView | null> {
  const placeholders = { tenantId, requestId };
  // Three independent reads side by side: one round trip of latency.
  const [rows, stages, decisionRows] = await Promise.all([
    executePrepared(db, "request_view_request", requestWithSubmitter, placeholders),
    executePrepared(db, "request_view_stages", stagesWithApprovers, placeholders),
    executePrepared(db, "request_view_decisions", decisionsWithApprovers, placeholders),
  ]);
  const row = rows[0];
  if (!row) return null;
  const { request, submitterRef } = row;

  const approverById = new Map(stages.flatMap((s) => s.approvers).map((m) => [m.id, { ref: m.ref, name: m.name }]));
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
      dueAt: stage.dueAt?.toISOString() ?? null,
      delegations: Object.entries(stage.delegatedFrom).map(([delegate, original]) => ({ delegate: refOf(delegate), for: refOf(original) })),
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
      actor: { type: d.actorType, id: d.actorId, name: d.actorName },
      decidedAt: d.decidedAt.toISOString(),
      onBehalfOf: d.onBehalfOfRef && d.onBehalfOfName ? { ref: d.onBehalfOfRef, name: d.onBehalfOfName } : null,
      delegate: d.delegateRef && d.delegateName ? { ref: d.delegateRef, name: d.delegateName } : null,
    })),
    stages: stageViews,
    pendingApprovers: stageViews.find((s) => s.stage === request.currentStage)?.pendingApprovers ?? [],
    cancelReason: request.cancelReason,
    expiresAt: request.expiresAt?.toISOString() ?? null,
    createdAt: request.createdAt.toISOString(),
    updatedAt: request.updatedAt.toISOString(),
  };
}
