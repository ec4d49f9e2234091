import { EVENT_TYPES } from "@approvalmatrix/core";
import { z } from "zod";

const isoDateTime = z.iso.datetime();
export const eventType = z.enum(EVENT_TYPES);

export const endpointIdInput = z.strictObject({ endpointId: z.string().min(1).max(100) });

export const webhookEndpointView = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(eventType).describe("The event types delivered; empty: every type."),
  status: z.enum(["enabled", "disabled"]),
  disabledReason: z.string().nullable().describe("Why it is disabled: by a person, `410 Gone`, or failing for 5 days."),
  disabledAt: isoDateTime.nullable(),
  secretStart: z.string().describe("The start of the signing secret, to tell secrets apart (the secret is shown once)."),
  previousSecretExpiresAt: isoDateTime.nullable().describe("During a rotation: until when the previous secret signs too."),
  failingSince: isoDateTime.nullable().describe("Since when every attempt failed; after 5 days the endpoint is disabled."),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});

export const webhookEndpointWithSecret = webhookEndpointView.extend({
  secret: z.string().describe("The signing secret (whsec_…). Shown once: it cannot be read again."),
});

const url = z.string().trim().min(1).max(2000).describe("Where to POST the events: https (http and loopback only outside production).");
const description = z.string().trim().max(500);
const eventTypes = z.array(eventType).max(EVENT_TYPES.length).describe("Only these event types; empty or absent: every type.");

export const createEndpointInput = z.strictObject({ url, description: description.optional(), eventTypes: eventTypes.optional() });

export const updateEndpointInput = z.strictObject({
  endpointId: z.string().min(1).max(100),
  url: url.optional(),
  description: description.optional(),
  eventTypes: eventTypes.optional(),
});

export const disableEndpointInput = z.strictObject({
  endpointId: z.string().min(1).max(100),
  reason: z.string().trim().max(500).optional(),
});

export const rotateSecretInput = z.strictObject({
  endpointId: z.string().min(1).max(100),
  previousSecretExpiresInSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional()
    .describe("How long the old secret keeps signing beside the new one (default 86400, 24 h; 0 stops it at once)."),
});

export const webhookAttemptView = z.object({
  attemptedAt: isoDateTime,
  responseStatus: z.number().int().nullable(),
  responseBody: z.string().nullable().describe("The first KB of the receiver's answer."),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});

export const webhookDeliveryView = z.object({
  id: z.string(),
  endpointId: z.string(),
  eventId: z.string().nullable().describe("Null for a test ping."),
  eventType: z.string(),
  webhookId: z.string().describe("The webhook-id header: the same on every attempt, for receivers to dedupe."),
  status: z.enum(["pending", "succeeded", "failed"]),
  attempts: z.number().int(),
  lastResponseStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  attemptLog: z.array(webhookAttemptView),
});

export const listDeliveriesInput = z.strictObject({
  endpointId: z.string().min(1).max(100),
  status: z.enum(["pending", "succeeded", "failed"]).optional(),
  limit: z.number().int().min(1).max(100).default(20),
  startingAfter: z.string().min(1).max(100).optional().describe("A delivery id from the previous page (its nextCursor)."),
});

export const deliveryPage = z.object({
  data: z.array(webhookDeliveryView).describe("Newest first."),
  hasMore: z.boolean(),
  nextCursor: z.string().optional(),
});

export const resendInput = z.strictObject({ endpointId: z.string().min(1).max(100), deliveryId: z.string().min(1).max(100) });
export const replayInput = z.strictObject({
  endpointId: z.string().min(1).max(100),
  since: isoDateTime.describe("Failed deliveries created at or after this instant are sent again."),
});
export const replayOutput = z.object({ replayed: z.number().int() });
export const deliveryQueueOutput = z.object({
  pending: z.number().int(),
  due: z.number().int(),
  oldestDueAgeMs: z.number().nullable(),
});
export const pingOutput = z.object({ success: z.boolean(), delivery: webhookDeliveryView });
export const deletedOutput = z.object({ id: z.string(), deleted: z.literal(true) });

export const listEventsInput = z.strictObject({
  type: eventType.optional(),
  createdAfter: isoDateTime.optional().describe("Only events created at or after this instant (inclusive)."),
  createdBefore: isoDateTime.optional().describe("Only events created before this instant (exclusive)."),
  limit: z.number().int().min(1).max(100).default(20).describe("Page size, 1 to 100 (default 20)."),
  startingAfter: z.string().min(1).max(100).optional().describe("An event id from the previous page (its nextCursor)."),
});

export const eventView = z.object({
  id: z.string(),
  type: eventType,
  createdAt: isoDateTime,
  apiVersion: z.string(),
  data: z.record(z.string(), z.unknown()),
});

export const eventPage = z.object({
  data: z.array(eventView).describe("Newest first."),
  hasMore: z.boolean(),
  nextCursor: z.string().optional().describe("Pass as startingAfter to get the next page; present when hasMore."),
});
