import { AD_HOC_POLICIES } from "@approvalmatrix/core";
import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const tenants = pgTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  /** Currency assumed for requests that do not name one. */
  defaultCurrency: text("default_currency").notNull().default("USD"),
  /** Whether requests may name their approver instead of a matrix, and for which keys (core/ad-hoc.ts). */
  adHocRequests: text("ad_hoc_requests", { enum: AD_HOC_POLICIES }).notNull().default("off"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
