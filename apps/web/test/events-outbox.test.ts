/**
 * Every change of a request, member or key writes its event in the same transaction (the
 * outbox), with the thin-plus payload integrators need; a refused change writes none; the worker
 * dispatches them.
 */
import { asc, eq, events } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";

let app: TestApp;
let call: ReturnType<typeof api>;
// The worker is driven by hand here, so what is dispatched is deterministic.
beforeAll(async () => {
  app = await startTestApp({ WORKER: "off" });
  call = api(app, await unlimitedKey(app, "ERP connector"));
});
afterAll(() => app.close());

async function eventsOf(requestId: string) {
  const rows = await app.deps.db.select().from(events).orderBy(asc(events.seq));
  return rows.filter((e) => e.data.requestId === requestId);
}

describe("the events outbox", () => {
  it("follows a request's whole life: created, stages, decisions, approved", async () => {
    const created = await call("POST", "/v1/requests", SEED_SUBMISSION);
    expect(created.status).toBe(201);
    const id: string = created.body.requestId;
    let list = await eventsOf(id);
    expect(list.map((e) => e.type)).toEqual(["approval_request.created", "approval_request.stage_opened"]);
    expect(list[0]).toMatchObject({ tenantId: app.demoTenantId, apiVersion: expect.any(String), dispatchedAt: null });
    expect(list[0]?.id).toMatch(/^evt_/);
    expect(list[0]?.data).toMatchObject({
      requestId: id,
      tenantId: app.demoTenantId,
      status: "pending",
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      stage: { position: 1, name: expect.any(String) },
      totalStages: 2,
      url: `/v1/requests/${id}`,
    });

    expect(
      (await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved", comment: "ok" })).status,
    ).toBe(200);
    expect((await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" })).status).toBe(200);
    list = await eventsOf(id);
    expect(list.map((e) => e.type)).toEqual([
      "approval_request.created",
      "approval_request.stage_opened",
      "approval_request.decision_recorded",
      "approval_request.stage_approved",
      "approval_request.stage_opened",
      "approval_request.decision_recorded",
      "approval_request.stage_approved",
      "approval_request.approved",
    ]);
    expect(list[2]?.data).toMatchObject({
      status: "in_progress",
      stage: { position: 1 },
      decision: {
        decision: "approved",
        approverRef: "EMP-2001",
        approverName: "Jane Smith",
        comment: "ok",
        actor: { type: "api_key", name: "ERP connector" },
      },
    });
    expect(list.at(-1)?.data).toMatchObject({ status: "approved", stage: null });
  });

  it("records who acted beside the approver in the request view", async () => {
    const id: string = (await call("POST", "/v1/requests", SEED_SUBMISSION)).body.requestId;
    const view = await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "rejected" });
    expect(view.body.decisions[0]).toMatchObject({
      decidedByRef: "EMP-2001",
      actor: { type: "api_key", id: expect.stringMatching(/^key_/), name: "ERP connector" },
    });
    expect((await eventsOf(id)).map((e) => e.type).slice(-3)).toEqual([
      "approval_request.decision_recorded",
      "approval_request.stage_rejected",
      "approval_request.rejected",
    ]);
  });

  it("says why a request was cancelled, and writes nothing for a refused change", async () => {
    const id: string = (await call("POST", "/v1/requests", SEED_SUBMISSION)).body.requestId;
    const refused = await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" });
    expect(refused.status).toBe(422);
    expect(await eventsOf(id)).toHaveLength(2);
    expect((await call("POST", `/v1/requests/${id}/cancel`, { reason: "Duplicate order" })).status).toBe(200);
    const last = (await eventsOf(id)).at(-1);
    expect(last).toMatchObject({ type: "approval_request.cancelled", data: { status: "cancelled", reason: "Duplicate order" } });
  });

  it("emits member and API key events", async () => {
    const operator = app.operator(app.demoTenantId);
    const member = await operator.admin.members.create({ externalRef: "EMP-9001", name: "Ivy Chen", department: "Ops" });
    await operator.admin.members.setActive({ id: member.id, active: false });
    const key = await operator.admin.apiKeys.create({ name: "temporary", scopes: ["requests:read"] });
    await operator.admin.apiKeys.revoke({ id: key.id });
    const rows = await app.deps.db.select().from(events).where(eq(events.tenantId, app.demoTenantId)).orderBy(asc(events.seq));
    const about = (field: string, value: string) => rows.filter((e) => e.data[field] === value).map((e) => e.type);
    expect(about("memberId", member.id)).toEqual(["member.created", "member.deactivated"]);
    expect(about("keyId", key.id)).toEqual(["api_key.created", "api_key.revoked"]);
    expect(JSON.stringify(rows)).not.toContain(key.key);
  });

  it("is drained by the worker's dispatch job", async () => {
    const worker = app.worker ?? (await import("../src/job-worker")).createJobWorker(app.deps, { WORKER_CONCURRENCY: 2 });
    await worker.runDue();
    const left = await app.deps.db.select().from(events);
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((e) => e.dispatchedAt !== null)).toBe(true);
  });
  it("asks for a dispatch after every committed change, and only then", async () => {
    let nudges = 0;
    const previous = app.deps.eventsWritten;
    app.deps.eventsWritten = () => nudges++;
    try {
      const id: string = (await call("POST", "/v1/requests", SEED_SUBMISSION)).body.requestId;
      expect(nudges).toBe(1);
      expect((await call("GET", `/v1/requests/${id}`)).status).toBe(200);
      expect((await call("POST", "/v1/requests", { ...SEED_SUBMISSION, submitterRef: "NOBODY" })).status).toBe(422);
      expect(nudges).toBe(1); // a read and a refused change commit nothing
      expect((await call("POST", `/v1/requests/${id}/cancel`, { reason: "test" })).status).toBe(200);
      expect(nudges).toBe(2);
    } finally {
      app.deps.eventsWritten = previous;
    }
  });
});
