import { DECISIONS, REQUEST_STATUSES, STAGE_STATUSES } from "@approvalmatrix/core";
import { z } from "zod";

const ref = z.string().trim().min(1).max(200);

export const submitRequestInput = z.strictObject({
  submitterRef: ref.describe("The submitting member's externalRef (your system's employee id)."),
  requestType: z.string().trim().min(1).max(100).describe("Routes the request, e.g. purchase_order."),
  title: z.string().trim().min(1).max(500),
  amount: z.number().min(0).max(1e15).nullish().describe("Compared against each matrix's amount band."),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, "must be a three-letter ISO 4217 code")
    .nullish()
    .describe("ISO 4217 code; defaults to the tenant's currency when an amount is sent."),
  metadata: z
    .record(z.string().min(1).max(100), z.unknown())
    .optional()
    .describe("Free-form attributes; matrix conditions test them (department falls back to the submitter's)."),
});
export type SubmitRequestInput = z.infer<typeof submitRequestInput>;

export const requestStatus = z.enum(REQUEST_STATUSES);
const isoDateTime = z.iso.datetime();

export const createdRequestOutput = z.object({
  requestId: z.string(),
  status: requestStatus,
  matrixId: z.string(),
  matrixName: z.string(),
  currentStage: z.number().int().nullable(),
  totalStages: z.number().int(),
  createdAt: isoDateTime,
});

const memberRef = z.object({ ref: z.string().describe("externalRef"), name: z.string() });

export const plannedStage = z.object({
  stage: z.number().int(),
  name: z.string(),
  rule: z.enum(["any", "all", "quorum"]),
  quorum: z.number().int().nullable(),
  approvers: z.array(memberRef),
});

export const dryRunOutput = z.object({
  requestId: z.null(),
  status: z.literal("pending"),
  matrixId: z.string(),
  matrixName: z.string(),
  dryRun: z.literal(true),
  createdAt: z.null(),
  totalStages: z.number().int(),
  stages: z.array(plannedStage),
});

export const decisionView = z.object({
  stage: z.number().int(),
  decidedBy: z.string().describe("The approver's name."),
  decidedByRef: z.string().describe("The approver's externalRef."),
  decision: z.enum(DECISIONS),
  comment: z.string().nullable(),
  decidedAt: isoDateTime,
});

export const stageView = plannedStage.extend({
  status: z.enum(STAGE_STATUSES).describe("`cancelled`: the stage that was open when the request was cancelled."),
  pendingApprovers: z.array(memberRef),
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
  matrixId: z.string(),
  matrixName: z.string(),
  currentStage: z.number().int().nullable(),
  totalStages: z.number().int(),
  decisions: z.array(decisionView),
  stages: z.array(stageView),
  pendingApprovers: z.array(memberRef).describe("Who can still decide the current stage."),
  cancelReason: z.string().nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type RequestView = z.infer<typeof requestView>;

export const requestIdInput = z.strictObject({
  requestId: z.string().min(1).max(100).describe("The id returned when the request was created, e.g. req_abc123"),
});

const requestIdParam = requestIdInput.shape.requestId;

export const decideInput = z.strictObject({
  requestId: requestIdParam,
  approverRef: ref.describe("The deciding member's externalRef; they must be an approver of the current stage."),
  decision: z.enum(DECISIONS),
  comment: z.string().trim().max(2000).nullish().describe("Shown with the decision; up to 2000 characters."),
});

export const cancelInput = z.strictObject({
  requestId: requestIdParam,
  reason: z.string().trim().min(1).max(1000).describe("Why the request is withdrawn; shown as cancelReason."),
});

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
  submitterRef: ref.optional().describe("Only requests submitted by this member (externalRef)."),
  createdAfter: isoDateTime.optional().describe("Only requests created at or after this instant (inclusive)."),
  createdBefore: isoDateTime.optional().describe("Only requests created before this instant (exclusive)."),
  ...pageFields,
});
export type ListRequestsInput = z.infer<typeof listRequestsInput>;

export const inboxInput = z.strictObject({
  approverRef: ref.describe("The member whose inbox to read (externalRef)."),
  ...pageFields,
});
export type InboxInput = z.infer<typeof inboxInput>;

export const requestPage = z.object({
  data: z.array(requestSummary).describe("Newest first."),
  hasMore: z.boolean().describe("True when another page follows."),
  nextCursor: z.string().optional().describe("Pass as startingAfter to get the next page; present when hasMore."),
});
export type RequestPage = z.infer<typeof requestPage>;
