import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, api, startTestApp } from "./harness";

let app: TestApp;
let call: ReturnType<typeof api>;
beforeAll(async () => {
  app = await startTestApp();
  call = api(app, app.demoKey);
});
afterAll(() => app.close());

// The REST reference's own story, against the demo tenant: Alex Kim (EMP-1042) submits a PO, his
// manager Jane Smith (EMP-2001) approves stage 1, Bob Lee (EMP-3001, Finance) approves stage 2.
describe("story: submit → stage 1 approve → stage 2 approve → approved", () => {
  it("drives the seed's purchase order to approved, with both decisions in the seed's shape", async () => {
    const submitted = await call("POST", "/v1/requests", {
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      title: "Office Supplies Q3",
      amount: 4500,
      currency: "USD",
      metadata: { department: "Engineering", poNumber: "PO-9871" },
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ status: "pending", matrixName: "Engineering PO Matrix", currentStage: 1, totalStages: 2 });
    const id = submitted.body.requestId as string;

    const first = await call("POST", `/v1/requests/${id}/decisions`, {
      approverRef: "EMP-2001",
      decision: "approved",
      comment: "Fine by me",
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      requestId: id,
      status: "in_progress",
      currentStage: 2,
      pendingApprovers: [{ ref: "EMP-3001", name: "Bob Lee" }],
    });
    expect(first.body.stages.map((s: { status: string }) => s.status)).toEqual(["approved", "open"]);

    const second = await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "approved", currentStage: null, pendingApprovers: [] });

    const final = await call("GET", `/v1/requests/${id}`);
    expect(final.status).toBe(200);
    expect(final.body).toMatchObject({
      requestId: id,
      status: "approved",
      title: "Office Supplies Q3",
      submitterRef: "EMP-1042",
      currentStage: null,
      totalStages: 2,
      decisions: [
        { stage: 1, decidedBy: "Jane Smith", decision: "approved" },
        { stage: 2, decidedBy: "Bob Lee", decision: "approved" },
      ],
    });
    expect(final.body.decisions).toHaveLength(2);
    for (const decision of final.body.decisions) {
      expect(new Date(decision.decidedAt).toISOString()).toBe(decision.decidedAt);
      expect(Date.parse(decision.decidedAt)).toBeGreaterThanOrEqual(Date.parse(submitted.body.createdAt));
    }
    expect(Date.parse(final.body.decisions[1].decidedAt)).toBeGreaterThanOrEqual(Date.parse(final.body.decisions[0].decidedAt));
    expect(final.body.decisions[0].comment).toBe("Fine by me");
    expect(final.body.stages.map((s: { status: string }) => s.status)).toEqual(["approved", "approved"]);
    // The POST answered with exactly what GET shows afterwards.
    expect(second.body).toEqual(final.body);
  });
});
