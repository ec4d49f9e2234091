/**
 * The catalogue of events the platform emits (webhooks, GET /v1/events). Names are
 * `<group>.<event>`; integrators switch on them, so a name never changes meaning once shipped.
 * Later work adds its types here (reminders, escalations, expiry, webhook endpoint health).
 */
export const EVENT_TYPES = [
  "approval_request.created",
  "approval_request.stage_opened",
  "approval_request.decision_recorded",
  "approval_request.stage_approved",
  "approval_request.stage_rejected",
  "approval_request.approved",
  "approval_request.rejected",
  "approval_request.cancelled",
  "approval_request.expired",
  "approval_request.reminder_sent",
  "approval_request.escalated",
  "approval_request.reassigned",
  "member.created",
  "member.updated",
  "member.deactivated",
  "api_key.created",
  "api_key.revoked",
  "webhook_endpoint.disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Version of the envelope and payload shapes; sent with every event. */
export const EVENT_API_VERSION = "2026-11-01";

export const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  "approval_request.created": "A request was submitted and routed to its matrix; stage 1 is open.",
  "approval_request.stage_opened": "A stage opened for its approvers (stage 1 at submission, later stages as earlier ones pass).",
  "approval_request.decision_recorded": "An approver approved or rejected the open stage.",
  "approval_request.stage_approved": "A stage collected the approvals its rule needs.",
  "approval_request.stage_rejected": "A stage was rejected; the request is rejected with it.",
  "approval_request.approved": "The last stage was approved: the request is approved (terminal).",
  "approval_request.rejected": "The request was rejected (terminal).",
  "approval_request.cancelled": "The request was cancelled (terminal).",
  "approval_request.expired": "The request's time to live ran out undecided (terminal).",
  "approval_request.reminder_sent": "The open stage's approvers were reminded of its deadline.",
  "approval_request.escalated": "The open stage passed its deadline and was escalated to other approvers.",
  "approval_request.reassigned": "An open stage's approver was replaced (delegation or an admin's reassignment).",
  "member.created": "A member was added (admin app, API, CSV import or directory sync).",
  "member.updated": "A member's fields changed.",
  "member.deactivated": "A member was deactivated: they no longer receive or decide requests.",
  "api_key.created": "An API key was created (its secret is never in the event).",
  "api_key.revoked": "An API key was revoked and stopped working.",
  "webhook_endpoint.disabled": "A webhook endpoint was disabled (410 Gone, or failing for 5 days).",
};

/** The request status a flow's `status_changed` event maps to, as an event type. */
export function terminalEventType(status: string): EventType | null {
  if (status === "approved") return "approval_request.approved";
  if (status === "rejected") return "approval_request.rejected";
  if (status === "cancelled") return "approval_request.cancelled";
  if (status === "expired") return "approval_request.expired";
  return null;
}
