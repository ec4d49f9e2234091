/**
 * The shapes of a request as callers see it (one request, a page of them, the list and inbox
 * filters): shared by the routers, which validate and document them, and the services, which build
 * them. Below both, so no arrow runs from a service back up to a router.
 */
import { AUDIT_ACTOR_TYPES, DECISIONS, REQUEST_STATUSES, STAGE_RULES, STAGE_STATUSES } from "@approvalmatrix/core";
import { z } from "zod";

/** An externalRef as callers send it. */
export const externalRef = z.string().trim().min(1).max(200);

export const requestStatus = z.enum(REQUEST_STATUSES);
export const isoDateTime = z.iso.datetime();

export const memberRef = z.object({ ref: z.string().describe("externalRef"), name: z.string() });

export const plannedStage = z.object({
  stage: z.number().int(),
  name: z.string(),
  rule: z.enum(STAGE_RULES),
  quorum: z.number().int().nullable(),
  approvers: z.array(memberRef),
});

export const decisionView = z.object({
  stage: z.number().int(),
  decidedBy: z.string().describe("The approver's name."),
  decidedByRef: z.string().describe("The approver's externalRef."),
  decision: z.enum(DECISIONS),
  comment: z.string().nullable(),
  actor: z
    .object({
      type: z.enum(AUDIT_ACTOR_TYPES),
      id: z.string(),
      name: z.string(),
    })
    .describe(
      "Who recorded the decision: the API key, signed-in user, service token or e-mail link that pressed the button, or the delegate (type `delegate`) sitting in for the approver. The decision is the approver's (decidedBy); the actor may act for them.",
    ),
  decidedAt: isoDateTime,
  onBehalfOf: memberRef
    .nullable()
    .describe(
      "When a delegate decided: the approver they stood in for, who stays the approver of record (decidedBy). Shown as “Bob Lee for Jane Smith”.",
    ),
  delegate: memberRef
    .nullable()
    .describe("When a delegate decided for the approver of record: the delegate (also the actor, of type `delegate`)."),
});

export const stageView = plannedStage.extend({
  status: z.enum(STAGE_STATUSES).describe("`cancelled` / `expired`: the stage that was open when the request was cancelled or expired."),
  pendingApprovers: z.array(memberRef),
  dueAt: isoDateTime.nullable().describe("When the stage's deadline runs out (set when it opens, if its matrix stage has one)."),
  delegations: z
    .array(z.object({ delegate: memberRef, for: memberRef }))
    .describe("Delegates sitting in for approvers of this stage (out of office)."),
});

export const requestView = z.object({
  requestId: z.string(),
  status: requestStatus,
  title: z.string(),
  submitterRef: z.string(),
  requestType: z.string(),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  matrixId: z.string().nullable().describe("Null for an ad-hoc request (addressed to one approver)."),
  matrixName: z.string(),
  currentStage: z.number().int().nullable(),
  totalStages: z.number().int(),
  decisions: z.array(decisionView),
  stages: z.array(stageView),
  pendingApprovers: z.array(memberRef).describe("Who can still decide the current stage."),
  cancelReason: z.string().nullable(),
  expiresAt: isoDateTime.nullable().describe("From ttlSeconds: undecided at this time, the request becomes `expired`."),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type RequestView = z.infer<typeof requestView>;

/** One request in a list: the status fields, without stages and decisions (GET one for those). */
export const requestSummary = requestView.pick({
  requestId: true,
  status: true,
  title: true,
  submitterRef: true,
  requestType: true,
  amount: true,
  currency: true,
  matrixId: true,
  matrixName: true,
  currentStage: true,
  totalStages: true,
  expiresAt: true,
  createdAt: true,
  updatedAt: true,
});

const pageFields = {
  // The REST bridge coerces query-string numbers itself; tRPC callers send a number.
  limit: z.number().int().min(1).max(100).default(20).describe("Page size, 1 to 100 (default 20)."),
  startingAfter: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe("A requestId from the previous page (its nextCursor): the page starts right after it."),
};

export const listRequestsInput = z.strictObject({
  status: requestStatus.optional(),
  requestType: z.string().trim().min(1).max(100).optional(),
  submitterRef: externalRef.optional().describe("Only requests submitted by this member (externalRef)."),
  createdAfter: isoDateTime.optional().describe("Only requests created at or after this instant (inclusive)."),
  createdBefore: isoDateTime.optional().describe("Only requests created before this instant (exclusive)."),
  updatedAfter: isoDateTime
    .optional()
    .describe(
      "Only requests changed at or after this instant (inclusive): submitted, decided, advanced or cancelled. A system that was down catches up with it (or with GET /v1/events).",
    ),
  ...pageFields,
});
export type ListRequestsInput = z.infer<typeof listRequestsInput>;

export const inboxInput = z.strictObject({
  approverRef: externalRef.describe("The member whose inbox to read (externalRef)."),
  ...pageFields,
});
export type InboxInput = z.infer<typeof inboxInput>;

export const requestPage = z.object({
  data: z.array(requestSummary).describe("Newest first."),
  hasMore: z.boolean().describe("True when another page follows."),
  nextCursor: z.string().optional().describe("Pass as startingAfter to get the next page; present when hasMore."),
});
export type RequestPage = z.infer<typeof requestPage>;
