import { must } from "@approvalmatrix/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScimUser } from "../../services/scim/users";
import { type AdminTestBed, refusal, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
beforeAll(async () => {
  bed = await startAdminTestBed();
});
afterAll(() => bed.close());

describe("admin.directory", () => {
  it("creates SCIM tokens shown once, lists them by their start, and revokes them", async () => {
    const admin = await bed.userCaller("admin");
    const created = await admin.admin.directory.createScimToken({ provider: "Okta" });
    expect(created.token).toMatch(/^scim_[0-9A-Za-z]{40}$/);
    const list = await admin.admin.directory.scimTokens();
    expect(list).toEqual([
      expect.objectContaining({ id: created.id, provider: "Okta", start: created.token.slice(0, 9), revokedAt: null }),
    ]);
    expect(JSON.stringify(list)).not.toContain(created.token);
    expect((await admin.admin.directory.revokeScimToken({ id: created.id })).revokedAt).not.toBeNull();
  });

  it("is for admins: an approver is refused", async () => {
    const approver = await bed.userCaller("approver");
    expect(await refusal(approver.admin.directory.scimTokens())).toMatchObject({ code: "forbidden", status: 403 });
  });

  it("keeps the mapping settings", async () => {
    const admin = await bed.userCaller("admin");
    expect(await admin.admin.directory.settings()).toEqual({ externalRefSource: "externalId", deactivationPolicy: "manager" });
    await admin.admin.directory.updateSettings({ externalRefSource: "employeeNumber" });
    expect(await admin.admin.directory.settings()).toEqual({ externalRefSource: "employeeNumber", deactivationPolicy: "manager" });
    await admin.admin.directory.updateSettings({ externalRefSource: "externalId" });
    await admin.admin.directory.updateSettings({ deactivationPolicy: "delegate" });
    expect(await admin.admin.directory.settings()).toEqual({ externalRefSource: "externalId", deactivationPolicy: "delegate" });
    await expect(admin.admin.directory.updateSettings({ deactivationPolicy: "boss" as never })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await admin.admin.directory.updateSettings({ deactivationPolicy: "manager" });
  });
});

describe("a member synced from an identity provider", () => {
  it("shows where it is synced from, and its synced fields are read-only for admins", async () => {
    const user = await createScimUser(
      {
        db: bed.deps.db,
        actor: { kind: "scim", tenantId: bed.tenantId, tokenId: "sct_test", provider: "Okta" },
        baseUrl: "http://x/scim/v2",
      },
      {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: "synced@acme.example",
        externalId: "S-1",
        displayName: "Syn Ced",
      },
    );
    const id = String(user.id);
    const members = bed.caller().admin.members;
    const member = await members.get({ id });
    expect(member).toMatchObject({ syncedFrom: "Okta", externalRef: "S-1", name: "Syn Ced" });
    const renamed = await refusal(members.update({ id, name: "Other", externalRef: "S-1", email: "synced@acme.example" }));
    expect(renamed).toMatchObject({ code: "conflict", fields: { name: "synced from Okta" } });
    expect(await refusal(members.setActive({ id, active: false }))).toMatchObject({
      code: "conflict",
      fields: { active: "synced from Okta" },
    });
    // The sign-in link is not the provider's: it may change.
    const owner = await bed.userCaller("owner");
    const signIn = await owner.admin.users.create({ email: "syn@acme.example", name: "Syn", role: "approver" });
    await expect(
      members.update({ id, name: "Syn Ced", externalRef: "S-1", email: "synced@acme.example", userId: signIn.id }),
    ).resolves.toMatchObject({ id });
    expect(must((await members.get({ id })).userId)).toBe(signIn.id);
  });
});
