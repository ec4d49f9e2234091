import { describe, expect, it } from "vitest";
import { applyDelegations, assertNoDelegationLoop, resolveDelegate } from "./delegation";
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
