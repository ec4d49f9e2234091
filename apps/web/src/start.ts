import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiDeps, DEMO_TENANT_SLUG, hasAnyTenant, seedDemoTenant } from "@approvalmatrix/api";
import type { Clock } from "@approvalmatrix/core";
import { type DatabaseHandle, describeTarget } from "@approvalmatrix/db";
import type { Worker } from "@approvalmatrix/jobs";
import type { ServerEnv } from "./env";
import { createJobWorker } from "./job-worker";
import { openRuntime } from "./runtime";
import { type AppServerOptions, type RequestHandler, createAppServer, listen } from "./server";

export interface RunningApp {
  url: string;
  deps: ApiDeps;
  demoApiKey: string | null;
  /** Admin-app sign-ins of the demo tenant (owner first), when known. */
  demoLogins: { email: string; password: string; role: string }[];
  /** The in-process job worker; null with WORKER=off. Tests drive it with runDue(). */
  worker: Worker | null;
  close(): Promise<void>;
}

/** Starts the whole product: database, migrations, demo seed on an empty database, HTTP server. */
export interface StartOptions extends AppServerOptions {
  database?: DatabaseHandle;
  /** Builds the admin app's handler once the database is open (it needs the deps). */
  createWebHandler?: (deps: ApiDeps) => Promise<RequestHandler>;
  /** Time for services and the worker (tests pass a ManualClock). */
  clock?: Clock;
}

export async function startApp(env: ServerEnv, options: StartOptions = {}): Promise<RunningApp> {
  const runtime = await openRuntime(env, "the ApprovalMatrix server", options.database, options.clock);
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
  const webHandler = options.webHandler ?? (options.createWebHandler ? await options.createWebHandler(runtime.deps) : undefined);
  const server = createAppServer(runtime.deps, { ...options, ...(webHandler ? { webHandler } : {}) });
  const url = await listen(server, env.PORT, env.HOST);
  const worker = env.WORKER === "on" ? createJobWorker(runtime.deps, env) : null;
  await worker?.start();
  return {
    url,
    deps: runtime.deps,
    demoApiKey,
    demoLogins,
    worker,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await worker?.stop(5_000);
      await runtime.close();
    },
  };
}

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
    ...(env.SEED_DEMO === "true" || app.demoApiKey
      ? [
          `  Demo tenant   ${DEMO_TENANT_SLUG}`,
          `  Demo API key  ${app.demoApiKey ?? "(not available: create one with `pnpm cli keys create`)"}`,
        ]
      : [
          "  Demo tenant   none (SEED_DEMO=false; the default on PostgreSQL and in production)",
          "  First tenant  pnpm cli tenants create, then pnpm cli users create --role owner (README: The operator CLI)",
        ]),
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

export { describeTarget };
