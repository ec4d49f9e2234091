import { DECISIONS, MAX_TTL_SECONDS, MIN_TTL_SECONDS } from "@approvalmatrix/core";
import { z } from "zod";
import { externalRef, isoDateTime, plannedStage, requestStatus } from "../../contracts/requests";

export const submitRequestInput = z.strictObject({
  submitterRef: externalRef
    .optional()
    .describe(
      "The submitting member's externalRef (your system's employee id). Required unless the request names its approver; then it defaults to that approver.",
    ),
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
  approverRef: externalRef
    .optional()
    .describe(
      "Address the request to this member (externalRef) instead of routing it by a matrix: one ad-hoc stage. A tenant setting allows it.",
    ),
  approverEmail: z.email().max(320).optional().describe("Like approverRef, naming the member by email."),
  ttlSeconds: z
    .number()
    .int()
    .min(MIN_TTL_SECONDS)
    .max(MAX_TTL_SECONDS)
    .optional()
    .describe("Undecided after this many seconds, the request becomes `expired` (terminal). 60 to 2 592 000."),
});

export const createdRequestOutput = z.object({
  requestId: z.string(),
  status: requestStatus,
  matrixId: z.string().nullable().describe("Null for an ad-hoc request (addressed to one approver)."),
  matrixName: z.string(),
  currentStage: z.number().int().nullable(),
  totalStages: z.number().int(),
  expiresAt: isoDateTime.nullable().describe("From ttlSeconds: undecided at this time, the request becomes `expired`."),
  createdAt: isoDateTime,
});

export const dryRunOutput = z.object({
  requestId: z.null(),
  status: z.literal("pending"),
  matrixId: z.string().nullable(),
  matrixName: z.string(),
  dryRun: z.literal(true),
  createdAt: z.null(),
  totalStages: z.number().int(),
  stages: z.array(plannedStage),
});

export const requestIdInput = z.strictObject({
  requestId: z.string().min(1).max(100).describe("The id returned when the request was created, e.g. req_abc123"),
});

const requestIdParam = requestIdInput.shape.requestId;

export const decideInput = z.strictObject({
  requestId: requestIdParam,
  approverRef: externalRef
    .optional()
    .describe(
      "The deciding member's externalRef; they must be an approver of the current stage. Required with an API key; a service token decides for its X-Approver-Email approver.",
    ),
  decision: z.enum(DECISIONS),
  comment: z.string().trim().max(2000).nullish().describe("Shown with the decision; up to 2000 characters."),
});

export const cancelInput = z.strictObject({
  requestId: requestIdParam,
  reason: z.string().trim().min(1).max(1000).describe("Why the request is withdrawn; shown as cancelReason."),
});
