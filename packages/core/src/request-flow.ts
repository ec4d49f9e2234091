/**
 * The approval request state machine. Pure: given the request's stages (with their eligible
 * approvers, fixed when the request was submitted) and a decision or a cancellation, it returns
 * the next state or a DomainError. Adapters persist the result under a row lock.
 */
import { approvalsNeeded, type StageRule } from "./approvers";
import { DomainError } from "./errors";

export const REQUEST_STATUSES = ["pending", "in_progress", "approved", "rejected", "cancelled"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RequestStatus[] = ["approved", "rejected", "cancelled"];

export const DECISIONS = ["approved", "rejected"] as const;
export type Decision = (typeof DECISIONS)[number];

export type StageStatus = "waiting" | "open" | "approved" | "rejected";

export interface FlowStage {
  position: number;
  rule: StageRule;
  quorum: number | null;
  approverIds: string[];
  status: StageStatus;
}

export interface FlowDecision {
  stage: number;
  approverId: string;
  decision: Decision;
}

export interface FlowState {
  status: RequestStatus;
  /** 1-based position of the open stage; null once the request is terminal. */
  currentStage: number | null;
  stages: FlowStage[];
  decisions: FlowDecision[];
}

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The state of a freshly submitted request: stage 1 open, the rest waiting. */
export function openRequest(stages: Omit<FlowStage, "status">[]): FlowState {
  if (stages.length === 0) throw new DomainError("no_eligible_approver", "The matrix has no stages.");
  return {
    status: "pending",
    currentStage: stages[0]!.position,
    stages: stages.map((stage, index) => ({ ...stage, status: index === 0 ? "open" : "waiting" })),
    decisions: [],
  };
}

/** Approvers of the open stage who have not decided yet. */
export function pendingApprovers(state: FlowState): string[] {
  if (state.currentStage === null) return [];
  const stage = state.stages.find((s) => s.position === state.currentStage);
  if (!stage) return [];
  const decided = new Set(state.decisions.filter((d) => d.stage === stage.position).map((d) => d.approverId));
  return stage.approverIds.filter((id) => !decided.has(id));
}

export type FlowEvent =
  | { type: "decision_recorded"; stage: number; approverId: string; decision: Decision }
  | { type: "stage_approved"; stage: number }
  | { type: "stage_rejected"; stage: number }
  | { type: "stage_opened"; stage: number }
  | { type: "request_finished"; status: "approved" | "rejected" };

export interface Transition {
  state: FlowState;
  events: FlowEvent[];
}

function closedError(status: RequestStatus): DomainError {
  return new DomainError("request_closed", `The request is already ${status} and can no longer change.`);
}

export function decide(state: FlowState, approverId: string, decision: Decision): Transition {
  if (isTerminal(state.status) || state.currentStage === null) throw closedError(state.status);
  const stageIndex = state.stages.findIndex((s) => s.position === state.currentStage);
  const stage = state.stages[stageIndex];
  if (!stage) throw closedError(state.status);
  if (!stage.approverIds.includes(approverId)) {
    throw new DomainError("not_an_approver", `This member is not an eligible approver of stage ${stage.position}.`);
  }
  if (state.decisions.some((d) => d.stage === stage.position && d.approverId === approverId)) {
    throw new DomainError("already_decided", `This approver already decided on stage ${stage.position}.`);
  }

  const decisions = [...state.decisions, { stage: stage.position, approverId, decision }];
  const events: FlowEvent[] = [{ type: "decision_recorded", stage: stage.position, approverId, decision }];
  const stages = state.stages.map((s) => ({ ...s }));

  if (decision === "rejected") {
    stages[stageIndex]!.status = "rejected";
    events.push({ type: "stage_rejected", stage: stage.position }, { type: "request_finished", status: "rejected" });
    return { state: { status: "rejected", currentStage: null, stages, decisions }, events };
  }

  const approvals = decisions.filter((d) => d.stage === stage.position && d.decision === "approved").length;
  if (approvals < approvalsNeeded(stage, stage.approverIds.length)) {
    return { state: { status: "in_progress", currentStage: stage.position, stages, decisions }, events };
  }

  stages[stageIndex]!.status = "approved";
  events.push({ type: "stage_approved", stage: stage.position });
  const next = stages[stageIndex + 1];
  if (!next) {
    events.push({ type: "request_finished", status: "approved" });
    return { state: { status: "approved", currentStage: null, stages, decisions }, events };
  }
  next.status = "open";
  events.push({ type: "stage_opened", stage: next.position });
  return { state: { status: "in_progress", currentStage: next.position, stages, decisions }, events };
}

export function cancel(state: FlowState): FlowState {
  if (isTerminal(state.status)) throw closedError(state.status);
  return { ...state, status: "cancelled", currentStage: null };
}
