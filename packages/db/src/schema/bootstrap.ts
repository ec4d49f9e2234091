import { BOOTSTRAP_STATUSES } from "@approvalmatrix/core";
import { index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { apiKeys } from "./api-keys";
import { tenants } from "./tenants";
import { users } from "./users";

/**
 * Agent bootstrap (RFC 8628-like): an agent asks, by email, for a key; the account holder
 * consents in the admin app. Nothing here says whether the email has an account: the row exists
 * either way and no one can approve it when there is none. The poll secret is stored hashed; the
 * key is minted when the agent collects it (no plaintext is ever stored).
 */
export const bootstrapRequests = pgTable(
  "bootstrap_requests",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    agentName: text("agent_name").notNull(),
    scopes: text("scopes").array().notNull(),
    note: text("note"),
    userCode: text("user_code").notNull(),
    pollSecretHash: text("poll_secret_hash").notNull(),
    clientIp: text("client_ip"),
    userAgent: text("user_agent"),
    status: text("status", { enum: BOOTSTRAP_STATUSES }).notNull().default("pending"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** Set by the account holder's answer: their tenant and user, the scopes and key expiry granted. */
    tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    decidedBy: text("decided_by").references(() => users.id, { onDelete: "set null" }),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    grantedScopes: text("granted_scopes").array(),
    keyExpiresAt: timestamp("key_expires_at", { withTimezone: true }),
    /** The key minted when the agent collected it: once. */
    apiKeyId: text("api_key_id").references(() => apiKeys.id, { onDelete: "set null" }),
    collectedAt: timestamp("collected_at", { withTimezone: true }),
  },
  (t) => [
    index("bootstrap_requests_email_idx").on(t.email, t.createdAt.desc()),
    uniqueIndex("bootstrap_requests_user_code_unique").on(t.userCode),
  ],
);
