import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiDeps, createCaller, createTenant, findTenant } from "@approvalmatrix/api";
import { API_KEY_SCOPES, type ApiKeyScope, type Clock, randomBase62, must } from "@approvalmatrix/core";
import { openDatabase } from "@approvalmatrix/db";
import type { Worker } from "@approvalmatrix/jobs";
import { createTestDatabase } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll } from "vitest";
import { readEnv } from "../src/env";
import { type RunningApp, startApp } from "../src/start";
import { createWebHandler } from "../src/web-handler";
import type { Logger } from "../src/observability/logger";

export interface TestAppOptions {
  /** Serve the admin app too (built by test/global-setup.ts before any test file starts). */
  web?: boolean;
  /** The server's logger (a test that reads the log passes one writing to memory). */
  logger?: Logger;
  /** Time for the services and the worker: a ManualClock lets a test pass deadlines without sleeping. */
  clock?: Clock;
}

export interface TestApp {
  url: string;
  /** The seeded demo tenant's all-scopes key. */
  demoKey: string;
  demoTenantId: string;
  deps: ApiDeps;
  /** The running server itself: its metrics, logger and graceful close(deadline). */
  running: RunningApp;
  /** The server's job worker (null with WORKER=off): `runDue()` runs what is due now. */
  worker: Worker | null;
  /** Operator access to one tenant, as the CLI has: fixtures go through the real procedures. */
  operator(tenantId: string): ReturnType<typeof createCaller>;
  /** A second tenant with one member (EMP-1042, as in the demo) and a key with `scopes`. */
  createOtherTenant(scopes?: ApiKeyScope[]): Promise<{ tenantId: string; key: string }>;
  /**
   * Another server instance on the same database, rate-limit store and secrets, as a second
   * process behind a load balancer would be (on PostgreSQL with its own connection pool).
   */
  startInstance(): Promise<{ url: string; deps: ApiDeps; worker: Worker | null; close(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * A real server on a random port over a fresh database of its own (PGlite, or a throwaway
 * PostgreSQL database when TEST_DATABASE_URL is set), seeded with the demo tenant.
 */
export async function startTestApp(overrides: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "apx-test-"));
  const database = await createTestDatabase();
  const env = readEnv({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    API_KEY_HASH_SECRET: randomBase62(48),
    RECEIPT_SIGNING_SECRET: randomBase62(48),
    REDIS_URL: process.env.REDIS_URL,
    // Counters of earlier runs in a shared Redis must not leak into this one.
    REDIS_KEY_PREFIX: `apx-test-${randomBase62(10)}:`,
    // Request lines would bury the test output; LOG_LEVEL=info shows them.
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    ...overrides,
  });
  let app: RunningApp;
  try {
    app = await startApp(env, {
      database,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.web ? { createWebHandler: (deps) => createWebHandler(deps, { secureCookies: false, trustProxy: env.TRUST_PROXY }) } : {}),
    });
  } catch (error) {
    await database.destroy();
    throw error;
  }
  const demoTenant = await findTenant(app.deps.db, "acme");
  const operator = (tenantId: string) =>
    createCaller({
      deps: app.deps,
      requestId: "test",
      authorization: null,
      credentialInQuery: false,
      response: { headers: {} },
      actor: { kind: "operator", tenantId },
    });
  const extraInstances: { close(): Promise<void> }[] = [];
  return {
    url: app.url,
    demoKey: must(app.demoApiKey),
    demoTenantId: must(demoTenant).id,
    deps: app.deps,
    running: app,
    worker: app.worker,
    operator,
    async createOtherTenant(scopes = ["requests:write", "requests:read", "decisions:write"]) {
      const tenant = await createTenant(app.deps.db, { name: "Globex", slug: `globex-${randomBase62(6).toLowerCase()}` });
      const caller = operator(tenant.id);
      await caller.admin.members.create({ name: "Other Person", externalRef: "EMP-1042", department: "Engineering" });
      const key = await caller.admin.apiKeys.create({ name: "other", scopes });
      return { tenantId: tenant.id, key: key.key };
    },
    async startInstance() {
      const handle = database.target.kind === "postgres" ? await openDatabase(database.target) : database;
      const instance = await startApp(
        { ...env, SEED_DEMO: "false" },
        { database: handle, ...(options.clock ? { clock: options.clock } : {}) },
      );
      let closed = false;
      const started = {
        url: instance.url,
        deps: instance.deps,
        worker: instance.worker,
        async close() {
          if (closed) return;
          closed = true;
          await instance.close();
          if (handle !== database) await handle.close();
        },
      };
      extraInstances.push(started);
      return started;
    },
    async close() {
      for (const instance of extraInstances) await instance.close().catch(() => {});
      await app.close();
      await database.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** fetch against the test server with a bearer key and a JSON body. */
export function api(app: { url: string }, key: string | null) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        ...(key ? { Authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, body: json };
  };
}

export const SEED_SUBMISSION = {
  submitterRef: "EMP-1042",
  requestType: "purchase_order",
  title: "Office Supplies Q3",
  amount: 4500,
};

/** The purchase order of the REST reference's story: routes to the seed's Engineering PO matrix (two stages). */
export const SEED_PURCHASE_ORDER = {
  ...SEED_SUBMISSION,
  currency: "USD",
  metadata: { department: "Engineering", poNumber: "PO-9871" },
};

/**
 * One test app for the whole file, started before its first test and closed after its last;
 * `call` is REST with the demo tenant's all-scopes key. Read the fields inside tests, not at load.
 */
export function demoAppForFile(
  overrides: Record<string, string> = {},
  options: TestAppOptions = {},
): { app: TestApp; call: ReturnType<typeof api> } {
  const file = {} as { app: TestApp; call: ReturnType<typeof api> };
  beforeAll(async () => {
    file.app = await startTestApp(overrides, options);
    file.call = api(file.app, file.app.demoKey);
  });
  // A failed start leaves no app to close.
  afterAll(async () => {
    if (Object.hasOwn(file, "app")) await file.app.close();
  });
  return file;
}

/** A demo-tenant key with every scope and a rate limit no test reaches: for files that make many calls. */
export async function unlimitedKey(app: TestApp, name = "test key"): Promise<string> {
  const key = await app.operator(app.demoTenantId).admin.apiKeys.create({
    name,
    scopes: [...API_KEY_SCOPES],
    rateLimitPerMinute: 1_000_000,
  });
  return key.key;
}

/** A port nothing listens on right now (for servers a test starts as processes). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
