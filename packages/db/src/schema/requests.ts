import {
  AUDIT_ACTOR_TYPES,
  type DeadlineStepKind,
  type Decision,
  type RequestStatus,
  STAGE_RULES,
  type StageDeadline,
  type StageStatus,
} from "@approvalmatrix/core";
import { sql } from "drizzle-orm";
import { doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { matrices } from "./matrices";
import { members } from "./members";
import { tenants } from "./tenants";

export const requests = pgTable(
  "requests",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    submitterId: text("submitter_id")
      .notNull()
      .references(() => members.id),
    requestType: text("request_type").notNull(),
    title: text("title").notNull(),
    amount: doublePrecision("amount"),
    currency: text("currency"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    /** Null for an ad-hoc request (addressed to one approver, core/ad-hoc.ts). */
    matrixId: text("matrix_id").references(() => matrices.id),
    /** Snapshot: later edits of the matrix never change a request in flight. */
    matrixName: text("matrix_name").notNull(),
    status: text("status").$type<RequestStatus>().notNull(),
    currentStage: integer("current_stage"),
    totalStages: integer("total_stages").notNull(),
    cancelReason: text("cancel_reason"),
    /** From ttlSeconds: undecided at this time, the request becomes `expired` (a job does it). */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("requests_tenant_created_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index("requests_tenant_status_created_idx").on(t.tenantId, t.status, t.createdAt.desc(), t.id.desc()),
    // One index per list filter, each ending in the keyset (created_at desc, id desc): a page is
    // an index range scan whatever the filter and however deep the cursor.
    index("requests_tenant_submitter_created_idx").on(t.tenantId, t.submitterId, t.createdAt.desc(), t.id.desc()),
    index("requests_tenant_type_created_idx").on(t.tenantId, t.requestType, t.createdAt.desc(), t.id.desc()),
    // GET /v1/requests?updatedAfter=…: a system back from downtime catches up on what changed.
    index("requests_tenant_updated_idx").on(t.tenantId, t.updatedAt),
  ],
);

/** The stages of one request, copied from its matrix with approvers resolved at submission. */
export const requestStages = pgTable(
  "request_stages",
  {
    requestId: text("request_id")
      .notNull()
      .references(() => requests.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    rule: text("rule", { enum: STAGE_RULES }).notNull(),
    quorum: integer("quorum"),
    approverIds: text("approver_ids").array().notNull(),
    status: text("status").$type<StageStatus>().notNull(),
    /** Delegates sitting in for an approver while it is open: { delegateId: approverId it stands for }. */
    delegatedFrom: jsonb("delegated_from").$type<Record<string, string>>().notNull().default({}),
    /** The matrix stage's deadline rules, copied at submission (null: no deadline). */
    deadline: jsonb("deadline").$type<StageDeadline>(),
    /** Set when the stage opens: opened at + dueIn. */
    dueAt: timestamp("due_at", { withTimezone: true }),
    /** When the deadline sweep must next act on this stage (a reminder, the deadline, an overdue reminder). */
    nextActionAt: timestamp("next_action_at", { withTimezone: true }),
    nextAction: text("next_action").$type<DeadlineStepKind>(),
  },
  (t) => [
    // The deadline sweep's queue: open stages with something due, nothing else.
    index("request_stages_next_action_idx")
      .on(t.nextActionAt)
      .where(sql`${t.status} = 'open' and ${t.nextActionAt} is not null`),
    primaryKey({ columns: [t.requestId, t.position] }),
    // The inbox: open stages waiting on a member, without wading through every closed stage.
    index("request_stages_open_approvers_idx")
      .using("gin", t.approverIds)
      .where(sql`${t.status} = 'open'`),
  ],
);

export const decisions = pgTable(
  "decisions",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    requestId: text("request_id")
      .notNull()
      .references(() => requests.id, { onDelete: "cascade" }),
    stage: integer("stage").notNull(),
    approverId: text("approver_id")
      .notNull()
      .references(() => members.id),
    decision: text("decision").$type<Decision>().notNull(),
    /** Set when the approver decided as a delegate: the member they stood in for ("Bob Lee for Jane Smith"). */
    onBehalfOfId: text("on_behalf_of_id").references(() => members.id),
    comment: text("comment"),
    /**
     * Who pressed the button, when not the approver in person: "Slack bot acting for Jane Smith".
     * The approver stays the subject of the decision; the actor is recorded beside it.
     */
    actorType: text("actor_type", { enum: AUDIT_ACTOR_TYPES }).notNull().default("api_key"),
    actorId: text("actor_id").notNull().default(""),
    actorName: text("actor_name").notNull().default(""),
    decidedAt: timestamp("decided_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // The database itself refuses a second decision by one approver on one stage.
  (t) => [uniqueIndex("decisions_one_per_approver_stage").on(t.requestId, t.stage, t.approverId)],
);
