import { describe, expect, it } from "vitest";
import {
  type DeactivationPolicy,
  type Handover,
  applyDelegations,
  assertNoDelegationLoop,
  chooseHandover,
  resolveDelegate,
} from "./delegation";
import { DomainError } from "./errors";

const edges = (pairs: [string, string][]) => new Map(pairs);

describe("resolveDelegate", () => {
  it.each([
    ["no delegation", [], "jane", "jane"],
    ["one hop", [["jane", "bob"]], "jane", "bob"],
    [
      "a chain to its end",
      [
        ["jane", "bob"],
        ["bob", "chen"],
      ],
      "jane",
      "chen",
    ],
    [
      "a loop stops before repeating",
      [
        ["jane", "bob"],
        ["bob", "jane"],
      ],
      "jane",
      "bob",
    ],
  ] as [string, [string, string][], string, string][])("%s", (_name, pairs, from, to) => {
    expect(resolveDelegate(from, edges(pairs)).delegate).toBe(to);
  });
});

describe("assertNoDelegationLoop", () => {
  it.each([
    ["to oneself", [], "jane", "jane", true],
    ["a direct loop", [["bob", "jane"]], "jane", "bob", true],
    [
      "a loop through a chain",
      [
        ["bob", "chen"],
        ["chen", "jane"],
      ],
      "jane",
      "bob",
      true,
    ],
    ["a chain without loop", [["bob", "chen"]], "jane", "bob", false],
  ] as [string, [string, string][], string, string, boolean][])("%s", (_name, pairs, member, delegate, refused) => {
    const run = () => assertNoDelegationLoop(edges(pairs), member, delegate);
    if (refused) expect(run).toThrow(DomainError);
    else expect(run).not.toThrow();
  });
});

describe("applyDelegations", () => {
  it("puts the end of the chain in the approver's place and remembers whom they stand for", () => {
    expect(
      applyDelegations(
        { approverIds: ["jane", "omar"] },
        edges([
          ["jane", "bob"],
          ["bob", "chen"],
        ]),
        { submitterId: "alex" },
      ),
    ).toEqual({
      approverIds: ["chen", "omar"],
      delegatedFrom: { chen: "jane" },
    });
  });
  it("never hands a stage to its submitter (no self-approval through delegation)", () => {
    expect(applyDelegations({ approverIds: ["jane"] }, edges([["jane", "alex"]]), { submitterId: "alex" })).toEqual({
      approverIds: ["jane"],
      delegatedFrom: {},
    });
  });
  it("keeps an approver whose delegate is already on the stage, and one who already decided", () => {
    const e = edges([
      ["jane", "omar"],
      ["sara", "bob"],
    ]);
    expect(applyDelegations({ approverIds: ["jane", "omar", "sara"] }, e, { submitterId: "alex", decided: new Set(["sara"]) })).toEqual({
      approverIds: ["jane", "omar", "sara"],
      delegatedFrom: {},
    });
  });
  it("re-points a delegate's seat to their own delegate, still standing for the original approver", () => {
    expect(
      applyDelegations({ approverIds: ["bob"], delegatedFrom: { bob: "jane" } }, edges([["bob", "chen"]]), { submitterId: "alex" }),
    ).toEqual({
      approverIds: ["chen"],
      delegatedFrom: { chen: "jane" },
    });
  });
});

describe("chooseHandover (a deactivated member's open approvals)", () => {
  const active =
    (...ids: string[]) =>
    (id: string) =>
      ids.includes(id);
  it.each([
    ["policy none keeps them", "none", [], "mgr", active("mgr", "bob"), { to: null, via: null }],
    ["policy manager: the manager", "manager", [["jane", "bob"]], "mgr", active("mgr", "bob"), { to: "mgr", via: "manager" }],
    ["policy manager: an inactive manager is nobody", "manager", [], "mgr", active(), { to: null, via: null }],
    [
      "delegate: one hop",
      "delegate",
      [["jane", "bob"]],
      "mgr",
      active("mgr", "bob"),
      { to: "bob", via: "delegate", chain: ["jane", "bob"] },
    ],
    [
      "delegate: the end of the chain, past an inactive delegate",
      "delegate",
      [
        ["jane", "bob"],
        ["bob", "chen"],
      ],
      "mgr",
      active("mgr", "chen"),
      { to: "chen", via: "delegate", chain: ["jane", "bob", "chen"] },
    ],
    [
      "delegate: none in force → manager",
      "delegate",
      [["ann", "bob"]],
      "mgr",
      active("mgr", "bob"),
      { to: "mgr", via: "manager", fallback: "no_delegate" },
    ],
    [
      "delegate: a loop is refused → manager",
      "delegate",
      [
        ["jane", "bob"],
        ["bob", "chen"],
        ["chen", "bob"],
      ],
      "mgr",
      active("mgr", "bob", "chen"),
      { to: "mgr", via: "manager", fallback: "delegation_loop" },
    ],
    [
      "delegate: an inactive end → manager",
      "delegate",
      [["jane", "bob"]],
      "mgr",
      active("mgr"),
      { to: "mgr", via: "manager", fallback: "delegate_inactive" },
    ],
    ["delegate: no delegate and no manager", "delegate", [], null, active(), { to: null, via: null, fallback: "no_delegate" }],
  ] as [string, DeactivationPolicy, [string, string][], string | null, (id: string) => boolean, Partial<Handover>][])(
    "%s",
    (_name, policy, pairs, managerId, isActive, expected) => {
      expect(chooseHandover({ memberId: "jane", policy, managerId, edges: edges(pairs), isActive })).toMatchObject(expected);
    },
  );
});
