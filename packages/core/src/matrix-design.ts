/**
 * Matrices that can never route a request: refused when saved, so an admin learns it while
 * editing instead of from the first request that fails. Pure; the adapter maps approver refs to
 * ids first. Only what is impossible for every submitter counts: a stage that fails for some
 * submitters (one of two named approvers submits) is the planner's to report per request.
 */
import type { ApproverSpec, StageRule } from "./approvers";
import type { ErrorIssue } from "./errors";

export interface StageDraft {
  rule: StageRule;
  quorum: number | null;
  approvers: ApproverSpec;
}

/** At most how many distinct people a stage's approver spec can ever yield; null when unbounded (a department grows). */
export function maxStageApprovers(approvers: ApproverSpec): number | null {
  if (approvers.type === "members") return new Set(approvers.memberIds).size;
  if (approvers.type === "manager") return 1;
  return null;
}

/** One issue per stage that can never complete, with the field path the editor shows it on (`stages.<index>.quorum`, 0-based). */
export function unroutableStageIssues(stages: readonly StageDraft[]): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  stages.forEach((stage, index) => {
    if (stage.rule !== "quorum" || stage.quorum === null) return;
    const most = maxStageApprovers(stage.approvers);
    if (most === null || stage.quorum <= most) return;
    issues.push({
      field: `stages.${index}.quorum`,
      message:
        stage.approvers.type === "manager"
          ? `needs ${stage.quorum} approvals, but a manager stage has one approver`
          : `needs ${stage.quorum} approvals, but the stage names only ${most} approver${most === 1 ? "" : "s"}`,
    });
  });
  return issues;
}
