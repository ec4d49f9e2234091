/**
 * The events of a request's life, built from the state machine's FlowEvents. Payloads are
 * "thin-plus": the fields integrations always need to act without a second call, and `url` for
 * the full resource (GET /v1/requests/{id}).
 */
import { type FlowEvent, type RequestStatus, terminalEventType } from "@approvalmatrix/core";
import type { ActorView } from "../actor";
import type { NewEvent } from "./emit";

export interface RequestEventSubject {
  tenantId: string;
  requestId: string;
  requestType: string;
  title: string;
  amount: number | null;
  currency: string | null;
  submitterRef: string;
  status: RequestStatus;
  totalStages: number;
  /** Stage names by position. */
  stageNames: ReadonlyMap<number, string>;
}

export interface RequestEventData {
  requestId: string;
  tenantId: string;
  requestType: string;
  title: string;
  amount: number | null;
  currency: string | null;
  submitterRef: string;
  status: RequestStatus;
  stage: { position: number; name: string } | null;
  totalStages: number;
  url: string;
  [extra: string]: unknown;
}

export function requestEventData(
  subject: RequestEventSubject,
  stage: number | null,
  extra: Record<string, unknown> = {},
): RequestEventData {
  return {
    requestId: subject.requestId,
    tenantId: subject.tenantId,
    requestType: subject.requestType,
    title: subject.title,
    amount: subject.amount,
    currency: subject.currency,
    submitterRef: subject.submitterRef,
    status: subject.status,
    stage: stage === null ? null : { position: stage, name: subject.stageNames.get(stage) ?? `Stage ${stage}` },
    totalStages: subject.totalStages,
    url: `/v1/requests/${subject.requestId}`,
    ...extra,
  };
}

/** What a recorded decision adds to its event. */
export interface DecisionDetail {
  approverRef: string;
  approverName: string;
  comment: string | null;
  actor: ActorView;
  /** A delegate who decided for the approver (also the actor): "Bob Lee for Jane Smith". */
  delegate?: { ref: string; name: string };
}

/**
 * Events for one transition. `subject.status` is the status after it. A stage that merely got
 * cancelled with its request has no event of its own: `approval_request.cancelled` says it.
 */
export function requestTransitionEvents(
  subject: RequestEventSubject,
  flowEvents: readonly FlowEvent[],
  detail: { decision?: DecisionDetail; cancelReason?: string } = {},
): NewEvent[] {
  const out: NewEvent[] = [];
  for (const event of flowEvents) {
    switch (event.type) {
      case "decision_recorded":
        out.push({
          type: "approval_request.decision_recorded",
          data: requestEventData(subject, event.stage, {
            decision: { decision: event.decision, ...(detail.decision ?? {}) },
          }),
        });
        break;
      case "stage_approved":
        out.push({ type: "approval_request.stage_approved", data: requestEventData(subject, event.stage) });
        break;
      case "stage_rejected":
        out.push({ type: "approval_request.stage_rejected", data: requestEventData(subject, event.stage) });
        break;
      case "stage_opened":
        out.push({ type: "approval_request.stage_opened", data: requestEventData(subject, event.stage) });
        break;
      case "stage_cancelled":
      case "stage_expired":
        break;
      case "status_changed": {
        const type = terminalEventType(event.to);
        if (type) {
          const extra = event.to === "cancelled" && detail.cancelReason !== undefined ? { reason: detail.cancelReason } : {};
          out.push({ type, data: requestEventData(subject, null, extra) });
        }
        break;
      }
    }
  }
  return out;
}

/** The events of a fresh submission: created, then its first stage opened. */
export function submissionEvents(subject: RequestEventSubject, firstStage: number): NewEvent[] {
  return [
    { type: "approval_request.created", data: requestEventData(subject, firstStage) },
    { type: "approval_request.stage_opened", data: requestEventData(subject, firstStage) },
  ];
}
