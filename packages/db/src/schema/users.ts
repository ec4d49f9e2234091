import { TENANT_ROLES } from "@approvalmatrix/core";
import { boolean, index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

/**
 * People who sign in to the admin app. An approver's user is linked from their member row.
 * An email is unique within a tenant only: one person may belong to several tenants, and no
 * tenant can learn (or squat) an address another tenant uses.
 */
export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash"),
    role: text("role", { enum: TENANT_ROLES }).notNull(),
    /** Set for a one-time password (an invite): the app asks for a new one before anything else. */
    mustChangePassword: boolean("must_change_password").notNull().default(false),
    /** A suspended user cannot sign in, and their sessions stop working on the next request. */
    suspendedAt: timestamp("suspended_at", { withTimezone: true }),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("users_tenant_email_unique").on(t.tenantId, t.email),
    // Sign-in looks a person up by email across tenants.
    index("users_email_idx").on(t.email),
  ],
);

/**
 * Admin-app sessions. `id` is the SHA-256 (hex) of the session token in the cookie, never the
 * token itself: a leaked table or backup cannot be replayed as cookies.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** What the admin app shows of the session's device (the sign-in's User-Agent, cut short). */
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);
