import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { members } from "./members";
import { tenants } from "./tenants";

/**
 * Out of office: while a delegation holds (starts_at ≤ now < ends_at, not revoked), stages that
 * open for `member_id` go to `delegate_id` instead, and its open stages are re-pointed.
 */
export const delegations = pgTable(
  "delegations",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id, { onDelete: "cascade" }),
    delegateId: text("delegate_id")
      .notNull()
      .references(() => members.id, { onDelete: "cascade" }),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    /** Null: until revoked. */
    endsAt: timestamp("ends_at", { withTimezone: true }),
    reason: text("reason"),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    index("delegations_tenant_live_idx")
      .on(t.tenantId, t.memberId)
      .where(sql`${t.revokedAt} is null`),
  ],
);
