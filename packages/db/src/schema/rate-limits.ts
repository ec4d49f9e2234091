import { bigint, integer, pgTable, text } from "drizzle-orm/pg-core";

/** Fixed-window counters shared by every server instance on one PostgreSQL. */
export const rateLimitCounters = pgTable("rate_limit_counters", {
  bucket: text("bucket").primaryKey(),
  windowStart: bigint("window_start", { mode: "number" }).notNull(),
  count: integer("count").notNull(),
});
