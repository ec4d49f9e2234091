import type { DsseSignature } from "@approvalmatrix/core";
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const SIGNING_KEY_STATUSES = ["next", "active", "retired"] as const;
export type SigningKeyStatus = (typeof SIGNING_KEY_STATUSES)[number];

/**
 * The product's Ed25519 receipt-signing keys (platform-wide, published at GET /v1/keys). `next`
 * is published before it ever signs; `active` signs; `retired` stays published forever. The
 * private key is AES-256-GCM encrypted under RECEIPT_SIGNING_SECRET (services/receipts/keys.ts).
 */
export const signingKeys = pgTable(
  "signing_keys",
  {
    /** RFC 7638 thumbprint of the public key. */
    kid: text("kid").primaryKey(),
    /** base64url raw public key (JWK `x`). */
    publicKey: text("public_key").notNull(),
    privateKeyEncrypted: text("private_key_encrypted").notNull(),
    status: text("status", { enum: SIGNING_KEY_STATUSES }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    activatedAt: timestamp("activated_at", { withTimezone: true }),
    retiredAt: timestamp("retired_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("signing_keys_one_active")
      .on(t.status)
      .where(sql`${t.status} = 'active'`),
    uniqueIndex("signing_keys_one_next")
      .on(t.status)
      .where(sql`${t.status} = 'next'`),
  ],
);

/**
 * Signed receipts of decisions and outcomes: each tenant's append-only log, position 0, 1, 2, …
 * UPDATE, DELETE and TRUNCATE are refused by a trigger (see the migration). No foreign key to the
 * request: a receipt outlives anything it speaks of.
 */
export const receipts = pgTable(
  "receipts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    position: integer("position").notNull(),
    requestId: text("request_id").notNull(),
    decisionId: text("decision_id"),
    kind: text("kind", { enum: ["decision", "outcome"] }).notNull(),
    payloadType: text("payload_type").notNull(),
    /** base64 of the canonical JSON body, exactly as signed. */
    payload: text("payload").notNull(),
    signatures: jsonb("signatures").$type<DsseSignature[]>().notNull(),
    /** Hex RFC 6962 leaf hash of the payload bytes. */
    leafHash: text("leaf_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("receipts_tenant_position_unique").on(t.tenantId, t.position),
    index("receipts_tenant_request_idx").on(t.tenantId, t.requestId),
  ],
);

/** The head of each tenant's log: its size and compact range (the only mutable part, locked per append). */
export const receiptLogs = pgTable("receipt_logs", {
  tenantId: text("tenant_id")
    .primaryKey()
    .references(() => tenants.id),
  size: integer("size").notNull().default(0),
  /** Hex roots of the perfect subtrees, largest first (core/receipts/merkle.ts). */
  compactRange: jsonb("compact_range").$type<string[]>().notNull().default([]),
  lastLeafHash: text("last_leaf_hash"),
  /** Size of the latest signed checkpoint: the periodic job signs only when the log grew. */
  checkpointedSize: integer("checkpointed_size").notNull().default(0),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Signed checkpoints (tree size + root) of a tenant's log, append-only like the receipts. */
export const receiptCheckpoints = pgTable(
  "receipt_checkpoints",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    treeSize: integer("tree_size").notNull(),
    rootHash: text("root_hash").notNull(),
    payloadType: text("payload_type").notNull(),
    payload: text("payload").notNull(),
    signatures: jsonb("signatures").$type<DsseSignature[]>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("receipt_checkpoints_tenant_size_idx").on(t.tenantId, t.treeSize.desc(), t.createdAt.desc())],
);
