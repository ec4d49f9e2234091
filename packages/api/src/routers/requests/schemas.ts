import { DECISIONS, REQUEST_STATUSES } from "@approvalmatrix/core";
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
  status: z.enum(["waiting", "open", "approved", "rejected"]),
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

export const requestIdInput = z.object({
  requestId: z.string().min(1).max(100).describe("The id returned when the request was created, e.g. req_abc123"),
});
