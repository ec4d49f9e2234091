/** Who may decide a stage. Pure: the adapter hands in the members the specs refer to. */

export type ApproverSpec = { type: "members"; memberIds: string[] } | { type: "manager" } | { type: "department"; department: string };

/** How a stage completes: one approval, every eligible approver, or `quorum` approvals. */
export const STAGE_RULES = ["any", "all", "quorum"] as const;
export type StageRule = (typeof STAGE_RULES)[number];

export interface StageDefinition {
  position: number;
  name: string;
  approvers: ApproverSpec;
  rule: StageRule;
  /** Approvals needed when rule is `quorum`. */
  quorum: number | null;
}

export interface DirectoryMember {
  id: string;
  name: string;
  externalRef: string;
  department: string | null;
  managerId: string | null;
  active: boolean;
}

export interface MemberDirectory {
  byId(id: string): DirectoryMember | undefined;
  inDepartment(department: string): DirectoryMember[];
}

/** Approvals a stage needs before it completes, given its eligible approvers. */
export function approvalsNeeded(stage: Pick<StageDefinition, "rule" | "quorum">, approverCount: number): number {
  if (stage.rule === "any") return 1;
  if (stage.rule === "all") return approverCount;
  return stage.quorum ?? 1;
}

/**
 * The nearest active manager above the submitter who is not the submitter. Walks up when a
 * manager is missing, inactive or the submitter (a cycle in the org chart ends the walk).
 */
export function findManager(submitter: DirectoryMember, directory: MemberDirectory): DirectoryMember | null {
  const seen = new Set<string>([submitter.id]);
  let nextId = submitter.managerId;
  while (nextId && !seen.has(nextId)) {
    seen.add(nextId);
    const candidate = directory.byId(nextId);
    if (!candidate) return null;
    if (candidate.active) return candidate;
    nextId = candidate.managerId;
  }
  return null;
}

export type StageApprovers = { ok: true; approvers: DirectoryMember[] } | { ok: false; reason: string };

/** The eligible approvers of one stage: active, never the submitter, each once. */
export function resolveStageApprovers(stage: StageDefinition, submitter: DirectoryMember, directory: MemberDirectory): StageApprovers {
  let candidates: DirectoryMember[];
  let source: string;
  switch (stage.approvers.type) {
    case "members":
      candidates = stage.approvers.memberIds.map((id) => directory.byId(id)).filter((m) => m !== undefined);
      source = "its named approvers";
      break;
    case "manager": {
      const manager = findManager(submitter, directory);
      candidates = manager ? [manager] : [];
      source = `the manager of ${submitter.externalRef}`;
      break;
    }
    case "department":
      candidates = directory.inDepartment(stage.approvers.department);
      source = `department "${stage.approvers.department}"`;
      break;
  }
  const seen = new Set<string>();
  const approvers = candidates.filter((m) => {
    if (!m.active || m.id === submitter.id || seen.has(m.id)) return false;
    seen.add(m.id);
    return true;
  });
  if (approvers.length === 0) {
    return { ok: false, reason: `stage ${stage.position} "${stage.name}" has no eligible approver (${source}, excluding the submitter)` };
  }
  const needed = approvalsNeeded(stage, approvers.length);
  if (needed > approvers.length) {
    return {
      ok: false,
      reason: `stage ${stage.position} "${stage.name}" needs ${needed} approvals but has only ${approvers.length} eligible approver(s)`,
    };
  }
  return { ok: true, approvers };
}

/** Fields a stage's approver spec needs looked up: the adapter loads exactly these. */
export function directoryNeeds(stages: readonly StageDefinition[]): {
  memberIds: string[];
  departments: string[];
  needsManagerChain: boolean;
} {
  const memberIds = new Set<string>();
  const departments = new Set<string>();
  let needsManagerChain = false;
  for (const stage of stages) {
    if (stage.approvers.type === "members") stage.approvers.memberIds.forEach((id) => memberIds.add(id));
    else if (stage.approvers.type === "department") departments.add(stage.approvers.department);
    else needsManagerChain = true;
  }
  return { memberIds: [...memberIds], departments: [...departments], needsManagerChain };
}
