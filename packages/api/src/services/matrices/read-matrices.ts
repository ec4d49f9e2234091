import { DomainError } from "@approvalmatrix/core";
import { type Queryable, and, asc, desc, eq, inArray, matrices, matrixStages, members } from "@approvalmatrix/db";

/** One matrix with its stages, named approvers shown by ref and name. */
export async function getMatrix(db: Queryable, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(matrices)
    .where(and(eq(matrices.tenantId, tenantId), eq(matrices.id, id)));
  if (!row) throw new DomainError("not_found", `No matrix ${id}.`);
  const stages = await db
    .select()
    .from(matrixStages)
    .where(and(eq(matrixStages.tenantId, tenantId), eq(matrixStages.matrixId, row.id)))
    .orderBy(asc(matrixStages.position));
  const ids = stages.flatMap((s) => (s.approvers.type === "members" ? s.approvers.memberIds : []));
  const named = ids.length
    ? await db
        .select({ id: members.id, ref: members.externalRef, name: members.name })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), inArray(members.id, ids)))
    : [];
  const byId = new Map(named.map((m) => [m.id, { ref: m.ref, name: m.name }]));
  return {
    ...row,
    createdAt: row.createdAt.toISOString(),
    stages: stages.map(({ position, name, rule, quorum, approvers, deadline }) => ({
      position,
      name,
      rule,
      quorum,
      deadline,
      approvers,
      approverRefs:
        approvers.type === "members" ? approvers.memberIds.map((id) => byId.get(id) ?? { ref: "(removed)", name: "(removed member)" }) : [],
    })),
  };
}

/** The tenant's matrices in routing order (priority, then age), each with its stages. */
export async function listMatrices(db: Queryable, tenantId: string) {
  const [rows, stages] = await Promise.all([
    db.select().from(matrices).where(eq(matrices.tenantId, tenantId)).orderBy(desc(matrices.priority), asc(matrices.createdAt)),
    db.select().from(matrixStages).where(eq(matrixStages.tenantId, tenantId)).orderBy(asc(matrixStages.position)),
  ]);
  return rows.map((m) => ({
    ...m,
    createdAt: m.createdAt.toISOString(),
    stages: stages
      .filter((s) => s.matrixId === m.id)
      .map(({ position, name, rule, quorum, approvers, deadline }) => ({ position, name, rule, quorum, approvers, deadline })),
  }));
}
