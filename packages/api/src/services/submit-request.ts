import { newId, openRequest } from "@approvalmatrix/core";
import { type Database, requestStages, requests } from "@approvalmatrix/db";
import type { Actor } from "../context";
import { writeAudit } from "./audit";
import { type SubmissionInput, planSubmission } from "./submission";

/** Plans the request and writes it, its stages and its audit row in one transaction. */
export async function submitRequest(db: Database, actor: Actor, input: SubmissionInput) {
  const plan = await planSubmission(db, actor.tenantId, input);
  const requestId = newId("request");
  const flow = openRequest(
    plan.stages.map((stage) => ({
      position: stage.position,
      rule: stage.rule,
      quorum: stage.quorum,
      approverIds: stage.eligible.map((m) => m.id),
    })),
  );
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.insert(requests).values({
      id: requestId,
      tenantId: actor.tenantId,
      submitterId: plan.submitter.id,
      requestType: input.requestType,
      title: input.title,
      amount: plan.amount,
      currency: plan.currency,
      metadata: plan.metadata,
      matrixId: plan.matrix.id,
      matrixName: plan.matrix.name,
      status: flow.status,
      currentStage: flow.currentStage,
      totalStages: flow.stages.length,
      createdAt: now,
      updatedAt: now,
    });
    await tx.insert(requestStages).values(
      plan.stages.map((stage, index) => ({
        requestId,
        tenantId: actor.tenantId,
        position: stage.position,
        name: stage.name,
        rule: stage.rule,
        quorum: stage.quorum,
        approverIds: flow.stages[index]!.approverIds,
        status: flow.stages[index]!.status,
      })),
    );
    await writeAudit(tx, actor, {
      action: "request.submitted",
      targetType: "request",
      targetId: requestId,
      data: {
        submitterRef: input.submitterRef,
        requestType: input.requestType,
        matrixId: plan.matrix.id,
        amount: plan.amount,
        currency: plan.currency,
      },
    });
  });
  return {
    requestId,
    status: flow.status,
    matrixId: plan.matrix.id,
    matrixName: plan.matrix.name,
    currentStage: flow.currentStage,
    totalStages: flow.stages.length,
    createdAt: now.toISOString(),
  };
}
