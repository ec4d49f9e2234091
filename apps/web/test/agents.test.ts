/**
 * Acting for others over real HTTP (issue 11): per-endpoint rate-limit buckets, the key lifecycle
 * over /v1/api-keys (edit, disable, reroll with a grace window on two instances, usage per day),
 * internal service tokens acting for an approver, and requests addressed to one approver.
 */
import { keyUsageRecorder } from "@approvalmatrix/api";
import { ManualClock, must } from "@approvalmatrix/core";
import { auditLog, eq, events, jobs, requests } from "@approvalmatrix/db";
import { describe, expect, it } from "vitest";
import { SEED_SUBMISSION, api, demoAppForFile } from "./harness";

const SERVICE_TOKEN = `internal-${"S1ackB0t".repeat(5)}`;
const READ_ONLY_TOKEN = `internal-${"R3adOnly".repeat(5)}`;
// Deadlines (a reroll's grace, a request's ttlSeconds) pass by moving this clock, never by sleeping.
const clock = new ManualClock();
const demo = demoAppForFile(
  {
    INTERNAL_SERVICE_TOKEN: [
      `${SERVICE_TOKEN}?tenant=acme&name=Slack+bot&scopes=requests:write+requests:read+decisions:write`,
      `${READ_ONLY_TOKEN}?tenant=acme&name=Dashboard&scopes=requests:read`,
    ].join("\n"),
  },
  { clock },
);

async function keyWith(options: Record<string, unknown>) {
  const created = await demo.app.operator(demo.app.demoTenantId).admin.apiKeys.create({
    name: `k-${Math.random().toString(36).slice(2)}`,
    scopes: ["requests:write", "requests:read", "decisions:write", "keys:write"],
    ...options,
  });
  return { ...created, call: api(demo.app, created.key) };
}

const AD_HOC = { requestType: "agent_action", title: "Run browser automation task" };

describe("per-endpoint rate-limit buckets", () => {
  it("counts creation and status checks in separate buckets, each with its own headers", async () => {
    const { call } = await keyWith({ rateLimits: { create: 2, status: 3 } });
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await call("POST", "/v1/requests", SEED_SUBMISSION));
    expect(created.map((r) => r.status)).toEqual([201, 201, 429]);
    expect(created.map((r) => r.headers.get("x-ratelimit-limit"))).toEqual(["2", "2", "2"]);
    expect(created.map((r) => r.headers.get("x-ratelimit-remaining"))).toEqual(["1", "0", "0"]);
    // One interval (30 s) after the burst, less the time the calls took.
    expect(Number(created[2]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(20);
    expect(created[2]?.body.error.code).toBe("rate_limited");
    // Creation is spent; status checks are not.
    const id = must(created[0]).body.requestId as string;
    const reads = [];
    for (let i = 0; i < 4; i++) reads.push(await call("GET", `/v1/requests/${id}`));
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(reads.map((r) => r.headers.get("x-ratelimit-limit"))).toEqual(["3", "3", "3", "3"]);
    // Other writes have their own bucket at the default 60.
    const cancel = await call("POST", `/v1/requests/${id}/cancel`, { reason: "test" });
    expect(cancel.status).toBe(200);
    expect(cancel.headers.get("x-ratelimit-limit")).toBe("60");
  });

  it("defaults to the seed's figures: creation 60 and status checks 120 a minute", async () => {
    const { call } = await keyWith({});
    expect((await call("POST", "/v1/requests", SEED_SUBMISSION)).headers.get("x-ratelimit-limit")).toBe("60");
    expect((await call("GET", "/v1/requests?limit=1")).headers.get("x-ratelimit-limit")).toBe("120");
  });
});

describe("the key lifecycle over /v1/api-keys", () => {
  it("edits, disables and enables a key without revoking it, each audited", async () => {
    const admin = await keyWith({});
    const target = await keyWith({ scopes: ["requests:read"] });
    const edited = await admin.call("PATCH", `/v1/api-keys/${target.id}`, { name: "renamed", rateLimits: { status: 7 } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: "renamed", rateLimits: { status: 7, create: 60 } });
    expect((await target.call("GET", "/v1/requests?limit=1")).headers.get("x-ratelimit-limit")).toBe("7");

    expect((await admin.call("POST", `/v1/api-keys/${target.id}/disable`, {})).body.status).toBe("disabled");
    const refused = await target.call("GET", "/v1/requests?limit=1");
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/disabled/);
    expect((await admin.call("POST", `/v1/api-keys/${target.id}/enable`, {})).body.status).toBe("active");
    expect((await target.call("GET", "/v1/requests?limit=1")).status).toBe(200);

    const actions = await demo.app.deps.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.targetId, target.id));
    expect(actions.map((a) => a.action).sort()).toEqual(["api_key.created", "api_key.disabled", "api_key.enabled", "api_key.updated"]);
  });

  it("needs keys:write", async () => {
    const reader = await keyWith({ scopes: ["requests:read"] });
    const res = await reader.call("GET", "/v1/api-keys");
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
  });

  it("rerolls with a grace window: the old key works on every instance until it ends, then fails on all at once", async () => {
    const admin = await keyWith({});
    const old = await keyWith({ scopes: ["requests:read"] });
    const second = await demo.app.startInstance();
    try {
      const rerolled = await admin.call("POST", `/v1/api-keys/${old.id}/reroll`, { grace: "1h" });
      expect(rerolled.status).toBe(201);
      const fresh = rerolled.body.key.key as string;
      expect(rerolled.body.key.name).toBe(old.name);
      expect(rerolled.body.previous.replacedById).toBe(rerolled.body.key.id);
      const graceEnd = Date.parse(rerolled.body.previous.expiresAt as string);
      expect(graceEnd - clock.now().getTime()).toBe(60 * 60_000);

      for (const url of [demo.app.url, second.url]) {
        expect((await api({ url }, old.key)("GET", "/v1/requests?limit=1")).status).toBe(200);
        expect((await api({ url }, fresh)("GET", "/v1/requests?limit=1")).status).toBe(200);
      }
      // A millisecond before the grace ends, the old key still works on both instances; right after, on neither.
      const start = clock.now().getTime();
      clock.set(graceEnd - 1);
      for (const url of [demo.app.url, second.url]) expect((await api({ url }, old.key)("GET", "/v1/requests?limit=1")).status).toBe(200);
      clock.set(graceEnd);
      for (const url of [demo.app.url, second.url]) {
        const res = await api({ url }, old.key)("GET", "/v1/requests?limit=1");
        expect(res.status).toBe(401);
        expect(res.body.error.message).toMatch(/expired/);
        expect((await api({ url }, fresh)("GET", "/v1/requests?limit=1")).status).toBe(200);
      }
      // A key that was rerolled cannot be rerolled again; its name belongs to the new key.
      expect((await admin.call("POST", `/v1/api-keys/${old.id}/reroll`, {})).status).toBe(409);
      clock.set(start);
    } finally {
      await second.close();
    }
  });

  it("rerolls without grace: the old key fails on the very next call", async () => {
    const admin = await keyWith({});
    const old = await keyWith({ scopes: ["requests:read"] });
    const rerolled = await admin.call("POST", `/v1/api-keys/${old.id}/reroll`, { grace: "none" });
    expect(rerolled.body.previous.status).toBe("revoked");
    expect((await old.call("GET", "/v1/requests?limit=1")).status).toBe(401);
    expect((await api(demo.app, rerolled.body.key.key)("GET", "/v1/requests?limit=1")).status).toBe(200);
  });

  it("counts calls per key and day, shown for the last 30 days", async () => {
    const admin = await keyWith({});
    const used = await keyWith({ scopes: ["requests:read"] });
    for (let i = 0; i < 5; i++) await used.call("GET", "/v1/requests?limit=1");
    await keyUsageRecorder(demo.app.deps.db).flush();
    const res = await admin.call("GET", `/v1/api-keys/${used.id}/usage`);
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(30);
    expect(res.body.days.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), count: 5 });
    const list = await admin.call("GET", "/v1/api-keys");
    expect(list.body.find((k: { id: string }) => k.id === used.id).lastUsedAt).not.toBeNull();
  });
});

describe("internal service tokens acting for an approver", () => {
  const asBot = (headers: Record<string, string>, token = SERVICE_TOKEN) => {
    const call = api(demo.app, token);
    return (method: string, path: string, body?: unknown) => call(method, path, body, headers);
  };

  it("creates a request addressed to the approver and records their decision, with the bot as the actor", async () => {
    const bot = asBot({ "X-Approver-Email": "Jane.Smith@acme.example" });
    const created = await bot("POST", "/v1/requests", { ...AD_HOC, ttlSeconds: 3600 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ matrixId: null, status: "pending", totalStages: 1 });
    const id = created.body.requestId as string;
    const view = await bot("GET", `/v1/requests/${id}`);
    expect(view.body.pendingApprovers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    expect(view.body.submitterRef).toBe("EMP-2001");

    const decided = await bot("POST", `/v1/requests/${id}/decisions`, { decision: "approved", comment: "Go ahead" });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    expect(decided.body.status).toBe("approved");
    expect(decided.body.decisions[0]).toMatchObject({ decidedBy: "Jane Smith", decidedByRef: "EMP-2001" });

    const rows = await demo.app.deps.db.select().from(auditLog).where(eq(auditLog.targetId, id));
    const decision = must(rows.find((r) => r.action === "request.decision_recorded"));
    expect(decision).toMatchObject({ actorType: "service_token", actorId: expect.stringMatching(/^svc_/) });
    expect(decision.data).toMatchObject({ actorName: "Slack bot", actingFor: { ref: "EMP-2001", name: "Jane Smith" } });
    expect(rows.find((r) => r.action === "request.submitted")?.data).toMatchObject({ actingFor: { name: "Jane Smith" } });
  });

  it("cannot decide for anyone else", async () => {
    const jane = asBot({ "X-Approver-Ref": "EMP-2001" });
    const created = await jane("POST", "/v1/requests", AD_HOC);
    const res = await jane("POST", `/v1/requests/${created.body.requestId}/decisions`, { decision: "approved", approverRef: "EMP-3001" });
    expect(res.status).toBe(403);
  });

  it.each([
    ["no approver header", {}, 400, "approver_required"],
    ["an unknown email", { "X-Approver-Email": "nobody@acme.example" }, 422, "unknown_approver"],
    ["an unknown ref", { "X-Approver-Ref": "EMP-0000" }, 422, "unknown_approver"],
  ])("refuses %s with a clear code and writes nothing", async (_name, headers, status, code) => {
    const before = await demo.app.deps.db.$count(requests);
    const res = await asBot(headers)("POST", "/v1/requests", AD_HOC);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await demo.app.deps.db.$count(requests)).toBe(before);
  });

  it("refuses an approver of another tenant and a deactivated one, writing nothing", async () => {
    const other = await demo.app.createOtherTenant();
    await demo.app.operator(other.tenantId).admin.members.create({
      name: "Outsider",
      externalRef: "EMP-9",
      email: "outsider@globex.example",
    });
    const member = await demo.app.operator(demo.app.demoTenantId).admin.members.create({
      name: "Gone Person",
      externalRef: "EMP-GONE",
      email: "gone@acme.example",
    });
    await demo.app.operator(demo.app.demoTenantId).admin.members.setActive({ id: member.id, active: false });
    const before = await demo.app.deps.db.$count(requests);
    const outsider = await asBot({ "X-Approver-Email": "outsider@globex.example" })("POST", "/v1/requests", AD_HOC);
    expect([outsider.status, outsider.body.error.code]).toEqual([403, "approver_other_tenant"]);
    const gone = await asBot({ "X-Approver-Email": "gone@acme.example" })("POST", "/v1/requests", AD_HOC);
    expect([gone.status, gone.body.error.code]).toEqual([422, "approver_inactive"]);
    expect(await demo.app.deps.db.$count(requests)).toBe(before);
  });

  it("refuses an unknown token (401) and a token without the scope (403)", async () => {
    const unknown = await asBot({ "X-Approver-Ref": "EMP-2001" }, `internal-${"x".repeat(40)}`)("POST", "/v1/requests", AD_HOC);
    expect(unknown.status).toBe(401);
    const readOnly = await asBot({ "X-Approver-Ref": "EMP-2001" }, READ_ONLY_TOKEN)("POST", "/v1/requests", AD_HOC);
    expect(readOnly.status).toBe(403);
  });
});

describe("requests addressed to one approver with an API key", () => {
  it("follows the tenant's setting, for all keys or selected ones, and the dry-run answers the same", async () => {
    const owner = demo.app.operator(demo.app.demoTenantId);
    const plain = await keyWith({});
    const chosen = await keyWith({ allowAdHoc: true });
    const body = { ...AD_HOC, approverEmail: "bob.lee@acme.example", submitterRef: "EMP-1042" };

    const off = await plain.call("POST", "/v1/requests", body);
    expect([off.status, off.body.error.code]).toEqual([403, "ad_hoc_not_allowed"]);
    expect((await plain.call("POST", "/v1/requests/test", body)).body.error.code).toBe("ad_hoc_not_allowed");

    await owner.admin.settings.update({ adHocRequests: "selected_keys" });
    expect((await plain.call("POST", "/v1/requests", body)).status).toBe(403);
    const dry = await chosen.call("POST", "/v1/requests/test", body);
    expect(dry.status).toBe(200);
    expect(dry.body.stages[0].approvers).toEqual([{ ref: "EMP-3001", name: "Bob Lee" }]);
    const made = await chosen.call("POST", "/v1/requests", { ...body, ttlSeconds: 600 });
    expect(made.status).toBe(201);
    expect(Date.parse(made.body.expiresAt as string) - Date.now()).toBeGreaterThan(590_000);

    await owner.admin.settings.update({ adHocRequests: "all_keys" });
    expect((await plain.call("POST", "/v1/requests", { ...AD_HOC, approverRef: "EMP-3001", submitterRef: "EMP-1042" })).status).toBe(201);
    const unknown = await plain.call("POST", "/v1/requests", { ...AD_HOC, approverRef: "EMP-0000", submitterRef: "EMP-1042" });
    expect([unknown.status, unknown.body.error.code]).toEqual([422, "unknown_approver"]);
    await owner.admin.settings.update({ adHocRequests: "off" });
  });

  it("still needs a submitterRef when no approver is named", async () => {
    const res = await demo.call("POST", "/v1/requests", { requestType: "purchase_order", title: "x" });
    expect(res.status).toBe(400);
  });
});

describe("ttlSeconds: a request undecided in time becomes expired", () => {
  const bot = (method: string, path: string, body?: unknown) =>
    api(demo.app, SERVICE_TOKEN)(method, path, body, { "X-Approver-Ref": "EMP-2001" });

  it("expires through a durable job, run once across two instances, recorded with the platform as actor", async () => {
    const created = await bot("POST", "/v1/requests", { ...AD_HOC, ttlSeconds: 120 });
    const id = created.body.requestId as string;
    const dedupe = `request.expire:${id}`;
    expect(await demo.app.deps.db.$count(jobs, eq(jobs.dedupeKey, dedupe))).toBe(1);
    const second = await demo.app.startInstance();
    const start = clock.now().getTime();
    try {
      // Not yet due: nothing happens.
      await demo.app.worker?.runDue();
      expect((await bot("GET", `/v1/requests/${id}`)).body.status).toBe("pending");
      clock.set(Date.parse(created.body.expiresAt as string) + 1_000);
      // Both instances' workers go for it (their background loops too); the job row lets one win.
      let view = await bot("GET", `/v1/requests/${id}`);
      for (let i = 0; i < 50 && view.body.status !== "expired"; i++) {
        await Promise.all([demo.app.worker?.runDue(), second.worker?.runDue()]);
        view = await bot("GET", `/v1/requests/${id}`);
        if (view.body.status !== "expired") await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(view.body).toMatchObject({ status: "expired", currentStage: null, pendingApprovers: [] });
      expect(view.body.stages[0].status).toBe("expired");
      const rows = await demo.app.deps.db.select().from(auditLog).where(eq(auditLog.targetId, id));
      expect(rows.filter((r) => r.action === "request.status_changed")).toEqual([
        expect.objectContaining({ actorType: "system", actorId: "ttl_expired", data: expect.objectContaining({ to: "expired" }) }),
      ]);
      const expired = await demo.app.deps.db.select().from(events).where(eq(events.type, "approval_request.expired"));
      expect(expired.filter((e) => (e.data as { requestId?: string }).requestId === id)).toHaveLength(1);
      // Terminal: no decision lands afterwards, and the list filter finds it.
      expect((await bot("POST", `/v1/requests/${id}/decisions`, { decision: "approved" })).body.error.code).toBe("request_closed");
      const listed = await bot("GET", "/v1/requests?status=expired&limit=100");
      expect(listed.body.data.map((r: { requestId: string }) => r.requestId)).toContain(id);
    } finally {
      clock.set(start);
      await second.close();
    }
  });

  it("a decision before the deadline cancels the expiry job", async () => {
    const created = await bot("POST", "/v1/requests", { ...AD_HOC, ttlSeconds: 120 });
    const id = created.body.requestId as string;
    expect((await bot("POST", `/v1/requests/${id}/decisions`, { decision: "rejected" })).body.status).toBe("rejected");
    expect(await demo.app.deps.db.$count(jobs, eq(jobs.dedupeKey, `request.expire:${id}`))).toBe(0);
  });
});
