import { API_KEY_SCOPES } from "@approvalmatrix/core";
import { z } from "zod";

export const apiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  start: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  rateLimitPerMinute: z.number().int(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  status: z.enum(["active", "expired", "revoked"]),
});

export const apiKeyCreateInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe("Unique among the tenant's keys that are not revoked, in any letter case."),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
  expiresAt: z.iso
    .datetime()
    .optional()
    .refine((v) => !v || Date.parse(v) > Date.now(), "must be in the future"),
  rateLimitPerMinute: z.number().int().min(1).max(1_000_000).optional(),
});

export const apiKeyCreated = apiKeyView.extend({ key: z.string().describe("The full key. Shown once: it cannot be read again.") });

export const apiKeyIdInput = z.object({ id: z.string().min(1) });
