/**
 * Webhooks end to end over real HTTP: the app on a real database, receivers on loopback, deliveries
 * verified with the `standardwebhooks` library (an implementation nobody here wrote). Time comes from
 * a ManualClock and the worker is driven with runDue(): retries fall due without sleeping.
 */
import {
  type ApiDeps,
  DELIVERY_LEASE_MS,
  PERIODIC_JOBS,
  claimDueDeliveries,
  createCaller,
  createTenant,
  deliverDueWebhooks,
  deliveryQueueStats,
  dispatchEvents,
  findTenant,
  jobHandlers,
  webhookFanOut,
} from "@approvalmatrix/api";
import { type TestReceiver, startReceiver } from "@approvalmatrix/api/testing/webhook-receiver";
import { API_KEY_SCOPES, type EventType, ManualClock, WEBHOOK_RETRY_DELAYS_MS, must, randomBase62 } from "@approvalmatrix/core";
import { type DatabaseHandle, eq, openDatabase, webhookDeliveries, webhookEndpoints } from "@approvalmatrix/db";
import { type TestDatabase, createTestDatabase } from "@approvalmatrix/db/testing";
import { Worker } from "@approvalmatrix/jobs";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readEnv } from "../src/env";
import { type RunningApp, startApp } from "../src/start";
import { SEED_PURCHASE_ORDER, api } from "./harness";
import { securitySuite } from "./security-suite";

const clock = new ManualClock();
const hashSecret = randomBase62(48);
const receiptSecret = randomBase62(48);
let database: TestDatabase;
let app: RunningApp;
let worker: Worker;
let call: ReturnType<typeof api>;
let key: string;
const receivers: TestReceiver[] = [];
const dirs: string[] = [];

function env(overrides: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "apx-hooks-"));
  dirs.push(dataDir);
  return readEnv({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    API_KEY_HASH_SECRET: hashSecret,
    RECEIPT_SIGNING_SECRET: receiptSecret,
    WORKER: "off",
    WEBHOOK_ALLOW_LOOPBACK: "true",
    WEBHOOK_TIMEOUT_MS: "1000",
    SEED_DEMO: "true",
    ...overrides,
  });
}

/** A worker as the server builds one, with the test's clock. */
function workerFor(deps: ApiDeps, workerId?: string): Worker {
  const w = new Worker({ db: deps.db, handlers: jobHandlers(deps), clock, ...(workerId ? { workerId } : {}), onError: () => {} });
  for (const [kind, interval] of Object.entries(PERIODIC_JOBS)) w.every(kind, interval);
  return w;
}

/** Lets the periodic dispatcher fall due, then runs everything due: events fan out and deliver. */
async function deliverAll(w: Worker = worker): Promise<void> {
  clock.advance(1_100);
  await w.runDue();
}

/** Fans the outbox out into deliveries and sends nothing: they are left due for the test to claim. */
async function dispatchOnly(deps: ApiDeps = app.deps): Promise<void> {
  while ((await dispatchEvents(deps.db, clock.now(), webhookFanOut(deps))).events > 0) {
    // until the outbox is empty
  }
}

async function receiver(): Promise<TestReceiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function createEndpoint(url: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await call("POST", "/v1/webhook-endpoints", { url, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, secret: res.body.secret };
}

/** Disables every endpoint left by an earlier test, so each test sees only its own deliveries. */
async function disableAllEndpoints(): Promise<void> {
  await app.deps.db.update(webhookEndpoints).set({ status: "disabled", disabledReason: "test over" });
}

async function submit(title = "Office Supplies Q3"): Promise<string> {
  const res = await call("POST", "/v1/requests", { ...SEED_PURCHASE_ORDER, title });
  expect(res.status).toBe(201);
  return res.body.requestId;
}

const verify = (secret: string, message: { body: string; headers: Record<string, unknown> }) =>
  new Webhook(secret).verify(message.body, message.headers as Record<string, string>) as { id: string; type: EventType; data: any };

beforeAll(async () => {
  database = await createTestDatabase();
  app = await startApp(env(), { database, clock });
  worker = workerFor(app.deps);
  // A key for this file: every scope, and a rate limit no test reaches.
  const op = await operator();
  key = (await op.admin.apiKeys.create({ name: "hooks test", scopes: [...API_KEY_SCOPES], rateLimitPerMinute: 1_000_000 })).key;
  call = api(app, key);
  // Events of the seed and of the key above are not what the tests look at.
  await deliverAll();
});

afterEach(async () => {
  await disableAllEndpoints();
  for (const r of receivers.splice(0)) await r.close();
});

afterAll(async () => {
  await app.close();
  await database.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Operator access to the demo tenant, as the CLI has. */
async function operator(tenantId?: string) {
  const tenant = tenantId ?? must((await findTenant(app.deps.db, "acme"))?.id);
  return createCaller({
    deps: app.deps,
    requestId: "test",
    authorization: null,
    credentialInQuery: false,
    response: { headers: {} },
    actor: { kind: "operator", tenantId: tenant },
  });
}

describe("every event type, signed and verified", () => {
  it("delivers a request's whole life, member and key changes; each verifies with standardwebhooks", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { description: "all events" });
    expect(endpoint.secret).toMatch(/^whsec_/);

    const approved = await submit("Approved one");
    expect((await call("POST", `/v1/requests/${approved}/decisions`, { approverRef: "EMP-2001", decision: "approved" })).status).toBe(200);
    expect((await call("POST", `/v1/requests/${approved}/decisions`, { approverRef: "EMP-3001", decision: "approved" })).status).toBe(200);
    const rejected = await submit("Rejected one");
    expect((await call("POST", `/v1/requests/${rejected}/decisions`, { approverRef: "EMP-2001", decision: "rejected" })).status).toBe(200);
    const cancelled = await submit("Cancelled one");
    expect((await call("POST", `/v1/requests/${cancelled}/cancel`, { reason: "No longer needed" })).status).toBe(200);
    const op = await operator();
    const member = await op.admin.members.create({ name: "Hook Person", externalRef: "EMP-HOOK-1", department: "Finance" });
    await op.admin.members.update({ id: member.id, name: "Hook Person Jr", externalRef: "EMP-HOOK-1", department: "Finance" });
    await op.admin.members.setActive({ id: member.id, active: false });
    const newKey = await op.admin.apiKeys.create({ name: "short-lived", scopes: ["requests:read"] });
    await op.admin.apiKeys.revoke({ id: newKey.id });

    await deliverAll();
    const messages = r.received.map((m) => ({ raw: m, payload: verify(endpoint.secret, m) }));
    const types = new Set(messages.map((m) => m.payload.type));
    for (const type of [
      "approval_request.created",
      "approval_request.stage_opened",
      "approval_request.decision_recorded",
      "approval_request.stage_approved",
      "approval_request.stage_rejected",
      "approval_request.approved",
      "approval_request.rejected",
      "approval_request.cancelled",
      "member.created",
      "member.updated",
      "member.deactivated",
      "api_key.created",
      "api_key.revoked",
    ] as const) {
      expect(types, type).toContain(type);
    }
    for (const { raw, payload } of messages) {
      expect(raw.headers["webhook-id"]).toBe(payload.id);
      expect(payload).toMatchObject({ apiVersion: expect.any(String), createdAt: expect.any(String), data: expect.any(Object) });
    }
    // Each event exactly once (webhooks promise no order: deliveries run in parallel).
    expect(new Set(messages.map((m) => m.payload.id)).size).toBe(messages.length);
    const lifeOfApproved = messages.filter((m) => m.payload.data.requestId === approved).map((m) => m.payload.type);
    expect(lifeOfApproved.sort()).toEqual(
      [
        "approval_request.created",
        "approval_request.stage_opened",
        "approval_request.decision_recorded",
        "approval_request.stage_approved",
        "approval_request.stage_opened",
        "approval_request.decision_recorded",
        "approval_request.stage_approved",
        "approval_request.approved",
      ].sort(),
    );
    const done = must(messages.find((m) => m.payload.type === "approval_request.approved")).payload.data;
    expect(done).toMatchObject({ requestId: approved, status: "approved", submitterRef: "EMP-1042", url: `/v1/requests/${approved}` });

    // The delivery log shows each as succeeded, with the receiver's answer.
    const log = await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=100`);
    expect(log.status).toBe(200);
    expect(log.body.data.length).toBe(messages.length);
    expect(log.body.data.every((d: any) => d.status === "succeeded" && d.attemptLog[0].responseStatus === 200)).toBe(true);
  });

  it("honours an endpoint's event-type filter", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.approved", "approval_request.cancelled"] });
    const id = await submit();
    await call("POST", `/v1/requests/${id}/cancel`, { reason: "Changed plans" });
    await deliverAll();
    expect(r.received.map((m) => verify(endpoint.secret, m).type)).toEqual(["approval_request.cancelled"]);
    // A first-try success is settled and its attempt logged (the one-statement path).
    const [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(delivery.attemptLog).toHaveLength(1);
    expect(delivery.attemptLog[0].responseStatus).toBe(delivery.lastResponseStatus);
    expect(delivery.lastResponseStatus).toBeGreaterThanOrEqual(200);
  });
});

describe("receivers that fail", () => {
  it("retries a failing receiver on the schedule with the same webhook-id, keeping each answer", async () => {
    const r = await receiver();
    r.reply = (_, i) => (i < 2 ? { status: 500, body: `boom ${i} ${"x".repeat(2000)}` } : { status: 204 });
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.cancelled"] });
    const id = await submit();
    await call("POST", `/v1/requests/${id}/cancel`, { reason: "Retry me" });
    await deliverAll();
    expect(r.received).toHaveLength(1);
    let [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastResponseStatus: 500 });
    const firstRetryIn = Date.parse(delivery.nextAttemptAt) - clock.now().getTime();
    expect(firstRetryIn).toBeGreaterThanOrEqual(4_500 - 1);
    expect(firstRetryIn).toBeLessThanOrEqual(5_500);

    // Not due yet: nothing is sent.
    clock.advance(3_000);
    await worker.runDue();
    expect(r.received).toHaveLength(1);
    clock.advance(3_000);
    await worker.runDue();
    expect(r.received).toHaveLength(2);
    // The third attempt waits ~5 minutes.
    clock.advance(4 * 60_000);
    await worker.runDue();
    expect(r.received).toHaveLength(2);
    clock.advance(2 * 60_000);
    await worker.runDue();
    expect(r.received).toHaveLength(3);

    expect(new Set(r.received.map((m) => m.headers["webhook-id"])).size).toBe(1);
    for (const m of r.received) verify(endpoint.secret, m);
    [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 3, lastResponseStatus: 204 });
    expect(delivery.attemptLog.map((a: any) => a.responseStatus)).toEqual([500, 500, 204]);
    expect(delivery.attemptLog[0].responseBody).toHaveLength(1024);
    expect(delivery.attemptLog[0].responseBody.startsWith("boom 0")).toBe(true);
    expect(delivery.attemptLog[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it("fails a receiver that times out, and one that redirects (never followed)", async () => {
    const slow = await receiver();
    slow.reply = "hang";
    const mover = await receiver();
    mover.reply = (m) => (m.path === "/hooks" ? { status: 307, headers: { location: `${mover.url}/moved` } } : { status: 200 });
    const slowEndpoint = await createEndpoint(slow.url, { eventTypes: ["approval_request.cancelled"] });
    const movedEndpoint = await createEndpoint(mover.url, { eventTypes: ["approval_request.cancelled"] });
    const id = await submit();
    await call("POST", `/v1/requests/${id}/cancel`, { reason: "Slow and moved" });
    await deliverAll();
    slow.releaseHanging();
    const [timedOut] = (await call("GET", `/v1/webhook-endpoints/${slowEndpoint.id}/deliveries`)).body.data;
    expect(timedOut).toMatchObject({ status: "pending", attempts: 1, lastResponseStatus: null });
    expect(timedOut.attemptLog[0].error).toMatch(/^timeout/);
    const [redirected] = (await call("GET", `/v1/webhook-endpoints/${movedEndpoint.id}/deliveries`)).body.data;
    expect(redirected).toMatchObject({ status: "pending", attempts: 1, lastResponseStatus: 307 });
    expect(redirected.lastError).toMatch(/redirect 307/);
    expect(mover.received.map((m) => m.path)).toEqual(["/hooks"]);
  });

  it("honours Retry-After when it asks for longer than the schedule", async () => {
    const r = await receiver();
    r.reply = { status: 503, headers: { "retry-after": "120" } };
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.cancelled"] });
    const id = await submit();
    await call("POST", `/v1/requests/${id}/cancel`, { reason: "Busy receiver" });
    await deliverAll();
    const [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(Date.parse(delivery.nextAttemptAt) - clock.now().getTime()).toBe(120_000);
    clock.advance(60_000);
    await worker.runDue();
    expect(r.received).toHaveLength(1);
    clock.advance(61_000);
    await worker.runDue();
    expect(r.received).toHaveLength(2);
  });

  it("disables the endpoint on 410 Gone, tells the tenant with an event, and sends it nothing more", async () => {
    const gone = await receiver();
    gone.reply = { status: 410 };
    const watcher = await receiver();
    const goneEndpoint = await createEndpoint(gone.url, { eventTypes: ["approval_request.created"] });
    const watch = await createEndpoint(watcher.url, { eventTypes: ["webhook_endpoint.disabled"] });
    await submit();
    await deliverAll();
    const state = (await call("GET", `/v1/webhook-endpoints/${goneEndpoint.id}`)).body;
    expect(state).toMatchObject({ status: "disabled", disabledReason: "The receiver answered 410 Gone." });
    await deliverAll();
    const notice = watcher.received.map((m) => verify(watch.secret, m));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toMatchObject({ type: "webhook_endpoint.disabled", data: { endpointId: goneEndpoint.id } });
    const listed = await call("GET", "/v1/events?type=webhook_endpoint.disabled");
    expect(listed.body.data[0].data.endpointId).toBe(goneEndpoint.id);
    await submit();
    await deliverAll();
    expect(gone.received).toHaveLength(1);
  });

  it("disables an endpoint whose every attempt failed for 5 days, and replays its failures once it is back", async () => {
    const r = await receiver();
    r.reply = { status: 500 };
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.cancelled"] });
    const start = clock.now().toISOString();
    const id = await submit();
    await call("POST", `/v1/requests/${id}/cancel`, { reason: "Down for days" });
    await deliverAll();
    // Walk through the schedule: 10 attempts over ~3.5 days, then the delivery has failed.
    for (const delay of WEBHOOK_RETRY_DELAYS_MS) {
      clock.advance(Math.ceil(delay * 1.1) + 1_000);
      await worker.runDue();
    }
    expect(r.received).toHaveLength(10);
    let [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: "failed", attempts: 10 });
    expect((await call("GET", `/v1/webhook-endpoints/${endpoint.id}`)).body.status).toBe("enabled");
    // Days later, another event fails too: 5 days of failures disable the endpoint.
    clock.advance(2 * 86_400_000);
    const second = await submit();
    await call("POST", `/v1/requests/${second}/cancel`, { reason: "Still down" });
    await deliverAll();
    const disabled = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}`)).body;
    expect(disabled).toMatchObject({ status: "disabled", disabledReason: "Every delivery failed for 5 days." });

    // The receiver is fixed: enable, replay the failures since the start, and they arrive.
    r.reply = { status: 200 };
    expect((await call("POST", `/v1/webhook-endpoints/${endpoint.id}/enable`, {})).body.status).toBe("enabled");
    const replay = await call("POST", `/v1/webhook-endpoints/${endpoint.id}/replay`, { since: start });
    expect(replay.body).toEqual({ replayed: 2 });
    const before = r.received.length;
    await deliverAll();
    expect(r.received.length).toBe(before + 2);
    [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries?status=succeeded`)).body.data;
    expect(delivery.status).toBe("succeeded");
    // Resend one delivery: same webhook-id again.
    const resend = await call("POST", `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery.id}/resend`, {});
    expect(resend.body.status).toBe("pending");
    await deliverAll();
    expect(must(r.received.at(-1)).headers["webhook-id"]).toBe(delivery.webhookId);
  });
});

describe("secret rotation", () => {
  it("signs with both secrets during the window, then with the new one only", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.created"] });
    const rotated = await call("POST", `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { previousSecretExpiresInSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const newSecret: string = rotated.body.secret;
    expect(newSecret).not.toBe(endpoint.secret);
    expect(rotated.body.previousSecretExpiresAt).toBeTruthy();
    await submit();
    await deliverAll();
    const during = must(r.received.at(-1));
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    verify(endpoint.secret, during);
    verify(newSecret, during);

    clock.advance(3_601_000);
    await submit();
    await deliverAll();
    const after = must(r.received.at(-1));
    verify(newSecret, after);
    expect(() => verify(endpoint.secret, after)).toThrow();
  });
});

describe("test ping, CRUD and the SSRF guard", () => {
  it("pings, updates, disables, enables and deletes an endpoint", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url);
    const ping = await call("POST", `/v1/webhook-endpoints/${endpoint.id}/test`, {});
    expect(ping.body).toMatchObject({ success: true, delivery: { eventType: "webhook.test", status: "succeeded" } });
    expect(verify(endpoint.secret, must(r.received[0])).type).toBe("webhook.test");
    const updated = await call("PATCH", `/v1/webhook-endpoints/${endpoint.id}`, { description: "ERP", eventTypes: ["member.created"] });
    expect(updated.body).toMatchObject({ description: "ERP", eventTypes: ["member.created"] });
    const disabled = await call("POST", `/v1/webhook-endpoints/${endpoint.id}/disable`, { reason: "maintenance" });
    expect(disabled.body).toMatchObject({ status: "disabled", disabledReason: "maintenance" });
    const list = await call("GET", "/v1/webhook-endpoints");
    expect(list.body.find((e: any) => e.id === endpoint.id)).not.toHaveProperty("secret");
    expect((await call("DELETE", `/v1/webhook-endpoints/${endpoint.id}`)).body).toEqual({ id: endpoint.id, deleted: true });
    expect((await call("GET", `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
  });

  it("refuses private, link-local and metadata URLs at once, and loopback without WEBHOOK_ALLOW_LOOPBACK", async () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.8/hook",
      "http://[fd00:ec2::254]/",
      "http://[::ffff:192.168.0.1]/",
    ]) {
      const res = await call("POST", "/v1/webhook-endpoints", { url });
      expect(res.status, url).toBe(422);
      expect(res.body.error.code).toBe("webhook_url_refused");
    }
    const strict = await startApp(env({ WEBHOOK_ALLOW_LOOPBACK: "false", SEED_DEMO: "false" }), { database, clock });
    try {
      const res = await api(strict, key)("POST", "/v1/webhook-endpoints", { url: "http://127.0.0.1:9/hook" });
      expect(res.body.error.code).toBe("webhook_url_refused");
      // An endpoint saved while loopback was allowed is refused at delivery time, on every attempt.
      const r = await receiver();
      const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.created"] });
      const ping = await api(strict, key)("POST", `/v1/webhook-endpoints/${endpoint.id}/test`, {});
      expect(ping.body.success).toBe(false);
      expect(ping.body.delivery.attemptLog[0].error).toMatch(/^refused: 127\.0\.0\.1 is a loopback address/);
      expect(r.received).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });

  it("keeps endpoints to their tenant", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url);
    const tenant = await createTenant(app.deps.db, { name: "Globex", slug: `globex-${randomBase62(6).toLowerCase()}` });
    const otherKey = await (await operator(tenant.id)).admin.apiKeys.create({ name: "other", scopes: [...API_KEY_SCOPES] });
    const foreign = api(app, otherKey.key);
    expect((await foreign("GET", `/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await foreign("POST", `/v1/webhook-endpoints/${endpoint.id}/test`, {})).status).toBe(404);
    expect((await foreign("GET", "/v1/webhook-endpoints")).body).toEqual([]);
  });
});

describe("crashes and several instances", () => {
  it("redelivers with the same webhook-id after a server dies mid-delivery and another starts on the same database", async () => {
    const r = await receiver();
    r.reply = (_, i) => (i === 0 ? "hang" : { status: 200 });
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.created"] });
    const first = await startApp(env({ SEED_DEMO: "false", WEBHOOK_TIMEOUT_MS: "60000" }), { database, clock });
    const firstWorker = workerFor(first.deps, "doomed");
    await submit();
    clock.advance(1_100);
    const inFlight = firstWorker.runDue();
    await r.waitFor(1);
    // The first server dies with the attempt in flight (its lease is held, nothing is recorded).
    await first.close();

    const second = await startApp(env({ SEED_DEMO: "false" }), { database, clock });
    try {
      const secondWorker = workerFor(second.deps, "survivor");
      clock.advance(61_000); // the dead worker's lease lapses
      await secondWorker.runDue();
      await r.waitFor(2);
      expect(must(r.received[1]).headers["webhook-id"]).toBe(must(r.received[0]).headers["webhook-id"]);
      verify(endpoint.secret, must(r.received[1]));
      r.releaseHanging();
      await inFlight;
      const [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
      // The late failure of the dead attempt does not undo the success.
      expect(delivery.status).toBe("succeeded");
    } finally {
      await second.close();
    }
  });

  it("two instances on one database deliver each event once", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.created", "approval_request.cancelled"] });
    // The second instance has its own connection pool on PostgreSQL (PGlite is one process: shared handle).
    const handle: DatabaseHandle = database.target.kind === "postgres" ? await openDatabase(database.target) : database;
    const second = await startApp(env({ SEED_DEMO: "false" }), { database: handle, clock });
    const w1 = workerFor(app.deps, "one");
    const w2 = workerFor(second.deps, "two");
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const id = await submit(`Parallel ${i}`);
        ids.push(id);
        if (i % 3 === 0) await call("POST", `/v1/requests/${id}/cancel`, { reason: "parallel" });
      }
      clock.advance(1_100);
      await Promise.all([w1.runDue(), w2.runDue(), w1.runDue(), w2.runDue()]);
      clock.advance(1_100);
      await Promise.all([w1.runDue(), w2.runDue()]);
      const got = r.received.map((m) => verify(endpoint.secret, m).id);
      expect(got).toHaveLength(12 + 4);
      expect(new Set(got).size).toBe(got.length);
      const rows = await app.deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
      expect(rows).toHaveLength(16);
    } finally {
      await second.close();
      if (handle !== database) await handle.close();
    }
  });
});

describe("the delivery queue", () => {
  it("delivers a claim whose sender died once its lease lapses, with the same webhook-id, and not before", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.created"] });
    const requestId = await submit("Claimed then abandoned");
    await dispatchOnly();
    // A sender claims the delivery and dies before sending it: nothing is recorded but its lease.
    const claimed = (await claimDueDeliveries(app.deps.db, clock.now())).filter((c) => c.endpoint.id === endpoint.id);
    expect(claimed).toHaveLength(1);
    const { delivery } = must(claimed[0]);
    expect((await deliveryQueueStats(app.deps.db, clock.now())).due).toBe(0);

    clock.advance(DELIVERY_LEASE_MS - 1_000);
    await worker.runDue();
    expect(r.received).toHaveLength(0);
    clock.advance(2_000);
    await worker.runDue();
    expect(r.received).toHaveLength(1);
    const message = must(r.received[0]);
    expect(message.headers["webhook-id"]).toBe(delivery.webhookId);
    expect(verify(endpoint.secret, message)).toMatchObject({ type: "approval_request.created", data: { requestId } });
    const [row] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(row).toMatchObject({ id: delivery.id, status: "succeeded", attempts: 1, nextAttemptAt: null });
    expect(row.attemptLog).toHaveLength(1);
  });

  it("two senders claiming at once never send a delivery twice", async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { eventTypes: ["approval_request.created", "approval_request.stage_opened"] });
    for (let i = 0; i < 10; i++) await submit(`Raced ${i}`);
    await dispatchOnly();
    // Two processes' pools on PostgreSQL (PGlite is one process: one shared handle).
    const handle: DatabaseHandle = database.target.kind === "postgres" ? await openDatabase(database.target) : database;
    const other = { ...app.deps, db: handle.db };
    try {
      // Small batches, both senders at once, until neither finds anything due.
      for (;;) {
        const claimed = await Promise.all([
          deliverDueWebhooks(app.deps, clock.now(), { limit: 3 }),
          deliverDueWebhooks(other, clock.now(), { limit: 3 }),
          deliverDueWebhooks(app.deps, clock.now(), { limit: 3 }),
          deliverDueWebhooks(other, clock.now(), { limit: 3 }),
        ]);
        if (claimed.every((n) => n === 0)) break;
      }
    } finally {
      if (handle !== database) await handle.close();
    }
    const ids = r.received.map((m) => verify(endpoint.secret, m).id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    const rows = await app.deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
    expect(rows.map((d) => [d.status, d.attempts])).toEqual(rows.map(() => ["succeeded", 1]));
  });

  it("settles a batch's success and its failure each on its own terms", async () => {
    const ok = await receiver();
    const failing = await receiver();
    failing.reply = { status: 503, body: "down for maintenance" };
    const good = await createEndpoint(ok.url, { eventTypes: ["approval_request.created"] });
    const bad = await createEndpoint(failing.url, { eventTypes: ["approval_request.created"] });
    await submit("One batch, two outcomes");
    await dispatchOnly();
    // One claim takes both deliveries: they are sent and settled as one batch.
    expect(await deliverDueWebhooks(app.deps, clock.now())).toBe(2);

    const [succeeded] = (await call("GET", `/v1/webhook-endpoints/${good.id}/deliveries`)).body.data;
    expect(succeeded).toMatchObject({ status: "succeeded", attempts: 1, lastResponseStatus: 200, lastError: null, nextAttemptAt: null });
    expect(succeeded.attemptLog.map((a: any) => [a.responseStatus, a.responseBody, a.error])).toEqual([[200, "ok", null]]);

    const [retrying] = (await call("GET", `/v1/webhook-endpoints/${bad.id}/deliveries`)).body.data;
    expect(retrying).toMatchObject({ status: "pending", attempts: 1, lastResponseStatus: 503, lastError: "the receiver answered 503" });
    expect(retrying.attemptLog.map((a: any) => [a.responseStatus, a.responseBody])).toEqual([[503, "down for maintenance"]]);
    // The retry is the delivery falling due again on the schedule (5 s ± 10 %), not a job.
    const retryIn = Date.parse(retrying.nextAttemptAt) - clock.now().getTime();
    expect(retryIn).toBeGreaterThanOrEqual(4_500 - 1);
    expect(retryIn).toBeLessThanOrEqual(5_500);
    const [endpointRow] = await app.deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, bad.id));
    expect(endpointRow?.failingSince).toBeInstanceOf(Date);
    expect(await deliverDueWebhooks(app.deps, clock.now())).toBe(0);

    failing.reply = { status: 204 };
    clock.advance(6_000);
    await worker.runDue();
    expect(failing.received).toHaveLength(2);
    expect(ok.received).toHaveLength(1);
    const [recovered] = (await call("GET", `/v1/webhook-endpoints/${bad.id}/deliveries`)).body.data;
    expect(recovered).toMatchObject({ status: "succeeded", attempts: 2, lastResponseStatus: 204 });
    const [healthy] = await app.deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, bad.id));
    expect(healthy?.failingSince).toBeNull();
  });
});

describe("GET /v1/events and ?updatedAfter", () => {
  it("pages events newest first with type and time filters, and catches up on changed requests", async () => {
    // Changes are stamped with the wall clock (the test's clock drives only the worker).
    const since = new Date().toISOString();
    const id = await submit("Catch me up");
    await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved" });
    const all = await call("GET", `/v1/events?createdAfter=${encodeURIComponent(since)}&limit=2`);
    expect(all.status).toBe(200);
    expect(all.body.data).toHaveLength(2);
    expect(all.body.hasMore).toBe(true);
    const next = await call("GET", `/v1/events?createdAfter=${encodeURIComponent(since)}&limit=100&startingAfter=${all.body.nextCursor}`);
    const page = [...all.body.data, ...next.body.data];
    expect(next.body.hasMore).toBe(false);
    // Newest first; events of one transaction share their instant.
    const times = page.map((e: any) => Date.parse(e.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(page.map((e: any) => e.type).sort()).toEqual(
      [
        "approval_request.created",
        "approval_request.stage_opened",
        "approval_request.decision_recorded",
        "approval_request.stage_approved",
        "approval_request.stage_opened",
      ].sort(),
    );
    const onlyCreated = await call("GET", `/v1/events?type=approval_request.created&createdAfter=${encodeURIComponent(since)}`);
    expect(onlyCreated.body.data.map((e: any) => e.data.requestId)).toEqual([id]);
    const changed = await call("GET", `/v1/requests?updatedAfter=${encodeURIComponent(since)}`);
    expect(changed.body.data.map((r: any) => r.requestId)).toEqual([id]);
    const later = await call("GET", `/v1/requests?updatedAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(later.body.data).toEqual([]);
  });

  it("needs the events:read scope", async () => {
    const op = await operator();
    const readOnly = await op.admin.apiKeys.create({ name: "no events", scopes: ["requests:read"] });
    const res = await api(app, readOnly.key)("GET", "/v1/events");
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    const hooks = await api(app, readOnly.key)("GET", "/v1/webhook-endpoints");
    expect(hooks.status).toBe(403);
  });
});

describe("README: the 20-line receiver", () => {
  it("runs as printed, logs verified events once and refuses a bad signature", { timeout: 30_000 }, async () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const start = readme.indexOf("## Webhooks and events");
    const section = readme.slice(start, readme.indexOf("\n## ", start + 3));
    const code = must(/```js\n([\s\S]*?)```/.exec(section)?.[1]);
    expect(code.split("\n").filter((l) => l.trim() && !l.trim().startsWith("//")).length).toBeLessThanOrEqual(26);
    // Inside apps/web, so `standardwebhooks` (a devDependency here) resolves as after `npm install`.
    const dir = mkdtempSync(join(new URL("..", import.meta.url).pathname, ".readme-receiver-"));
    dirs.push(dir);
    writeFileSync(join(dir, "receiver.mjs"), code);
    const port = await freePort();
    const endpoint = await createEndpoint(`http://127.0.0.1:${port}/hooks`, { eventTypes: ["approval_request.created"] });
    const child = spawn(process.execPath, [join(dir, "receiver.mjs")], {
      env: { ...process.env, WEBHOOK_SECRET: endpoint.secret, PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" }).catch(() => null))?.status === 400,
      );
      const id = await submit("README receiver");
      await deliverAll();
      await waitUntil(() => Promise.resolve(output.includes(`approval_request.created ${id} pending`)));
      // A resend of the same message is acknowledged but not processed twice.
      const [delivery] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
      await call("POST", `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery.id}/resend`, {});
      await deliverAll();
      const [again] = (await call("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
      expect(again).toMatchObject({ status: "succeeded", lastResponseStatus: 204 });
      expect(output.split(`approval_request.created ${id}`).length - 1).toBe(1);
    } finally {
      child.kill();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createNetServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

securitySuite("GET /v1/events", { method: "GET", path: () => "/events", scope: "events:read" });
securitySuite("POST /v1/webhook-endpoints", {
  method: "POST",
  path: () => "/webhook-endpoints",
  body: { url: "https://hooks.example.com/in" },
  scope: "webhooks:write",
});
