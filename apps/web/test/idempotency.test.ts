import { randomUUID } from "node:crypto";
import { and, decisions, eq, idempotencyKeys, requests, sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";

let app: TestApp;
let key: string;
let call: ReturnType<typeof api>;
beforeAll(async () => {
  app = await startTestApp();
  key = await unlimitedKey(app);
  call = api(app, key);
});
afterAll(() => app.close());

/** A POST with an Idempotency-Key, keeping the exact response text. */
async function post(path: string, body: unknown, idempotencyKey: string | null, apiKey = key) {
  const res = await fetch(`${app.url}${path}`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${apiKey}`,
      "Content-Type": "application/json",
      ...(idempotencyKey !== null ? { "Idempotency-Key": idempotencyKey } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text), replayed: res.headers.get("idempotent-replayed") };
}

const countTitled = (title: string) =>
  app.deps.db.$count(requests, and(eq(requests.tenantId, app.demoTenantId), eq(requests.title, title)));

async function submit(): Promise<string> {
  const res = await call("POST", "/v1/requests", SEED_SUBMISSION);
  expect(res.status).toBe(201);
  return res.body.requestId;
}

describe("Idempotency-Key", () => {
  it("replays the first response, status and bytes, to a retry with the same key and body; one request exists", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `Replay ${idem}` };
    const first = await post("/v1/requests", body, idem);
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const retry = await post("/v1/requests", body, idem);
    expect(retry.status).toBe(201);
    expect(retry.replayed).toBe("true");
    expect(retry.text).toBe(first.text);
    expect(await countTitled(body.title)).toBe(1);

    const [stored] = await app.deps.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, idem));
    expect(stored).toMatchObject({ tenantId: app.demoTenantId, endpoint: "requests.create", responseStatus: 201 });
  });

  it("treats a body with its keys in another order as the same body", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `Order ${idem}`, metadata: { a: 1, b: { c: 2, d: 3 } } };
    const first = await post("/v1/requests", body, idem);
    const reordered = {
      metadata: { b: { d: 3, c: 2 }, a: 1 },
      title: body.title,
      amount: body.amount,
      requestType: body.requestType,
      submitterRef: body.submitterRef,
    };
    const retry = await post("/v1/requests", reordered, idem);
    expect(retry.replayed).toBe("true");
    expect(retry.body.requestId).toBe(first.body.requestId);
  });

  it("answers 409 idempotency_conflict for the same key with a different body, and creates nothing", async () => {
    const idem = randomUUID();
    const first = await post("/v1/requests", { ...SEED_SUBMISSION, title: `Conflict ${idem}` }, idem);
    expect(first.status).toBe(201);
    const other = await post("/v1/requests", { ...SEED_SUBMISSION, title: `Conflict ${idem}`, amount: 4600 }, idem);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
    expect(other.body.error.message).toMatch(/different request body/);
    expect(await countTitled(`Conflict ${idem}`)).toBe(1);
  });

  it("answers 409 idempotency_conflict for the same key on another endpoint", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `Endpoint ${idem}` };
    expect((await post("/v1/requests/test", body, idem)).status).toBe(200);
    const create = await post("/v1/requests", body, idem);
    expect(create.status).toBe(409);
    expect(create.body.error.code).toBe("idempotency_conflict");
    expect(create.body.error.message).toContain("requests.dryRun");
  });

  it("scopes keys to the tenant: another tenant's identical key runs on its own", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `Tenant ${idem}` };
    expect((await post("/v1/requests", body, idem)).status).toBe(201);
    const other = await app.createOtherTenant();
    // Globex has no matrix: its own answer (422), neither a replay of Acme's nor a conflict.
    const theirs = await post("/v1/requests", body, idem, other.key);
    expect(theirs.status).toBe(422);
    expect(theirs.body.error.code).toBe("no_matching_matrix");
    expect(theirs.replayed).toBeNull();
  });

  it("does not store errors: after a refusal the same key runs again", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, submitterRef: "EMP-7777", title: `Fixed ${idem}` };
    const refused = await post("/v1/requests", body, idem);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("unknown_submitter");
    await app
      .operator(app.demoTenantId)
      .admin.members.create({ externalRef: "EMP-7777", name: "New Hire", department: "Engineering", managerRef: "EMP-2001" });
    const retried = await post("/v1/requests", body, idem);
    expect(retried.status).toBe(201);
    expect(retried.replayed).toBeNull();
    expect((await post("/v1/requests", body, idem)).replayed).toBe("true");
    expect(await countTitled(body.title)).toBe(1);
  });

  it("refuses a malformed key with 400 invalid_request", async () => {
    for (const bad of ["x".repeat(256), "has space"]) {
      const res = await post("/v1/requests", SEED_SUBMISSION, bad);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.issues).toEqual([{ field: "Idempotency-Key", message: expect.any(String) }]);
    }
  });

  it("replays a decision instead of answering already_decided, and records it once", async () => {
    const id = await submit();
    const idem = randomUUID();
    const body = { approverRef: "EMP-2001", decision: "approved", comment: "ok" };
    const first = await post(`/v1/requests/${id}/decisions`, body, idem);
    expect(first.status).toBe(200);
    const retry = await post(`/v1/requests/${id}/decisions`, body, idem);
    expect(retry.status).toBe(200);
    expect(retry.replayed).toBe("true");
    expect(retry.text).toBe(first.text);
    expect(await app.deps.db.$count(decisions, eq(decisions.requestId, id))).toBe(1);
    // Without the key, a second decision is what it is.
    const fresh = await post(`/v1/requests/${id}/decisions`, body, randomUUID());
    expect(fresh.status).toBe(422);
    expect(fresh.body.error.code).toBe("not_an_approver");
  });

  it("replays a cancellation", async () => {
    const id = await submit();
    const idem = randomUUID();
    const first = await post(`/v1/requests/${id}/cancel`, { reason: "dup" }, idem);
    const retry = await post(`/v1/requests/${id}/cancel`, { reason: "dup" }, idem);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.text).toBe(first.text);
    expect((await post(`/v1/requests/${id}/cancel`, { reason: "dup" }, null)).body.error.code).toBe("request_closed");
  });

  it("keeps a key for 24 hours: past that window the key is free again", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `Window ${idem}` };
    const first = await post("/v1/requests", body, idem);
    await app.deps.db
      .update(idempotencyKeys)
      .set({ createdAt: sql`now() - interval '23 hours 59 minutes'` })
      .where(eq(idempotencyKeys.key, idem));
    expect((await post("/v1/requests", body, idem)).body.requestId).toBe(first.body.requestId);
    await app.deps.db
      .update(idempotencyKeys)
      .set({ createdAt: sql`now() - interval '24 hours 1 minute'` })
      .where(eq(idempotencyKeys.key, idem));
    const later = await post("/v1/requests", body, idem);
    expect(later.status).toBe(201);
    expect(later.replayed).toBeNull();
    expect(later.body.requestId).not.toBe(first.body.requestId);
  });

  it("works the same over tRPC, and a REST call's key replays over tRPC", async () => {
    const idem = randomUUID();
    const body = { ...SEED_SUBMISSION, title: `tRPC ${idem}` };
    const rest = await post("/v1/requests", body, idem);
    const trpc = await post("/trpc/requests.create", body, idem);
    expect(trpc.status).toBe(200);
    expect(trpc.replayed).toBe("true");
    expect(trpc.body.result.data).toEqual(rest.body);
    expect(await countTitled(body.title)).toBe(1);
  });

  it("is ignored on reads", async () => {
    const id = await submit();
    const idem = randomUUID();
    const res = await call("GET", `/v1/requests/${id}`, undefined, { "Idempotency-Key": idem });
    expect(res.status).toBe(200);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(await app.deps.db.$count(idempotencyKeys, eq(idempotencyKeys.key, idem))).toBe(0);
  });

  it("is offered, documented and honoured by every POST in the OpenAPI document", async () => {
    const id = await submit();
    const bodies: Record<string, { path: string; body: unknown }> = {
      "/requests": { path: "/v1/requests", body: { ...SEED_SUBMISSION, title: "Every POST" } },
      "/requests/test": { path: "/v1/requests/test", body: SEED_SUBMISSION },
      "/requests/{requestId}/decisions": { path: `/v1/requests/${id}/decisions`, body: { approverRef: "EMP-2001", decision: "approved" } },
      "/requests/{requestId}/cancel": { path: `/v1/requests/${id}/cancel`, body: { reason: "every POST" } },
    };
    const doc = (await call("GET", "/v1/openapi.json")).body;
    // Open endpoints (no key needed, security lists `{}`) change nothing and take no Idempotency-Key.
    const open = (operation: { security?: object[] }) => operation.security?.some((s) => Object.keys(s).length === 0) ?? false;
    const posts = Object.entries(doc.paths as Record<string, Record<string, any>>).filter(([, item]) => item.post && !open(item.post));
    expect(open(doc.paths["/receipts/verify"].post)).toBe(true);
    expect(doc.paths["/receipts/verify"].post.parameters ?? []).not.toContainEqual(expect.objectContaining({ name: "Idempotency-Key" }));
    // Every keyed POST documents the header and its 409; the request endpoints are also replayed
    // here (the newer POSTs' replays are in their own files: webhooks, agents, delegations).
    for (const path of Object.keys(bodies)) expect(posts.map(([p]) => p)).toContain(path);
    for (const [path, item] of posts) {
      expect(item.post.parameters.some((p: { name: string; in: string }) => p.in === "header" && p.name === "Idempotency-Key")).toBe(true);
      expect(item.post.responses["409"].description).toContain("idempotency_conflict");
      const fixture = bodies[path];
      if (!fixture) continue;
      const { path: url, body } = fixture;
      const idem = randomUUID();
      const first = await post(url, body, idem);
      expect(first.status, `${path}: ${first.text}`).toBeLessThan(300);
      const retry = await post(url, body, idem);
      expect(retry.replayed, path).toBe("true");
      expect(retry.text, path).toBe(first.text);
    }
  });
});
