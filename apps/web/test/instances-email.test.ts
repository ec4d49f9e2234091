// Two instances of the compiled server (node dist/main.js, as production runs it) on one PostgreSQL,
// both with their worker on and one SMTP receiver: requests submitted and decided through either
// instance have each of their e-mails arrive exactly once, whichever sender claims it.
// Needs TEST_DATABASE_URL; skipped on the embedded database (one process by nature).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { MemoryRateLimitStore, RateLimiter, ReceiptSigner, seedDemoTenant } from "@approvalmatrix/api";
import { must, randomBase62, systemClock } from "@approvalmatrix/core";
import { inArray, messages } from "@approvalmatrix/db";
import { type TestDatabase, createTestDatabase } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, freePort } from "./harness";
import { type SmtpReceiver, startSmtpReceiver } from "./smtp-receiver";

const WEB = new URL("../", import.meta.url).pathname;
const enabled = Boolean(process.env.TEST_DATABASE_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let database: TestDatabase;
let smtp: SmtpReceiver;
let demoKey: string;
const children: ChildProcess[] = [];
const urls: string[] = [];

/** Starts one instance; resolves when it logs that it is running. */
function startInstance(port: number, secrets: { apiKey: string; receipts: string }): Promise<void> {
  // Rate limits in memory per instance: this test is about e-mail, not the shared limiter.
  const { REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, [join(WEB, "dist", "main.js")], {
    cwd: WEB,
    env: {
      ...inherited,
      NODE_ENV: "production",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: must(database.target.kind === "postgres" ? database.target.url : undefined),
      DATABASE_POOL_SIZE: "4",
      API_KEY_HASH_SECRET: secrets.apiKey,
      RECEIPT_SIGNING_SECRET: secrets.receipts,
      SEED_DEMO: "false",
      SMTP_URL: smtp.url,
      MAIL_FROM: "Approvals <approvals@acme.example>",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      WORKER: "on",
      SHUTDOWN_DRAIN_DELAY_MS: "0",
      SHUTDOWN_TIMEOUT_MS: "5000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ApprovalMatrix is running")) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`instance on ${port} exited (${code}):\n${output}`)));
  });
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${demoKey}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe.skipIf(!enabled)("two instances, one PostgreSQL, one SMTP receiver", () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    smtp = await startSmtpReceiver();
    const secrets = { apiKey: randomBase62(48), receipts: randomBase62(48) };
    const seeded = await seedDemoTenant({
      db: database.db,
      apiKeyHashSecret: secrets.apiKey,
      rateLimiter: new RateLimiter(new MemoryRateLimitStore()),
      maxBodyBytes: 100_000,
      clock: systemClock,
      receipts: new ReceiptSigner(database.db, secrets.receipts),
    });
    demoKey = seeded.apiKey;
    const ports = [await freePort(), await freePort()];
    urls.push(...ports.map((p) => `http://127.0.0.1:${p}`));
    await Promise.all(ports.map((port) => startInstance(port, secrets)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
    // A failed beforeAll may leave either unset.
    const started = { smtp: smtp as SmtpReceiver | undefined, database: database as TestDatabase | undefined };
    await started.smtp?.close();
    await started.database?.destroy();
  });

  it("sends each e-mail of a request exactly once, whichever instance's worker claims it", async () => {
    const requestIds: string[] = [];
    // Submitted alternately through both instances; both workers send.
    for (let i = 0; i < 8; i++) {
      const res = await call(must(urls[i % 2]), "POST", "/v1/requests", { ...SEED_PURCHASE_ORDER, title: `Twin order ${i}` });
      expect(res.status).toBe(201);
      requestIds.push(res.body.requestId as string);
    }
    // Stage 1 (Jane) through one instance, stage 2 (Bob) through the other: more e-mails (Bob's, the outcome).
    for (const [i, id] of requestIds.entries()) {
      expect(
        (await call(must(urls[i % 2]), "POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved" })).status,
      ).toBe(200);
      expect(
        (await call(must(urls[(i + 1) % 2]), "POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" }))
          .status,
      ).toBe(200);
    }
    // 8 × (Jane's stage 1, Bob's stage 2, Alex's outcome).
    const expected = requestIds.length * 3;
    const ours = () => smtp.mails.filter((m) => m.subject.includes("Twin order"));
    for (let waited = 0; ours().length < expected && waited < 30_000; waited += 200) await sleep(200);
    // A few more sender rounds (every 2 s on each instance): a duplicate would show up now.
    await sleep(5_000);

    const mails = ours();
    expect(mails).toHaveLength(expected);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(expected);
    for (const [i] of requestIds.entries()) {
      const title = `Twin order ${i}`;
      const of = (to: string) => mails.filter((m) => m.to.includes(to) && m.subject.endsWith(`: ${title}`));
      expect(of("jane.smith@acme.example")).toHaveLength(1);
      expect(of("bob.lee@acme.example")).toHaveLength(1);
      expect(of("alex.kim@acme.example")).toHaveLength(1);
    }
    // Every outbox row was sent once, and its Message-ID is the one that arrived.
    const rows = await database.db
      .select({ id: messages.id, status: messages.status })
      .from(messages)
      .where(inArray(messages.requestId, requestIds));
    expect(rows).toHaveLength(expected);
    expect(rows.every((r) => r.status === "sent")).toBe(true);
    const arrived = new Set(mails.map((m) => m.messageId));
    for (const row of rows) expect(arrived.has(`<${row.id}@127.0.0.1>`)).toBe(true);
  }, 120_000);
});
