import { describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, demoAppForFile } from "./harness";

const demo = demoAppForFile();

// The REST reference's own story, against the demo tenant: Alex Kim (EMP-1042) submits a PO, his
// manager Jane Smith (EMP-2001) approves stage 1, Bob Lee (EMP-3001, Finance) approves stage 2.
describe("story: submit → stage 1 approve → stage 2 approve → approved", () => {
  it("drives the seed's purchase order to approved, with both decisions in the seed's shape", async () => {
    const submitted = await demo.call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ status: "pending", matrixName: "Engineering PO Matrix", currentStage: 1, totalStages: 2 });
    const id = submitted.body.requestId as string;

    const first = await demo.call("POST", `/v1/requests/${id}/decisions`, {
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

    const second = await demo.call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "approved", currentStage: null, pendingApprovers: [] });

    const final = await demo.call("GET", `/v1/requests/${id}`);
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
