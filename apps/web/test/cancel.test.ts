import { and, auditLog, eq } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";
import { securitySuite } from "./security-suite";

let app: TestApp;
let call: ReturnType<typeof api>;
beforeAll(async () => {
  app = await startTestApp();
  call = api(app, await unlimitedKey(app));
});
afterAll(() => app.close());

async function submit(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/v1/requests", { ...SEED_SUBMISSION, ...overrides });
  expect(res.status).toBe(201);
  return res.body.requestId;
}
const cancel = (id: string, body: unknown = { reason: "Ordered through another supplier" }) =>
  call("POST", `/v1/requests/${id}/cancel`, body);
const decide = (id: string, approverRef: string, decision: "approved" | "rejected") =>
  call("POST", `/v1/requests/${id}/decisions`, { approverRef, decision });

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
}

describe("POST /v1/requests/{requestId}/cancel", () => {
  it("cancels a pending request: status cancelled, reason kept, nobody left to decide", async () => {
    const id = await submit();
    const res = await cancel(id, { reason: "  Duplicate of PO-9870  " });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId: id,
      status: "cancelled",
      currentStage: null,
      cancelReason: "Duplicate of PO-9870",
      pendingApprovers: [],
      decisions: [],
    });
    expect(res.body.stages.map((s: { status: string }) => s.status)).toEqual(["cancelled", "waiting"]);
    expect((await call("GET", `/v1/requests/${id}`)).body).toEqual(res.body);
  });

  it("cancels an in-progress request and keeps the decisions made so far", async () => {
    const id = await submit();
    await decide(id, "EMP-2001", "approved");
    const res = await cancel(id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "cancelled",
      currentStage: null,
      decisions: [{ stage: 1, decidedBy: "Jane Smith", decision: "approved" }],
    });
    expect(res.body.stages.map((s: { status: string }) => s.status)).toEqual(["approved", "cancelled"]);
  });

  it("writes the cancellation and its reason to the audit log", async () => {
    const id = await submit();
    await cancel(id, { reason: "Budget frozen" });
    const rows = await app.deps.db
      .select({ action: auditLog.action, data: auditLog.data })
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, app.demoTenantId), eq(auditLog.targetId, id)));
    expect(rows.map((r) => r.action).sort()).toEqual(["request.stage_cancelled", "request.status_changed", "request.submitted"]);
    expect(rows.find((r) => r.action === "request.status_changed")?.data).toEqual({
      from: "pending",
      to: "cancelled",
      reason: "Budget frozen",
    });
  });

  describe("errors", () => {
    it("409 request_closed for a request that is already cancelled, approved or rejected; nothing changes", async () => {
      const cancelled = await submit();
      await cancel(cancelled, { reason: "first" });
      const twice = await cancel(cancelled, { reason: "second" });
      expectError(twice, 409, "request_closed");
      expect(twice.body.error.message).toContain("cancelled");
      expect((await call("GET", `/v1/requests/${cancelled}`)).body.cancelReason).toBe("first");

      const approved = await submit();
      await decide(approved, "EMP-2001", "approved");
      await decide(approved, "EMP-3001", "approved");
      expectError(await cancel(approved), 409, "request_closed");
      expect((await call("GET", `/v1/requests/${approved}`)).body).toMatchObject({ status: "approved", cancelReason: null });

      const rejected = await submit();
      await decide(rejected, "EMP-2001", "rejected");
      expectError(await cancel(rejected), 409, "request_closed");
    });

    it("404 not_found for an unknown request", async () => {
      expectError(await cancel("req_doesnotexist000000"), 404, "not_found");
    });

    it("400 invalid_request without a reason, with an empty one or with unknown fields", async () => {
      const id = await submit();
      const missing = await cancel(id, {});
      expectError(missing, 400, "invalid_request");
      expect(missing.body.error.issues.map((i: { field: string }) => i.field)).toEqual(["reason"]);
      expectError(await cancel(id, { reason: "   " }), 400, "invalid_request");
      expectError(await cancel(id, { reason: "ok", status: "approved" }), 400, "invalid_request");
      expect((await call("GET", `/v1/requests/${id}`)).body.status).toBe("pending");
    });
  });

  it("is documented with its errors and the Idempotency-Key header", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).body;
    const operation = doc.paths["/requests/{requestId}/cancel"].post;
    expect(operation.responses["404"].description).toContain("not_found");
    expect(operation.responses["409"].description).toContain("request_closed");
    expect(operation.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["requestId", "Idempotency-Key"]));
    expect(operation.requestBody.content["application/json"].schema.required).toEqual(["reason"]);
  });
});

securitySuite("POST /v1/requests/{requestId}/cancel", {
  method: "POST",
  path: ({ ownRequestId }) => `/requests/${ownRequestId}/cancel`,
  body: { reason: "Security suite" },
  scope: "requests:write",
  takesRequestId: true,
});
