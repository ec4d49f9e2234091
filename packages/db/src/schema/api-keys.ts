import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

/** Keys are stored as HMAC-SHA256(API_KEY_HASH_SECRET, key); `start` is what people see. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    start: text("start").notNull(),
    scopes: text("scopes").array().notNull(),
    rateLimitPerMinute: integer("rate_limit_per_minute").notNull().default(60),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_unique").on(t.keyHash),
    index("api_keys_tenant_idx").on(t.tenantId),
    // core/api-key-names.ts: a name is unique among a tenant's keys that are not revoked, in any
    // letter case; a revoked key frees its name so a rotated key can take it over.
    uniqueIndex("api_keys_tenant_active_name_unique")
      .on(t.tenantId, sql`lower(${t.name})`)
      .where(sql`${t.revokedAt} is null`),
  ],
);
