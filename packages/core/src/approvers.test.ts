import { describe, expect, it } from "vitest";
import { type DirectoryMember, type MemberDirectory, type StageDefinition, findManager, resolveStageApprovers } from "./approvers";

function member(id: string, overrides: Partial<DirectoryMember> = {}): DirectoryMember {
  return { id, name: id.toUpperCase(), externalRef: `REF-${id}`, department: null, managerId: null, active: true, ...overrides };
}

function directoryOf(members: DirectoryMember[]): MemberDirectory {
  return {
    byId: (id) => members.find((m) => m.id === id),
    inDepartment: (d) => members.filter((m) => m.department === d && m.active),
  };
}

const stage = (overrides: Partial<StageDefinition>): StageDefinition => ({
  position: 1,
  name: "Stage",
  approvers: { type: "manager" },
  rule: "any",
  quorum: null,
  ...overrides,
});

describe("findManager", () => {
  it("walks up past inactive managers and stops at cycles", () => {
    const ceo = member("ceo", { managerId: "sub" });
    const gone = member("gone", { managerId: "ceo", active: false });
    const sub = member("sub", { managerId: "gone" });
    expect(findManager(sub, directoryOf([ceo, gone, sub]))?.id).toBe("ceo");
    const loner = member("loner", { managerId: "loner" });
    expect(findManager(loner, directoryOf([loner]))).toBeNull();
  });
});

describe("resolveStageApprovers", () => {
  const sub = member("sub", { managerId: "boss", department: "Finance" });
  const boss = member("boss", { department: "Finance" });
  const peer = member("peer", { department: "Finance" });
  const away = member("away", { department: "Finance", active: false });
  const dir = directoryOf([sub, boss, peer, away]);

  it.each([
    ["manager", stage({ approvers: { type: "manager" } }), ["boss"]],
    [
      "named members, without the submitter and inactive ones",
      stage({ approvers: { type: "members", memberIds: ["sub", "peer", "away", "peer"] } }),
      ["peer"],
    ],
    ["department, without the submitter", stage({ approvers: { type: "department", department: "Finance" } }), ["boss", "peer"]],
    [
      "quorum that the department can meet",
      stage({ approvers: { type: "department", department: "Finance" }, rule: "quorum", quorum: 2 }),
      ["boss", "peer"],
    ],
  ] as const)("%s", (_name, definition, expected) => {
    const result = resolveStageApprovers(definition, sub, dir);
    expect(result.ok && result.approvers.map((m) => m.id)).toEqual(expected);
  });

  it.each([
    ["the submitter is the only named approver", stage({ approvers: { type: "members", memberIds: ["sub"] } }), "no eligible approver"],
    ["nobody in the department", stage({ approvers: { type: "department", department: "Legal" } }), "no eligible approver"],
    [
      "a quorum larger than the approvers",
      stage({ approvers: { type: "department", department: "Finance" }, rule: "quorum", quorum: 3 }),
      "needs 3 approvals",
    ],
  ] as const)("fails clearly when %s", (_name, definition, message) => {
    const result = resolveStageApprovers(definition, sub, dir);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(message);
  });

  it("fails when the submitter has no manager", () => {
    const result = resolveStageApprovers(stage({}), boss, dir);
    expect(result).toMatchObject({ ok: false });
  });
});
