import { boolean, doublePrecision, pgTable, text } from "drizzle-orm/pg-core";

/**
 * GCRA state shared by every server instance on one PostgreSQL: per bucket, the theoretical
 * arrival time (`tat`, Unix ms) of the next call and the emission interval it was computed with
 * (period / limit). `allowed` says whether the last hit conformed (RETURNING cannot see the row
 * before an upsert). A bucket whose tat has passed is full again: such rows are swept.
 */
export const rateLimitBuckets = pgTable("rate_limit_buckets", {
  bucket: text("bucket").primaryKey(),
  tat: doublePrecision("tat").notNull(),
  intervalMs: doublePrecision("interval_ms").notNull(),
  allowed: boolean("allowed").notNull(),
});
