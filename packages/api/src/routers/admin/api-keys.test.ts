import { apiKeyStart, generateApiKey, hashApiKey, newId } from "@approvalmatrix/core";
import { apiKeys } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../services/tenants";
import { type AdminTestBed, refusal, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
beforeAll(async () => {
  bed = await startAdminTestBed();
});
afterAll(() => bed.close());

describe("API key names are unique among a tenant's keys that are not revoked", () => {
  it("refuses a second key with the same name, in any letter case (409 on name)", async () => {
    const api = bed.caller().admin.apiKeys;
    await api.create({ name: "Billing sync", scopes: ["requests:read"] });
    const refused = await refusal(api.create({ name: "billing SYNC", scopes: ["requests:write"] }));
    expect(refused).toMatchObject({ code: "conflict", status: 409 });
    expect(refused.fields.name).toMatch(/already used/);
    expect((await api.list()).filter((k) => k.name.toLowerCase() === "billing sync")).toHaveLength(1);
  });

  it("frees the name once the key is revoked, so a rotated key can take it", async () => {
    const api = bed.caller().admin.apiKeys;
    const old = await api.create({ name: "Payroll", scopes: ["requests:read"] });
    await api.revoke({ id: old.id });
    await expect(api.create({ name: "Payroll", scopes: ["requests:read"] })).resolves.toMatchObject({ name: "Payroll", status: "active" });
  });

  it("the database refuses the duplicate too, whoever writes it", async () => {
    await bed.caller().admin.apiKeys.create({ name: "Direct", scopes: ["requests:read"] });
    const key = generateApiKey();
    const write = bed.database.db.insert(apiKeys).values({
      id: newId("apiKey"),
      tenantId: bed.tenantId,
      name: "DIRECT",
      keyHash: hashApiKey("secret", key),
      start: apiKeyStart(key),
      scopes: ["requests:read"],
      createdBy: "test",
    });
    await expect(write).rejects.toThrow();
  });

  it("another tenant may use the same name", async () => {
    const other = await createTenant(bed.database.db, { name: "Globex", slug: "globex" });
    const created = await bed
      .caller({ kind: "operator", tenantId: other.id })
      .admin.apiKeys.create({ name: "Billing sync", scopes: ["requests:read"] });
    expect(created.name).toBe("Billing sync");
  });
});
