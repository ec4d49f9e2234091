import { requests } from "@approvalmatrix/db";
import { describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, SEED_SUBMISSION, api, demoAppForFile } from "./harness";
import { securitySuite } from "./security-suite";
import { must } from "@approvalmatrix/core";

const demo = demoAppForFile();

describe("POST /v1/requests", () => {
  it("creates a request routed to the matching matrix and answers 201 in the documented shape", async () => {
    const res = await demo.call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", matrixName: "Engineering PO Matrix", currentStage: 1, totalStages: 2 });
    expect(res.body.requestId).toMatch(/^req_[0-9A-Za-z]{20}$/);
    expect(res.body.matrixId).toMatch(/^mat_/);
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    expect(res.headers.get("request-id")).toMatch(/^rid_/);
  });

  it("routes by amount band: a large order goes to the large-order matrix", async () => {
    const res = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, amount: 25_000 });
    expect(res.status).toBe(201);
    expect(res.body.matrixName).toBe("Large purchase orders");
  });

  it("answers 422 unknown_submitter for an externalRef no member has, and writes nothing", async () => {
    const res = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, submitterRef: "EMP-0000" });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("unknown_submitter");
    expect(res.body.error.message).toContain("EMP-0000");
  });

  it("answers 422 no_matching_matrix saying what was tried", async () => {
    const res = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, requestType: "laptop_refresh" });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("no_matching_matrix");
    expect(res.body.error.message).toContain("laptop_refresh");

    const wrongCurrency = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, currency: "EUR" });
    expect(wrongCurrency.status).toBe(422);
    expect(wrongCurrency.body.error.message).toContain("Engineering PO Matrix");
    expect(wrongCurrency.body.error.message).toContain("EUR");
  });

  it("names each offending field on a validation error (400 invalid_request)", async () => {
    const res = await demo.call("POST", "/v1/requests", { submitterRef: "EMP-1042", requestType: "purchase_order", amount: "lots" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    const fields = res.body.error.issues.map((i: { field: string }) => i.field).sort();
    expect(fields).toEqual(["amount", "title"]);
    expect(res.body.error.message).toContain("title");
  });

  it("refuses unknown fields rather than silently dropping them", async () => {
    const res = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, submitter_ref: "EMP-1042" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain("submitter_ref");
  });

  it("answers 400 invalid_json for a broken body and 415 for a non-JSON one", async () => {
    const broken = await demo.call("POST", "/v1/requests", '{"submitterRef": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
    const form = await demo.call("POST", "/v1/requests", "submitterRef=EMP-1042", { "Content-Type": "text/plain" });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe("unsupported_media_type");
  });

  it("refuses NUL characters and runaway nesting with 400 naming the field, and writes nothing", async () => {
    const before = await demo.app.deps.db.$count(requests);
    const nul = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, title: "a\u0000b" });
    expect(nul.status).toBe(400);
    expect(nul.body.error).toMatchObject({ code: "invalid_request", issues: [{ field: "title" }] });
    const nulInMetadata = await demo.call("POST", "/v1/requests", { ...SEED_SUBMISSION, metadata: { note: ["ok", "x\u0000"] } });
    expect(nulInMetadata.body.error.issues[0].field).toBe("metadata.note.1");
    const deep = `{"submitterRef":"EMP-1042","requestType":"purchase_order","title":"x","metadata":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`;
    const nested = await demo.call("POST", "/v1/requests", deep);
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toContain("nested deeper");
    expect(await demo.app.deps.db.$count(requests)).toBe(before);
  });

  it("accepts application/json with a charset parameter", async () => {
    const res = await demo.call("POST", "/v1/requests", SEED_SUBMISSION, { "Content-Type": "application/json; charset=utf-8" });
    expect(res.status).toBe(201);
  });

  it("answers 404 not_found in the error shape for an unknown path", async () => {
    const res = await demo.call("GET", "/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("GET /v1/requests/{requestId}", () => {
  it("returns the request in the seed document's shape", async () => {
    const created = await demo.call("POST", "/v1/requests", SEED_SUBMISSION);
    const res = await demo.call("GET", `/v1/requests/${created.body.requestId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId: created.body.requestId,
      status: "pending",
      title: "Office Supplies Q3",
      submitterRef: "EMP-1042",
      currentStage: 1,
      totalStages: 2,
      decisions: [],
      currency: "USD",
    });
    expect(res.body.stages.map((s: { name: string }) => s.name)).toEqual(["Manager approval", "Finance approval"]);
    expect(res.body.pendingApprovers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    expect(res.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
  });

  it("answers 404 for an id that does not exist", async () => {
    const res = await demo.call("GET", "/v1/requests/req_nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("POST /v1/requests/test (dry-run)", () => {
  it("resolves the matrix and approvers without creating anything", async () => {
    const before = await demo.app.deps.db.$count((await import("@approvalmatrix/db")).requests);
    const res = await demo.call("POST", "/v1/requests/test", SEED_SUBMISSION);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId: null,
      status: "pending",
      matrixName: "Engineering PO Matrix",
      dryRun: true,
      createdAt: null,
    });
    expect(res.body.stages[0].approvers).toEqual([{ ref: "EMP-2001", name: "Jane Smith" }]);
    expect(res.body.stages[1].approvers).toEqual([{ ref: "EMP-3001", name: "Bob Lee" }]);
    const after = await demo.app.deps.db.$count((await import("@approvalmatrix/db")).requests);
    expect(after).toBe(before);
  });

  it("reports the same errors as create", async () => {
    const res = await demo.call("POST", "/v1/requests/test", { ...SEED_SUBMISSION, submitterRef: "nobody" });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("unknown_submitter");
  });
});

describe("rate limiting", () => {
  it("answers 429 with Retry-After once a key's per-minute limit is spent", async () => {
    const key = await demo.app
      .operator(demo.app.demoTenantId)
      .admin.apiKeys.create({ name: "tight", scopes: ["requests:read"], rateLimitPerMinute: 3 });
    const limited = api(demo.app, key.key);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof limited>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await limited("GET", "/v1/requests/req_nope");
      statuses.push(last.status);
    }
    // A minute boundary can fall between the calls; then the fourth is the first of a new window.
    if (statuses[3] !== 429) return expect(Number(must(last).headers.get("x-ratelimit-remaining"))).toBeGreaterThanOrEqual(0);
    expect(statuses).toEqual([404, 404, 404, 429]);
    expect(must(last).body.error.code).toBe("rate_limited");
    expect(Number(must(last).headers.get("retry-after"))).toBeGreaterThan(0);
    expect(must(last).headers.get("x-ratelimit-remaining")).toBe("0");
  });
});

securitySuite("POST /v1/requests", { method: "POST", path: () => "/requests", body: SEED_SUBMISSION, scope: "requests:write" });
securitySuite("POST /v1/requests/test", { method: "POST", path: () => "/requests/test", body: SEED_SUBMISSION, scope: "requests:write" });
securitySuite("GET /v1/requests/{requestId}", {
  method: "GET",
  path: ({ ownRequestId }) => `/requests/${ownRequestId}`,
  scope: "requests:read",
  takesRequestId: true,
});
