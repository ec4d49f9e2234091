// Graceful shutdown over real sockets: readiness turns 503 first, the listener closes after the
// drain delay, in-flight requests finish within the deadline, and what is left then is cut.
import { type IncomingMessage, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_SUBMISSION, type TestApp, startTestApp } from "./harness";

const DRAIN_DELAY_MS = 400;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) });
});
afterAll(() => app.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A GET on a connection of its own (fetch's pool could reuse a socket the server is closing). */
function get(path: string): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    request(`${app.url}${path}`, { agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
    })
      .on("error", reject)
      .end();
  });
}

/** A POST /v1/requests whose body is sent in two halves, the second when `finish` is called. */
function slowCreate(title: string) {
  const body = JSON.stringify({ ...SEED_SUBMISSION, title });
  const half = Math.floor(body.length / 2);
  const req = request(`${app.url}/v1/requests`, {
    method: "POST",
    agent: false,
    headers: { Authorization: `Bearer ${app.demoKey}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
  });
  const response = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    req.on("response", (res: IncomingMessage) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
    });
    req.on("error", reject);
  });
  req.write(body.slice(0, half));
  return { response, finish: () => req.end(body.slice(half)) };
}

describe("graceful shutdown", () => {
  it("goes unready, stops accepting, finishes in-flight requests within the deadline and cuts the rest", async () => {
    const finishing = slowCreate("finishes during shutdown");
    finishing.response.catch(() => {}); // awaited below; a failure shows there
    const stuck = slowCreate("never completes its body");
    const stuckOutcome = stuck.response.then(
      () => "answered",
      (error: Error) => error.message,
    );
    // Both are in the server's hands (headers parsed, handlers waiting for the bodies) before the shutdown starts.
    const inFlight = async () => {
      const text = await app.running.metrics.registry.getSingleMetricAsString("approvalmatrix_http_requests_in_flight");
      return Number(/ (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    for (let i = 0; i < 200 && (await inFlight()) < 2; i++) await sleep(25);
    expect(await inFlight()).toBe(2);
    const started = Date.now();
    const closing = app.running.close(1500);

    // Draining: still serving, but unready, and every answer closes its connection.
    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ ok: false, draining: true });
    expect(ready.connection).toBe("close");
    expect((await get("/healthz")).status).toBe(200);

    // After the drain delay the listener is closed: a new connection is refused.
    await sleep(DRAIN_DELAY_MS + 200);
    await expect(get("/healthz")).rejects.toThrow(/ECONNREFUSED/);

    // The in-flight request still completes, and is acknowledged.
    finishing.finish();
    const done = await finishing.response;
    expect(done.status).toBe(201);
    expect(JSON.parse(done.body)).toMatchObject({ status: "pending" });
    expect(done.connection).toBe("close");

    // The one that never completes is cut at the deadline, and the shutdown ends.
    await closing;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(DRAIN_DELAY_MS + 1500 - 50);
    expect(elapsed).toBeLessThan(DRAIN_DELAY_MS + 1500 + 2000);
    expect(await stuckOutcome).toMatch(/socket hang up|ECONNRESET/);
  });
});
