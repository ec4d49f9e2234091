/**
 * Deadlines of open stages: reminders, escalation, automatic outcomes. Each open stage with a
 * deadline carries its next action (`next_action_at`, `next_action`) in its own row, planned when
 * the stage opens and dropped when it closes (a decision, a cancel: saveTransition), so nothing
 * needs re-planning elsewhere. The sweep (`runDueDeadlines`) reads due rows through a partial
 * index, takes each request's row lock and re-checks under it: across instances each action runs
 * once, and a stage decided meanwhile is left alone.
 */
import type { ReceiptSigner } from "../receipts/keys";
import { describeActor } from "../actor";
import {
  type DeadlineStepKind,
  type StageDeadline,
  nextOverdueReminder,
  pendingApprovers,
  planStageDeadline,
  settleStage,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, asc, eq, lte, members, requestStages, sql } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";
import { requestEventData } from "../events/request-events";
import { queueMessages } from "../notifications/queue-messages";
import { eventSubjectOf, lockRequest, saveTransition } from "../request-transition";

export interface DeadlineColumns {
  dueAt?: Date | null;
  nextActionAt: Date | null;
  nextAction: DeadlineStepKind | null;
}

/** The deadline columns of a stage opening at `openedAt` (all null without a deadline). */
export function deadlineColumns(deadline: StageDeadline | null, openedAt: Date): Required<DeadlineColumns> {
  if (!deadline) return { dueAt: null, nextActionAt: null, nextAction: null };
  const { dueAt, steps } = planStageDeadline(deadline, openedAt);
  const first = steps[0];
  return { dueAt, nextActionAt: first?.runAt ?? null, nextAction: first?.kind ?? null };
}

export interface SweepOutcome {
  reminders: number;
  escalations: number;
  autoApproved: number;
  autoRejected: number;
  overdue: number;
}

/** Runs every deadline action due at `now` (the worker's `deadlines.sweep` job; tests pass the clock's time). */
export async function runDueDeadlines(db: Database, now: Date, signer: ReceiptSigner, batch = 100): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { reminders: 0, escalations: 0, autoApproved: 0, autoRejected: 0, overdue: 0 };
  for (;;) {
    const due = await db
      .select({ tenantId: requestStages.tenantId, requestId: requestStages.requestId, position: requestStages.position })
      .from(requestStages)
      .where(and(eq(requestStages.status, "open"), sql`${requestStages.nextActionAt} is not null`, lte(requestStages.nextActionAt, now)))
      .orderBy(asc(requestStages.nextActionAt))
      .limit(batch);
    for (const stage of due) await db.transaction((tx) => runStageAction(tx, stage, now, outcome, signer));
    if (due.length < batch) return outcome;
  }
}

async function runStageAction(
  tx: Queryable,
  target: { tenantId: string; requestId: string; position: number },
  now: Date,
  outcome: SweepOutcome,
  signer: ReceiptSigner,
): Promise<void> {
  const locked = await lockRequest(tx, target.tenantId, target.requestId);
  const where = and(
    eq(requestStages.tenantId, target.tenantId),
    eq(requestStages.requestId, target.requestId),
    eq(requestStages.position, target.position),
  );
  const [stage] = await tx.select().from(requestStages).where(where);
  // Another instance ran it first (it moved next_action_at), or the stage closed meanwhile.
  if (!stage?.nextActionAt || stage.nextActionAt > now || !stage.deadline) return;
  if (stage.status !== "open" || locked.request.currentStage !== stage.position) {
    await tx.update(requestStages).set({ nextActionAt: null, nextAction: null }).where(where);
    return;
  }
  const actor: Actor = { kind: "system", tenantId: target.tenantId, reason: "deadline" };
  const subject = eventSubjectOf(locked);
  const deadline = stage.deadline;
  const waiting = pendingApprovers(locked.state);
  const setNext = (next: { kind: DeadlineStepKind; runAt: Date } | null) =>
    tx
      .update(requestStages)
      .set({ nextActionAt: next?.runAt ?? null, nextAction: next?.kind ?? null })
      .where(where);

  if (stage.nextAction === "reminder" || stage.nextAction === "overdue_reminder") {
    await queueMessages(
      tx,
      target.tenantId,
      waiting.map((memberId) => ({ memberId, kind: "reminder" as const, requestId: target.requestId, stage: stage.position })),
      now,
    );
    await writeAudit(tx, actor, {
      action: "request.reminder_sent",
      targetType: "request",
      targetId: target.requestId,
      data: {
        stage: stage.position,
        overdue: stage.nextAction === "overdue_reminder",
        approverIds: waiting,
        dueAt: stage.dueAt?.toISOString() ?? null,
      },
    });
    await emitEvents(
      tx,
      target.tenantId,
      [
        {
          type: "approval_request.reminder_sent",
          data: requestEventData(subject, stage.position, {
            overdue: stage.nextAction === "overdue_reminder",
            dueAt: stage.dueAt?.toISOString() ?? null,
          }),
        },
      ],
      now,
    );
    outcome.reminders++;
    await setNext(
      stage.nextAction === "reminder" && stage.dueAt ? { kind: "deadline", runAt: stage.dueAt } : nextOverdueReminder(deadline, now),
    );
    return;
  }

  // The deadline itself.
  await writeAudit(tx, actor, {
    action: "request.deadline_passed",
    targetType: "request",
    targetId: target.requestId,
    data: { stage: stage.position, dueAt: stage.dueAt?.toISOString() ?? null, onDeadline: deadline.onDeadline },
  });
  if (deadline.onDeadline === "auto_approve" || deadline.onDeadline === "auto_reject") {
    const decision = deadline.onDeadline === "auto_approve" ? "approved" : "rejected";
    const reason = `deadline passed: ${decision} automatically`;
    await saveTransition(tx, actor, locked, settleStage(locked.state, decision), {
      now,
      eventData: () => ({ reason }),
      // The outcome receipt says the platform settled the stage, and why.
      receipts: { signer, actor: await describeActor(tx, actor), reason },
    });
    if (decision === "approved") outcome.autoApproved++;
    else outcome.autoRejected++;
    return;
  }
  if (deadline.onDeadline === "escalate") {
    const moved = await escalate(tx, actor, locked.request.submitterId, stage, waiting, deadline, now);
    if (moved.length) {
      outcome.escalations++;
      // The new approvers get a deadline of their own: the stage's dueIn from now, with its
      // reminders; passing it escalates again, from them.
      const fresh = deadlineColumns(deadline, now);
      await tx.update(requestStages).set(fresh).where(where);
      await emitEvents(
        tx,
        target.tenantId,
        [
          {
            type: "approval_request.escalated",
            data: requestEventData(subject, stage.position, {
              escalations: moved,
              dueAt: fresh.dueAt?.toISOString() ?? null,
              previousDueAt: stage.dueAt?.toISOString() ?? null,
            }),
          },
        ],
        now,
      );
      return;
    }
  } else {
    outcome.overdue++;
  }
  await setNext(nextOverdueReminder(deadline, now));
}

/** Each approver still to decide → their manager `escalateLevels` up, or the fallback approvers. */
async function escalate(
  tx: Queryable,
  actor: Actor,
  submitterId: string,
  stage: typeof requestStages.$inferSelect,
  waiting: string[],
  deadline: StageDeadline,
  now: Date,
): Promise<{ fromRef: string; toRef: string }[]> {
  const levels = deadline.escalateLevels ?? 1;
  const people = await tx
    .select({ id: members.id, ref: members.externalRef, name: members.name, managerId: members.managerId, active: members.active })
    .from(members)
    .where(eq(members.tenantId, stage.tenantId));
  const byId = new Map(people.map((p) => [p.id, p]));
  const byRef = new Map(people.map((p) => [p.ref, p]));
  const fallback = (deadline.fallbackRefs ?? []).map((ref) => byRef.get(ref)).filter((p) => p?.active);
  const approverIds = [...stage.approverIds];
  const moves: { from: string; to: string }[] = [];
  for (const approverId of waiting) {
    let target: string | null = null;
    let current = byId.get(approverId);
    for (let level = 0; level < levels && current?.managerId; level++) current = byId.get(current.managerId);
    if (current && current.id !== approverId && current.active) target = current.id;
    const candidates = [target, ...fallback.map((p) => p?.id ?? null)];
    const chosen = candidates.find((id) => id && id !== submitterId && !approverIds.includes(id)) ?? null;
    if (!chosen) continue;
    approverIds[approverIds.indexOf(approverId)] = chosen;
    moves.push({ from: approverId, to: chosen });
  }
  if (moves.length === 0) {
    await writeAudit(tx, actor, {
      action: "request.escalation_failed",
      targetType: "request",
      targetId: stage.requestId,
      data: { stage: stage.position, reason: "no manager or fallback approver to escalate to" },
    });
    return [];
  }
  await tx
    .update(requestStages)
    .set({ approverIds })
    .where(
      and(
        eq(requestStages.tenantId, stage.tenantId),
        eq(requestStages.requestId, stage.requestId),
        eq(requestStages.position, stage.position),
      ),
    );
  await writeAudit(
    tx,
    actor,
    moves.map((m) => ({
      action: "request.escalated",
      targetType: "request",
      targetId: stage.requestId,
      data: { stage: stage.position, fromRef: byId.get(m.from)?.ref ?? m.from, toRef: byId.get(m.to)?.ref ?? m.to },
    })),
  );
  await queueMessages(
    tx,
    stage.tenantId,
    moves.map((m) => ({
      memberId: m.to,
      kind: "escalated" as const,
      requestId: stage.requestId,
      stage: stage.position,
      data: { from: byId.get(m.from)?.name ?? null },
    })),
    now,
  );
  return moves.map((m) => ({ fromRef: byId.get(m.from)?.ref ?? m.from, toRef: byId.get(m.to)?.ref ?? m.to }));
}
