import { readFileSync } from "node:fs";
import { createTenant } from "@approvalmatrix/api";
import { must, randomBase62 } from "@approvalmatrix/core";
import { and, auditLog, eq, events, members, requestStages, sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, api, startTestApp } from "./harness";

/**
 * SCIM 2.0 over real HTTP: the request sequences Okta and Microsoft Entra ID send (fixtures),
 * an RFC 7644 compliance pass, a manager provisioned after their report, and deprovisioning that
 * re-points an open approval.
 */

interface Step {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  capture?: Record<string, string>;
  expect: { status: number; body?: object; headers?: Record<string, string>; absent?: string[]; absentInResources?: string[] };
  /** The member behind {{user}} after the step, as the members table has it. */
  member?: Record<string, unknown>;
}

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const SCIM = "application/scim+json";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** A fresh tenant with a SCIM token for `provider`. */
async function scimTenant(provider: string): Promise<{ tenantId: string; token: string }> {
  const tenant = await createTenant(app.deps.db, { name: provider, slug: `scim-${randomBase62(8).toLowerCase()}` });
  const created = await app.operator(tenant.id).admin.directory.createScimToken({ provider });
  return { tenantId: tenant.id, token: created.token };
}

function scim(token: string | null) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.url}/scim/v2${path}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "Content-Type": SCIM } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
}

function substitute<T>(value: T, vars: Record<string, string>): T {
  return JSON.parse(JSON.stringify(value).replace(/\{\{(\w+)\}\}/g, (_, name: string) => must(vars[name], `{{${name}}}`))) as T;
}

async function memberRow(tenantId: string, id: string) {
  const [row] = await app.deps.db
    .select({
      externalRef: members.externalRef,
      name: members.name,
      email: members.email,
      department: members.department,
      active: members.active,
      // Qualified by hand: in a one-table select drizzle leaves the column bare, and inside the
      // subquery a bare manager_id would be g's own.
      managerRef: sql<string | null>`(select g.external_ref from members g where g.id = "members"."manager_id")`,
    })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.id, id)));
  return must(row, `member ${id}`);
}

for (const fixture of ["okta", "entra"]) {
  const { provider, steps } = JSON.parse(readFileSync(new URL(`./fixtures/scim/${fixture}.json`, import.meta.url), "utf8")) as {
    provider: string;
    steps: Step[];
  };
  describe(`${provider}'s request sequence (fixtures/scim/${fixture}.json)`, () => {
    const vars: Record<string, string> = {};
    let tenantId = "";
    let call: ReturnType<typeof scim>;
    beforeAll(async () => {
      const t = await scimTenant(provider);
      tenantId = t.tenantId;
      call = scim(t.token);
      vars.base = `${app.url}/scim/v2`;
    });

    it.each(steps.map((s, i) => [i + 1, s.name, s] as const))("%i. %s", async (_i, _name, raw) => {
      const request = substitute({ method: raw.method, path: raw.path, body: raw.body }, vars);
      const res = await call(request.method, request.path, request.body);
      for (const [name, attr] of Object.entries(raw.capture ?? {})) vars[name] = String(res.body[attr]);
      const step = substitute({ expect: raw.expect, member: raw.member }, vars);
      expect(res.status, JSON.stringify(res.body)).toBe(step.expect.status);
      if (res.body !== null) expect(res.headers.get("content-type")).toBe(`${SCIM}; charset=utf-8`);
      if (step.expect.body) expect(res.body).toMatchObject(step.expect.body);
      for (const [name, value] of Object.entries(step.expect.headers ?? {})) expect(res.headers.get(name)).toBe(value);
      for (const attr of step.expect.absent ?? []) expect(res.body).not.toHaveProperty(attr);
      for (const attr of step.expect.absentInResources ?? []) for (const r of res.body.Resources) expect(r).not.toHaveProperty(attr);
      if (step.member) expect(await memberRow(tenantId, must(vars.user))).toMatchObject(step.member);
    });

    it("audited every provisioning call with the identity provider as the actor", async () => {
      const rows = await app.deps.db
        .select({ action: auditLog.action, actorType: auditLog.actorType, data: auditLog.data })
        .from(auditLog)
        .where(and(eq(auditLog.tenantId, tenantId), sql`${auditLog.action} like 'scim.%'`));
      const writes = steps.filter((s) => s.method !== "GET" && s.expect.status < 300).length;
      expect(rows).toHaveLength(writes);
      expect(rows.every((r) => r.actorType === "scim" && r.data.provider === provider)).toBe(true);
      // The members services' own rows name the provider's token as the actor too.
      const memberRows = await app.deps.db
        .select({ actorType: auditLog.actorType })
        .from(auditLog)
        .where(and(eq(auditLog.tenantId, tenantId), sql`${auditLog.action} like 'member.%'`));
      expect(memberRows.length).toBeGreaterThan(0);
      expect(new Set(memberRows.map((r) => r.actorType))).toEqual(new Set(["scim"]));
      // …and the member events of the outbox came with them, in the same transactions.
      const memberEvents = await app.deps.db
        .select({ type: events.type })
        .from(events)
        .where(and(eq(events.tenantId, tenantId), sql`${events.type} like 'member.%'`));
      expect(new Set(memberEvents.map((e) => e.type))).toEqual(new Set(["member.created", "member.updated", "member.deactivated"]));
    });
  });
}

describe("RFC 7644 compliance", () => {
  let call: ReturnType<typeof scim>;
  let tenantId = "";
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const t = await scimTenant("Compliance");
    tenantId = t.tenantId;
    call = scim(t.token);
    for (const [i, userName] of [
      "ann.lee@x.example",
      "bob.roe@x.example",
      "carla.diaz@y.example",
      "dan.wu@y.example",
      "eve.li@x.example",
    ].entries()) {
      const res = await call("POST", "/Users", {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName,
        externalId: `ext-${i}`,
        displayName: userName.split("@")[0],
        active: i !== 4,
      });
      expect(res.status).toBe(201);
      ids[userName] = res.body.id;
    }
  });

  it("serves the discovery endpoints", async () => {
    const config = await call("GET", "/ServiceProviderConfig");
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      bulk: { supported: false },
    });
    const types = await call("GET", "/ResourceTypes");
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(["User", "Group"]);
    expect((await call("GET", "/ResourceTypes/User")).body.schemaExtensions).toEqual([{ schema: ENTERPRISE, required: false }]);
    const schemas = await call("GET", "/Schemas");
    expect(schemas.body.totalResults).toBe(3);
    const user = await call("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    expect(user.body.attributes.map((a: { name: string }) => a.name)).toContain("userName");
  });

  const userNames = async (filter: string) => {
    const res = await call("GET", `/Users?filter=${encodeURIComponent(filter)}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.Resources as { userName: string }[]).map((r) => r.userName).sort();
  };

  it.each<[string, string[]]>([
    ['userName eq "ANN.LEE@x.example"', ["ann.lee@x.example"]],
    ['userName sw "b"', ["bob.roe@x.example"]],
    ['userName co "@y."', ["carla.diaz@y.example", "dan.wu@y.example"]],
    ['userName ew "x.example" and active eq true', ["ann.lee@x.example", "bob.roe@x.example"]],
    ['userName ew "x.example" and not (active eq true)', ["eve.li@x.example"]],
    ['externalId eq "ext-2" or externalId eq "ext-3"', ["carla.diaz@y.example", "dan.wu@y.example"]],
    ['externalId eq "EXT-2"', []],
    ['emails[value co "dan"]', ["dan.wu@y.example"]],
    ['emails.value eq "carla.diaz@y.example"', ["carla.diaz@y.example"]],
    ["active eq false", ["eve.li@x.example"]],
    [`${ENTERPRISE}:department pr`, []],
    ['meta.lastModified gt "2000-01-01T00:00:00Z" and userName sw "a"', ["ann.lee@x.example"]],
  ])("filter %s", async (filter, expected) => {
    expect(await userNames(filter)).toEqual(expected);
  });

  it("refuses a filter it cannot read, or an attribute it cannot filter on, with 400 invalidFilter", async () => {
    for (const filter of ["userName eq", 'userName regex "a"', 'nickName eq "x"', 'active eq "yes"']) {
      const res = await call("GET", `/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "400",
        scimType: "invalidFilter",
      });
    }
  });

  it("pages with 1-based startIndex and count, in a stable order", async () => {
    const all = await call("GET", "/Users");
    expect(all.body).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 5 });
    const page2 = await call("GET", "/Users?startIndex=3&count=2");
    expect(page2.body).toMatchObject({ totalResults: 5, startIndex: 3, itemsPerPage: 2 });
    expect(page2.body.Resources.map((r: { id: string }) => r.id)).toEqual(all.body.Resources.slice(2, 4).map((r: { id: string }) => r.id));
    const past = await call("GET", "/Users?startIndex=10&count=2");
    expect(past.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    const countOnly = await call("GET", "/Users?count=0");
    expect(countOnly.body).toMatchObject({ totalResults: 5, itemsPerPage: 0 });
  });

  it("applies each PatchOp form", async () => {
    const id = must(ids["bob.roe@x.example"]);
    const patch = (...Operations: unknown[]) => call("PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations });
    expect((await patch({ op: "add", path: "displayName", value: "Bob R" })).body.displayName).toBe("Bob R");
    expect((await patch({ op: "replace", value: { "name.givenName": "Bob", displayName: "Bob Roe" } })).body).toMatchObject({
      name: { givenName: "Bob" },
      displayName: "Bob Roe",
    });
    expect((await patch({ op: "replace", value: { [ENTERPRISE]: { department: "Ops" } } })).body[ENTERPRISE]).toMatchObject({
      department: "Ops",
    });
    expect((await patch({ op: "remove", path: `${ENTERPRISE}:department` })).body).not.toHaveProperty(`${ENTERPRISE}.department`);
    expect((await memberRow(tenantId, id)).department).toBeNull();
    const noSchema = await call("PATCH", `/Users/${id}`, { Operations: [{ op: "replace", path: "displayName", value: "x" }] });
    expect(noSchema.body).toMatchObject({ status: "400", scimType: "invalidSyntax" });
    expect((await patch({ op: "remove" })).body).toMatchObject({ status: "400", scimType: "noTarget" });
    expect((await patch({ op: "replace", path: "emails[type eq", value: 1 })).body).toMatchObject({
      status: "400",
      scimType: "invalidPath",
    });
    expect((await patch({ op: "replace", path: "active", value: "sometimes" })).body).toMatchObject({
      status: "400",
      scimType: "invalidValue",
    });
    expect((await memberRow(tenantId, id)).name).toBe("Bob Roe");
  });

  it("answers errors in the SCIM error shape", async () => {
    const missing = await call("GET", "/Users/mem_doesnotexist");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "404" });
    const noUserName = await call("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], displayName: "x" });
    expect(noUserName.body).toMatchObject({ status: "400", scimType: "invalidValue" });
    const broken = await call("POST", "/Users", "{ not json");
    expect(broken.body).toMatchObject({ status: "400", scimType: "invalidSyntax" });
    const form = await call("POST", "/Users", "userName=x", { "Content-Type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    const wrongMethod = await call("DELETE", "/Users");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, POST");
    expect((await call("GET", "/Nothing")).status).toBe(404);
    expect((await call("POST", "/Bulk", {})).status).toBe(501);
  });

  it("accepts only the tenant's own SCIM token", async () => {
    const anonymous = await scim(null)("GET", "/Users");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
    expect(anonymous.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "401" });
    expect((await scim(app.demoKey)("GET", "/Users")).status).toBe(401);
    expect((await scim(`scim_${"a".repeat(40)}`)("GET", "/Users")).status).toBe(401);
    // A SCIM token is no API key either.
    const t = await scimTenant("Other");
    expect((await api(app, t.token)("GET", "/v1/requests")).status).toBe(401);
    // Another tenant's token sees none of this tenant's users.
    const other = scim(t.token);
    expect((await other("GET", `/Users/${must(ids["ann.lee@x.example"])}`)).status).toBe(404);
    expect((await other("GET", "/Users")).body.totalResults).toBe(0);
    // A revoked token stops working on the next call.
    const created = await app.operator(tenantId).admin.directory.createScimToken({ provider: "Temporary" });
    expect((await scim(created.token)("GET", "/Users?count=1")).status).toBe(200);
    await app.operator(tenantId).admin.directory.revokeScimToken({ id: created.id });
    expect((await scim(created.token)("GET", "/Users?count=1")).status).toBe(401);
  });
});

describe("managers", () => {
  it("resolves a manager provisioned after their report", async () => {
    const { tenantId, token } = await scimTenant("Microsoft Entra ID");
    const call = scim(token);
    const report = await call("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
      userName: "report@x.example",
      externalId: "E-2",
      [ENTERPRISE]: { manager: { value: "E-1" } },
    });
    expect(report.status).toBe(201);
    expect(report.body[ENTERPRISE]?.manager).toBeUndefined();
    expect((await memberRow(tenantId, report.body.id)).managerRef).toBeNull();

    const manager = await call("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "boss@x.example",
      externalId: "E-1",
    });
    expect(manager.status).toBe(201);
    expect((await memberRow(tenantId, report.body.id)).managerRef).toBe("E-1");
    const readBack = await call("GET", `/Users/${report.body.id}`);
    expect(readBack.body[ENTERPRISE].manager.value).toBe(manager.body.id);
  });

  it("refuses a management loop with 400 invalidValue", async () => {
    const { token } = await scimTenant("Okta");
    const call = scim(token);
    const a = await call("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "a@x.example" });
    const b = await call("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
      userName: "b@x.example",
      [ENTERPRISE]: { manager: a.body.id },
    });
    const loop = await call("PATCH", `/Users/${a.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "add", path: `${ENTERPRISE}:manager`, value: b.body.id }],
    });
    expect(loop.status).toBe(400);
    expect(loop.body).toMatchObject({ scimType: "invalidValue" });
    expect(loop.body.detail).toContain("loop");
  });
});

describe("deprovisioning", () => {
  it("re-points an open approval to the deactivated approver's manager, and records it", async () => {
    const token = (await app.operator(app.demoTenantId).admin.directory.createScimToken({ provider: "Microsoft Entra ID" })).token;
    const call = scim(token);
    // Jane Smith (EMP-2001) is synced: the provider adopts the member by externalId.
    const jane = await call("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "jane.smith@acme.example",
      externalId: "EMP-2001",
      displayName: "Jane Smith",
      emails: [{ value: "jane.smith@acme.example", primary: true }],
      [ENTERPRISE]: { department: "Engineering", manager: "EMP-3001" },
    });
    expect(jane.status).toBe(201);
    expect(jane.body.externalId).toBe("EMP-2001");
    // A purchase order from Alex Kim waits on his manager, Jane.
    const submitted = await api(app, app.demoKey)("POST", "/v1/requests", {
      submitterRef: "EMP-1042",
      requestType: "purchase_order",
      title: "Laptop",
      amount: 1200,
      currency: "USD",
      metadata: { department: "Engineering" },
    });
    expect(submitted.status).toBe(201);
    const requestId = submitted.body.requestId as string;
    const before = await api(app, app.demoKey)("GET", `/v1/requests/${requestId}`);
    expect(JSON.stringify(before.body)).toContain("EMP-2001");

    const off = await call("PATCH", `/Users/${jane.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "Replace", path: "active", value: "False" }],
    });
    expect(off.status).toBe(200);
    const [stage] = await app.deps.db
      .select({ approverIds: requestStages.approverIds })
      .from(requestStages)
      .where(and(eq(requestStages.requestId, requestId), eq(requestStages.position, 1)));
    const [bob] = await app.deps.db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, app.demoTenantId), eq(members.externalRef, "EMP-3001")));
    expect(stage?.approverIds).toEqual([must(bob).id]);
    const after = await api(app, app.demoKey)("GET", `/v1/requests/${requestId}`);
    expect(after.body.stages[0].pendingApprovers).toEqual([expect.objectContaining({ ref: "EMP-3001" })]);
    const [record] = await app.deps.db
      .select({ actorType: auditLog.actorType, data: auditLog.data })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, requestId), eq(auditLog.action, "request.stage_repointed")));
    expect(record).toMatchObject({ actorType: "scim", data: { stage: 1, from: "EMP-2001", to: "EMP-3001" } });
    // Bob can now decide it.
    const decided = await api(app, app.demoKey)("POST", `/v1/requests/${requestId}/decisions`, {
      approverRef: "EMP-3001",
      decision: "approved",
    });
    expect(decided.status).toBe(200);
  });

  it("with the `delegate` policy, leaves the approval with the deactivated approver's delegate for good, and records it", async () => {
    const operator = app.operator(app.demoTenantId);
    await operator.admin.directory.updateSettings({ deactivationPolicy: "delegate" });
    const call = scim((await operator.admin.directory.createScimToken({ provider: "Okta" })).token);
    const rest = api(app, app.demoKey);
    // Bob Lee (EMP-3001) is synced; a purchase order from Priya Patel (IT) waits on him, her manager.
    const bob = await call("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "bob.lee@acme.example",
      externalId: "EMP-3001",
      displayName: "Bob Lee",
      emails: [{ value: "bob.lee@acme.example", primary: true }],
      [ENTERPRISE]: { department: "Finance" },
    });
    expect(bob.status).toBe(201);
    const submitted = await rest("POST", "/v1/requests", {
      submitterRef: "EMP-4001",
      requestType: "purchase_order",
      title: "Monitor",
      amount: 300,
      currency: "USD",
      metadata: { department: "IT" },
    });
    expect(submitted.status).toBe(201);
    const requestId = submitted.body.requestId as string;
    // Bob is out of office: Chen Wei (EMP-3002) holds the approval for him.
    const delegation = await rest("POST", "/v1/delegations", { memberRef: "EMP-3001", delegateRef: "EMP-3002" });
    expect(delegation.status).toBe(201);
    expect((await rest("GET", `/v1/requests/${requestId}`)).body.pendingApprovers).toEqual([{ ref: "EMP-3002", name: "Chen Wei" }]);

    // Entra/Okta deprovision Bob while he is away.
    const off = await call("PATCH", `/Users/${bob.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", path: "active", value: false }],
    });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const [record] = await app.deps.db
      .select({ actorType: auditLog.actorType, data: auditLog.data })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, requestId), eq(auditLog.action, "request.stage_repointed")));
    expect(record).toMatchObject({
      actorType: "scim",
      data: { stage: 1, from: "EMP-3001", to: "EMP-3002", via: "delegate", kept: true, reason: "member_deactivated" },
    });
    // The approval is Chen's now, not Bob's on loan: ending the delegation does not hand it back.
    expect((await rest("DELETE", `/v1/delegations/${delegation.body.id}`)).status).toBe(200);
    const after = await rest("GET", `/v1/requests/${requestId}`);
    expect(after.body.pendingApprovers).toEqual([{ ref: "EMP-3002", name: "Chen Wei" }]);
    expect(after.body.stages[0].delegations ?? []).toEqual([]);
    const decided = await rest("POST", `/v1/requests/${requestId}/decisions`, { approverRef: "EMP-3002", decision: "approved" });
    expect(decided.status).toBe(200);
    await operator.admin.directory.updateSettings({ deactivationPolicy: "manager" });
  });
});
