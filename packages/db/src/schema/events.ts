import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

/**
 * The transactional outbox: every change of a request, member or key writes its event here in the
 * same statement or transaction as the change, so a committed change always has its event and a
 * rolled-back one never does. Webhook fan-out and GET /v1/events read from here.
 */
export const events = pgTable(
  "events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    apiVersion: text("api_version").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    /** Null until the dispatcher has fanned the event out to the tenant's webhook endpoints. */
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true }),
    /**
     * Insertion order: the events of one transaction share created_at, and their order (decision,
     * stage approved, next stage opened) must survive.
     */
    seq: bigint("seq", { mode: "number" }).generatedByDefaultAsIdentity(),
  },
  (t) => [
    // GET /v1/events: newest first, keyset on seq, optionally by type; retention purges by age.
    index("events_tenant_seq_idx").on(t.tenantId, t.seq.desc()),
    index("events_tenant_type_seq_idx").on(t.tenantId, t.type, t.seq.desc()),
    index("events_created_idx").on(t.createdAt),
    // The dispatcher's queue: only undispatched events are in it.
    index("events_undispatched_idx")
      .on(t.seq)
      .where(sql`${t.dispatchedAt} is null`),
  ],
);
