import { DECISIONS, REQUEST_STATUSES } from "@approvalmatrix/core";
import { z } from "zod";
import { requestView } from "../../contracts/requests";

export const adminRequestSummary = z.object({
  requestId: z.string(),
  title: z.string(),
  requestType: z.string(),
  status: z.enum(REQUEST_STATUSES),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  submitterRef: z.string(),
  submitterName: z.string(),
  matrixName: z.string(),
  currentStage: z.number().int().nullable(),
  totalStages: z.number().int(),
  createdAt: z.iso.datetime(),
  dueAt: z.iso.datetime().nullable().describe("The open stage's deadline, if it has one."),
});

export const adminRequestListInput = z.object({
  status: z.enum(REQUEST_STATUSES).optional(),
  requestType: z.string().trim().max(100).optional(),
  submitterRef: z.string().trim().max(200).optional(),
  search: z.string().trim().max(200).optional(),
  limit: z.number().int().min(1).max(100).default(25),
  before: z.string().optional().describe("The previous page's nextCursor."),
});

export const adminRequestPage = z.object({ requests: z.array(adminRequestSummary), nextCursor: z.string().nullable() });

export const adminRequestIdInput = z.object({ requestId: z.string().min(1) });

export const adminRequestDetail = requestView.extend({ submitterName: z.string(), canDecide: z.boolean() });

export const adminInboxOutput = z.object({ requests: z.array(adminRequestSummary), linkedMember: z.boolean() });

export const adminDecideInput = z.object({
  requestId: z.string().min(1),
  decision: z.enum(DECISIONS),
  comment: z.string().trim().max(2000).nullish(),
});
