import {
  type StageDeadline,
  type DirectoryMember,
  DomainError,
  type MemberDirectory,
  type StageDefinition,
  directoryNeeds,
  resolveMatrix,
  resolveStageApprovers,
} from "@approvalmatrix/core";
import { type Queryable, and, asc, eq, executePrepared, matrices, matrixStages, members, sql, tenants } from "@approvalmatrix/db";

export interface SubmissionInput {
  submitterRef: string;
  requestType: string;
  title: string;
  amount?: number | null;
  currency?: string | null;
  metadata?: Record<string, unknown>;
}

export interface PlannedStage extends StageDefinition {
  approvers: StageDefinition["approvers"];
  eligible: DirectoryMember[];
  /** The matrix stage's deadline rules, if any. */
  deadline?: StageDeadline | null;
}

export interface SubmissionPlan {
  submitter: DirectoryMember;
  /** The matching matrix; id null for an ad-hoc request (addressed to one approver). */
  matrix: { id: string | null; name: string };
  stages: PlannedStage[];
  amount: number | null;
  currency: string | null;
  metadata: Record<string, unknown>;
}

const directoryColumns = {
  id: members.id,
  name: members.name,
  externalRef: members.externalRef,
  department: members.department,
  managerId: members.managerId,
  active: members.active,
};

export const submitterByRef = (db: Queryable) =>
  db
    .select({ ...directoryColumns, defaultCurrency: tenants.defaultCurrency })
    .from(members)
    .innerJoin(tenants, eq(tenants.id, members.tenantId))
    .where(and(eq(members.tenantId, sql.placeholder("tenantId")), eq(members.externalRef, sql.placeholder("externalRef"))))
    .limit(1);

const activeMatricesOfType = (db: Queryable) =>
  db
    .select()
    .from(matrices)
    .where(
      and(
        eq(matrices.tenantId, sql.placeholder("tenantId")),
        eq(matrices.requestType, sql.placeholder("requestType")),
        eq(matrices.active, true),
      ),
    );

const stagesOfMatrix = (db: Queryable) =>
  db
    .select()
    .from(matrixStages)
    .where(and(eq(matrixStages.tenantId, sql.placeholder("tenantId")), eq(matrixStages.matrixId, sql.placeholder("matrixId"))))
    .orderBy(asc(matrixStages.position));

const memberById = (db: Queryable) =>
  db
    .select(directoryColumns)
    .from(members)
    .where(and(eq(members.tenantId, sql.placeholder("tenantId")), eq(members.id, sql.placeholder("id"))))
    .limit(1);

// `= any($array)` keeps one statement text whatever the list's length, so it can be prepared.
const membersByIds = (db: Queryable) =>
  db
    .select(directoryColumns)
    .from(members)
    .where(and(eq(members.tenantId, sql.placeholder("tenantId")), sql`${members.id} = any(${sql.placeholder("ids")}::text[])`));

const activeMembersOfDepartments = (db: Queryable) =>
  db
    .select(directoryColumns)
    .from(members)
    .where(
      and(
        eq(members.tenantId, sql.placeholder("tenantId")),
        sql`${members.department} = any(${sql.placeholder("departments")}::text[])`,
        eq(members.active, true),
      ),
    );

/**
 * Everything a submission needs, resolved without writing: the submitter, the matching matrix
 * and each stage's eligible approvers. Create and dry-run share it, so they never disagree.
 */
export async function planSubmission(db: Queryable, tenantId: string, input: SubmissionInput): Promise<SubmissionPlan> {
  // The submitter and the candidate matrices do not depend on each other: one round trip for both.
  const [[submitterRow], candidates] = await Promise.all([
    executePrepared(db, "submission_submitter", submitterByRef, { tenantId, externalRef: input.submitterRef }),
    executePrepared(db, "submission_matrices", activeMatricesOfType, { tenantId, requestType: input.requestType }),
  ]);
  if (!submitterRow || !submitterRow.active) {
    throw new DomainError(
      "unknown_submitter",
      `No active member has externalRef "${input.submitterRef}". Map the employee as a member first.`,
      [{ field: "submitterRef", message: "unknown externalRef" }],
    );
  }
  const { defaultCurrency, ...submitter } = submitterRow;
  const amount = input.amount ?? null;
  const currency = input.currency ? input.currency.toUpperCase() : amount !== null ? defaultCurrency : null;
  const metadata = input.metadata ?? {};

  const resolution = resolveMatrix(candidates, {
    requestType: input.requestType,
    amount,
    currency,
    attributes: { department: submitter.department ?? undefined, ...metadata },
  });
  if (!resolution.matched) throw new DomainError("no_matching_matrix", resolution.message);
  const matrix = resolution.matrix;

  const stageRows = await executePrepared(db, "submission_stages", stagesOfMatrix, { tenantId, matrixId: matrix.id });
  if (stageRows.length === 0) throw new DomainError("no_eligible_approver", `Matrix "${matrix.name}" has no stages.`);

  const directory = await loadDirectory(db, tenantId, submitter, stageRows);
  const stages: PlannedStage[] = [];
  for (const stage of stageRows) {
    const resolved = resolveStageApprovers(stage, submitter, directory);
    if (!resolved.ok) {
      throw new DomainError("no_eligible_approver", `Matrix "${matrix.name}" cannot route this request: ${resolved.reason}.`);
    }
    stages.push({ ...stage, eligible: resolved.approvers });
  }
  return { submitter, matrix, stages, amount, currency, metadata };
}

/**
 * The plan's stages as a caller sees them (dry-run and the matrix preview): who may decide each
 * one, by externalRef and name.
 */
export function describePlannedStages(plan: SubmissionPlan) {
  return plan.stages.map((stage) => ({
    position: stage.position,
    name: stage.name,
    rule: stage.rule,
    quorum: stage.quorum,
    approvers: stage.eligible.map((m) => ({ ref: m.externalRef, name: m.name })),
  }));
}

/** Loads just the members the stages refer to: named ones, departments, the manager chain. */
async function loadDirectory(
  db: Queryable,
  tenantId: string,
  submitter: DirectoryMember,
  stages: StageDefinition[],
): Promise<MemberDirectory> {
  const needs = directoryNeeds(stages);
  const byId = new Map<string, DirectoryMember>([[submitter.id, submitter]]);
  const byDepartment = new Map<string, DirectoryMember[]>();
  const [named, departmentMembers] = await Promise.all([
    needs.memberIds.length
      ? executePrepared(db, "submission_members", membersByIds, { tenantId, ids: needs.memberIds })
      : Promise.resolve([]),
    needs.departments.length
      ? executePrepared(db, "submission_departments", activeMembersOfDepartments, { tenantId, departments: needs.departments })
      : Promise.resolve([]),
  ]);
  for (const member of [...named, ...departmentMembers]) byId.set(member.id, member);
  for (const member of departmentMembers) {
    const list = byDepartment.get(member.department ?? "") ?? [];
    list.push(member);
    byDepartment.set(member.department ?? "", list);
  }
  const directory: MemberDirectory = {
    byId: (id) => byId.get(id),
    inDepartment: (department) => byDepartment.get(department) ?? [],
  };
  if (needs.needsManagerChain) {
    // Walk up one manager at a time until findManager settles (it stops at the first active one).
    for (let depth = 0; depth < 32; depth++) {
      const missing = nextMissingManager(submitter, byId);
      if (!missing) break;
      const [row] = await executePrepared(db, "submission_member", memberById, { tenantId, id: missing });
      if (!row) break;
      byId.set(row.id, row);
    }
  }
  return directory;
}

function nextMissingManager(submitter: DirectoryMember, byId: Map<string, DirectoryMember>): string | null {
  const seen = new Set<string>([submitter.id]);
  let nextId = submitter.managerId;
  while (nextId && !seen.has(nextId)) {
    const member = byId.get(nextId);
    if (!member) return nextId;
    if (member.active) return null;
    seen.add(nextId);
    nextId = member.managerId;
  }
  return null;
}
