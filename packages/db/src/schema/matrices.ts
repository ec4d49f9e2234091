import { type ApproverSpec, type MatrixCondition, STAGE_RULES, type StageDeadline } from "@approvalmatrix/core";
import { boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { tenants } from "./tenants";

export const matrices = pgTable(
  "matrices",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    requestType: text("request_type").notNull(),
    minAmount: doublePrecision("min_amount"),
    maxAmount: doublePrecision("max_amount"),
    currency: text("currency"),
    conditions: jsonb("conditions").$type<MatrixCondition[]>().notNull().default([]),
    priority: integer("priority").notNull().default(0),
    active: boolean("active").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("matrices_routing_idx").on(t.tenantId, t.requestType, t.active)],
);

export const matrixStages = pgTable(
  "matrix_stages",
  {
    matrixId: text("matrix_id")
      .notNull()
      .references(() => matrices.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    approvers: jsonb("approvers").$type<ApproverSpec>().notNull(),
    rule: text("rule", { enum: STAGE_RULES }).notNull(),
    quorum: integer("quorum"),
    /** Optional deadline, reminders and what happens when it runs out. */
    deadline: jsonb("deadline").$type<StageDeadline>(),
  },
  (t) => [primaryKey({ columns: [t.matrixId, t.position] })],
);
