import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppServer, listen } from "../src/server";
import { type TestApp, startTestApp } from "./harness";

let app: TestApp;
let redisDown: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  // Nothing listens on port 1: every Redis command fails, as when Redis is down.
  redisDown = await startTestApp({ REDIS_URL: "redis://127.0.0.1:1" });
});
afterAll(async () => {
  await app.close();
  await redisDown.close();
});

describe("/readyz", () => {
  it("answers 200 with each dependency's check when all answer", async () => {
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; checks: Record<string, string> };
    expect(body.ok).toBe(true);
    expect(body.checks.database).toBe("ok");
    if (process.env.REDIS_URL) expect(body.checks.redis).toBe("ok");
  });

  it("answers 503 naming Redis while Redis is down, and /healthz stays a cheap 200", async () => {
    const res = await fetch(`${redisDown.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ok: boolean; checks: Record<string, string> };
    expect(body.ok).toBe(false);
    expect(body.checks.database).toBe("ok");
    expect(body.checks.redis).toMatch(/^failed: /);
    expect((await fetch(`${redisDown.url}/healthz`)).status).toBe(200);
  });
});

describe("server timeouts", () => {
  it("closes a connection whose headers never finish (slowloris)", async () => {
    const server = createAppServer(app.deps, { timeouts: { headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 100 } });
    const url = new URL(await listen(server, 0, "127.0.0.1"));
    try {
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), "127.0.0.1", () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
        let received = "";
        socket.on("data", (chunk) => (received += chunk.toString()));
        socket.on("close", () => resolve(received));
        socket.on("error", reject);
        setTimeout(() => reject(new Error("the server kept the connection open")), 10_000).unref();
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("sets production timeouts on the server", () => {
    const server = createAppServer(app.deps);
    expect(server.headersTimeout).toBe(20_000);
    expect(server.requestTimeout).toBe(300_000);
    expect(server.keepAliveTimeout).toBe(65_000);
  });
});
