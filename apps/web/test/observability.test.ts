// Structured request logs and Prometheus metrics, read from a real server over HTTP.
import { randomBase62, must } from "@approvalmatrix/core";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/observability/logger";
import { SEED_SUBMISSION, type TestApp, api, startTestApp } from "./harness";

/** Every line the server logged, as written (JSON). */
const lines: string[] = [];
const memory = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  },
});
const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

const METRICS_TOKEN = randomBase62(32);
const HASH_SECRET = randomBase62(48);
const BODY_SECRET = `body-secret-${randomBase62(16)}`;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp(
    { METRICS_TOKEN, METRICS_PORT: "0", API_KEY_HASH_SECRET: HASH_SECRET },
    { logger: createLogger({ NODE_ENV: "production", LOG_LEVEL: "info" }, memory) },
  );
});
afterAll(() => app.close());

describe("request logs", () => {
  it("write one JSON line per request with its Request-Id, tenant, key id, route template, status and latency", async () => {
    const call = api(app, app.demoKey);
    const created = await call("POST", "/v1/requests", { ...SEED_SUBMISSION, title: BODY_SECRET, metadata: { note: BODY_SECRET } });
    expect(created.status).toBe(201);
    const read = await call("GET", `/v1/requests/${created.body.requestId}`);
    const missing = await api(app, null)("GET", "/v1/requests");
    const keys = await app.operator(app.demoTenantId).admin.apiKeys.list();
    const keyId = must(keys.find((k) => app.demoKey.startsWith(k.start))).id;

    const byId = (requestId: string | null) => logged().find((l) => l.requestId === requestId);
    expect(byId(created.headers.get("request-id"))).toMatchObject({
      level: "info",
      msg: "request",
      method: "POST",
      route: "/v1/requests",
      status: 201,
      tenantId: app.demoTenantId,
      keyId,
      latencyMs: expect.any(Number),
    });
    expect(byId(read.headers.get("request-id"))).toMatchObject({ route: "/v1/requests/{requestId}", status: 200, keyId });
    expect(byId(missing.headers.get("request-id"))).toMatchObject({ route: "/v1/requests", status: 401 });
    expect(byId(missing.headers.get("request-id"))).not.toHaveProperty("keyId");
  });

  it("never carry a key, a body, a query string or the hash secret, even for refused and malformed calls", async () => {
    const call = api(app, app.demoKey);
    await call("POST", "/v1/requests", `{"title":"${BODY_SECRET}",`);
    await call("POST", "/v1/requests", { ...SEED_SUBMISSION, amount: -1, title: BODY_SECRET });
    await fetch(`${app.url}/v1/requests?api_key=${app.demoKey}`);
    await api(app, `apx_live_${"x".repeat(32)}`)("GET", "/v1/requests");
    await fetch(`${app.url}/trpc/requests.get?input=${encodeURIComponent(JSON.stringify({ id: BODY_SECRET }))}`, {
      headers: { Authorization: `Bearer ${app.demoKey}` },
    });
    const text = lines.join("\n");
    expect(lines.length).toBeGreaterThan(5);
    for (const secret of [app.demoKey, app.demoKey.slice("apx_live_".length), BODY_SECRET, HASH_SECRET, "x".repeat(32)])
      expect(text).not.toContain(secret);
    expect(logged().find((l) => l.route === "/trpc/requests.get")).toMatchObject({ keyId: expect.any(String) });
  });
});

describe("/metrics", () => {
  it("refuses a scrape without the METRICS_TOKEN bearer, and counts requests by route template and status", async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.url}/metrics`, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
    const call = api(app, app.demoKey);
    const before = await scrape();
    const created = await call("POST", "/v1/requests", SEED_SUBMISSION);
    await call("GET", `/v1/requests/${created.body.requestId}`);
    const missing = await call("GET", `/v1/requests/req_${"0".repeat(20)}`);
    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('approvalmatrix_http_requests_total{method="POST",route="/v1/requests",status="201"}')).toBe(1);
    expect(delta('approvalmatrix_http_requests_total{method="GET",route="/v1/requests/{requestId}",status="200"}')).toBe(1);
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(delta(`approvalmatrix_http_requests_total{method="GET",route="/v1/requests/{requestId}",status="${missing.status}"}`)).toBe(1);
    expect(delta('approvalmatrix_http_request_duration_seconds_count{method="POST",route="/v1/requests",status="201"}')).toBe(1);
    expect(after).toMatch(
      /approvalmatrix_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/requests\/\{requestId\}",status="200"\} \d+/,
    );
    // Node's own: event-loop delay, heap, resident memory.
    expect(after).toContain("approvalmatrix_nodejs_eventloop_lag_seconds");
    expect(after).toContain("approvalmatrix_process_resident_memory_bytes");
    // The job queue, from the jobs table.
    expect(after).toMatch(/approvalmatrix_jobs_queue_depth \d+/);
    expect(after).toMatch(/approvalmatrix_jobs_oldest_age_seconds [\d.e-]+/);
    // No raw path (an id) ever becomes a label.
    expect(after).not.toContain(String(created.body.requestId));
    if (process.env.TEST_DATABASE_URL) expect(after).toMatch(/approvalmatrix_db_pool_connections\{state="max"\} \d+/);
  });

  it("counts rate-limit refusals by limit", async () => {
    const tenant = app.operator(app.demoTenantId);
    const { key } = await tenant.admin.apiKeys.create({ name: "tight", scopes: ["requests:read"], rateLimitPerMinute: 2 });
    const before = await scrape();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await api(app, key)("GET", "/v1/requests")).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(
      value(await scrape(), 'approvalmatrix_rate_limit_refusals_total{limit="key"}') -
        value(before, 'approvalmatrix_rate_limit_refusals_total{limit="key"}'),
    ).toBe(2);
  });

  it("is served without a token on the internal METRICS_PORT, and only /metrics there", async () => {
    const metricsUrl = must(app.running.metricsUrl);
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toContain("approvalmatrix_http_requests_total");
    expect((await fetch(`${metricsUrl}/v1/requests`)).status).toBe(404);
  });
});

async function scrape(): Promise<string> {
  const res = await fetch(`${app.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one series (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
