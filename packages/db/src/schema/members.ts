import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, type PgColumn, boolean, index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { users } from "./users";

/**
 * What the Members search matches, as a full-text document: every word of the name, externalRef,
 * email and department, lower-cased, punctuation turned into spaces ("EMP-060001" → emp 060001,
 * "liam.okafor@x.example" → liam okafor x example). The GIN index below is on this exact
 * expression, and the search query must use it verbatim to be answered from the index. Built-in
 * full text, so it works on PostgreSQL 15 and on PGlite without pg_trgm.
 */
export function memberSearchDocument(t: { name: PgColumn; externalRef: PgColumn; email: PgColumn; department: PgColumn }): SQL {
  return sql`to_tsvector('simple'::regconfig, regexp_replace(lower(${t.name} || ' ' || ${t.externalRef} || ' ' || coalesce(${t.email}, '') || ' ' || coalesce(${t.department}, '')), '[^[:alnum:]]+', ' ', 'g'))`;
}

/** An employee of the tenant, known to the tenant's own systems by `externalRef`. */
export const members = pgTable(
  "members",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    email: text("email"),
    externalRef: text("external_ref").notNull(),
    department: text("department"),
    managerId: text("manager_id").references((): AnyPgColumn => members.id, { onDelete: "set null" }),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    active: boolean("active").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("members_tenant_external_ref_unique").on(t.tenantId, t.externalRef),
    index("members_tenant_department_idx").on(t.tenantId, t.department),
    index("members_tenant_name_idx").on(t.tenantId, t.name),
    index("members_search_idx").using("gin", memberSearchDocument(t)),
    // SCIM `userName eq` (caseExact=false): outside SCIM a member's userName is lower(email), or
    // lower(external_ref) when they have no e-mail; the Users filter looks candidates up by these.
    index("members_tenant_lower_email_idx").on(t.tenantId, sql`lower(${t.email})`),
    index("members_tenant_lower_ref_no_email_idx")
      .on(t.tenantId, sql`lower(${t.externalRef})`)
      .where(sql`${t.email} is null`),
  ],
);
