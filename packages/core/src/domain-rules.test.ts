import { describe, expect, it } from "vitest";
import { clashingApiKeyName } from "./api-key-names";
import type { ApproverSpec, StageRule } from "./approvers";
import { unroutableStageIssues } from "./matrix-design";
import { describeManagerLoop, findManagerLoops } from "./members";
import { TENANT_ROLES, type TenantRole, hasRole, mayGrantRole } from "./roles";
import { escapeLike } from "./text-search";

const members = (...memberIds: string[]): ApproverSpec => ({ type: "members", memberIds });

describe("unroutableStageIssues", () => {
  const cases: [string, [StageRule, number | null, ApproverSpec][], string[]][] = [
    ["quorum within the named approvers", [["quorum", 2, members("a", "b")]], []],
    ["quorum equal to the named approvers", [["quorum", 3, members("a", "b", "c")]], []],
    ["quorum 5 of 2 named approvers", [["quorum", 5, members("a", "b")]], ["stages.0.quorum"]],
    ["a name listed twice counts once", [["quorum", 2, members("a", "a")]], ["stages.0.quorum"]],
    ["quorum 2 of a manager", [["quorum", 2, { type: "manager" }]], ["stages.0.quorum"]],
    ["quorum 1 of a manager", [["quorum", 1, { type: "manager" }]], []],
    ["a department can grow", [["quorum", 50, { type: "department", department: "Finance" }]], []],
    [
      "any and all always can",
      [
        ["any", null, members("a")],
        ["all", null, members("a", "b")],
      ],
      [],
    ],
    [
      "only the impossible stage is named, 0-based",
      [
        ["any", null, members("a")],
        ["quorum", 3, members("a", "b")],
        ["quorum", 2, members("a", "b")],
      ],
      ["stages.1.quorum"],
    ],
  ];
  it.each(cases)("%s", (_name, stages, fields) => {
    const issues = unroutableStageIssues(stages.map(([rule, quorum, approvers]) => ({ rule, quorum, approvers })));
    expect(issues.map((i) => i.field)).toEqual(fields);
    for (const issue of issues) expect(issue.message).toMatch(/needs \d+ approvals/);
  });
});

describe("findManagerLoops", () => {
  const cases: [string, Record<string, string | null>, string[], string[][]][] = [
    ["no managers", { a: null, b: null }, ["a", "b"], []],
    ["a chain ends", { a: "b", b: "c", c: null }, ["a"], []],
    ["own manager", { a: "a" }, ["a"], [["a"]]],
    ["A → B → A", { a: "b", b: "a" }, ["a"], [["a", "b"]]],
    ["a longer loop, entered from outside it", { x: "a", a: "b", b: "c", c: "a" }, ["x"], [["a", "b", "c"]]],
    ["one loop reported once from many starts", { a: "b", b: "a", c: "a" }, ["a", "b", "c"], [["a", "b"]]],
    [
      "two loops",
      { a: "b", b: "a", c: "d", d: "c" },
      ["a", "c"],
      [
        ["a", "b"],
        ["c", "d"],
      ],
    ],
    ["a manager outside the map ends the chain", { a: "zz" }, ["a"], []],
  ];
  it.each(cases)("%s", (_name, managers, starts, loops) => {
    expect(findManagerLoops(starts, (id) => managers[id])).toEqual(loops);
  });

  it("describes a loop as people read it", () => {
    expect(describeManagerLoop(["a", "b"], (id) => id.toUpperCase())).toBe("A → B → A");
  });
});

describe("roles", () => {
  const grants: [TenantRole, TenantRole, boolean][] = [
    ["owner", "owner", true],
    ["owner", "admin", true],
    ["owner", "approver", true],
    ["admin", "owner", false],
    ["admin", "admin", false],
    ["admin", "approver", true],
    ["approver", "approver", false],
  ];
  it.each(grants)("%s may grant %s: %s", (granter, role, allowed) => {
    expect(mayGrantRole(granter, role)).toBe(allowed);
  });

  it("ranks every role at or above itself and below the next", () => {
    TENANT_ROLES.forEach((role, i) => {
      expect(hasRole(role, role)).toBe(true);
      const above = TENANT_ROLES[i + 1];
      if (above) expect(hasRole(role, above)).toBe(false);
    });
  });
});

describe("clashingApiKeyName", () => {
  const cases: [string, string[], string | null][] = [
    ["Billing", [], null],
    ["Billing", ["Payroll"], null],
    ["Billing", ["Billing"], "Billing"],
    ["billing ", ["BILLING"], "BILLING"],
  ];
  it.each(cases)("%s among %j", (name, existing, clash) => {
    expect(clashingApiKeyName(name, existing)).toBe(clash);
  });
});

describe("escapeLike", () => {
  it.each([
    ["plain", "plain"],
    ["50%", "50\\%"],
    ["a_b", "a\\_b"],
    ["back\\slash", "back\\\\slash"],
  ])("%s → %s", (text, escaped) => {
    expect(escapeLike(text)).toBe(escaped);
  });
});
