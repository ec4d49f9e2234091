import { AUDIT_ACTOR_TYPES } from "@approvalmatrix/core";
import { z } from "zod";

export const auditView = z.object({
  id: z.string(),
  actorType: z.string(),
  actorId: z.string(),
  actorName: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
});

export const auditListInput = z.object({
  action: z.string().trim().max(100).optional().describe("Prefix, e.g. api_key or member.imported."),
  actorType: z.enum(AUDIT_ACTOR_TYPES).optional(),
  target: z.string().trim().max(200).optional().describe("A target id, e.g. key_… or mat_…"),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  limit: z.number().int().min(1).max(200).default(50),
  before: z.string().optional().describe("The previous page's nextCursor."),
});

export const auditPage = z.object({ entries: z.array(auditView), nextCursor: z.string().nullable() });
