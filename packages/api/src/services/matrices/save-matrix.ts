import { DomainError, newId, unroutableStageIssues } from "@approvalmatrix/core";
import { type Database, type Queryable, and, eq, inArray, matrices, matrixStages, members } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import type { MatrixDraft } from "./types";

/** Creates a matrix and its stages with its audit row. */
export function createMatrix(db: Database, actor: Actor, draft: MatrixDraft): Promise<{ id: string }> {
  return db.transaction((tx) => saveMatrix(tx, actor, draft, null));
}

/** Replaces the matrix and its stages. Requests in flight keep the stages they were submitted with. */
export function updateMatrix(db: Database, actor: Actor, id: string, draft: MatrixDraft): Promise<{ id: string }> {
  return db.transaction((tx) => saveMatrix(tx, actor, draft, id));
}

export function setMatrixActive(db: Database, actor: Actor, id: string, active: boolean): Promise<{ id: string; active: boolean }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(matrices)
      .set({ active, updatedAt: new Date() })
      .where(and(eq(matrices.tenantId, actor.tenantId), eq(matrices.id, id)))
      .returning({ id: matrices.id, active: matrices.active, name: matrices.name });
    if (!row) throw new DomainError("not_found", `No matrix ${id}.`);
    await writeAudit(tx, actor, {
      action: active ? "matrix.activated" : "matrix.deactivated",
      targetType: "matrix",
      targetId: row.id,
      data: { name: row.name },
    });
    return { id: row.id, active: row.active };
  });
}

export interface SaveMatrixOptions {
  /** Write the audit row (the preview's throwaway draft does not). */
  audit: boolean;
  /** Refuse a matrix that can never route (the preview plans it instead, to say why). */
  refuseUnroutable: boolean;
}

/** Writes a new matrix (id null) or replaces an existing one, stages included, inside `tx`. */
export async function saveMatrix(
  tx: Queryable,
  actor: Actor,
  draft: MatrixDraft,
  existingId: string | null,
  options: SaveMatrixOptions = { audit: true, refuseUnroutable: true },
): Promise<{ id: string }> {
  const tenantId = actor.tenantId;
  const refs = [...new Set(draft.stages.flatMap((s) => (s.approvers.type === "members" ? s.approvers.memberRefs : [])))];
  const found = refs.length
    ? await tx
        .select({ id: members.id, ref: members.externalRef })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), inArray(members.externalRef, refs)))
    : [];
  const idByRef = new Map(found.map((m) => [m.ref, m.id]));
  const missing = refs.filter((r) => !idByRef.has(r));
  if (missing.length) {
    throw new DomainError("invalid_request", `Unknown approver externalRef(s): ${missing.join(", ")}.`, [
      { field: "stages.approvers.memberRefs", message: "unknown externalRef" },
    ]);
  }
  const stages = draft.stages.map((stage, index) => ({
    position: index + 1,
    name: stage.name,
    rule: stage.rule,
    quorum: stage.quorum ?? null,
    deadline: stage.deadline ? { ...stage.deadline, onDeadline: stage.deadline.onDeadline } : null,
    approvers:
      stage.approvers.type === "members"
        ? { type: "members" as const, memberIds: stage.approvers.memberRefs.map((r) => idByRef.get(r) ?? r) }
        : stage.approvers,
  }));
  if (options.refuseUnroutable) {
    const issues = unroutableStageIssues(stages);
    if (issues.length) {
      const summary = issues.map((i) => `stage ${Number(i.field.split(".")[1]) + 1} ${i.message}`).join("; ");
      throw new DomainError("invalid_request", `This matrix can never route a request: ${summary}.`, issues);
    }
  }
  const values = {
    name: draft.name,
    requestType: draft.requestType,
    minAmount: draft.minAmount ?? null,
    maxAmount: draft.maxAmount ?? null,
    currency: draft.currency?.toUpperCase() ?? null,
    conditions: draft.conditions,
    priority: draft.priority,
    active: draft.active,
  };
  let id: string;
  if (existingId) {
    const [row] = await tx
      .update(matrices)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(matrices.tenantId, tenantId), eq(matrices.id, existingId)))
      .returning({ id: matrices.id });
    if (!row) throw new DomainError("not_found", `No matrix ${existingId}.`);
    id = row.id;
    await tx.delete(matrixStages).where(and(eq(matrixStages.tenantId, tenantId), eq(matrixStages.matrixId, id)));
  } else {
    id = newId("matrix");
    await tx.insert(matrices).values({ id, tenantId, ...values });
  }
  await tx.insert(matrixStages).values(stages.map((stage) => ({ matrixId: id, tenantId, ...stage })));
  if (options.audit) {
    await writeAudit(tx, actor, {
      action: existingId ? "matrix.updated" : "matrix.created",
      targetType: "matrix",
      targetId: id,
      data: { name: draft.name, requestType: draft.requestType, stages: draft.stages.length },
    });
  }
  return { id };
}
