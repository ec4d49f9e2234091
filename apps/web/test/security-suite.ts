import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY_SCOPES, type ApiKeyScope } from "@approvalmatrix/core";
import { type TestApp, api, startTestApp } from "./harness";

export interface EndpointUnderTest {
  method: "GET" | "POST";
  /** Builds the path, given the app and an id of the demo tenant's own request. */
  path: (ids: { ownRequestId: string }) => string;
  /** A valid body for POSTs. */
  body?: unknown;
  scope: ApiKeyScope;
  /** True when the path names a request: another tenant's key must get 404 for it. */
  takesRequestId?: boolean;
}

const ALL_SCOPES: ApiKeyScope[] = [...API_KEY_SCOPES];

function expectError(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe("string");
  expect(res.body.error.message.length).toBeGreaterThan(5);
  expect(res.body.error.requestId).toBe(res.headers.get("request-id"));
}

/** The checks every /v1 endpoint must pass, whatever it does. */
export function securitySuite(name: string, endpoint: EndpointUnderTest): void {
  describe(`security: ${name}`, () => {
    let app: TestApp;
    let ownRequestId: string;
    beforeAll(async () => {
      app = await startTestApp();
      const created = await api(app, app.demoKey)("POST", "/v1/requests", {
        submitterRef: "EMP-1042",
        requestType: "purchase_order",
        title: "Security suite fixture",
        amount: 100,
      });
      ownRequestId = created.body.requestId;
    });
    afterAll(() => app.close());

    const call = (key: string | null, opts: { path?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
      api(app, key)(
        endpoint.method,
        opts.path ?? `/v1${endpoint.path({ ownRequestId })}`,
        endpoint.method === "POST" ? (opts.body ?? endpoint.body ?? {}) : undefined,
        opts.headers,
      );

    it("refuses a call without a key (401)", async () => expectError(await call(null), 401, "unauthorized"));

    it("answers 401 before reading the body, with rate-limit headers", async () => {
      const res = await api(app, null)(
        endpoint.method,
        `/v1${endpoint.path({ ownRequestId })}`,
        endpoint.method === "POST" ? '{"broken' : undefined,
      );
      expectError(res, 401, "unauthorized");
      for (const header of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]) {
        expect(res.headers.get(header), header).toMatch(/^\d+$/);
      }
    });

    it("answers 405 with Allow for a method the path does not take", async () => {
      const res = await api(app, app.demoKey)("PATCH", `/v1${endpoint.path({ ownRequestId })}`, {});
      expectError(res, 405, "method_not_allowed");
      expect(res.headers.get("allow")?.split(", ")).toContain(endpoint.method);
    });

    it("refuses a malformed key (401)", async () => {
      expectError(await call("apx_live_short"), 401, "unauthorized");
      expectError(await call("sk_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"), 401, "unauthorized");
    });

    it("refuses a non-Bearer scheme (401)", async () => {
      expectError(await call(null, { headers: { Authorization: `Basic ${app.demoKey}` } }), 401, "unauthorized");
    });

    it("refuses a well-formed key that does not exist (401)", async () => {
      expectError(await call("apx_live_" + "A".repeat(32)), 401, "unauthorized");
    });

    it("refuses a revoked key on the very next request (401)", async () => {
      const caller = app.operator(app.demoTenantId);
      const key = await caller.admin.apiKeys.create({ name: "to revoke", scopes: ALL_SCOPES });
      const before = await call(key.key);
      expect(before.status).not.toBe(401);
      await caller.admin.apiKeys.revoke({ id: key.id });
      const after = await call(key.key);
      expectError(after, 401, "unauthorized");
      expect(after.body.error.message).toMatch(/revoked/i);
    });

    it("refuses a key without the needed scope (403)", async () => {
      const caller = app.operator(app.demoTenantId);
      const key = await caller.admin.apiKeys.create({ name: "wrong scope", scopes: ALL_SCOPES.filter((s) => s !== endpoint.scope) });
      const res = await call(key.key);
      expectError(res, 403, "forbidden");
      expect(res.body.error.message).toContain(endpoint.scope);
    });

    it("refuses a key in the query string, even alongside a valid header (401)", async () => {
      const path = `/v1${endpoint.path({ ownRequestId })}?api_key=${app.demoKey}`;
      const res = await call(app.demoKey, { path });
      expectError(res, 401, "unauthorized");
      expect(res.body.error.message).toMatch(/query string/i);
      const onlyQuery = await call(null, { path });
      expectError(onlyQuery, 401, "unauthorized");
    });

    if (endpoint.takesRequestId) {
      it("answers 404 for another tenant's request, exactly as for a missing one", async () => {
        const other = await app.createOtherTenant();
        const foreign = await call(other.key);
        const missing = await call(other.key, { path: `/v1${endpoint.path({ ownRequestId: "req_doesnotexist000000" })}` });
        expectError(foreign, 404, "not_found");
        expectError(missing, 404, "not_found");
        expect(foreign.body.error.message.replace(ownRequestId, "ID")).toBe(
          missing.body.error.message.replace("req_doesnotexist000000", "ID"),
        );
      });
    }

    if (endpoint.method === "POST") {
      it("refuses an oversized body (413) and writes nothing", async () => {
        const huge = { ...(endpoint.body as object), metadata: { blob: "x".repeat(200_000) } };
        expectError(await call(app.demoKey, { body: huge }), 413, "payload_too_large");
      });
    }
  });
}
