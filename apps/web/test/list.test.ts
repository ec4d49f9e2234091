import { inArray, requests, sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";
import { securitySuite } from "./security-suite";
import { must } from "@approvalmatrix/core";

let app: TestApp;
let call: ReturnType<typeof api>;
/** Every request of the demo tenant, oldest first, as created. */
const created: { requestId: string; requestType: string; submitterRef: string; createdAt: string }[] = [];
const cancelled: string[] = [];

beforeAll(async () => {
  app = await startTestApp();
  call = api(app, await unlimitedKey(app));
  const plan = [
    ...Array.from({ length: 12 }, (_, i) => ({ ...SEED_SUBMISSION, title: `PO ${i}`, amount: 100 + i })),
    ...Array.from({ length: 8 }, (_, i) => ({ submitterRef: "EMP-1043", requestType: "time_off", title: `Leave ${i}` })),
    ...Array.from({ length: 5 }, (_, i) => ({ ...SEED_SUBMISSION, submitterRef: "EMP-4001", title: `IT PO ${i}` })),
  ];
  for (const body of plan) {
    const res = await call("POST", "/v1/requests", body);
    expect(res.status).toBe(201);
    created.push({
      requestId: res.body.requestId,
      requestType: body.requestType,
      submitterRef: body.submitterRef,
      createdAt: res.body.createdAt,
    });
  }
  for (const index of [3, 14]) {
    const id = must(created[index]).requestId;
    expect((await call("POST", `/v1/requests/${id}/cancel`, { reason: "not needed" })).status).toBe(200);
    cancelled.push(id);
  }
});
afterAll(() => app.close());

const newestFirst = () => [...created].reverse().map((r) => r.requestId);
const list = (query = "") => call("GET", `/v1/requests${query ? `?${query}` : ""}`);

/** Follows nextCursor to the end; returns every id seen and the page sizes. */
async function walk(query: string): Promise<{ ids: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 50; guard++) {
    const res = await list([query, cursor ? `startingAfter=${cursor}` : ""].filter(Boolean).join("&"));
    expect(res.status).toBe(200);
    ids.push(...res.body.data.map((r: { requestId: string }) => r.requestId));
    sizes.push(res.body.data.length);
    if (!res.body.hasMore) {
      expect(res.body.nextCursor).toBeUndefined();
      return { ids, sizes };
    }
    expect(res.body.nextCursor).toBe(res.body.data.at(-1).requestId);
    cursor = res.body.nextCursor;
  }
  throw new Error("pagination did not end");
}

describe("GET /v1/requests", () => {
  it("answers the newest 20 by default, in the summary shape, with a cursor to the rest", async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(20);
    expect(res.body.hasMore).toBe(true);
    expect(res.body.data.map((r: { requestId: string }) => r.requestId)).toEqual(newestFirst().slice(0, 20));
    expect(res.body.nextCursor).toBe(newestFirst()[19]);
    const newest = res.body.data[0];
    expect(Object.keys(newest).sort()).toEqual(
      [
        "amount",
        "createdAt",
        "currency",
        "currentStage",
        "expiresAt",
        "matrixId",
        "matrixName",
        "requestId",
        "requestType",
        "status",
        "submitterRef",
        "title",
        "totalStages",
        "updatedAt",
      ].sort(),
    );
    expect(newest).toMatchObject({
      submitterRef: "EMP-4001",
      title: "IT PO 4",
      status: "pending",
      currentStage: 1,
      totalStages: 2,
      matrixName: "Engineering PO Matrix",
    });

    const rest = await list(`startingAfter=${res.body.nextCursor}`);
    expect(rest.body).toEqual({ data: expect.any(Array), hasMore: false });
    expect(rest.body.data.map((r: { requestId: string }) => r.requestId)).toEqual(newestFirst().slice(20));
  });

  it("walks every request exactly once, in order, whatever the page size", async () => {
    for (const limit of [1, 7, 25, 100]) {
      const { ids, sizes } = await walk(`limit=${limit}`);
      expect(ids).toEqual(newestFirst());
      expect(sizes.every((size, i) => size === limit || i === sizes.length - 1)).toBe(true);
    }
  });

  it("filters by status, requestType and submitterRef, alone and together", async () => {
    const byStatus = await list("status=cancelled");
    expect(byStatus.body.data.map((r: { requestId: string }) => r.requestId)).toEqual([...cancelled].reverse());
    expect(byStatus.body.data.every((r: { status: string }) => r.status === "cancelled")).toBe(true);

    const leave = await walk("requestType=time_off&limit=3");
    expect(leave.ids).toEqual(newestFirst().filter((id) => must(created.find((r) => r.requestId === id)).requestType === "time_off"));
    expect(leave.sizes).toEqual([3, 3, 2]);

    const it4001 = await list("submitterRef=EMP-4001");
    expect(it4001.body.data.map((r: { requestId: string }) => r.requestId)).toEqual(
      created
        .slice(20)
        .map((r) => r.requestId)
        .reverse(),
    );

    const combined = await walk("requestType=purchase_order&submitterRef=EMP-1042&status=pending&limit=4");
    const expected = newestFirst().filter((id) => {
      const r = must(created.find((c) => c.requestId === id));
      return r.submitterRef === "EMP-1042" && r.requestType === "purchase_order" && !cancelled.includes(id);
    });
    expect(combined.ids).toEqual(expected);
    expect(expected).toHaveLength(11);

    expect((await list("submitterRef=EMP-0000")).body).toEqual({ data: [], hasMore: false });
    expect((await list("requestType=nothing_like_it")).body).toEqual({ data: [], hasMore: false });
  });

  it("filters by a created range: createdAfter inclusive, createdBefore exclusive", async () => {
    const from = must(created[5]).createdAt;
    const to = must(created[10]).createdAt;
    const res = await list(`createdAfter=${from}&createdBefore=${to}`);
    expect(res.status).toBe(200);
    const expected = created
      .filter((r) => r.createdAt >= from && r.createdAt < to)
      .map((r) => r.requestId)
      .reverse();
    expect(res.body.data.map((r: { requestId: string }) => r.requestId)).toEqual(expected);
    expect(expected).toContain(must(created[5]).requestId);
    expect(expected).not.toContain(must(created[10]).requestId);
  });

  it("keeps its place among requests created in the same microsecond (ties broken by id)", async () => {
    const tied = created.slice(0, 4).map((r) => r.requestId);
    await app.deps.db
      .update(requests)
      .set({ createdAt: sql`'2031-01-01T00:00:00.123456Z'::timestamptz` })
      .where(inArray(requests.id, tied));
    const { ids } = await walk("limit=1");
    expect(ids).toHaveLength(created.length);
    expect(new Set(ids).size).toBe(created.length);
    expect(ids.slice(0, 4)).toEqual([...tied].sort().reverse());
    // The microseconds survive the cursor: the rows just below the tie follow it, none is skipped.
    expect(ids.slice(4)).toEqual(newestFirst().filter((id) => !tied.includes(id)));
  });

  describe("errors", () => {
    it.each([
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["status=open", "status"],
      ["createdAfter=yesterday", "createdAfter"],
      ["createdBefore=2025-13-01", "createdBefore"],
      ["sort=oldest", "(body)"],
    ])("400 invalid_request for %s", async (query, field) => {
      const res = await list(query);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      if (field !== "(body)") expect(res.body.error.issues.map((i: { field: string }) => i.field)).toContain(field);
      else expect(res.body.error.message).toContain("sort");
    });

    it("400 invalid_request for a cursor that is not a request of this tenant", async () => {
      const res = await list("startingAfter=req_doesnotexist000000");
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.issues).toEqual([{ field: "startingAfter", message: "unknown requestId" }]);

      const other = await app.createOtherTenant();
      const foreign = await api(app, other.key)("GET", `/v1/requests?startingAfter=${must(created[0]).requestId}`);
      expect(foreign.status).toBe(400);
      expect(foreign.body.error.code).toBe("invalid_request");
    });
  });

  it("shows a tenant only its own requests", async () => {
    const other = await app.createOtherTenant();
    const otherCall = api(app, other.key);
    expect((await otherCall("GET", "/v1/requests")).body).toEqual({ data: [], hasMore: false });
  });

  it("documents its filters as query parameters", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).body;
    const operation = doc.paths["/requests"].get;
    const params = Object.fromEntries(operation.parameters.map((p: { name: string; in: string; schema: unknown }) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual([
      "createdAfter",
      "createdBefore",
      "limit",
      "requestType",
      "startingAfter",
      "status",
      "submitterRef",
      "updatedAfter",
    ]);
    for (const param of Object.values(params) as { in: string }[]) expect(param.in).toBe("query");
    expect(params.limit.schema).toMatchObject({ minimum: 1, maximum: 100, default: 20 });
    expect(operation.parameters.some((p: { name: string }) => p.name === "Idempotency-Key")).toBe(false);
  });
});

securitySuite("GET /v1/requests", { method: "GET", path: () => "/requests", scope: "requests:read" });
