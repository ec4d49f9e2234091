import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ApiDeps,
  DEMO_TENANT_SLUG,
  appRouter,
  deliveryQueueStats,
  hasAnyTenant,
  seedDemoTenant,
  skipOutputValidation,
} from "@approvalmatrix/api";
import type { Clock } from "@approvalmatrix/core";
import { type DatabaseHandle, describeTarget } from "@approvalmatrix/db";
import type { Server } from "node:http";
import { Worker } from "@approvalmatrix/jobs";
import type { ServerEnv } from "./env";
import { createJobWorker } from "./job-worker";
import { createHttpObserver } from "./observability/http-observer";
import { type Logger, createLogger } from "./observability/logger";
import { AppMetrics } from "./observability/metrics";
import { type Tracing, describeTracing, startTracing } from "./observability/tracing";
import { openRuntime } from "./runtime";
import { type AppServerOptions, type RequestHandler, createAppServer, createMetricsServer, listen } from "./server";

export interface RunningApp {
  url: string;
  /** The metrics port's URL when METRICS_PORT is set. */
  metricsUrl: string | null;
  deps: ApiDeps;
  logger: Logger;
  metrics: AppMetrics;
  demoApiKey: string | null;
  /** Admin-app sign-ins of the demo tenant (owner first), when known. */
  demoLogins: { email: string; password: string; role: string }[];
  /** The in-process job worker; null with WORKER=off. Tests drive it with runDue(). */
  worker: Worker | null;
  /** OpenTelemetry tracing, when an OTLP endpoint is configured (README: Tracing); null: off, the SDK not loaded. */
  tracing: Tracing | null;
  /**
   * Graceful shutdown (README: Graceful shutdown): /readyz turns 503 at once, requests are still
   * served for SHUTDOWN_DRAIN_DELAY_MS, then the listener closes and the job worker stops claiming;
   * in-flight requests and running jobs get until `deadlineMs` (SHUTDOWN_TIMEOUT_MS) to finish,
   * remaining connections are cut, and the pools close.
   */
  close(deadlineMs?: number): Promise<void>;
}

/** Starts the whole product: database, migrations, demo seed on an empty database, HTTP server. */
export interface StartOptions extends AppServerOptions {
  database?: DatabaseHandle;
  /** Builds the admin app's handler once the database is open (it needs the deps). */
  createWebHandler?: (deps: ApiDeps) => Promise<RequestHandler>;
  /** The process's logger (tests pass one writing to memory); built from the environment when absent. */
  logger?: Logger;
  /** Time for services and the worker (tests pass a ManualClock). */
  clock?: Clock;
}

export async function startApp(env: ServerEnv, options: StartOptions = {}): Promise<RunningApp> {
  // First: the logger's lines and the database's statements need it.
  const tracing = await startTracing(env);
  const logger = options.logger ?? createLogger(env, undefined, tracing ? { mixin: tracing.logFields } : {});
  tracing?.reportTo(logger);
  let runtime: Awaited<ReturnType<typeof openRuntime>>;
  try {
    runtime = await openRuntime(env, "the ApprovalMatrix server", options.database, options.clock, logger, tracing);
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  let demoApiKey: string | null = null;
  let demoLogins: RunningApp["demoLogins"] = [];
  const demoKeyFile = join(env.DATA_DIR, "demo-api-key");
  const demoLoginsFile = join(env.DATA_DIR, "demo-logins.json");
  if (env.SEED_DEMO === "true" && !(await hasAnyTenant(runtime.deps.db))) {
    const seeded = await seedDemoTenant(runtime.deps);
    demoApiKey = seeded.apiKey;
    demoLogins = [
      { ...seeded.admin, role: "owner" },
      ...seeded.approvers.map((a) => ({ email: a.email, password: a.password, role: `approver, ${a.memberRef}` })),
    ];
    // Development convenience: the demo key is shown again on later starts (never in production).
    if (env.NODE_ENV !== "production" && !options.database) {
      writeFileSync(demoKeyFile, `${seeded.apiKey}\n`, { mode: 0o600 });
      writeFileSync(demoLoginsFile, `${JSON.stringify(demoLogins, null, 2)}\n`, { mode: 0o600 });
    }
  } else if (env.NODE_ENV !== "production" && existsSync(demoKeyFile)) {
    demoApiKey = readFileSync(demoKeyFile, "utf8").trim();
    if (existsSync(demoLoginsFile)) demoLogins = JSON.parse(readFileSync(demoLoginsFile, "utf8")) as RunningApp["demoLogins"];
  }
  // Production's default (README "Output validation"): answers are not parsed a second time; the
  // router is shared by the process, so this holds for /v1, /trpc and the admin app alike.
  if (env.VALIDATE_OUTPUT === "false") skipOutputValidation(appRouter);
  const webHandler = options.webHandler ?? (options.createWebHandler ? await options.createWebHandler(runtime.deps) : undefined);
  const worker = env.WORKER === "on" ? createJobWorker(runtime.deps, env, logger) : null;
  // Queue figures come from the table, so a server whose worker is off (WORKER=off) still reports them.
  const queue = worker ?? new Worker({ db: runtime.deps.db, handlers: {}, clock: runtime.deps.clock });
  let draining = false;
  let inFlight = () => 0;
  const poolStats = runtime.database.poolStats?.bind(runtime.database);
  const metrics = new AppMetrics({
    inFlight: () => inFlight(),
    jobs: () => queue.stats(),
    webhookDeliveries: () => deliveryQueueStats(runtime.deps.db, runtime.deps.clock.now()),
    ...(poolStats ? { pool: poolStats } : {}),
  });
  const observer = createHttpObserver(logger, metrics);
  inFlight = () => observer.inFlight();
  const server = createAppServer(
    runtime.deps,
    { ...options, ...(webHandler ? { webHandler } : {}) },
    { observer, logger, metrics, metricsToken: env.METRICS_TOKEN ?? null, draining: () => draining, tracer: tracing?.http ?? null },
  );
  const url = await listen(server, env.PORT, env.HOST);
  let metricsServer: Server | null = null;
  let metricsUrl: string | null = null;
  if (env.METRICS_PORT !== undefined) {
    metricsServer = createMetricsServer(metrics);
    metricsUrl = await listen(metricsServer, env.METRICS_PORT, env.METRICS_HOST ?? env.HOST);
  }
  if (runtime.deps.notifications && !runtime.deps.notifications.publicUrl) runtime.deps.notifications.publicUrl = url;
  await worker?.start();
  let closing: Promise<void> | null = null;
  return {
    url,
    metricsUrl,
    deps: runtime.deps,
    logger,
    metrics,
    demoApiKey,
    demoLogins,
    worker,
    tracing,
    close(deadlineMs = env.SHUTDOWN_TIMEOUT_MS) {
      closing ??= (async () => {
        const started = Date.now();
        draining = true;
        if (env.SHUTDOWN_DRAIN_DELAY_MS > 0) {
          logger.info({ delayMs: env.SHUTDOWN_DRAIN_DELAY_MS }, "shutdown: readiness is 503, still serving");
          await sleep(env.SHUTDOWN_DRAIN_DELAY_MS);
        }
        logger.info({ inFlight: observer.inFlight(), deadlineMs }, "shutdown: listener closed, finishing in-flight requests");
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = started + env.SHUTDOWN_DRAIN_DELAY_MS + deadlineMs;
        // The worker stops claiming now; its running jobs finish beside the in-flight requests.
        const workerStopped = worker?.stop(Math.max(0, deadline - Date.now()));
        while (observer.inFlight() > 0 && Date.now() < deadline) {
          await sleep(20);
          // A keep-alive connection that just finished its last request is idle now: close it.
          server.closeIdleConnections();
        }
        const cut = observer.inFlight();
        if (cut > 0) logger.warn({ inFlight: cut }, "shutdown: deadline passed, cutting the remaining connections");
        server.closeAllConnections();
        await closed;
        await workerStopped;
        if (metricsServer) {
          const m = metricsServer;
          await new Promise<void>((resolve) => {
            m.close(() => resolve());
            m.closeAllConnections();
          });
        }
        await runtime.close();
        // The spans of the last requests go out before the process exits.
        await tracing?.shutdown();
        logger.info({ ms: Date.now() - started }, "shutdown: done");
        logger.flush();
      })();
      return closing;
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeStart(env: ServerEnv, app: RunningApp, target: string): string {
  const lines = [
    "",
    "  ApprovalMatrix is running",
    "",
    `  Database      ${target}`,
    `  Admin app     ${app.url}/`,
    `  API base URL  ${app.url}/v1`,
    `  API docs      ${app.url}/docs`,
    `  OpenAPI       ${app.url}/v1/openapi.json`,
    `  Output check  ${describeOutputValidation(env)}`,
    env.SMTP_URL
      ? `  E-mail        sent through ${new URL(env.SMTP_URL).host} (SMTP_URL)`
      : `  E-mail        no SMTP_URL: messages are kept in the admin app's Outbox page (${app.url}/outbox), none are sent`,
    ...(env.SEED_DEMO === "true" || app.demoApiKey
      ? [
          `  Demo tenant   ${DEMO_TENANT_SLUG}`,
          `  Demo API key  ${app.demoApiKey ?? "(not available: create one with `pnpm cli keys create`)"}`,
        ]
      : [
          "  Demo tenant   none (SEED_DEMO=false; the default on PostgreSQL and in production)",
          "  First tenant  pnpm cli tenants create, then pnpm cli users create --role owner (README: The operator CLI)",
        ]),
    ...(app.tracing ? [`  Tracing       ${describeTracing(app.tracing)}`] : []),
    ...(env.WEBHOOK_ALLOW_LOOPBACK === "true"
      ? [
          `  Webhooks      loopback receivers allowed (WEBHOOK_ALLOW_LOOPBACK=true)${env.NODE_ENV === "production" ? ": WARNING, never in a real deployment" : ""}`,
        ]
      : []),
    ...(app.demoLogins.length
      ? ["", "  Sign in to the admin app:", ...app.demoLogins.map((l) => `    ${l.email.padEnd(26)} ${l.password}   (${l.role})`)]
      : []),
    "",
    "  Try it:",
    `    curl -X POST ${app.url}/v1/requests/test \\`,
    `      -H "Authorization: Bearer ${app.demoApiKey ?? "apx_live_YOUR_KEY"}" -H "Content-Type: application/json" \\`,
    `      -d '{"submitterRef":"EMP-1042","requestType":"purchase_order","title":"Office Supplies Q3","amount":4500}'`,
    "",
  ];
  return lines.join("\n");
}

/** Whether answers are parsed against their output schemas (VALIDATE_OUTPUT), for the start banner and log line. */
export function describeOutputValidation(env: ServerEnv): string {
  return env.VALIDATE_OUTPUT === "true"
    ? "on: every answer is parsed against its output schema (VALIDATE_OUTPUT=true)"
    : "off: answers are sent as the procedures build them (VALIDATE_OUTPUT=false, production's default)";
}

export { describeTarget };
