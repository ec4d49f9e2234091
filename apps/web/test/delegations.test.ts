/**
 * Delegation (out of office) and reassignment over real HTTP: stages that open go to the
 * delegate, open stages are re-pointed, the decision shows "Bob Lee for Jane Smith", chains are
 * followed, loops refused, self-approval impossible, and an admin reassigns with a reason.
 */
import { createCaller, sendDueMessages } from "@approvalmatrix/api";
import { and, auditLog, eq, events, members, messages, sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp, unlimitedKey } from "./harness";
import { securitySuite } from "./security-suite";

let app: TestApp;
let call: ReturnType<typeof api>;
beforeAll(async () => {
  app = await startTestApp({ WORKER: "off" });
  call = api(app, await unlimitedKey(app));
});
afterAll(() => app.close());

async function submit(): Promise<string> {
  const res = await call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
  expect(res.status).toBe(201);
  return res.body.requestId;
}

async function delegate(memberRef: string, delegateRef: string, extra: Record<string, unknown> = {}) {
  return call("POST", "/v1/delegations", { memberRef, delegateRef, ...extra });
}

const revokeAll = async () => {
  const list = await call("GET", "/v1/delegations");
  for (const d of list.body.data) if (!d.revokedAt) await call("DELETE", `/v1/delegations/${d.id}`);
};

describe("delegation", () => {
  it("a stage that opens goes to the delegate, who decides as “Bob Lee for Jane Smith”", async () => {
    // Chen Wei (Finance) stands in for Jane Smith, the manager approver of stage 1.
    const created = await delegate("EMP-2001", "EMP-3002", { reason: "Holiday" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      member: { ref: "EMP-2001", name: "Jane Smith" },
      delegate: { ref: "EMP-3002" },
      active: true,
      reason: "Holiday",
    });

    const id = await submit();
    const view = (await call("GET", `/v1/requests/${id}`)).body;
    expect(view.pendingApprovers).toEqual([{ ref: "EMP-3002", name: "Chen Wei" }]);
    expect(view.stages[0].delegations).toEqual([
      { delegate: { ref: "EMP-3002", name: "Chen Wei" }, for: { ref: "EMP-2001", name: "Jane Smith" } },
    ]);
    // Jane herself no longer holds the seat.
    expect((await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved" })).body.error.code).toBe(
      "not_an_approver",
    );
    const decided = await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3002", decision: "approved" });
    expect(decided.status).toBe(200);
    // The approver of record stays Jane; the delegate is the actor: "Chen Wei for Jane Smith".
    expect(decided.body.decisions).toMatchObject([
      {
        stage: 1,
        decidedBy: "Jane Smith",
        decidedByRef: "EMP-2001",
        actor: { type: "delegate", name: "Chen Wei" },
        onBehalfOf: { ref: "EMP-2001", name: "Jane Smith" },
        delegate: { ref: "EMP-3002", name: "Chen Wei" },
      },
    ]);
    expect(decided.body.stages[0]).toMatchObject({ status: "approved", approvers: [{ ref: "EMP-2001", name: "Jane Smith" }] });
    // The seat went back with the decision: no stand-in is left on the stage.
    expect(decided.body.stages[0].delegations).toEqual([]);
    // Neither of them can decide the stage a second time.
    expect((await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3002", decision: "rejected" })).body.error.code).toBe(
      "not_an_approver",
    );
    // The event, the audit row and the signed receipt say the same.
    const [event] = await app.deps.db
      .select({ data: events.data })
      .from(events)
      .where(and(eq(events.type, "approval_request.decision_recorded"), sql`${events.data}->>'requestId' = ${id}`));
    expect(event?.data).toMatchObject({
      decision: {
        approverRef: "EMP-2001",
        approverName: "Jane Smith",
        actor: { type: "delegate", name: "Chen Wei" },
        delegate: { ref: "EMP-3002" },
      },
    });
    const [auditRow] = await app.deps.db
      .select({ data: auditLog.data })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, "request.decision_recorded")));
    expect(auditRow?.data).toMatchObject({ approverRef: "EMP-2001", delegateRef: "EMP-3002", display: "Chen Wei for Jane Smith" });
    const receipts = (await call("GET", `/v1/requests/${id}/verify`)).body.receipts;
    expect(receipts[0].body).toMatchObject({
      approver: { ref: "EMP-2001", name: "Jane Smith" },
      actor: { type: "delegate", name: "Chen Wei" },
    });
    // The delegate was e-mailed (the outbox row of the opening stage is theirs).
    const queued = await app.deps.db
      .select({ memberId: messages.memberId, kind: messages.kind })
      .from(messages)
      .where(eq(messages.requestId, id));
    expect(queued.filter((m) => m.kind === "stage_opened")).toHaveLength(2);
    await revokeAll();
  });

  it("re-points stages already open, follows a chain to its end, and hands the seat back on revoke", async () => {
    const id = await submit();
    expect((await call("GET", `/v1/requests/${id}`)).body.pendingApprovers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    await delegate("EMP-4001", "EMP-3002"); // Priya → Chen
    const janeToPriya = await delegate("EMP-2001", "EMP-4001"); // Jane → Priya → Chen
    const view = (await call("GET", `/v1/requests/${id}`)).body;
    expect(view.pendingApprovers).toEqual([{ ref: "EMP-3002", name: "Chen Wei" }]);
    const audit = await app.deps.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, "request.stage_delegated")));
    expect(audit.length).toBeGreaterThanOrEqual(1);
    await sendDueMessages(app.deps, new Date());
    const chenMessages = await app.deps.db
      .select({ kind: messages.kind })
      .from(messages)
      .where(and(eq(messages.requestId, id), eq(messages.kind, "reassigned")));
    expect(chenMessages.length).toBeGreaterThanOrEqual(1);

    await call("DELETE", `/v1/delegations/${janeToPriya.body.id}`);
    expect((await call("GET", `/v1/requests/${id}`)).body.pendingApprovers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    await revokeAll();
  });

  it("refuses a loop, and a delegation to oneself", async () => {
    await delegate("EMP-2001", "EMP-3001");
    const loop = await delegate("EMP-3001", "EMP-2001");
    expect(loop.status).toBe(422);
    expect(loop.body.error.code).toBe("delegation_loop");
    expect((await delegate("EMP-4001", "EMP-4001")).body.error.code).toBe("delegation_loop");
    await revokeAll();
  });

  it("never hands the submitter their own request", async () => {
    // Jane delegates to Alex, who submits: Jane keeps the seat.
    await delegate("EMP-2001", "EMP-1042");
    const id = await submit();
    expect((await call("GET", `/v1/requests/${id}`)).body.pendingApprovers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    await revokeAll();
  });

  it("a delegation that starts later leaves open stages alone until then", async () => {
    const id = await submit();
    const res = await delegate("EMP-2001", "EMP-3002", { startsAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect(res.body.active).toBe(false);
    expect((await call("GET", `/v1/requests/${id}`)).body.pendingApprovers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    await revokeAll();
  });
});

describe("reassignment", () => {
  it("an admin (or a requests:write key) moves an open stage's approver, with a reason in the audit log", async () => {
    const id = await submit();
    const res = await call("POST", `/v1/requests/${id}/reassign`, { fromRef: "EMP-2001", toRef: "EMP-4001", reason: "Jane left the team" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ requestId: id, stage: 1, fromRef: "EMP-2001", toRef: "EMP-4001", reason: "Jane left the team" });
    expect((await call("GET", `/v1/requests/${id}`)).body.pendingApprovers).toEqual([{ ref: "EMP-4001", name: "Priya Patel" }]);
    const [row] = await app.deps.db
      .select({ data: auditLog.data })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, "request.approver_reassigned")));
    expect(row?.data).toMatchObject({ fromRef: "EMP-2001", toRef: "EMP-4001", reason: "Jane left the team" });
  });

  it("refuses the submitter, someone not on the stage, and a closed request", async () => {
    const id = await submit();
    const self = await call("POST", `/v1/requests/${id}/reassign`, { fromRef: "EMP-2001", toRef: "EMP-1042", reason: "x" });
    expect(self.status).toBe(422);
    expect(self.body.error.code).toBe("invalid_reassignment");
    expect(
      (await call("POST", `/v1/requests/${id}/reassign`, { fromRef: "EMP-3001", toRef: "EMP-4001", reason: "x" })).body.error.code,
    ).toBe("invalid_reassignment");
    await call("POST", `/v1/requests/${id}/cancel`, { reason: "no longer needed" });
    expect(
      (await call("POST", `/v1/requests/${id}/reassign`, { fromRef: "EMP-2001", toRef: "EMP-4001", reason: "x" })).body.error.code,
    ).toBe("request_closed");
  });

  it("an approver in the admin app manages only their own delegation; only admins reassign", async () => {
    const [jane] = await app.deps.db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, app.demoTenantId), eq(members.externalRef, "EMP-2001")));
    const approver = createCaller({
      deps: app.deps,
      requestId: "test",
      authorization: null,
      credentialInQuery: false,
      response: { headers: {} },
      actor: { kind: "user", tenantId: app.demoTenantId, userId: "usr_test", role: "approver", memberId: jane?.id ?? null },
    });
    await expect(approver.admin.delegations.create({ memberRef: "EMP-3001", delegateRef: "EMP-3002" })).rejects.toThrow(
      /only for themselves/,
    );
    const own = await approver.admin.delegations.create({ memberRef: "EMP-2001", delegateRef: "EMP-3002" });
    expect(own.member.ref).toBe("EMP-2001");
    expect((await approver.admin.delegations.list()).data.every((d) => d.member.ref === "EMP-2001")).toBe(true);
    await expect(
      approver.admin.delegations.reassign({ requestId: "req_x", fromRef: "EMP-2001", toRef: "EMP-3002", reason: "x" }),
    ).rejects.toThrow(/admin role/);
    await approver.admin.delegations.revoke({ delegationId: own.id });
  });
});

securitySuite("POST /v1/delegations", {
  method: "POST",
  path: () => "/delegations",
  body: { memberRef: "EMP-2001", delegateRef: "EMP-3002" },
  scope: "decisions:write",
});

securitySuite("POST /v1/requests/{id}/reassign", {
  method: "POST",
  path: ({ ownRequestId }) => `/requests/${ownRequestId}/reassign`,
  body: { fromRef: "EMP-2001", toRef: "EMP-4001", reason: "security suite" },
  scope: "requests:write",
  takesRequestId: true,
});
