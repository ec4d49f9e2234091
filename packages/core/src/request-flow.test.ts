import { describe, expect, it } from "vitest";
import type { StageRule } from "./approvers";
import { DomainError } from "./errors";
import { must } from "./must";
import {
  settleStage,
  type Decision,
  type FlowEvent,
  type FlowState,
  type RequestStatus,
  type StageStatus,
  TERMINAL_STATUSES,
  cancel,
  expire,
  decide,
  isTerminal,
  openRequest,
  pendingApprovers,
} from "./request-flow";

type StageSpec = [rule: StageRule, approvers: string[], quorum?: number];

function open(...stages: StageSpec[]): FlowState {
  return openRequest(
    stages.map(([rule, approverIds, quorum], index) => ({ position: index + 1, rule, quorum: quorum ?? null, approverIds })),
  );
}

type Step = [approverId: string, decision: Decision];

/** Applies the steps in order; returns the last transition's state and all events. */
function run(state: FlowState, steps: Step[]): { state: FlowState; events: FlowEvent[] } {
  let current = state;
  const events: FlowEvent[] = [];
  for (const [approver, decision] of steps) {
    const transition = decide(current, approver, decision);
    current = transition.state;
    events.push(...transition.events);
  }
  return { state: current, events };
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a DomainError, nothing was thrown");
}

const statuses = (state: FlowState): StageStatus[] => state.stages.map((s) => s.status);

// Three shapes cover every rule: two `any` stages (the demo's Engineering PO Matrix), a manager
// then an `all` stage (Large purchase orders) and a `quorum 2 of 3` stage.
const TWO_ANY = open(["any", ["jane"]], ["any", ["bob"]]);
const ANY_THEN_ALL = open(["any", ["jane"]], ["all", ["bob", "chen"]]);
const QUORUM_THEN_ANY = open(["quorum", ["a", "b", "c"], 2], ["any", ["bob", "chen"]]);

describe("openRequest", () => {
  it("opens the first stage and leaves the rest waiting", () => {
    expect(TWO_ANY).toMatchObject({ status: "pending", currentStage: 1, decisions: [] });
    expect(statuses(TWO_ANY)).toEqual(["open", "waiting"]);
    expect(pendingApprovers(TWO_ANY)).toEqual(["jane"]);
  });

  it("refuses a matrix without stages", () => {
    expect(refusal(() => openRequest([])).code).toBe("no_eligible_approver");
  });
});

describe("decide: every transition", () => {
  it.each<[string, FlowState, Step[], RequestStatus, number | null, StageStatus[], string[]]>([
    // name, start, decisions, status, currentStage, stage statuses, pending approvers
    [
      "any: first approval completes stage 1 and opens stage 2",
      TWO_ANY,
      [["jane", "approved"]],
      "in_progress",
      2,
      ["approved", "open"],
      ["bob"],
    ],
    [
      "any: approving the last stage approves the request",
      TWO_ANY,
      [
        ["jane", "approved"],
        ["bob", "approved"],
      ],
      "approved",
      null,
      ["approved", "approved"],
      [],
    ],
    ["any: a rejection in stage 1 rejects the request", TWO_ANY, [["jane", "rejected"]], "rejected", null, ["rejected", "waiting"], []],
    [
      "any: a rejection in stage 2 rejects the request",
      TWO_ANY,
      [
        ["jane", "approved"],
        ["bob", "rejected"],
      ],
      "rejected",
      null,
      ["approved", "rejected"],
      [],
    ],
    [
      "all: one approval of two keeps the stage open",
      ANY_THEN_ALL,
      [
        ["jane", "approved"],
        ["bob", "approved"],
      ],
      "in_progress",
      2,
      ["approved", "open"],
      ["chen"],
    ],
    [
      "all: every approver approving completes it",
      ANY_THEN_ALL,
      [
        ["jane", "approved"],
        ["chen", "approved"],
        ["bob", "approved"],
      ],
      "approved",
      null,
      ["approved", "approved"],
      [],
    ],
    [
      "all: one rejection after an approval rejects",
      ANY_THEN_ALL,
      [
        ["jane", "approved"],
        ["bob", "approved"],
        ["chen", "rejected"],
      ],
      "rejected",
      null,
      ["approved", "rejected"],
      [],
    ],
    [
      "quorum: one approval of two needed moves pending to in_progress",
      QUORUM_THEN_ANY,
      [["b", "approved"]],
      "in_progress",
      1,
      ["open", "waiting"],
      ["a", "c"],
    ],
    [
      "quorum: the second approval completes the stage",
      QUORUM_THEN_ANY,
      [
        ["b", "approved"],
        ["c", "approved"],
      ],
      "in_progress",
      2,
      ["approved", "open"],
      ["bob", "chen"],
    ],
    [
      "quorum: any rejection rejects, even with approvals in",
      QUORUM_THEN_ANY,
      [
        ["a", "approved"],
        ["b", "rejected"],
      ],
      "rejected",
      null,
      ["rejected", "waiting"],
      [],
    ],
    [
      "quorum then any: approved end to end",
      QUORUM_THEN_ANY,
      [
        ["a", "approved"],
        ["c", "approved"],
        ["chen", "approved"],
      ],
      "approved",
      null,
      ["approved", "approved"],
      [],
    ],
  ])("%s", (_name, start, steps, status, currentStage, stageStatuses, pending) => {
    const { state } = run(start, steps);
    expect(state.status).toBe(status);
    expect(state.currentStage).toBe(currentStage);
    expect(statuses(state)).toEqual(stageStatuses);
    expect(pendingApprovers(state)).toEqual(pending);
    expect(state.decisions).toEqual(
      steps.map(([approverId, decision], i) => ({ approverId, decision, stage: run(start, steps.slice(0, i)).state.currentStage })),
    );
  });

  it("a single-stage request can go from pending straight to approved or rejected", () => {
    const single = open(["any", ["jane", "bob"]]);
    expect(decide(single, "bob", "approved").events).toEqual([
      { type: "decision_recorded", stage: 1, approverId: "bob", decision: "approved" },
      { type: "stage_approved", stage: 1 },
      { type: "status_changed", from: "pending", to: "approved" },
    ]);
    expect(decide(single, "jane", "rejected").events).toEqual([
      { type: "decision_recorded", stage: 1, approverId: "jane", decision: "rejected" },
      { type: "stage_rejected", stage: 1 },
      { type: "status_changed", from: "pending", to: "rejected" },
    ]);
  });

  it("emits one event per step, and a status change only when the status changes", () => {
    const first = decide(ANY_THEN_ALL, "jane", "approved");
    expect(first.events).toEqual([
      { type: "decision_recorded", stage: 1, approverId: "jane", decision: "approved" },
      { type: "stage_approved", stage: 1 },
      { type: "stage_opened", stage: 2 },
      { type: "status_changed", from: "pending", to: "in_progress" },
    ]);
    const second = decide(first.state, "bob", "approved");
    expect(second.events).toEqual([{ type: "decision_recorded", stage: 2, approverId: "bob", decision: "approved" }]);
    const third = decide(second.state, "chen", "approved");
    expect(third.events).toEqual([
      { type: "decision_recorded", stage: 2, approverId: "chen", decision: "approved" },
      { type: "stage_approved", stage: 2 },
      { type: "status_changed", from: "in_progress", to: "approved" },
    ]);
  });

  it("never mutates the state it is given", () => {
    const snapshot = structuredClone(ANY_THEN_ALL);
    decide(ANY_THEN_ALL, "jane", "approved");
    decide(ANY_THEN_ALL, "jane", "rejected");
    cancel(ANY_THEN_ALL);
    expect(ANY_THEN_ALL).toEqual(snapshot);
  });
});

describe("decide: refusals", () => {
  const afterStage1 = run(ANY_THEN_ALL, [["jane", "approved"]]).state;
  const bobApproved = run(ANY_THEN_ALL, [
    ["jane", "approved"],
    ["bob", "approved"],
  ]).state;
  const quorumOne = run(QUORUM_THEN_ANY, [["a", "approved"]]).state;

  it.each<[string, FlowState, string, Decision, string, RegExp]>([
    ["someone on no stage at all", TWO_ANY, "mallory", "approved", "not_an_approver", /current stage 1\.$/],
    ["an approver of a later stage, before it opens", TWO_ANY, "bob", "approved", "not_an_approver", /stage 2, which is not open yet/],
    [
      "an approver of a completed stage, once it closed",
      afterStage1,
      "jane",
      "approved",
      "not_an_approver",
      /decided stage 1, which is complete/,
    ],
    ["the same approver twice on an `all` stage", bobApproved, "bob", "approved", "already_decided", /stage 2/],
    ["the same approver changing their mind", bobApproved, "bob", "rejected", "already_decided", /stage 2/],
    ["the same approver twice on a quorum stage", quorumOne, "a", "approved", "already_decided", /stage 1/],
  ])("refuses %s", (_name, state, approver, decision, code, message) => {
    const error = refusal(() => decide(state, approver, decision));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it("checks a closed request before who is deciding", () => {
    const rejected = run(TWO_ANY, [["jane", "rejected"]]).state;
    expect(refusal(() => decide(rejected, "mallory", "approved")).code).toBe("request_closed");
  });
});

describe("cancel", () => {
  it.each<[string, FlowState, StageStatus[], RequestStatus]>([
    ["a pending request", TWO_ANY, ["cancelled", "waiting"], "pending"],
    [
      "an in-progress request, mid stage",
      run(ANY_THEN_ALL, [
        ["jane", "approved"],
        ["bob", "approved"],
      ]).state,
      ["approved", "cancelled"],
      "in_progress",
    ],
    ["an in-progress request, between stages", run(TWO_ANY, [["jane", "approved"]]).state, ["approved", "cancelled"], "in_progress"],
  ])("cancels %s and closes its open stage", (_name, state, stageStatuses, from) => {
    const { state: next, events } = cancel(state);
    expect(next.status).toBe("cancelled");
    expect(next.currentStage).toBeNull();
    expect(statuses(next)).toEqual(stageStatuses);
    expect(next.decisions).toEqual(state.decisions);
    expect(pendingApprovers(next)).toEqual([]);
    expect(events).toEqual([
      { type: "stage_cancelled", stage: state.currentStage },
      { type: "status_changed", from, to: "cancelled" },
    ]);
  });
});

describe("expire", () => {
  it("expires a pending or in-progress request and closes its open stage", () => {
    for (const [state, from] of [
      [TWO_ANY, "pending"],
      [run(TWO_ANY, [["jane", "approved"]]).state, "in_progress"],
    ] as const) {
      const { state: next, events } = expire(state);
      expect(next.status).toBe("expired");
      expect(next.currentStage).toBeNull();
      expect(next.stages.find((s) => s.position === state.currentStage)?.status).toBe("expired");
      expect(pendingApprovers(next)).toEqual([]);
      expect(events).toEqual([
        { type: "stage_expired", stage: state.currentStage },
        { type: "status_changed", from, to: "expired" },
      ]);
    }
  });
});

describe("terminal states are immutable", () => {
  const terminal: Record<string, FlowState> = {
    approved: run(TWO_ANY, [
      ["jane", "approved"],
      ["bob", "approved"],
    ]).state,
    rejected: run(ANY_THEN_ALL, [
      ["jane", "approved"],
      ["chen", "rejected"],
    ]).state,
    cancelled: cancel(run(QUORUM_THEN_ANY, [["a", "approved"]]).state).state,
    expired: expire(TWO_ANY).state,
  };

  it("covers every terminal status", () => {
    expect(Object.keys(terminal).sort()).toEqual([...TERMINAL_STATUSES].sort());
    for (const [status, state] of Object.entries(terminal)) {
      expect(state.status).toBe(status);
      expect(isTerminal(state.status)).toBe(true);
    }
  });

  it.each(Object.keys(terminal))("%s: every decision by anyone and a cancel are refused with request_closed", (status) => {
    const state = must(terminal[status]);
    const everyone = [...new Set([...state.stages.flatMap((s) => s.approverIds), "mallory"])];
    for (const approver of everyone) {
      for (const decision of ["approved", "rejected"] as const) {
        const error = refusal(() => decide(state, approver, decision));
        expect(error.code).toBe("request_closed");
        expect(error.message).toContain(status);
      }
    }
    expect(refusal(() => cancel(state)).code).toBe("request_closed");
    expect(refusal(() => expire(state)).code).toBe("request_closed");
    expect(pendingApprovers(state)).toEqual([]);
  });
});

describe("settleStage (a deadline's automatic outcome)", () => {
  const two = () =>
    openRequest([
      { position: 1, rule: "all", quorum: null, approverIds: ["a", "b"] },
      { position: 2, rule: "any", quorum: null, approverIds: ["c"] },
    ]);
  it("approving opens the next stage, then approves the request", () => {
    const first = settleStage(two(), "approved");
    expect(first.state).toMatchObject({ status: "in_progress", currentStage: 2 });
    expect(first.events.map((e) => e.type)).toEqual(["stage_approved", "stage_opened", "status_changed"]);
    expect(settleStage(first.state, "approved").state).toMatchObject({ status: "approved", currentStage: null });
  });
  it("rejecting rejects the request; a closed request refuses", () => {
    const rejected = settleStage(two(), "rejected");
    expect(rejected.state).toMatchObject({ status: "rejected", currentStage: null });
    expect(() => settleStage(rejected.state, "approved")).toThrow(/already rejected/);
  });
});
