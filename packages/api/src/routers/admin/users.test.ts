import type { TenantRole } from "@approvalmatrix/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminTestBed, refusal, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
beforeAll(async () => {
  bed = await startAdminTestBed();
});
afterAll(() => bed.close());

let n = 0;
const invite = (role: TenantRole) => ({ email: `person${++n}@acme.example`, name: `Person ${n}`, role });

describe("admin.users.create: who may grant which role", () => {
  it("an admin adds approvers, with a one-time password", async () => {
    const admin = await bed.userCaller("admin");
    const created = await admin.admin.users.create(invite("approver"));
    expect(created.role).toBe("approver");
    expect(created.initialPassword).toMatch(/^\w{6}-\w{6}-\w{6}$/);
  });

  it.each(["admin", "owner"] as const)("an admin may not add an %s (403)", async (role) => {
    const admin = await bed.userCaller("admin");
    const refused = await refusal(admin.admin.users.create(invite(role)));
    expect(refused).toMatchObject({ code: "forbidden", status: 403 });
  });

  it.each(["admin", "owner"] as const)("an owner adds an %s", async (role) => {
    const owner = await bed.userCaller("owner");
    await expect(owner.admin.users.create(invite(role))).resolves.toMatchObject({ role });
  });

  it("an approver may not manage users at all (403)", async () => {
    const approver = await bed.userCaller("approver");
    await expect(approver.admin.users.create(invite("approver"))).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("a second user with one email is a conflict on the email field", async () => {
    const owner = await bed.userCaller("owner");
    const first = invite("approver");
    await owner.admin.users.create(first);
    const refused = await refusal(owner.admin.users.create({ ...first, email: first.email.toUpperCase() }));
    expect(refused).toMatchObject({ code: "conflict", status: 409 });
    expect(refused.fields).toHaveProperty("email");
  });
});
