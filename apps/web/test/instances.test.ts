// Three instances of the compiled server (node dist/main.js, as production runs it) on one
// PostgreSQL and one Redis, behind a small round-robin proxy: they behave as one service.
// Needs TEST_DATABASE_URL and REDIS_URL (CI sets both); skipped on the embedded database.
import { type ChildProcess, spawn } from "node:child_process";
import { type IncomingMessage, type Server, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type ApiDeps, MemoryRateLimitStore, RateLimiter, ReceiptSigner, createCaller, seedDemoTenant } from "@approvalmatrix/api";
import { must, randomBase62, systemClock } from "@approvalmatrix/core";
import { rowsOf, sql } from "@approvalmatrix/db";
import { type TestDatabase, createTestDatabase } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_SUBMISSION, freePort } from "./harness";

const WEB = new URL("../", import.meta.url).pathname;
const enabled = Boolean(process.env.TEST_DATABASE_URL && process.env.REDIS_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  port: number;
  child: ChildProcess | null;
}

let database: TestDatabase;
let deps: ApiDeps;
let tenantId: string;
let demoKey: string;
const secret = randomBase62(48);
const receiptSecret = randomBase62(48);
const redisPrefix = `apx-instances-${randomBase62(8)}:`;
const instances: Instance[] = [];
let proxy: Server;
let proxyUrl: string;
/** Requests the proxy sent to each upstream port. */
const served = new Map<number, number>();

/** Starts (or restarts) one instance on its port; resolves when it logs that it is running. */
function startInstance(instance: Instance): Promise<void> {
  const child = spawn(process.execPath, [join(WEB, "dist", "main.js")], {
    cwd: WEB,
    env: {
      ...process.env,
      NODE_ENV: "production",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: String(instance.port),
      DATABASE_URL: must(database.target.kind === "postgres" ? database.target.url : undefined),
      DATABASE_POOL_SIZE: "4",
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      API_KEY_HASH_SECRET: secret,
      RECEIPT_SIGNING_SECRET: receiptSecret,
      SEED_DEMO: "false",
      SHUTDOWN_DRAIN_DELAY_MS: "0",
      SHUTDOWN_TIMEOUT_MS: "5000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  instance.child = child;
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"ApprovalMatrix is running"')) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`instance on ${instance.port} exited (${code}):\n${output}`)));
  });
}

/** SIGTERM (the graceful shutdown), resolved with the exit code. */
function stopInstance(instance: Instance): Promise<number | null> {
  const child = instance.child;
  instance.child = null;
  if (!child || child.exitCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

/**
 * The proxy: round robin over the upstreams; a refused connection (nothing was sent) moves on to
 * the next upstream, as a load balancer does. One connection per request, so no keep-alive races.
 */
function startProxy(): Promise<void> {
  let next = 0;
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries: number) => {
        const upstream = must(instances[next++ % instances.length]);
        const forward = request(
          { host: "127.0.0.1", port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: false },
          (upstreamRes: IncomingMessage) => {
            served.set(upstream.port, (served.get(upstream.port) ?? 0) + 1);
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            upstreamRes.pipe(res);
          },
        );
        forward.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED" && tries < instances.length) return attempt(tries + 1);
          res.writeHead(502, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ error: { code: "bad_gateway", message: error.code ?? error.message } }));
        });
        forward.end(body);
      };
      attempt(1);
    });
  });
  return new Promise((resolve) => {
    proxy.listen(0, "127.0.0.1", () => {
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      resolve();
    });
  });
}

async function call(base: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

const operator = () =>
  createCaller({
    deps,
    requestId: "instances-test",
    authorization: null,
    credentialInQuery: false,
    response: { headers: {} },
    actor: { kind: "operator", tenantId },
  });

describe.skipIf(!enabled)("three instances on one PostgreSQL and Redis behind a proxy", () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    deps = {
      db: database.db,
      apiKeyHashSecret: secret,
      rateLimiter: new RateLimiter(new MemoryRateLimitStore()),
      maxBodyBytes: 100_000,
      clock: systemClock,
      receipts: new ReceiptSigner(database.db, receiptSecret),
    };
    const seeded = await seedDemoTenant(deps);
    tenantId = seeded.tenantId;
    demoKey = seeded.apiKey;
    for (let i = 0; i < 3; i++) instances.push({ port: await freePort(), child: null });
    await Promise.all(instances.map(startInstance));
    await startProxy();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map(stopInstance));
    // A failed beforeAll may leave either unset.
    const started = { proxy: proxy as Server | undefined, database: database as TestDatabase | undefined };
    if (started.proxy) await new Promise((resolve) => started.proxy?.close(resolve));
    await started.database?.destroy();
  });

  it("sum their rate limits: a key's per-minute limit holds across all three", async () => {
    const { key } = await operator().admin.apiKeys.create({ name: "shared limit", scopes: ["requests:read"], rateLimitPerMinute: 12 });
    const before = new Map(served);
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 18; i++) statuses.push((await call(proxyUrl, "GET", "/v1/requests?limit=1", key)).status);
    const elapsedMs = Date.now() - started;
    // GCRA across all three instances: a burst of the key's 12, then one call back every 60/12 = 5 s.
    expect(statuses.slice(0, 12)).toEqual(Array<number>(12).fill(200));
    const allowed = statuses.filter((s) => s === 200).length;
    expect(allowed).toBeLessThanOrEqual(12 + Math.ceil(elapsedMs / 5000));
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    for (const instance of instances) expect((served.get(instance.port) ?? 0) - (before.get(instance.port) ?? 0)).toBe(6);
  });

  it("see a revocation on the very next request, on every instance", async () => {
    const { id, key } = await operator().admin.apiKeys.create({ name: "to revoke", scopes: ["requests:read"] });
    for (const instance of instances)
      expect((await call(`http://127.0.0.1:${instance.port}`, "GET", "/v1/requests?limit=1", key)).status).toBe(200);
    await operator().admin.apiKeys.revoke({ id });
    for (const instance of instances) {
      const res = await call(`http://127.0.0.1:${instance.port}`, "GET", "/v1/requests?limit=1", key);
      expect(res.status).toBe(401);
      expect(res.body.error.message).toContain("revoked");
    }
  });

  it("share idempotency: one Idempotency-Key creates one request whichever instances its retries reach", async () => {
    const idempotencyKey = `idem-${randomBase62(12)}`;
    const title = `idempotent ${idempotencyKey}`;
    const answers = [];
    for (const instance of instances)
      answers.push(
        await call(
          `http://127.0.0.1:${instance.port}`,
          "POST",
          "/v1/requests",
          demoKey,
          { ...SEED_SUBMISSION, title },
          { "Idempotency-Key": idempotencyKey },
        ),
      );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.requestId)).size).toBe(1);
    expect(answers.slice(1).map((a) => a.headers.get("idempotent-replayed"))).toEqual(["true", "true"]);

    // At once on all three: one creation; the others replay it or are told to retry (409).
    const racingKey = `idem-${randomBase62(12)}`;
    const raced = await Promise.all(
      instances.map((instance) =>
        call(
          `http://127.0.0.1:${instance.port}`,
          "POST",
          "/v1/requests",
          demoKey,
          { ...SEED_SUBMISSION, title: racingKey },
          { "Idempotency-Key": racingKey },
        ),
      ),
    );
    for (const answer of raced) expect([201, 409]).toContain(answer.status);
    const rows = rowsOf<{ n: number }>(
      await database.db.execute(sql`select count(*)::int as n from requests where title in (${title}, ${racingKey})`),
    );
    expect(must(rows[0]).n).toBe(2);
  });

  it("share one job queue: each periodic job is one row across the three workers, and every event is dispatched", async () => {
    const periodic = rowsOf<{ kind: string; n: number }>(
      await database.db.execute(sql`select kind, count(*)::int as n from jobs where dedupe_key like 'every:%' group by kind`),
    );
    expect(periodic.length).toBeGreaterThan(0);
    for (const row of periodic) expect(row.n, row.kind).toBe(1);
    // The creations above emitted events; the workers (any of the three, once) mark them dispatched.
    let undispatched = -1;
    for (let i = 0; i < 100 && undispatched !== 0; i++) {
      if (i > 0) await sleep(100);
      undispatched = must(
        rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from events where dispatched_at is null`))[0],
      ).n;
    }
    expect(undispatched).toBe(0);
    expect(must(rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from events`))[0]).n).toBeGreaterThan(0);
  });

  it("lose no request and no acknowledged write through a rolling restart under load", { timeout: 90_000 }, async () => {
    const { key } = await operator().admin.apiKeys.create({ name: "load", scopes: ["requests:write"], rateLimitPerMinute: 1_000_000 });
    let stop = false;
    const acknowledged = new Map<string, string>();
    let retries = 0;
    const failures: string[] = [];
    /** A client that retries a failed call with the same Idempotency-Key, as integrations should. */
    const client = async (worker: number) => {
      for (let n = 0; !stop; n++) {
        const title = `rolling ${worker}-${n}`;
        const idempotencyKey = `roll-${worker}-${n}-${randomBase62(6)}`;
        for (let attempt = 1; ; attempt++) {
          let status: number;
          let requestId: string | undefined;
          try {
            const res = await call(
              proxyUrl,
              "POST",
              "/v1/requests",
              key,
              { ...SEED_SUBMISSION, title },
              { "Idempotency-Key": idempotencyKey },
            );
            status = res.status;
            requestId = res.body.requestId as string | undefined;
          } catch (error) {
            status = -1;
            failures.push(`${title}: ${(error as Error).message}`);
          }
          if (status === 201 && requestId) {
            acknowledged.set(title, requestId);
            break;
          }
          retries++;
          if (status !== 409 && status !== -1 && status !== 502) failures.push(`${title}: HTTP ${status}`);
          if (attempt === 10) {
            failures.push(`${title}: gave up`);
            break;
          }
          await sleep(50);
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, worker) => client(worker));
    await sleep(500);
    for (const instance of instances) {
      expect(await stopInstance(instance)).toBe(0);
      await sleep(200);
      await startInstance(instance);
      await sleep(300);
    }
    stop = true;
    await Promise.all(clients);

    expect(acknowledged.size).toBeGreaterThan(20);
    // Every retry was of a refusal the client can retry safely (a 502 for a reset connection, a 409 while
    // another attempt with the key ran), never an error of the service.
    expect(failures.filter((f) => !/bad_gateway|ECONNRESET|fetch failed/.test(f) && !f.includes("HTTP 502"))).toEqual([]);
    // Every acknowledged write is there, exactly once, with the id the client was given.
    const rows = rowsOf<{ id: string; title: string }>(
      await database.db.execute(sql`select id, title from requests where title like 'rolling %'`),
    );
    const stored = new Map(rows.map((r) => [r.title, r.id]));
    expect(rows.length).toBe(stored.size);
    for (const [title, id] of acknowledged) expect(stored.get(title), title).toBe(id);
    console.log(`rolling restart: ${acknowledged.size} writes acknowledged, ${retries} retries, ${failures.length} transient failures`);
  });
});
