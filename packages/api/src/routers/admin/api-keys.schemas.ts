import { API_KEY_SCOPES, KEY_RATE_LIMIT_BUCKETS } from "@approvalmatrix/core";
import { z } from "zod";
import { REROLL_GRACE_PERIODS } from "../../services/api-keys/api-keys";

const bucketLimits = z.object(
  Object.fromEntries(KEY_RATE_LIMIT_BUCKETS.map((b) => [b, z.number().int()])) as Record<
    (typeof KEY_RATE_LIMIT_BUCKETS)[number],
    z.ZodNumber
  >,
);

const limitValue = z.number().int().min(1).max(1_000_000);

const bucketLimitsInput = z
  .strictObject(
    Object.fromEntries(KEY_RATE_LIMIT_BUCKETS.map((b) => [b, limitValue.optional()])) as Record<
      (typeof KEY_RATE_LIMIT_BUCKETS)[number],
      z.ZodOptional<typeof limitValue>
    >,
  )
  .describe("Calls per minute per bucket: create (POST /v1/requests, default 60), status (reads, 120), write (other writes, 60).");

export const apiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  start: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  rateLimitPerMinute: z.number().int().nullable().describe("One limit for every bucket, when set (per-bucket limits win)."),
  rateLimits: bucketLimits.describe("The limit per minute applied to each of the key's buckets."),
  allowAdHoc: z.boolean().describe("Under the tenant's 'selected keys' policy: may address an approver directly."),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  disabledAt: z.iso.datetime().nullable(),
  replacedById: z.string().nullable().describe("Set by a reroll: the new key. This one works until expiresAt."),
  consent: z
    .object({ userName: z.string(), email: z.string(), agentName: z.string(), bootstrapId: z.string() })
    .nullable()
    .describe("For keys minted by agent bootstrap: who consented, for which agent."),
  status: z.enum(["active", "disabled", "expired", "revoked"]),
  expiresSoon: z.boolean().describe("Active and expiring within 7 days."),
});

const futureDate = z.iso.datetime().refine((v) => Date.parse(v) > Date.now(), "must be in the future");

export const apiKeyCreateInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe("Unique among the tenant's keys that are not revoked, in any letter case."),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
  expiresAt: futureDate.optional(),
  rateLimitPerMinute: limitValue.optional(),
  rateLimits: bucketLimitsInput.optional(),
  allowAdHoc: z.boolean().optional(),
});

export const apiKeyCreated = apiKeyView.extend({ key: z.string().describe("The full key. Shown once: it cannot be read again.") });

export const apiKeyIdInput = z.strictObject({ id: z.string().min(1).max(100) });

export const apiKeyUpdateInput = z.strictObject({
  id: z.string().min(1).max(100),
  name: z.string().trim().min(1).max(100).optional(),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).optional(),
  expiresAt: futureDate.nullable().optional().describe("null removes the expiry."),
  rateLimitPerMinute: limitValue.nullable().optional(),
  rateLimits: bucketLimitsInput.optional(),
  allowAdHoc: z.boolean().optional(),
});

export const apiKeyRerollInput = z.strictObject({
  id: z.string().min(1).max(100),
  grace: z
    .enum(Object.keys(REROLL_GRACE_PERIODS) as [keyof typeof REROLL_GRACE_PERIODS, ...(keyof typeof REROLL_GRACE_PERIODS)[]])
    .default("none")
    .describe("How long the old key keeps working: none, 1h, 24h or 7d. Then it fails everywhere at once."),
});

export const apiKeyRerolled = z.object({ key: apiKeyCreated, previous: apiKeyView });

export const apiKeyUsageOutput = z.object({
  keyId: z.string(),
  days: z.array(z.object({ day: z.iso.date(), count: z.number().int() })).describe("Calls per UTC day, oldest first, the last 30 days."),
});
