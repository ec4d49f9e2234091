import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScimUser } from "../../services/scim/users";
import { type AdminTestBed, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
beforeAll(async () => {
  bed = await startAdminTestBed();
  await bed.caller().admin.members.importCsv({
    csv: "externalRef,name,email,department,managerRef\nP1,Pat One,p1@acme.example,Sales,\nP2,Pat Two,p2@acme.example,Sales,P1\nP3,Pat Three,,Ops,P1\n",
    fileName: "first.csv",
  });
});
afterAll(() => bed.close());

describe("members CSV import preview", () => {
  const file =
    "externalRef,name,email,department,managerRef\nP1,Pat One,p1@acme.example,Sales,\nP2,Pat Two,p2@new.example,Ops,P1\nP4,Pat Four,,Ops,P2\n";

  it("shows created, updated with the changed fields, unchanged and (opt-in) deactivated, and writes nothing", async () => {
    const members = bed.caller().admin.members;
    const preview = await members.previewCsv({ csv: file });
    expect(preview).toMatchObject({ ok: true, rows: 3, created: 1, updated: 1, unchanged: 1, deactivated: 0 });
    if (!preview.ok) return;
    expect(preview.changes).toEqual([{ line: 3, externalRef: "P2", fields: ["email", "department"] }]);
    expect(preview.fieldCounts).toMatchObject({ email: 1, department: 1, name: 0, managerRef: 0, active: 0 });
    const withDeactivation = await members.previewCsv({ csv: file, deactivateMissing: true });
    expect(withDeactivation).toMatchObject({ ok: true, deactivated: 1, deactivations: [{ externalRef: "P3", name: "Pat Three" }] });
    expect((await members.list({ search: "P4" })).members).toHaveLength(0);
  });

  it("then applies exactly that, atomically, and records it in the history", async () => {
    const members = bed.caller().admin.members;
    const applied = await members.importCsv({ csv: file, deactivateMissing: true, fileName: "people.csv" });
    expect(applied).toMatchObject({ ok: true, rows: 3, created: 1, updated: 1, unchanged: 1, deactivated: 1 });
    const p3 = (await members.list({ search: "P3" })).members[0];
    expect(p3?.active).toBe(false);
    const history = await members.importHistory();
    expect(history[0]).toMatchObject({
      fileName: "people.csv",
      status: "applied",
      created: 1,
      updated: 1,
      unchanged: 1,
      deactivated: 1,
      actorType: "operator",
    });
    // The same file again changes nothing.
    expect(await members.previewCsv({ csv: file, deactivateMissing: true })).toMatchObject({
      created: 0,
      updated: 0,
      unchanged: 3,
      deactivated: 0,
    });
  });

  it("reads files whose headers differ through a column mapping", async () => {
    const members = bed.caller().admin.members;
    const csv = "Employee ID,Full name,Work e-mail\nP1,Pat Uno,p1@acme.example\n";
    expect(await members.previewCsv({ csv })).toMatchObject({ ok: false, errors: [{ line: 1, field: "externalRef, name" }] });
    const preview = await members.previewCsv({ csv, mapping: { externalRef: "Employee ID", name: "Full name", email: "Work e-mail" } });
    expect(preview).toMatchObject({ ok: true, updated: 1, changes: [{ externalRef: "P1", fields: ["name", "department"] }] });
  });

  it("records a refused import with its errors, and refuses rows that change a member synced from an identity provider", async () => {
    const members = bed.caller().admin.members;
    const refused = await members.importCsv({ csv: "externalRef,name\n,Nobody\n", fileName: "broken.csv" });
    expect(refused).toMatchObject({ ok: false, errorCount: 1 });
    expect((await members.importHistory())[0]).toMatchObject({
      fileName: "broken.csv",
      status: "refused",
      errorCount: 1,
      errors: [{ line: 2, field: "externalRef", message: "is required" }],
    });

    await createScimUser(
      { db: bed.deps.db, actor: { kind: "scim", tenantId: bed.tenantId, tokenId: "sct_t", provider: "Okta" }, baseUrl: "http://x/scim/v2" },
      { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "s@acme.example", externalId: "S9", displayName: "Sync Nine" },
    );
    const preview = await members.previewCsv({ csv: "externalRef,name,email\nS9,Renamed,s@acme.example\n" });
    expect(preview).toMatchObject({
      ok: false,
      errors: [{ line: 2, field: "name", message: expect.stringContaining("synced from Okta") }],
    });
    // Deactivating members missing from a file never touches synced ones.
    const all = await members.previewCsv({ csv: "externalRef,name\nP1,Pat One\n", deactivateMissing: true });
    expect(all.ok && all.deactivations.map((d) => d.externalRef)).toEqual(["P2", "P4"]);
  });
});
