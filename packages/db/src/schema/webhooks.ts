import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

/**
 * A tenant's webhook receivers. The signing secret must be readable to sign, so it is stored
 * encrypted (core/webhooks.ts: AES-256-GCM under a key derived from API_KEY_HASH_SECRET); during a
 * rotation the previous secret signs too until `previous_secret_expires_at`.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    /** Event types delivered; empty means every type. */
    eventTypes: text("event_types")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    status: text("status").$type<"enabled" | "disabled">().notNull().default("enabled"),
    /** Why it is disabled: by whom, 410 Gone, or failing for 5 days. */
    disabledReason: text("disabled_reason"),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    secretEncrypted: text("secret_encrypted").notNull(),
    secretStart: text("secret_start").notNull(),
    previousSecretEncrypted: text("previous_secret_encrypted"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
    /** Start of the current run of failed attempts (null after a success): 5 days of it disables. */
    failingSince: timestamp("failing_since", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_endpoints_tenant_idx").on(t.tenantId, t.createdAt)],
);

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * One message to one endpoint: an event (at most one delivery per event and endpoint, which the
 * unique index enforces whichever instance fans out) or a test ping. The exact body is kept so a
 * retry or a resend sends the same bytes under the same `webhook-id`.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    /** The event delivered; null for a test ping. */
    eventId: text("event_id"),
    eventType: text("event_type").notNull(),
    /** The `webhook-id` header: the event id (or the ping's id), the same on every attempt. */
    webhookId: text("webhook_id").notNull(),
    body: text("body").notNull(),
    status: text("status").$type<WebhookDeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastResponseStatus: integer("last_response_status"),
    lastError: text("last_error"),
    /**
     * When a pending delivery is next tried: the rows are the queue. A sender's claim pushes it a
     * lease ahead, so an attempt whose sender died falls due again, under the same `webhook-id`.
     */
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event_unique").on(t.endpointId, t.eventId),
    // The delivery log of an endpoint, newest first; replay scans its failed ones by time.
    index("webhook_deliveries_endpoint_created_idx").on(t.endpointId, t.createdAt.desc(), t.id.desc()),
    index("webhook_deliveries_endpoint_status_idx").on(t.endpointId, t.status, t.createdAt),
    // The delivery queue: the sender claims pending deliveries by when they fall due.
    index("webhook_deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);

/** Each HTTP attempt of a delivery: what the receiver answered (status, first KB) and how fast. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull(),
    responseStatus: integer("response_status"),
    /** The first KB of the response body. */
    responseBody: text("response_body"),
    /** A failure without a response: timeout, refused address, connection error. */
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attemptedAt)],
);
