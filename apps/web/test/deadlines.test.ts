/**
 * Stage deadlines over real HTTP: reminders, escalation, automatic outcomes. Time is driven by
 * handing the sweep the instant to act at (as the worker's clock does), never by sleeping.
 */
import { runDueDeadlines } from "@approvalmatrix/api";
import { type StageDeadline, addBusinessTime } from "@approvalmatrix/core";
import { and, asc, auditLog, eq, members, messages } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, api, startTestApp, unlimitedKey } from "./harness";

const HOUR = 3_600_000;
let app: TestApp;
let call: ReturnType<typeof api>;

beforeAll(async () => {
  app = await startTestApp({ WORKER: "off" });
  call = api(app, await unlimitedKey(app));
  const operator = app.operator(app.demoTenantId);
  const stage = (deadline: StageDeadline) => [
    { name: "Manager sign-off", approvers: { type: "members" as const, memberRefs: ["EMP-2001"] }, rule: "any" as const, deadline },
  ];
  await operator.admin.matrices.create({
    name: "Travel (escalates)",
    requestType: "travel",
    stages: stage({ dueIn: "48h", remindBefore: "24h", remindEvery: "12h", onDeadline: "escalate" }),
  });
  await operator.admin.matrices.create({
    name: "Small expenses (auto-approve)",
    requestType: "expense",
    stages: stage({ dueIn: "2h", onDeadline: "auto_approve" }),
  });
  await operator.admin.matrices.create({
    name: "Contracts (business hours)",
    requestType: "contract",
    stages: stage({ dueIn: "4h", businessHours: true, onDeadline: "none" }),
  });
  await operator.admin.matrices.create({
    name: "Trials (auto-reject)",
    requestType: "trial",
    stages: stage({ dueIn: "1d", onDeadline: "auto_reject" }),
  });
});
afterAll(() => app.close());

async function submit(requestType: string): Promise<{ id: string; at: number }> {
  const at = Date.now();
  const res = await call("POST", "/v1/requests", { submitterRef: "EMP-1042", requestType, title: `A ${requestType} request`, amount: 120 });
  expect(res.status).toBe(201);
  return { id: res.body.requestId, at };
}

const view = async (id: string) => (await call("GET", `/v1/requests/${id}`)).body;
const actions = async (id: string) =>
  (
    await app.deps.db
      .select({ action: auditLog.action, actorType: auditLog.actorType, data: auditLog.data })
      .from(auditLog)
      .where(eq(auditLog.targetId, id))
  ).filter((a) => a.action !== "request.submitted");
const mailsTo = async (id: string, kind: "reminder" | "escalated") =>
  app.deps.db
    .select({ memberId: messages.memberId })
    .from(messages)
    .where(and(eq(messages.requestId, id), eq(messages.kind, kind)))
    .orderBy(asc(messages.createdAt));

describe("deadlines", () => {
  it("shows the due date, reminds before it, escalates to the manager at it, and reminds again while overdue", async () => {
    const { id, at } = await submit("travel");
    const before = await view(id);
    const dueAt = new Date(before.stages[0].dueAt).getTime();
    expect(dueAt).toBeGreaterThanOrEqual(at + 48 * HOUR);
    expect(dueAt).toBeLessThan(at + 48 * HOUR + 60_000);

    await runDueDeadlines(app.deps.db, new Date(at + 23 * HOUR), app.deps.receipts);
    expect(await actions(id)).toEqual([]);

    const early = await runDueDeadlines(app.deps.db, new Date(dueAt - 24 * HOUR + 1), app.deps.receipts);
    expect(early.reminders).toBeGreaterThanOrEqual(1);
    expect(await mailsTo(id, "reminder")).toHaveLength(1);
    expect((await actions(id)).map((a) => [a.action, a.actorType])).toEqual([["request.reminder_sent", "system"]]);

    await runDueDeadlines(app.deps.db, new Date(dueAt + 1), app.deps.receipts);
    const escalated = await view(id);
    expect(escalated.pendingApprovers).toEqual([{ ref: "EMP-3001", name: "Bob Lee" }]);
    expect((await actions(id)).map((a) => a.action)).toEqual(["request.reminder_sent", "request.deadline_passed", "request.escalated"]);
    expect((await actions(id)).find((a) => a.action === "request.escalated")?.data).toMatchObject({
      fromRef: "EMP-2001",
      toRef: "EMP-3001",
    });
    expect(await mailsTo(id, "escalated")).toHaveLength(1);
    // Bob gets a deadline of his own: the stage's 48 h from the escalation, with its reminder.
    const freshDue = dueAt + 1 + 48 * HOUR;
    expect(escalated.stages[0].dueAt).toBe(new Date(freshDue).toISOString());

    // Run again at the same instant: nothing happens twice.
    await runDueDeadlines(app.deps.db, new Date(dueAt + 2), app.deps.receipts);
    expect(await actions(id)).toHaveLength(3);

    // Not overdue any more: no overdue reminder 12 h later; Bob's reminder comes 24 h before his deadline.
    await runDueDeadlines(app.deps.db, new Date(dueAt + 12 * HOUR + 10), app.deps.receipts);
    expect(await mailsTo(id, "reminder")).toHaveLength(1);
    await runDueDeadlines(app.deps.db, new Date(freshDue - 24 * HOUR + 1), app.deps.receipts);
    const reminders = await mailsTo(id, "reminder");
    expect(reminders).toHaveLength(2);
    const [bob] = await app.deps.db.select({ id: members.id }).from(members).where(eq(members.externalRef, "EMP-3001"));
    expect(reminders[1]?.memberId).toBe(bob?.id);

    // Bob decides: the stage leaves the sweep's queue.
    await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" });
    await runDueDeadlines(app.deps.db, new Date(freshDue + 48 * HOUR), app.deps.receipts);
    expect(await mailsTo(id, "reminder")).toHaveLength(2);
  });

  it("auto-approves when the deadline passes, once, even with two sweepers racing", async () => {
    const { id, at } = await submit("expense");
    await runDueDeadlines(app.deps.db, new Date(at + HOUR), app.deps.receipts);
    expect((await view(id)).status).toBe("pending");
    await Promise.all([
      runDueDeadlines(app.deps.db, new Date(at + 3 * HOUR), app.deps.receipts),
      runDueDeadlines(app.deps.db, new Date(at + 3 * HOUR), app.deps.receipts),
    ]);
    const after = await view(id);
    expect(after.status).toBe("approved");
    expect(after.stages[0].status).toBe("approved");
    const audit = await actions(id);
    expect(audit.filter((a) => a.action === "request.deadline_passed")).toHaveLength(1);
    expect(audit.find((a) => a.action === "request.status_changed")).toMatchObject({
      actorType: "system",
      data: { from: "pending", to: "approved" },
    });
  });

  it("counts a businessHours stage's dueIn in business hours only, and shows it in the matrix", async () => {
    const { id } = await submit("contract");
    const v = await view(id);
    // Opened now: due 4 working hours (Mon–Fri 09:00–17:00 UTC) from the stage's opening.
    expect(v.stages[0].dueAt).toBe(addBusinessTime(new Date(v.createdAt), 4 * HOUR).toISOString());
    const operator = app.operator(app.demoTenantId);
    const matrices = await operator.admin.matrices.list();
    const contract = matrices.find((m: { name: string }) => m.name === "Contracts (business hours)");
    expect(contract?.stages[0]?.deadline).toMatchObject({ dueIn: "4h", businessHours: true });
    await expect(
      operator.admin.matrices.create({
        name: "Bad",
        requestType: "bad",
        stages: [
          {
            name: "S",
            approvers: { type: "manager" },
            rule: "any",
            deadline: { dueIn: "4h", businessHours: "yes" as unknown as boolean, onDeadline: "none" },
          },
        ],
      }),
    ).rejects.toThrow(/businessHours/);
  });

  it("auto-rejects when the deadline passes", async () => {
    const { id, at } = await submit("trial");
    await runDueDeadlines(app.deps.db, new Date(at + 25 * HOUR), app.deps.receipts);
    expect((await view(id)).status).toBe("rejected");
  });

  it("does nothing for a stage decided or cancelled before its deadline", async () => {
    const decided = await submit("expense");
    await call("POST", `/v1/requests/${decided.id}/decisions`, { approverRef: "EMP-2001", decision: "rejected", comment: "no" });
    const cancelled = await submit("trial");
    await call("POST", `/v1/requests/${cancelled.id}/cancel`, { reason: "not needed" });
    await runDueDeadlines(app.deps.db, new Date(Date.now() + 100 * HOUR), app.deps.receipts);
    for (const id of [decided.id, cancelled.id])
      expect((await actions(id)).some((a) => a.action === "request.deadline_passed")).toBe(false);
    expect((await view(decided.id)).status).toBe("rejected");
    expect((await view(cancelled.id)).status).toBe("cancelled");
  });
});
