/**
 * Races over real HTTP: many approvers deciding at once, one approver deciding many times at once,
 * decisions racing cancellations, and concurrent duplicates carrying one Idempotency-Key. Each
 * must end in exactly one valid outcome, which checkInvariants reads back from the database.
 * Runs on PostgreSQL when TEST_DATABASE_URL is set (CI), where the row lock is what serializes
 * the writers; on PGlite (one connection) the same invariants must hold too.
 */
import { randomUUID } from "node:crypto";
import { and, asc, auditLog, decisions, eq, requestStages, requests } from "@approvalmatrix/db";
import { testDatabaseEngine } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";
import { must } from "@approvalmatrix/core";

let app: TestApp;
let call: ReturnType<typeof api>;

const BOARD = Array.from({ length: 10 }, (_, i) => `EMP-B${String(i + 1).padStart(2, "0")}`);
const AUDIT = Array.from({ length: 5 }, (_, i) => `EMP-A${i + 1}`);
const OPS = ["EMP-O1", "EMP-O2", "EMP-O3"];
const BOARD_QUORUM = 3;

beforeAll(async () => {
  app = await startTestApp();
  call = api(app, await unlimitedKey(app, "concurrency"));
  const operator = app.operator(app.demoTenantId);
  for (const [refs, department] of [
    [BOARD, "Board"],
    [AUDIT, "Audit"],
    [OPS, "Ops"],
  ] as const) {
    for (const ref of refs) await operator.admin.members.create({ externalRef: ref, name: `Member ${ref}`, department });
  }
  await operator.admin.matrices.create({
    name: "Board vote",
    requestType: "board_vote",
    stages: [
      { name: "Board", approvers: { type: "department", department: "Board" }, rule: "quorum", quorum: BOARD_QUORUM },
      { name: "Audit", approvers: { type: "department", department: "Audit" }, rule: "all" },
      { name: "Ops", approvers: { type: "department", department: "Ops" }, rule: "any" },
    ],
  });
  console.log(`concurrency tests on ${testDatabaseEngine()}`);
});
afterAll(() => app.close());

type Res = Awaited<ReturnType<typeof call>>;
const decide = (id: string, approverRef: string, decision: "approved" | "rejected" = "approved", headers: Record<string, string> = {}) =>
  call("POST", `/v1/requests/${id}/decisions`, { approverRef, decision }, headers);
const cancel = (id: string) => call("POST", `/v1/requests/${id}/cancel`, { reason: "race" });

async function submit(body: Record<string, unknown> = SEED_SUBMISSION): Promise<string> {
  const res = await call("POST", "/v1/requests", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.requestId;
}
const submitBoardVote = () => submit({ submitterRef: "EMP-1042", requestType: "board_vote", title: "Acquire Initech" });

/** Outcome counts: `200`, `409:already_decided`, … */
function tally(responses: Res[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const res of responses) {
    const label = res.status < 300 ? String(res.status) : `${res.status}:${res.body?.error?.code}`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

const NEEDED: Record<string, (approvers: number, quorum: number | null) => number> = {
  any: () => 1,
  all: (n) => n,
  quorum: (_n, q) => q ?? 1,
};

/** What must hold for any request, however its calls interleaved; returns its rows for more checks. */
async function checkInvariants(requestId: string) {
  const db = app.deps.db;
  const [request] = await db.select().from(requests).where(eq(requests.id, requestId));
  const stages = await db.select().from(requestStages).where(eq(requestStages.requestId, requestId)).orderBy(asc(requestStages.position));
  const decided = await db.select().from(decisions).where(eq(decisions.requestId, requestId));
  const audit = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.tenantId, app.demoTenantId), eq(auditLog.targetId, requestId)));
  expect(request).toBeDefined();
  const terminal = ["approved", "rejected", "cancelled"].includes(must(request).status);
  const countAudit = (action: string, match: Record<string, unknown> = {}) =>
    audit.filter((a) => a.action === action && Object.entries(match).every(([k, v]) => a.data[k] === v)).length;

  // One open stage at most, and it is the current one; none once terminal.
  const open = stages.filter((s) => s.status === "open");
  expect(open.length).toBe(terminal ? 0 : 1);
  expect(must(request).currentStage).toBe(terminal ? null : must(open[0]).position);

  // One decision per approver and stage; every decision by an approver of its stage.
  expect(new Set(decided.map((d) => `${d.stage}:${d.approverId}`)).size).toBe(decided.length);
  for (const d of decided) expect(must(stages.find((s) => s.position === d.stage)).approverIds).toContain(d.approverId);

  for (const stage of stages) {
    const approvals = decided.filter((d) => d.stage === stage.position && d.decision === "approved").length;
    const rejections = decided.filter((d) => d.stage === stage.position && d.decision === "rejected").length;
    const needed = must(NEEDED[stage.rule])(stage.approverIds.length, stage.quorum);
    // No double advance: a stage never takes more approvals than it needs, nor more than one rejection.
    expect(approvals).toBeLessThanOrEqual(needed);
    expect(rejections).toBeLessThanOrEqual(1);
    expect(stage.status === "approved").toBe(approvals === needed);
    expect(stage.status === "rejected").toBe(rejections === 1);
    if (stage.status === "waiting") expect(approvals + rejections).toBe(0);
    expect(countAudit("request.stage_approved", { stage: stage.position })).toBe(stage.status === "approved" ? 1 : 0);
    expect(countAudit("request.stage_opened", { stage: stage.position })).toBe(stage.position > 1 && stage.status !== "waiting" ? 1 : 0);
  }

  // No lost decision: every decision has its audit row, and nothing was audited that was not kept.
  expect(countAudit("request.decision_recorded")).toBe(decided.length);
  // One terminal transition at most, matching the status; nothing decided after it.
  const finished = audit.filter(
    (a) => a.action === "request.status_changed" && ["approved", "rejected", "cancelled"].includes(a.data.to as string),
  );
  expect(finished.map((a) => a.data.to)).toEqual(terminal ? [must(request).status] : []);
  if (terminal) for (const d of decided) expect(d.decidedAt.getTime()).toBeLessThanOrEqual(must(request).updatedAt.getTime());
  return { request: must(request), stages, decided, audit };
}

describe("concurrent decisions", () => {
  it("ten approvers of a quorum-3 stage at once: three count, the stage advances once, seven are told it moved on", async () => {
    const id = await submitBoardVote();
    const responses = await Promise.all(BOARD.map((ref) => decide(id, ref)));
    expect(tally(responses)).toEqual({ "200": BOARD_QUORUM, "422:not_an_approver": BOARD.length - BOARD_QUORUM });
    // Serialized, not lost: the winners saw one, two and three approvals, in some order.
    const seen = responses
      .filter((r) => r.status === 200)
      .map((r) => r.body.decisions.length)
      .sort();
    expect(seen).toEqual([1, 2, 3]);
    const { request, decided } = await checkInvariants(id);
    expect(request).toMatchObject({ status: "in_progress", currentStage: 2 });
    expect(decided).toHaveLength(BOARD_QUORUM);
  });

  it("one approver sending the same decision eight times at once: one is recorded, seven are already_decided", async () => {
    const id = await submitBoardVote();
    for (const ref of BOARD.slice(0, BOARD_QUORUM)) expect((await decide(id, ref)).status).toBe(200);
    const responses = await Promise.all(Array.from({ length: 8 }, () => decide(id, must(AUDIT[0]))));
    expect(tally(responses)).toEqual({ "200": 1, "409:already_decided": 7 });
    // Then the rest of an `all` stage at once, with the first approver trying again alongside.
    const rest = await Promise.all([...AUDIT.slice(1), must(AUDIT[0]), must(AUDIT[0])].map((ref) => decide(id, ref)));
    const repeats = rest.slice(AUDIT.length - 1);
    expect(rest.slice(0, AUDIT.length - 1).map((r) => r.status)).toEqual(AUDIT.slice(1).map(() => 200));
    // A repeat is already_decided while stage 2 is open, or not_an_approver once it has moved on.
    for (const res of repeats) expect(["409:already_decided", "422:not_an_approver"]).toContain(`${res.status}:${res.body.error.code}`);
    const { request, decided } = await checkInvariants(id);
    expect(request).toMatchObject({ status: "in_progress", currentStage: 3 });
    expect(decided.filter((d) => d.stage === 2)).toHaveLength(AUDIT.length);
  });

  it("approvals and a rejection racing on an `any` stage: exactly one decides, the request ends once", async () => {
    for (let round = 0; round < 5; round++) {
      const id = await submitBoardVote();
      for (const ref of BOARD.slice(0, BOARD_QUORUM)) await decide(id, ref);
      await Promise.all(AUDIT.map((ref) => decide(id, ref)));
      const responses = await Promise.all([
        decide(id, must(OPS[0]), "approved"),
        decide(id, must(OPS[1]), "rejected"),
        decide(id, must(OPS[2]), "approved"),
      ]);
      expect(tally(responses)).toEqual({ "200": 1, "409:request_closed": 2 });
      const winner = responses.findIndex((r) => r.status === 200);
      const { request, decided } = await checkInvariants(id);
      expect(request.status).toBe(winner === 1 ? "rejected" : "approved");
      expect(decided.filter((d) => d.stage === 3)).toHaveLength(1);
    }
  });
});

describe("decisions racing cancellations", () => {
  it("the last approval against a cancel: one wins, the other gets request_closed, never both", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await submit();
      expect((await decide(id, "EMP-2001")).status).toBe(200);
      ids.push(id);
    }
    // All twenty calls at once: for each request, Bob's final approval and a cancel.
    const pairs = await Promise.all(ids.map((id) => Promise.all([decide(id, "EMP-3001"), cancel(id)])));
    const outcomes = new Set<string>();
    for (const [index, [decision, cancelled]] of pairs.entries()) {
      expect(tally([decision, cancelled])).toEqual({ "200": 1, "409:request_closed": 1 });
      const { request, decided } = await checkInvariants(must(ids[index]));
      if (decision.status === 200) {
        expect(request).toMatchObject({ status: "approved", cancelReason: null });
        expect(decided).toHaveLength(2);
      } else {
        expect(request).toMatchObject({ status: "cancelled", cancelReason: "race" });
        expect(decided).toHaveLength(1);
      }
      outcomes.add(request.status);
    }
    expect([...outcomes].every((s) => s === "approved" || s === "cancelled")).toBe(true);
  });

  it("a mid-flow approval against a cancel: the approval lands before the cancel or not at all", async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => submit()));
    const pairs = await Promise.all(ids.map((id) => Promise.all([decide(id, "EMP-2001"), cancel(id)])));
    for (const [index, [decision, cancelled]] of pairs.entries()) {
      // The cancel always succeeds (approving stage 1 does not close the request)…
      expect(cancelled.status).toBe(200);
      const { request, decided } = await checkInvariants(must(ids[index]));
      expect(request.status).toBe("cancelled");
      // …and the approval either came first, and is kept, or came after and was refused.
      if (decision.status === 200) expect(decided).toHaveLength(1);
      else {
        expect(decision.body.error.code).toBe("request_closed");
        expect(decided).toHaveLength(0);
      }
    }
  });
});

describe("concurrent duplicates with one Idempotency-Key", () => {
  it("ten identical submissions at once create one request, and all ten get its response", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `Duplicate ${idem}` };
    const responses = await Promise.all(Array.from({ length: 10 }, () => call("POST", "/v1/requests", body, { "Idempotency-Key": idem })));
    expect(tally(responses)).toEqual({ "201": 10 });
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(responses.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(9);
    const rows = await app.deps.db.select({ id: requests.id }).from(requests).where(eq(requests.title, body.title));
    expect(rows.map((r) => r.id)).toEqual([must(responses[0]).body.requestId]);
  });

  it("ten identical decisions at once record one decision, and all ten get its response", async () => {
    const id = await submit();
    const idem = randomUUID();
    const responses = await Promise.all(Array.from({ length: 10 }, () => decide(id, "EMP-2001", "approved", { "Idempotency-Key": idem })));
    expect(tally(responses)).toEqual({ "200": 10 });
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const { decided } = await checkInvariants(id);
    expect(decided).toHaveLength(1);
  });

  it("different keys at once are independent: ten keys, ten requests", async () => {
    const title = `Distinct ${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call("POST", "/v1/requests", { ...SEED_SUBMISSION, title }, { "Idempotency-Key": randomUUID() })),
    );
    expect(tally(responses)).toEqual({ "201": 10 });
    expect(await app.deps.db.$count(requests, eq(requests.title, title))).toBe(10);
  });
});
