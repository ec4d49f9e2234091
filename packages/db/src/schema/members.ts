import { type AnyPgColumn, boolean, index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";
import { users } from "./users";

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
  ],
);
