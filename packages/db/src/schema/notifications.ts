import { EMAIL_MODES, type EmailMode, MESSAGE_KINDS, MESSAGE_STATUSES } from "@approvalmatrix/core";
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { members } from "./members";
import { requests } from "./requests";
import { tenants } from "./tenants";

/**
 * The e-mail outbox: one row per message to send, written in the same transaction (or statement)
 * as the change that caused it, and sent by the worker (services/notifications/send-messages.ts).
 * The body is rendered when the message is sent (or shown in the Outbox page), from `data` and the
 * request's snapshot, so no one-click token is ever stored in clear.
 */
export const messages = pgTable(
  "messages",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** Who it is for; the address is read from the member when the message is sent. */
    memberId: text("member_id")
      .notNull()
      .references(() => members.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: MESSAGE_KINDS }).notNull(),
    requestId: text("request_id").references(() => requests.id, { onDelete: "cascade" }),
    stage: integer("stage"),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    status: text("status", { enum: MESSAGE_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** A sender owns the row until then (claimed with FOR UPDATE SKIP LOCKED); a crashed sender's claim lapses. */
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    toAddress: text("to_address"),
    subject: text("subject"),
    lastError: text("last_error"),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    /** The digest message that carried this one (status `digested`). */
    digestId: text("digest_id"),
    /** At most one live message per key (a member's digest of one day: `digest:<member>:<day>`). */
    dedupeKey: text("dedupe_key"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The sender's queue: only rows still to send are in it.
    index("messages_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index("messages_tenant_created_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index("messages_digest_idx")
      .on(t.memberId)
      .where(sql`${t.status} = 'digest'`),
    uniqueIndex("messages_dedupe_key_unique")
      .on(t.dedupeKey)
      .where(sql`${t.dedupeKey} is not null`),
  ],
);

/**
 * A one-click decision link: one approver, one stage of one request. The token in the e-mail is an
 * HMAC of the link's id under the server secret; only its SHA-256 is stored.
 */
export const decisionLinks = pgTable(
  "decision_links",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    requestId: text("request_id")
      .notNull()
      .references(() => requests.id, { onDelete: "cascade" }),
    stage: integer("stage").notNull(),
    approverId: text("approver_id")
      .notNull()
      .references(() => members.id, { onDelete: "cascade" }),
    messageId: text("message_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("decision_links_token_hash_unique").on(t.tokenHash)],
);

/** How a member wants to hear about approvals (absent row: immediate). */
export const memberNotificationSettings = pgTable("member_notification_settings", {
  memberId: text("member_id")
    .primaryKey()
    .references(() => members.id, { onDelete: "cascade" }),
  tenantId: text("tenant_id")
    .notNull()
    .references(() => tenants.id, { onDelete: "cascade" }),
  emailMode: text("email_mode", { enum: EMAIL_MODES }).$type<EmailMode>().notNull().default("immediate"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** The tenant-wide switch (absent row: e-mail on). */
export const tenantNotificationSettings = pgTable("tenant_notification_settings", {
  tenantId: text("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  emailEnabled: boolean("email_enabled").notNull().default(true),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
