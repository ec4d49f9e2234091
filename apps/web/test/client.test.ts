import { randomUUID } from "node:crypto";
import { type ApprovalMatrixClient, type RouterOutputs, apiErrorCode, createApprovalMatrixClient } from "@approvalmatrix/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, startTestApp, unlimitedKey } from "./harness";

let app: TestApp;
let client: ApprovalMatrixClient;
beforeAll(async () => {
  app = await startTestApp();
  // A trailing slash is fine: the client builds <baseUrl>/trpc itself.
  client = createApprovalMatrixClient({ baseUrl: `${app.url}/`, apiKey: await unlimitedKey(app, "typed client") });
});
afterAll(() => app.close());

async function refusal(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
  } catch (error) {
    return apiErrorCode(error);
  }
  throw new Error("expected the call to fail");
}

describe("@approvalmatrix/client against a real server", () => {
  it("drives a request to approved, with types inferred from the router", async () => {
    const created = await client.requests.create.mutate({ ...SEED_SUBMISSION, metadata: { poNumber: "PO-1" } });
    expectTypeOf(created.status).toEqualTypeOf<"pending" | "in_progress" | "approved" | "rejected" | "cancelled" | "expired">();
    expect(created).toMatchObject({ status: "pending", matrixName: "Engineering PO Matrix", currentStage: 1 });

    const afterJane = await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-2001", decision: "approved" });
    expect(afterJane).toMatchObject({ status: "in_progress", currentStage: 2 });
    await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-3001", decision: "approved", comment: "OK" });

    const view: RouterOutputs["requests"]["get"] = await client.requests.get.query({ requestId: created.requestId });
    expect(view).toMatchObject({ status: "approved", currentStage: null, totalStages: 2 });
    expect(view.decisions.map((d) => [d.stage, d.decidedBy, d.decision])).toEqual([
      [1, "Jane Smith", "approved"],
      [2, "Bob Lee", "approved"],
    ]);
  });

  it("drives a request to rejected and to cancelled", async () => {
    const rejected = await client.requests.create.mutate(SEED_SUBMISSION);
    const afterReject = await client.requests.decide.mutate({
      requestId: rejected.requestId,
      approverRef: "EMP-2001",
      decision: "rejected",
      comment: "No",
    });
    expect(afterReject).toMatchObject({ status: "rejected", currentStage: null });

    const cancelled = await client.requests.create.mutate(SEED_SUBMISSION);
    const afterCancel = await client.requests.cancel.mutate({ requestId: cancelled.requestId, reason: "Bought elsewhere" });
    expect(afterCancel).toMatchObject({ status: "cancelled", cancelReason: "Bought elsewhere" });

    const page = await client.requests.list.query({ status: "cancelled" });
    expect(page.data.map((r) => r.requestId)).toContain(cancelled.requestId);
    expect(page.hasMore).toBe(false);
  });

  it("reads a member's inbox: what waits on them, newest first, paginated, until they decide", async () => {
    const first = await client.requests.create.mutate({ ...SEED_SUBMISSION, title: "Inbox 1" });
    const second = await client.requests.create.mutate({ ...SEED_SUBMISSION, title: "Inbox 2" });
    const third = await client.requests.create.mutate({ ...SEED_SUBMISSION, title: "Inbox 3" });
    await client.requests.cancel.mutate({ requestId: third.requestId, reason: "not needed" });

    const jane = await client.requests.inbox.query({ approverRef: "EMP-2001", limit: 1 });
    expect(jane.data.map((r) => r.requestId)).toEqual([second.requestId]);
    expect(jane.hasMore).toBe(true);
    const janeNext = await client.requests.inbox.query({ approverRef: "EMP-2001", limit: 1, startingAfter: jane.nextCursor });
    expect(janeNext.data.map((r) => r.requestId)).toEqual([first.requestId]);

    // Bob approves stage 2 only: nothing waits on him until Jane has decided.
    const bobBefore = await client.requests.inbox.query({ approverRef: "EMP-3001" });
    expect(bobBefore.data.map((r) => r.requestId)).not.toContain(first.requestId);
    await client.requests.decide.mutate({ requestId: first.requestId, approverRef: "EMP-2001", decision: "approved" });
    const janeAfter = await client.requests.inbox.query({ approverRef: "EMP-2001" });
    expect(janeAfter.data.map((r) => r.requestId)).not.toContain(first.requestId);
    expect(janeAfter.data.map((r) => r.requestId)).toContain(second.requestId);
    const bobAfter = await client.requests.inbox.query({ approverRef: "EMP-3001" });
    expect(bobAfter.data.map((r) => r.requestId)).toContain(first.requestId);
    expect(bobAfter.data.find((r) => r.requestId === first.requestId)).toMatchObject({ status: "in_progress", currentStage: 2 });

    expect(await refusal(client.requests.inbox.query({ approverRef: "EMP-9999" }))).toBe("unknown_approver");
  });

  it("keeps the inbox to the key's tenant and to keys with requests:read", async () => {
    await client.requests.create.mutate({ ...SEED_SUBMISSION, title: "Waiting on Jane" });
    const other = await app.createOtherTenant();
    const otherClient = createApprovalMatrixClient({ baseUrl: app.url, apiKey: other.key });
    // Globex has its own EMP-1042 and no Jane: nothing of Acme's shows through.
    expect(await refusal(otherClient.requests.inbox.query({ approverRef: "EMP-2001" }))).toBe("unknown_approver");
    expect(await otherClient.requests.inbox.query({ approverRef: "EMP-1042" })).toEqual({ data: [], hasMore: false });

    const writeOnly = await app
      .operator(app.demoTenantId)
      .admin.apiKeys.create({ name: "write only", scopes: ["requests:write", "decisions:write"] });
    const writer = createApprovalMatrixClient({ baseUrl: app.url, apiKey: writeOnly.key });
    expect(await refusal(writer.requests.inbox.query({ approverRef: "EMP-2001" }))).toBe("forbidden");
  });

  it("surfaces the API's machine codes on errors", async () => {
    const created = await client.requests.create.mutate(SEED_SUBMISSION);
    await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-2001", decision: "approved" });
    await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-3001", decision: "approved" });
    expect(
      await refusal(client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-3001", decision: "approved" })),
    ).toBe("request_closed");
    expect(
      await refusal(client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-4001", decision: "approved" })),
    ).toBe("request_closed");
    expect(await refusal(client.requests.get.query({ requestId: "req_doesnotexist000000" }))).toBe("not_found");
    expect(await refusal(client.requests.create.mutate({ ...SEED_SUBMISSION, submitterRef: "EMP-0000" }))).toBe("unknown_submitter");

    const wrongKey = createApprovalMatrixClient({ baseUrl: app.url, apiKey: `apx_live_${"A".repeat(32)}` });
    expect(await refusal(wrongKey.requests.list.query({}))).toBe("unauthorized");
    // @ts-expect-error: the decision is "approved" or "rejected", checked at compile time too.
    expect(await refusal(client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-3001", decision: "maybe" }))).toBe(
      "invalid_request",
    );
  });

  it("sends an Idempotency-Key from the call's context: a retry returns the first result", async () => {
    const idempotencyKey = randomUUID();
    const input = { ...SEED_SUBMISSION, title: `Client retry ${idempotencyKey}` };
    const first = await client.requests.create.mutate(input, { context: { idempotencyKey } });
    const retry = await client.requests.create.mutate(input, { context: { idempotencyKey } });
    expect(retry).toEqual(first);
    const page = await client.requests.list.query({ limit: 100 });
    expect(page.data.filter((r) => r.title === input.title)).toHaveLength(1);
    expect(await refusal(client.requests.create.mutate({ ...input, amount: 1 }, { context: { idempotencyKey } }))).toBe(
      "idempotency_conflict",
    );
  });
});
