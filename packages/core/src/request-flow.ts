/**
 * The approval request state machine. Pure: given the request's stages (with their eligible
 * approvers, fixed when the request was submitted) and a decision or a cancellation, it returns
 * the next state and the events that led there, or throws a DomainError. Adapters persist the
 * result under a row lock and write one audit row per event.
 *
 *   pending ──decision──▶ in_progress ──last stage approved──▶ approved
 *      │                      │  └──────any rejection────────▶ rejected
 *      ├──────cancel──────────┼───────────────────────────────▶ cancelled
 *      └──ttlSeconds ran out──┴───────────────────────────────▶ expired
 *
 * A rejection or the last stage's approval may come with the very first decision, so pending can
 * also go straight to approved or rejected. Terminal states never change again.
 */
import { approvalsNeeded, type StageRule } from "./approvers";
import { DomainError } from "./errors";
import { must } from "./must";

export const REQUEST_STATUSES = ["pending", "in_progress", "approved", "rejected", "cancelled", "expired"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RequestStatus[] = ["approved", "rejected", "cancelled", "expired"];

export const DECISIONS = ["approved", "rejected"] as const;
export type Decision = (typeof DECISIONS)[number];

/** `cancelled` / `expired`: the stage that was open when its request was cancelled or ran out of time. */
export const STAGE_STATUSES = ["waiting", "open", "approved", "rejected", "cancelled", "expired"] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

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
  /** Position of the open stage; null once the request is terminal. */
  currentStage: number | null;
  stages: FlowStage[];
  decisions: FlowDecision[];
}

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The state of a freshly submitted request: stage 1 open, the rest waiting. */
export function openRequest(stages: Omit<FlowStage, "status">[]): FlowState {
  const first = stages[0];
  if (!first) throw new DomainError("no_eligible_approver", "The matrix has no stages.");
  return {
    status: "pending",
    currentStage: first.position,
    stages: stages.map((stage, index) => ({ ...stage, status: index === 0 ? "open" : "waiting" })),
    decisions: [],
  };
}

/** Approvers of the open stage who have not decided yet. */
export function pendingApprovers(state: FlowState): string[] {
  if (state.currentStage === null || isTerminal(state.status)) return [];
  const stage = state.stages.find((s) => s.position === state.currentStage);
  if (!stage) return [];
  const decided = new Set(state.decisions.filter((d) => d.stage === stage.position).map((d) => d.approverId));
  return stage.approverIds.filter((id) => !decided.has(id));
}

/** What happened, in order; the adapter writes one audit row for each. */
export type FlowEvent =
  | { type: "decision_recorded"; stage: number; approverId: string; decision: Decision }
  | { type: "stage_approved"; stage: number }
  | { type: "stage_rejected"; stage: number }
  | { type: "stage_opened"; stage: number }
  | { type: "stage_cancelled"; stage: number }
  | { type: "stage_expired"; stage: number }
  | { type: "status_changed"; from: RequestStatus; to: RequestStatus };

export interface Transition {
  state: FlowState;
  events: FlowEvent[];
}

function closedError(status: RequestStatus): DomainError {
  return new DomainError("request_closed", `The request is already ${status} and can no longer change.`);
}

function withStatus(previous: RequestStatus, next: FlowState, events: FlowEvent[]): Transition {
  if (next.status !== previous) events.push({ type: "status_changed", from: previous, to: next.status });
  return { state: next, events };
}

/**
 * Records `approverId`'s decision on the open stage. Refuses, in this order: a closed request
 * (request_closed), someone who is not an approver of the open stage (not_an_approver), and a
 * second decision by the same approver on the same stage (already_decided).
 */
export function decide(state: FlowState, approverId: string, decision: Decision): Transition {
  if (isTerminal(state.status) || state.currentStage === null) throw closedError(state.status);
  const stageIndex = state.stages.findIndex((s) => s.position === state.currentStage);
  const stage = state.stages[stageIndex];
  if (!stage) throw closedError(state.status);
  if (!stage.approverIds.includes(approverId)) {
    const decidedBefore = state.decisions.find((d) => d.approverId === approverId && d.stage < stage.position);
    const later = state.stages.find((s) => s.position > stage.position && s.approverIds.includes(approverId));
    const why = decidedBefore
      ? ` (they decided stage ${decidedBefore.stage}, which is complete)`
      : later
        ? ` (they approve stage ${later.position}, which is not open yet)`
        : "";
    throw new DomainError("not_an_approver", `This member is not an eligible approver of the current stage ${stage.position}${why}.`);
  }
  if (state.decisions.some((d) => d.stage === stage.position && d.approverId === approverId)) {
    throw new DomainError("already_decided", `This approver already decided on stage ${stage.position}.`);
  }

  const decisions = [...state.decisions, { stage: stage.position, approverId, decision }];
  const events: FlowEvent[] = [{ type: "decision_recorded", stage: stage.position, approverId, decision }];
  const stages = state.stages.map((s) => ({ ...s }));
  const current = must(stages[stageIndex], "the open stage");

  if (decision === "rejected") {
    current.status = "rejected";
    events.push({ type: "stage_rejected", stage: stage.position });
    return withStatus(state.status, { status: "rejected", currentStage: null, stages, decisions }, events);
  }

  const approvals = decisions.filter((d) => d.stage === stage.position && d.decision === "approved").length;
  if (approvals < approvalsNeeded(stage, stage.approverIds.length)) {
    return withStatus(state.status, { status: "in_progress", currentStage: stage.position, stages, decisions }, events);
  }

  current.status = "approved";
  events.push({ type: "stage_approved", stage: stage.position });
  const next = stages[stageIndex + 1];
  if (!next) return withStatus(state.status, { status: "approved", currentStage: null, stages, decisions }, events);
  next.status = "open";
  events.push({ type: "stage_opened", stage: next.position });
  return withStatus(state.status, { status: "in_progress", currentStage: next.position, stages, decisions }, events);
}

/** Cancels a pending or in-progress request; its open stage is marked cancelled. */
export function cancel(state: FlowState): Transition {
  if (isTerminal(state.status)) throw closedError(state.status);
  const events: FlowEvent[] = [];
  const stages = state.stages.map((s) => {
    if (s.status !== "open") return { ...s };
    events.push({ type: "stage_cancelled", stage: s.position });
    return { ...s, status: "cancelled" as const };
  });
  return withStatus(state.status, { ...state, status: "cancelled", currentStage: null, stages }, events);
}

/**
 * Closes the open stage without a decision (a deadline's auto-approve or auto-reject): approved
 * opens the next stage or approves the request; rejected rejects it. Same events as decide's.
 */
export function settleStage(state: FlowState, outcome: Decision): Transition {
  if (isTerminal(state.status) || state.currentStage === null) throw closedError(state.status);
  const stageIndex = state.stages.findIndex((s) => s.position === state.currentStage);
  const stages = state.stages.map((s) => ({ ...s }));
  const current = stages[stageIndex];
  if (!current) throw closedError(state.status);
  const events: FlowEvent[] = [];
  if (outcome === "rejected") {
    current.status = "rejected";
    events.push({ type: "stage_rejected", stage: current.position });
    return withStatus(state.status, { ...state, status: "rejected", currentStage: null, stages }, events);
  }
  current.status = "approved";
  events.push({ type: "stage_approved", stage: current.position });
  const next = stages[stageIndex + 1];
  if (!next) return withStatus(state.status, { ...state, status: "approved", currentStage: null, stages }, events);
  next.status = "open";
  events.push({ type: "stage_opened", stage: next.position });
  return withStatus(state.status, { ...state, status: "in_progress", currentStage: next.position, stages }, events);
}

/** A request whose ttlSeconds ran out undecided: terminal `expired`, its open stage marked expired. */
export function expire(state: FlowState): Transition {
  if (isTerminal(state.status)) throw closedError(state.status);
  const events: FlowEvent[] = [];
  const stages = state.stages.map((s) => {
    if (s.status !== "open") return { ...s };
    events.push({ type: "stage_expired", stage: s.position });
    return { ...s, status: "expired" as const };
  });
  return withStatus(state.status, { ...state, status: "expired", currentStage: null, stages }, events);
}
