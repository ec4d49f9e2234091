import { applyDelegations, must, newId, openRequest } from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  auditLog,
  events,
  executePrepared,
  messages,
  requestStages,
  requests,
  sql,
} from "@approvalmatrix/db";
import type { Actor } from "../context";
import { auditRowParams, auditRowPlaceholders } from "./audit";
import { deadlineColumns } from "./deadlines/deadlines";
import { activeDelegationEdges } from "./delegations/delegations";
import { type AnySubmissionInput, planAnySubmission } from "./ad-hoc";
import { eventRow } from "./events/emit";
import { submissionEvents } from "./events/request-events";
import { scheduleRequestExpiry } from "./request-expiry";

const placeholder = sql.placeholder;

/**
 * The request, its stages, its events (the outbox) and its audit row in one INSERT … WITH
 * statement: atomic on its own (no BEGIN/COMMIT round trips), and built and prepared once. The
 * stages and the events each arrive as one JSON array.
 */
const writeSubmission = (db: Queryable) => {
  const newRequest = db.$with("new_request").as(
    db
      .insert(requests)
      .values({
        id: placeholder("requestId"),
        tenantId: placeholder("tenantId"),
        submitterId: placeholder("submitterId"),
        requestType: placeholder("requestType"),
        title: placeholder("title"),
        amount: placeholder("amount"),
        currency: placeholder("currency"),
        metadata: placeholder("metadata"),
        matrixId: placeholder("matrixId"),
        matrixName: placeholder("matrixName"),
        status: placeholder("status"),
        currentStage: placeholder("currentStage"),
        totalStages: placeholder("totalStages"),
        // A string or null: drizzle's timestamp mapping cannot take a null placeholder.
        expiresAt: sql`${placeholder("expiresAt")}::timestamptz`,
        createdAt: placeholder("now"),
        updatedAt: placeholder("now"),
      })
      .returning({ id: requests.id }),
  );
  const newStages = db.$with("new_stages").as(
    db
      .insert(requestStages)
      // In the table's column order: request_id, tenant_id, position, name, rule, quorum, approver_ids, status, delegated_from,
      // deadline, due_at, next_action_at, next_action.
      .select(
        sql`select ${placeholder("requestId")}, ${placeholder("tenantId")}, s.position, s.name, s.rule, s.quorum,
          array(select jsonb_array_elements_text(s.approver_ids)), s.status, s.delegated_from,
          s.deadline, s.due_at, s.next_action_at, s.next_action
          from jsonb_to_recordset(${placeholder("stages")}::jsonb)
            as s(position integer, name text, rule text, quorum integer, approver_ids jsonb, status text, delegated_from jsonb,
              deadline jsonb, due_at timestamptz, next_action_at timestamptz, next_action text)`,
      )
      .returning({ position: requestStages.position }),
  );
  const newEvents = db.$with("new_events").as(
    db
      .insert(events)
      // In the table's column order: id, tenant_id, type, api_version, data, created_at, dispatched_at, seq
      // (drawn row by row in the array's order, as the identity default would).
      .select(
        sql`select e.id, ${placeholder("tenantId")}, e.type, e.api_version, e.data, ${placeholder("nowText")}::timestamptz, null::timestamptz,
            nextval(pg_get_serial_sequence('events', 'seq'))
          from jsonb_to_recordset(${placeholder("events")}::jsonb) as e(id text, type text, api_version text, data jsonb)`,
      )
      .returning({ id: events.id }),
  );
  // The e-mails to the first stage's approvers: the outbox row commits with the request.
  const newMessages = db.$with("new_messages").as(
    db
      .insert(messages)
      // In the order of the selected columns below.
      .select(
        sql`select m.id, ${placeholder("tenantId")}, m.member_id, 'stage_opened', ${placeholder("requestId")}, ${placeholder("currentStage")}::integer,
          '{}'::jsonb, 'pending', 0, ${placeholder("nowText")}::timestamptz, null::timestamptz, null, null, null, null, null, null, ${placeholder("nowText")}::timestamptz
          from jsonb_to_recordset(${placeholder("messages")}::jsonb) as m(id text, member_id text)`,
      )
      .returning({ id: messages.id }),
  );
  return db.with(newRequest, newStages, newEvents, newMessages).insert(auditLog).values(auditRowPlaceholders);
};

/**
 * Plans the request (by matrix, or addressed to one approver) and writes it, its stages, its
 * events, its e-mails and its audit row atomically; with ttlSeconds, its expiry job too, in the
 * same transaction.
 */
export async function submitRequest(db: Database, actor: Actor, input: AnySubmissionInput) {
  const now = new Date();
  // The delegations in force decide who receives the first stage (side by side with the plan).
  const [plan, edges] = await Promise.all([planAnySubmission(db, actor, input), activeDelegationEdges(db, actor.tenantId, now)]);
  const requestId = newId("request");
  const flow = openRequest(
    plan.stages.map((stage) => ({
      position: stage.position,
      rule: stage.rule,
      quorum: stage.quorum,
      approverIds: stage.eligible.map((m) => m.id),
    })),
  );
  const first = must(flow.stages[0], "the first stage");
  const firstDelegated = applyDelegations(first, edges, { submitterId: plan.submitter.id });
  first.approverIds = firstDelegated.approverIds;
  const expiresAt = input.ttlSeconds ? new Date(now.getTime() + input.ttlSeconds * 1000) : null;
  const subject = {
    tenantId: actor.tenantId,
    requestId,
    requestType: input.requestType,
    title: input.title,
    amount: plan.amount,
    currency: plan.currency,
    submitterRef: plan.submitter.externalRef,
    status: flow.status,
    totalStages: flow.stages.length,
    stageNames: new Map(plan.stages.map((stage) => [stage.position, stage.name])),
  };
  const outbox = submissionEvents(subject, must(flow.currentStage, "the first stage")).map((event) => {
    const { id, type, apiVersion, data } = eventRow(actor.tenantId, event, now);
    return { id, type, api_version: apiVersion, data };
  });
  const params = {
    requestId,
    tenantId: actor.tenantId,
    submitterId: plan.submitter.id,
    requestType: input.requestType,
    title: input.title,
    amount: plan.amount,
    currency: plan.currency,
    metadata: plan.metadata,
    matrixId: plan.matrix.id,
    matrixName: plan.matrix.name,
    status: flow.status,
    currentStage: flow.currentStage,
    totalStages: flow.stages.length,
    expiresAt: expiresAt?.toISOString() ?? null,
    now,
    stages: JSON.stringify(
      plan.stages.map((stage, index) => {
        // openRequest keeps the stages' order: the flow's stage at `index` is this one.
        const { approverIds, status } = must(flow.stages[index], "the stage's flow");
        const delegated_from = index === 0 ? firstDelegated.delegatedFrom : {};
        // The open stage's deadline starts now; the others' when they open.
        const clock = index === 0 ? deadlineColumns(stage.deadline ?? null, now) : { dueAt: null, nextActionAt: null, nextAction: null };
        return {
          position: stage.position,
          name: stage.name,
          rule: stage.rule,
          quorum: stage.quorum,
          approver_ids: approverIds,
          status,
          delegated_from,
          deadline: stage.deadline ?? null,
          due_at: clock.dueAt?.toISOString() ?? null,
          next_action_at: clock.nextActionAt?.toISOString() ?? null,
          next_action: clock.nextAction,
        };
      }),
    ),
    messages: JSON.stringify(
      [...new Set(flow.stages[0]?.approverIds ?? [])].map((memberId) => ({ id: newId("message"), member_id: memberId })),
    ),
    // Raw SQL gets no column encoder: the instant travels as text (a Date is not a postgres.js parameter there).
    nowText: now.toISOString(),
    events: JSON.stringify(outbox),
    ...auditRowParams(actor, {
      action: "request.submitted",
      targetType: "request",
      targetId: requestId,
      data: {
        submitterRef: plan.submitter.externalRef,
        requestType: input.requestType,
        matrixId: plan.matrix.id,
        amount: plan.amount,
        currency: plan.currency,
        ...(plan.matrix.id === null ? { addressedTo: plan.stages[0]?.eligible.map((m) => ({ ref: m.externalRef, name: m.name })) } : {}),
        ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      },
    }),
  };
  if (expiresAt) {
    // The expiry is a durable job, enqueued with the request: both commit or neither does.
    await db.transaction(async (tx) => {
      await executePrepared(tx, "submission_write", writeSubmission, params);
      await scheduleRequestExpiry(tx, actor.tenantId, requestId, expiresAt);
    });
  } else {
    await executePrepared(db, "submission_write", writeSubmission, params);
  }
  return {
    requestId,
    status: flow.status,
    matrixId: plan.matrix.id,
    matrixName: plan.matrix.name,
    currentStage: flow.currentStage,
    totalStages: flow.stages.length,
    expiresAt: expiresAt?.toISOString() ?? null,
    createdAt: now.toISOString(),
  };
}
