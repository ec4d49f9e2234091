import type { StageRule } from "@approvalmatrix/core";
import { auditLog, matrices, matrixStages } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminTestBed, refusal, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
beforeAll(async () => {
  bed = await startAdminTestBed();
  const admin = bed.caller();
  await admin.admin.members.create({ name: "Bob Lee", externalRef: "EMP-1", department: "Finance" });
  await admin.admin.members.create({ name: "Chen Wei", externalRef: "EMP-2", department: "Finance" });
  await admin.admin.members.create({ name: "Alex Kim", externalRef: "EMP-3", department: "Engineering", managerRef: "EMP-1" });
});
afterAll(() => bed.close());

const stored = async () => ({
  matrices: await bed.database.db.$count(matrices),
  stages: await bed.database.db.$count(matrixStages),
  audit: await bed.database.db.$count(auditLog),
});

const draft = (stage: { rule: StageRule; quorum?: number; approvers: unknown }) => ({
  name: "Purchases",
  requestType: "purchase_order",
  stages: [{ name: "Manager", rule: "any" as const, approvers: { type: "manager" as const } }, { name: "Finance", ...stage } as never],
});

const quorumOfTwo = (quorum: number) => draft({ rule: "quorum", quorum, approvers: { type: "members", memberRefs: ["EMP-1", "EMP-2"] } });

describe("admin.matrices.preview", () => {
  it("routes the sample against the draft and writes nothing", async () => {
    const before = await stored();
    const preview = await bed.caller().admin.matrices.preview({ matrix: quorumOfTwo(2), sample: { submitterRef: "EMP-3" } });
    expect(preview).toMatchObject({ routed: true, isThisMatrix: true, matrixName: "Purchases" });
    expect(await stored()).toEqual(before);
  });

  it("says when the draft cannot route, and writes nothing", async () => {
    const before = await stored();
    const preview = await bed.caller().admin.matrices.preview({ matrix: quorumOfTwo(5), sample: { submitterRef: "EMP-3" } });
    expect(preview).toMatchObject({ routed: false, code: "no_eligible_approver" });
    expect(await stored()).toEqual(before);
  });

  it("leaves an edited matrix as it was", async () => {
    const { id } = await bed.caller().admin.matrices.create({ ...quorumOfTwo(2), name: "Saved" });
    await bed.caller().admin.matrices.preview({ id, matrix: { ...quorumOfTwo(1), name: "Draft name" }, sample: { submitterRef: "EMP-3" } });
    const saved = await bed.caller().admin.matrices.get({ id });
    expect(saved.name).toBe("Saved");
    expect(saved.stages[1]).toMatchObject({ rule: "quorum", quorum: 2 });
  });
});

describe("a matrix that can never route is refused", () => {
  it("quorum 5 from 2 named approvers, on create: 400 with the stage's field", async () => {
    const before = await stored();
    const refused = await refusal(bed.caller().admin.matrices.create(quorumOfTwo(5)));
    expect(refused).toMatchObject({ code: "invalid_request", status: 400 });
    expect(refused.fields["stages.1.quorum"]).toMatch(/needs 5 approvals.*only 2 approvers/);
    expect(await stored()).toEqual(before);
  });

  it("on update, leaving the matrix unchanged", async () => {
    const { id } = await bed.caller().admin.matrices.create({ ...quorumOfTwo(2), name: "Two of two" });
    const refused = await refusal(bed.caller().admin.matrices.update({ id, matrix: quorumOfTwo(3) }));
    expect(refused.fields).toHaveProperty(["stages.1.quorum"]);
    expect((await bed.caller().admin.matrices.get({ id })).stages[1]?.quorum).toBe(2);
  });

  it("a manager stage needing two approvals", async () => {
    const refused = await refusal(
      bed.caller().admin.matrices.create({
        name: "Managers",
        requestType: "travel",
        stages: [{ name: "Manager", rule: "quorum", quorum: 2, approvers: { type: "manager" } }],
      }),
    );
    expect(refused.fields["stages.0.quorum"]).toMatch(/manager stage has one approver/);
  });

  it("a department stage may need more than it has today (people join)", async () => {
    await expect(
      bed.caller().admin.matrices.create(draft({ rule: "quorum", quorum: 5, approvers: { type: "department", department: "Finance" } })),
    ).resolves.toHaveProperty("id");
  });
});
