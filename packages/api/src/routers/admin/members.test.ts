import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminTestBed, refusal, startAdminTestBed } from "./test-callers";
import { must } from "@approvalmatrix/core";

let bed: AdminTestBed;
const id: Record<string, string> = {};
beforeAll(async () => {
  bed = await startAdminTestBed();
  const members = bed.caller().admin.members;
  // A chart: A at the top, B under A, C under B; D alone.
  for (const [ref, managerRef] of [
    ["A", null],
    ["B", "A"],
    ["C", "B"],
    ["D", null],
  ] as const) {
    id[ref] = (await members.create({ name: `Person ${ref}`, externalRef: ref, managerRef })).id;
  }
});
afterAll(() => bed.close());

const update = (ref: string, changes: { managerRef?: string | null; externalRef?: string; userId?: string | null }) =>
  bed.caller().admin.members.update({ id: must(id[ref]), name: `Person ${ref}`, externalRef: ref, ...changes });

describe("admin.members.update refuses", () => {
  it("an externalRef another member has (409 on externalRef)", async () => {
    const refused = await refusal(update("D", { externalRef: "A" }));
    expect(refused).toMatchObject({ code: "conflict", status: 409 });
    expect(refused.fields).toHaveProperty("externalRef");
  });

  it("the member as their own manager (400 on managerRef)", async () => {
    expect(await refusal(update("D", { managerRef: "D" }))).toMatchObject({
      code: "invalid_request",
      fields: { managerRef: "cannot be the member" },
    });
  });

  it("A → B → A: a manager who reports to the member (400 on managerRef, the loop spelled out)", async () => {
    const refused = await refusal(update("A", { managerRef: "B" }));
    expect(refused).toMatchObject({ code: "invalid_request", status: 400 });
    expect(refused.fields.managerRef).toBe("would make a loop: A → B → A");
  });

  it("a longer loop, A → C → B → A", async () => {
    const refused = await refusal(update("A", { managerRef: "C" }));
    expect(refused.fields.managerRef).toBe("would make a loop: A → C → B → A");
    expect((await bed.caller().admin.members.get({ id: must(id.A) })).managerRef).toBeNull();
  });

  it("a user already linked to another member (409 on userId)", async () => {
    const owner = await bed.userCaller("owner");
    const user = await owner.admin.users.create({ email: "linked@acme.example", name: "Linked", role: "approver", memberRef: "C" });
    const refused = await refusal(update("D", { userId: user.id }));
    expect(refused).toMatchObject({ code: "conflict", fields: { userId: "already linked" } });
  });

  it("but takes a manager from another branch of the chart", async () => {
    await expect(update("D", { managerRef: "C" })).resolves.toMatchObject({ managerId: id.C });
    await update("D", { managerRef: null });
  });
});

describe("admin.members.importCsv", () => {
  const importCsv = (csv: string) => bed.caller().admin.members.importCsv({ csv });

  it("reports each bad row by line and field, and writes nothing", async () => {
    const result = await importCsv("externalRef,name,email,active\nN1,,x@acme.example,true\nN2,Two,not-an-email,yes\nN1,Again,,maybe\n");
    expect(result).toMatchObject({ ok: false, errorCount: 4 });
    if (result.ok) return;
    expect(result.errors.map((e) => [e.line, e.field, e.message])).toEqual([
      [2, "name", "is required"],
      [3, "email", '"not-an-email" is not an email address'],
      [4, "externalRef", '"N1" appears again (first on line 2)'],
      [4, "active", "must be true or false"],
    ]);
    expect((await bed.caller().admin.members.list({ search: "N1" })).members).toHaveLength(0);
  });

  it("refuses a file without the required columns", async () => {
    const result = await importCsv("ref,fullname\nX,Y\n");
    expect(result).toMatchObject({ ok: false, errors: [{ line: 1, field: "externalRef, name" }] });
  });

  it("refuses a management loop inside the file, on each row of it", async () => {
    const result = await importCsv("externalRef,name,managerRef\nL1,One,L2\nL2,Two,L3\nL3,Three,L1\nL4,Four,L1\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      { line: 2, field: "managerRef", message: "makes a management loop: L1 → L2 → L3 → L1" },
      { line: 3, field: "managerRef", message: "makes a management loop: L1 → L2 → L3 → L1" },
      { line: 4, field: "managerRef", message: "makes a management loop: L1 → L2 → L3 → L1" },
    ]);
  });

  it("refuses a loop closed through members already in the tenant (A manages B manages C)", async () => {
    // The file makes A report to C, while C reports to B and B to A in the tenant.
    const result = await importCsv("externalRef,name,managerRef\nA,Person A,C\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([{ line: 2, field: "managerRef", message: "makes a management loop: A → C → B → A" }]);
  });

  it("takes a file that re-draws the chart without a loop (B moves above A)", async () => {
    const result = await importCsv("externalRef,name,managerRef\nA,Person A,B\nB,Person B,\n");
    expect(result).toMatchObject({ ok: true, rows: 2 });
    expect((await bed.caller().admin.members.get({ id: must(id.A) })).managerRef).toBe("B");
  });
});
