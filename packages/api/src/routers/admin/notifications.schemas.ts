import { DECISIONS, EMAIL_MODES, MESSAGE_KINDS, MESSAGE_STATUSES } from "@approvalmatrix/core";
import { z } from "zod";

export const outboxInput = z.object({
  limit: z.number().int().min(1).max(100).default(25),
  before: z.string().optional().describe("The previous page's nextCursor."),
});

export const outboxMessage = z.object({
  id: z.string(),
  kind: z.enum(MESSAGE_KINDS),
  status: z.enum(MESSAGE_STATUSES),
  to: z.string().nullable(),
  recipientName: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  requestId: z.string().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
});

export const outboxPage = z.object({
  messages: z.array(outboxMessage),
  nextCursor: z.string().nullable(),
  delivery: z.enum(["smtp", "outbox"]).describe("smtp: sent through SMTP_URL; outbox: kept here (no SMTP_URL)."),
});

export const notificationSettings = z.object({ emailEnabled: z.boolean() });
export const emailMode = z.enum(EMAIL_MODES);
export const memberEmailModeInput = z.object({ memberId: z.string().min(1), emailMode });
export const memberEmailMode = z.object({ memberId: z.string(), emailMode });

export const decisionLinkInput = z.object({ token: z.string().min(1).max(200) });
export const decideByLinkInput = decisionLinkInput.extend({
  decision: z.enum(DECISIONS),
  comment: z.string().trim().max(2000).nullish(),
});
export const decisionLinkPage = z.object({
  state: z.enum(["usable", "used", "expired", "closed", "superseded", "already_decided", "unknown"]),
  message: z.string().nullable(),
  tenantName: z.string().nullable(),
  approverName: z.string().nullable(),
  request: z
    .object({
      title: z.string(),
      requestType: z.string(),
      amount: z.number().nullable(),
      currency: z.string().nullable(),
      submitterName: z.string(),
      matrixName: z.string(),
      status: z.string(),
      stage: z.object({ position: z.number().int(), name: z.string(), total: z.number().int() }).nullable(),
    })
    .nullable(),
  decided: z.enum(DECISIONS).optional(),
});
