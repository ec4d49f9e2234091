import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * The durable job queue (packages/jobs): one row per job, claimed by a worker with a lease
 * (`locked_until`) under FOR UPDATE SKIP LOCKED, so many instances share it and a crashed worker's
 * job runs again once its lease lapses. Done jobs are deleted; jobs out of attempts stay, failed.
 */
export const jobs = pgTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    kind: text("kind").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
    tenantId: text("tenant_id"),
    /** At most one live job per key: re-enqueueing the same key is a no-op (periodic jobs, dedupe). */
    dedupeKey: text("dedupe_key"),
    runAt: timestamp("run_at", { withTimezone: true }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(20),
    lockedBy: text("locked_by"),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    lastError: text("last_error"),
    failedAt: timestamp("failed_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("jobs_dedupe_key_idx").on(t.dedupeKey),
    // The claim scans due, live jobs in run_at order; failed jobs drop out of the index.
    index("jobs_due_idx")
      .on(t.runAt)
      .where(sql`${t.failedAt} is null`),
  ],
);
