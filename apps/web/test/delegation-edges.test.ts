/**
 * A delegation that starts later, or ends, re-points open stages at that moment through durable
 * jobs planned when it is created (and dropped when it is revoked). Time moves on a ManualClock and
 * the server's own worker runs what is due: no sleeping for the start or the end.
 */
import { ManualClock } from "@approvalmatrix/core";
import { and, asc, auditLog, eq, events, jobs, like, messages, sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp, unlimitedKey } from "./harness";

const DAY = 86_400_000;
const clock = new ManualClock();
let app: TestApp;
let call: ReturnType<typeof api>;
beforeAll(async () => {
  app = await startTestApp({}, { clock });
  call = api(app, await unlimitedKey(app));
});
afterAll(() => app.close());

const JANE = { ref: "EMP-2001", name: "Jane Smith" };
const CHEN = { ref: "EMP-3002", name: "Chen Wei" };

async function submit(body: Record<string, unknown> = SEED_PURCHASE_ORDER): Promise<string> {
  const res = await call("POST", "/v1/requests", body);
  expect(res.status).toBe(201);
  return res.body.requestId;
}
const pending = async (id: string) => (await call("GET", `/v1/requests/${id}`)).body.pendingApprovers;

/** Runs what is due on the clock until `check` holds (the background loop may hold a job for a moment). */
async function settle(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await app.worker?.runDue();
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("did not settle");
}

const edgeJobs = (delegationId: string) =>
  app.deps.db
    .select({ runAt: jobs.runAt, key: jobs.dedupeKey })
    .from(jobs)
    .where(like(jobs.dedupeKey, `delegations.edge:${delegationId}:%`));

describe("delegation start and end", () => {
  it("re-points open stages when it starts (following the chain) and hands them back when it ends", async () => {
    const start = clock.now().getTime();
    const id = await submit();
    expect(await pending(id)).toEqual([JANE]);
    // Priya → Chen holds now; Jane → Priya starts tomorrow and ends the day after.
    const priyaToChen = await call("POST", "/v1/delegations", { memberRef: "EMP-4001", delegateRef: CHEN.ref });
    const janeAway = await call("POST", "/v1/delegations", {
      memberRef: JANE.ref,
      delegateRef: "EMP-4001",
      startsAt: new Date(start + DAY).toISOString(),
      endsAt: new Date(start + 2 * DAY).toISOString(),
    });
    expect(janeAway.status).toBe(201);
    expect(janeAway.body.active).toBe(false);
    const planned = await edgeJobs(janeAway.body.id);
    expect(planned.map((j) => [j.key?.split(":").pop(), j.runAt.getTime()]).sort()).toEqual([
      ["end", start + 2 * DAY],
      ["start", start + DAY],
    ]);

    // Not yet: the worker leaves the stage alone.
    await app.worker?.runDue();
    expect(await pending(id)).toEqual([JANE]);

    clock.set(start + DAY + 1_000);
    await settle(async () => (await pending(id))[0]?.ref === CHEN.ref);
    expect(await pending(id)).toEqual([CHEN]);
    const audit = await app.deps.db
      .select({ action: auditLog.action, actorType: auditLog.actorType, actorId: auditLog.actorId, data: auditLog.data })
      .from(auditLog)
      .where(sql`${auditLog.targetId} = ${id} or ${auditLog.data}->>'delegationId' = ${janeAway.body.id}`);
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "request.stage_delegated", actorType: "system", actorId: "delegation started" }),
        expect.objectContaining({ action: "delegation.started", data: expect.objectContaining({ seatsMoved: 1 }) }),
      ]),
    );
    const reassigned = async () =>
      (
        await app.deps.db
          .select({ data: events.data })
          .from(events)
          .where(eq(events.type, "approval_request.reassigned"))
          .orderBy(asc(events.seq))
      ).filter((e) => e.data.requestId === id);
    expect((await reassigned()).map((e) => e.data.reassignments)).toEqual([[{ fromRef: JANE.ref, toRef: CHEN.ref, reason: "delegation" }]]);
    const chenMails = await app.deps.db
      .select({ kind: messages.kind })
      .from(messages)
      .where(and(eq(messages.requestId, id), eq(messages.kind, "reassigned")));
    expect(chenMails).toHaveLength(1);

    clock.set(start + 2 * DAY + 1_000);
    await settle(async () => (await pending(id))[0]?.ref === JANE.ref);
    expect(await pending(id)).toEqual([JANE]);
    expect((await reassigned()).map((e) => e.data.reassignments)).toEqual([
      [{ fromRef: JANE.ref, toRef: CHEN.ref, reason: "delegation" }],
      [{ fromRef: CHEN.ref, toRef: JANE.ref, reason: "delegation_ended" }],
    ]);
    expect(await edgeJobs(janeAway.body.id)).toEqual([]);
    await call("DELETE", `/v1/delegations/${priyaToChen.body.id}`);
  });

  it("never hands a submitter their own request when a delegation starts", async () => {
    const start = clock.now().getTime();
    const id = await submit(); // submitted by Alex (EMP-1042)
    const toAlex = await call("POST", "/v1/delegations", {
      memberRef: JANE.ref,
      delegateRef: "EMP-1042",
      startsAt: new Date(start + DAY).toISOString(),
    });
    clock.set(start + DAY + 1_000);
    await settle(async () => (await edgeJobs(toAlex.body.id)).length === 0);
    expect(await pending(id)).toEqual([JANE]);
    await call("DELETE", `/v1/delegations/${toAlex.body.id}`);
  });

  it("revoking a delegation before it starts drops its jobs: nothing moves later", async () => {
    const start = clock.now().getTime();
    const id = await submit();
    const later = await call("POST", "/v1/delegations", {
      memberRef: JANE.ref,
      delegateRef: CHEN.ref,
      startsAt: new Date(start + DAY).toISOString(),
      endsAt: new Date(start + 3 * DAY).toISOString(),
    });
    expect(await edgeJobs(later.body.id)).toHaveLength(2);
    expect((await call("DELETE", `/v1/delegations/${later.body.id}`)).status).toBe(200);
    expect(await edgeJobs(later.body.id)).toEqual([]);
    clock.set(start + DAY + 1_000);
    await app.worker?.runDue();
    expect(await pending(id)).toEqual([JANE]);
  });
});
