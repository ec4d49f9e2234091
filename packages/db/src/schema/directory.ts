import { AUDIT_ACTOR_TYPES, DEACTIVATION_POLICIES, EXTERNAL_REF_SOURCES } from "@approvalmatrix/core";
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { members } from "./members";
import { tenants } from "./tenants";
import { users } from "./users";

/** A tenant's directory settings; a tenant without a row has the defaults. */
export const directorySettings = pgTable("directory_settings", {
  tenantId: text("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  /** Which SCIM attribute becomes a member's externalRef. */
  externalRefSource: text("external_ref_source", { enum: EXTERNAL_REF_SOURCES }).notNull().default("externalId"),
  /** Where a deactivated member's open approvals go: their manager, their delegate in force (else the manager), or nowhere (they stay). */
  deactivationPolicy: text("deactivation_policy", { enum: DEACTIVATION_POLICIES }).notNull().default("manager"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * SCIM bearer tokens, one per identity provider connection: stored as HMAC-SHA256 like API keys
 * (the same secret), shown once, with their own format (scim_…) so neither is accepted for the other.
 */
export const scimTokens = pgTable(
  "scim_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** The identity provider, as the admin app shows it: "Okta", "Microsoft Entra ID". */
    provider: text("provider").notNull(),
    tokenHash: text("token_hash").notNull(),
    start: text("start").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("scim_tokens_hash_unique").on(t.tokenHash), index("scim_tokens_tenant_idx").on(t.tenantId)],
);

/**
 * A member managed by an identity provider: the SCIM User as last received (for read-back of
 * attributes the member row does not keep), its userName, and a manager named before they exist.
 */
export const scimIdentities = pgTable(
  "scim_identities",
  {
    memberId: text("member_id")
      .primaryKey()
      .references(() => members.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    userName: text("user_name").notNull(),
    externalId: text("external_id"),
    /** The manager as the provider named them, until a member by that name arrives. */
    pendingManager: text("pending_manager"),
    resource: jsonb("resource").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("scim_identities_tenant_user_name_unique").on(t.tenantId, sql`lower(${t.userName})`),
    index("scim_identities_tenant_external_id_idx").on(t.tenantId, t.externalId),
    index("scim_identities_pending_manager_idx")
      .on(t.tenantId, t.pendingManager)
      .where(sql`${t.pendingManager} is not null`),
  ],
);

/** SCIM Groups: each is a department (its members are the members of that department). */
export const scimGroups = pgTable(
  "scim_groups",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    displayName: text("display_name").notNull(),
    externalId: text("external_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("scim_groups_tenant_name_unique").on(t.tenantId, sql`lower(${t.displayName})`)],
);

/** One members CSV import (applied or refused): who, when, which file, what it did, its errors. */
export const memberImports = pgTable(
  "member_imports",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    actorType: text("actor_type", { enum: AUDIT_ACTOR_TYPES }).notNull(),
    actorId: text("actor_id").notNull(),
    fileName: text("file_name"),
    status: text("status", { enum: ["applied", "refused"] }).notNull(),
    rows: integer("rows").notNull().default(0),
    created: integer("created").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    unchanged: integer("unchanged").notNull().default(0),
    deactivated: integer("deactivated").notNull().default(0),
    errorCount: integer("error_count").notNull().default(0),
    errors: jsonb("errors").$type<{ line: number; field: string; message: string }[]>().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("member_imports_tenant_created_idx").on(t.tenantId, t.createdAt.desc())],
);

/**
 * Single-use password reset links an admin makes for a user (shown to the admin until e-mail
 * exists): stored as the SHA-256 of the token, expiring, used once.
 */
export const passwordResets = pgTable(
  "password_resets",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("password_resets_token_hash_unique").on(t.tokenHash), index("password_resets_user_idx").on(t.userId)],
);
