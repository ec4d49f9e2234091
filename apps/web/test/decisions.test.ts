import { and, auditLog, decisions, eq } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";
import { securitySuite } from "./security-suite";

let app: TestApp;
let call: ReturnType<typeof api>;
beforeAll(async () => {
  app = await startTestApp();
  call = api(app, await unlimitedKey(app));
  // A contract matrix with a quorum stage: two of the three Legal members must approve.
  const operator = app.operator(app.demoTenantId);
  for (const [ref, name] of [
    ["EMP-5001", "Lena Ortiz"],
    ["EMP-5002", "Omar Haddad"],
    ["EMP-5003", "Sara Novak"],
  ] as const) {
    await operator.admin.members.create({ externalRef: ref, name, department: "Legal" });
  }
  await operator.admin.matrices.create({
    name: "Contracts",
    requestType: "contract",
    stages: [{ name: "Legal review", approvers: { type: "department", department: "Legal" }, rule: "quorum", quorum: 2 }],
  });
});
afterAll(() => app.close());

async function submit(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/v1/requests", { ...SEED_SUBMISSION, ...overrides });
  expect(res.status).toBe(201);
  return res.body.requestId;
}

const decide = (requestId: string, approverRef: string, decision: "approved" | "rejected", extra: Record<string, unknown> = {}) =>
  call("POST", `/v1/requests/${requestId}/decisions`, { approverRef, decision, ...extra });

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.requestId).toMatch(/^rid_/);
}

describe("POST /v1/requests/{requestId}/decisions", () => {
  it("records an approval, completes an `any` stage and opens the next, answering with the request view", async () => {
    const id = await submit();
    const res = await decide(id, "EMP-2001", "approved", { comment: "  Within the team budget  " });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId: id,
      status: "in_progress",
      currentStage: 2,
      totalStages: 2,
      pendingApprovers: [{ ref: "EMP-3001", name: "Bob Lee" }],
      decisions: [{ stage: 1, decidedBy: "Jane Smith", decidedByRef: "EMP-2001", decision: "approved", comment: "Within the team budget" }],
    });
    expect(res.body.stages.map((s: { status: string }) => s.status)).toEqual(["approved", "open"]);
    expect(res.headers.get("x-ratelimit-limit")).toBeTruthy();
  });

  it("writes an audit row for every transition, in the same transaction as the decision", async () => {
    const id = await submit();
    await decide(id, "EMP-2001", "approved");
    const rows = await app.deps.db
      .select({ action: auditLog.action, data: auditLog.data, actorType: auditLog.actorType })
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, app.demoTenantId), eq(auditLog.targetId, id)));
    expect(rows.map((r) => r.action).sort()).toEqual(
      ["request.submitted", "request.decision_recorded", "request.stage_approved", "request.stage_opened", "request.status_changed"].sort(),
    );
    expect(rows.find((r) => r.action === "request.decision_recorded")?.data).toMatchObject({
      stage: 1,
      approverRef: "EMP-2001",
      decision: "approved",
    });
    expect(rows.find((r) => r.action === "request.status_changed")?.data).toEqual({ from: "pending", to: "in_progress" });
    expect(new Set(rows.map((r) => r.actorType))).toEqual(new Set(["api_key"]));
  });

  it("rejects the whole request on one rejection, and nothing can be decided afterwards", async () => {
    const id = await submit();
    const res = await decide(id, "EMP-2001", "rejected", { comment: "Not this quarter" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "rejected", currentStage: null, pendingApprovers: [] });
    expect(res.body.stages.map((s: { status: string }) => s.status)).toEqual(["rejected", "waiting"]);
    const late = await decide(id, "EMP-3001", "approved");
    expectError(late, 409, "request_closed");
    expect(late.body.error.message).toContain("rejected");
  });

  it("needs every approver on an `all` stage (Large purchase orders: Finance, rule all)", async () => {
    const id = await submit({ amount: 25_000 });
    expect((await decide(id, "EMP-2001", "approved")).body.currentStage).toBe(2);
    const bob = await decide(id, "EMP-3001", "approved");
    expect(bob.body).toMatchObject({ status: "in_progress", currentStage: 2, pendingApprovers: [{ ref: "EMP-3002", name: "Chen Wei" }] });
    const chen = await decide(id, "EMP-3002", "approved");
    expect(chen.body).toMatchObject({ status: "approved", currentStage: null });
    expect(chen.body.decisions.map((d: { decidedByRef: string; stage: number }) => `${d.stage}:${d.decidedByRef}`)).toEqual([
      "1:EMP-2001",
      "2:EMP-3001",
      "2:EMP-3002",
    ]);
  });

  it("completes a quorum stage at N approvals; a later approver finds the request closed", async () => {
    const id = await submit({ requestType: "contract", title: "Supplier NDA", amount: null });
    const first = await decide(id, "EMP-5002", "approved");
    expect(first.body).toMatchObject({ status: "in_progress", currentStage: 1 });
    expect(first.body.pendingApprovers.map((p: { ref: string }) => p.ref).sort()).toEqual(["EMP-5001", "EMP-5003"]);
    const second = await decide(id, "EMP-5003", "approved");
    expect(second.body).toMatchObject({ status: "approved", currentStage: null });
    expectError(await decide(id, "EMP-5001", "approved"), 409, "request_closed");
  });

  it("never lets submitters approve their own request: they are skipped at submission", async () => {
    // Chen Wei (Finance) submits a large order: stage 2 is Finance, rule all, without Chen.
    const id = await submit({ submitterRef: "EMP-3002", amount: 20_000 });
    await decide(id, "EMP-3001", "approved"); // stage 1: Chen's manager
    const own = await decide(id, "EMP-3002", "approved");
    expectError(own, 422, "not_an_approver");
    const done = await decide(id, "EMP-3001", "approved");
    expect(done.body).toMatchObject({ status: "approved" });
  });

  describe("errors", () => {
    it("404 not_found for an unknown request", async () => {
      const res = await decide("req_doesnotexist000000", "EMP-2001", "approved");
      expectError(res, 404, "not_found");
      expect(res.body.error.message).toContain("req_doesnotexist000000");
    });

    it("422 unknown_approver for an approverRef no active member has", async () => {
      const id = await submit();
      const res = await decide(id, "EMP-9999", "approved");
      expectError(res, 422, "unknown_approver");
      expect(res.body.error.message).toContain("EMP-9999");
    });

    it("422 not_an_approver for a member outside the current stage, saying why", async () => {
      const id = await submit();
      const outsider = await decide(id, "EMP-4001", "approved");
      expectError(outsider, 422, "not_an_approver");
      const early = await decide(id, "EMP-3001", "approved");
      expectError(early, 422, "not_an_approver");
      expect(early.body.error.message).toMatch(/stage 2, which is not open yet/);
      const rows = await app.deps.db.select().from(decisions).where(eq(decisions.requestId, id));
      expect(rows).toHaveLength(0);
    });

    it("409 already_decided for a second decision by the same approver on the same stage", async () => {
      const id = await submit({ amount: 25_000 });
      await decide(id, "EMP-2001", "approved");
      await decide(id, "EMP-3001", "approved");
      const again = await decide(id, "EMP-3001", "rejected");
      expectError(again, 409, "already_decided");
      const view = await call("GET", `/v1/requests/${id}`);
      expect(view.body).toMatchObject({ status: "in_progress", currentStage: 2 });
      expect(view.body.decisions).toHaveLength(2);
    });

    it("409 request_closed once the request is approved or cancelled", async () => {
      const approved = await submit();
      await decide(approved, "EMP-2001", "approved");
      await decide(approved, "EMP-3001", "approved");
      expectError(await decide(approved, "EMP-3001", "approved"), 409, "request_closed");

      const cancelled = await submit();
      expect((await call("POST", `/v1/requests/${cancelled}/cancel`, { reason: "Ordered elsewhere" })).status).toBe(200);
      const res = await decide(cancelled, "EMP-2001", "approved");
      expectError(res, 409, "request_closed");
      expect(res.body.error.message).toContain("cancelled");
    });

    it("400 invalid_request naming each bad field", async () => {
      const id = await submit();
      const res = await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "", decision: "maybe", mood: "happy" });
      expectError(res, 400, "invalid_request");
      const fields = res.body.error.issues.map((i: { field: string }) => i.field).sort();
      expect(fields).toEqual(expect.arrayContaining(["approverRef", "decision"]));
      expect(JSON.stringify(res.body.error)).toContain("mood");
      const tooLong = await decide(id, "EMP-2001", "approved", { comment: "x".repeat(2001) });
      expectError(tooLong, 400, "invalid_request");
      expect(tooLong.body.error.issues[0].field).toBe("comment");
    });
  });

  it("is documented with its errors and the Idempotency-Key header", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).body;
    const operation = doc.paths["/requests/{requestId}/decisions"].post;
    expect(operation.responses["200"]).toBeDefined();
    expect(operation.responses["404"].description).toContain("not_found");
    expect(operation.responses["409"].description).toEqual(expect.stringContaining("already_decided"));
    expect(operation.responses["409"].description).toEqual(expect.stringContaining("request_closed"));
    expect(operation.responses["422"].description).toEqual(expect.stringContaining("unknown_approver"));
    expect(operation.responses["422"].description).toEqual(expect.stringContaining("not_an_approver"));
    expect(operation.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(["path:requestId", "header:Idempotency-Key"]),
    );
    expect(Object.keys(operation.requestBody.content["application/json"].schema.properties).sort()).toEqual([
      "approverRef",
      "comment",
      "decision",
    ]);
  });
});

securitySuite("POST /v1/requests/{requestId}/decisions", {
  method: "POST",
  path: ({ ownRequestId }) => `/requests/${ownRequestId}/decisions`,
  body: { approverRef: "EMP-2001", decision: "approved" },
  scope: "decisions:write",
  takesRequestId: true,
});
