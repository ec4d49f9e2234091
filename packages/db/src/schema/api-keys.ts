import { sql } from "drizzle-orm";
import { boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
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
    /** One limit for every per-key bucket (older keys, tests); null: each bucket's own default. */
    rateLimitPerMinute: integer("rate_limit_per_minute"),
    /** Per-bucket limits per minute (core/rate-limits.ts KEY_RATE_LIMIT_BUCKETS); they win over the one above. */
    rateLimits: jsonb("rate_limits").$type<Partial<Record<string, number>>>().notNull().default({}),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    /** Under the tenant's "selected keys" ad-hoc policy: whether this key may address an approver directly. */
    allowAdHoc: boolean("allow_ad_hoc").notNull().default(false),
    /** Disabled keys are refused like revoked ones but can be enabled again. */
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    /** Set by a reroll: the key that replaced this one (which then works until its expiresAt, the grace). */
    replacedById: text("replaced_by_id"),
    /** Keys minted by agent bootstrap: who consented, for which agent (shown in the keys page). */
    consent: jsonb("consent").$type<{ userId: string; userName: string; email: string; bootstrapId: string; agentName: string }>(),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_unique").on(t.keyHash),
    index("api_keys_tenant_idx").on(t.tenantId),
    // core/api-key-names.ts: a name is unique among a tenant's keys that are not revoked, in any
    // letter case; a revoked key frees its name so a rotated key can take it over.
    uniqueIndex("api_keys_tenant_active_name_unique")
      .on(t.tenantId, sql`lower(${t.name})`)
      .where(sql`${t.revokedAt} is null and ${t.replacedById} is null`),
  ],
);

/** Calls per key per UTC day, for the last-30-days chart; flushed in batches off the hot path. */
export const apiKeyUsage = pgTable(
  "api_key_usage",
  {
    keyId: text("key_id")
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.day] })],
);
