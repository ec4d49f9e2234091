import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiDeps, DEMO_TENANT_SLUG, hasAnyTenant, seedDemoTenant } from "@approvalmatrix/api";
import { type DatabaseHandle, describeTarget } from "@approvalmatrix/db";
import type { ServerEnv } from "./env";
import { openRuntime } from "./runtime";
import { type AppServerOptions, createAppServer, listen } from "./server";

export interface RunningApp {
  url: string;
  deps: ApiDeps;
  demoApiKey: string | null;
  close(): Promise<void>;
}

/** Starts the whole product: database, migrations, demo seed on an empty database, HTTP server. */
export async function startApp(env: ServerEnv, options: AppServerOptions & { database?: DatabaseHandle } = {}): Promise<RunningApp> {
  const runtime = await openRuntime(env, "the ApprovalMatrix server", options.database);
  let demoApiKey: string | null = null;
  const demoKeyFile = join(env.DATA_DIR, "demo-api-key");
  if (env.SEED_DEMO === "true" && !(await hasAnyTenant(runtime.deps.db))) {
    const seeded = await seedDemoTenant(runtime.deps);
    demoApiKey = seeded.apiKey;
    // Development convenience: the demo key is shown again on later starts (never in production).
    if (env.NODE_ENV !== "production" && !options.database) writeFileSync(demoKeyFile, `${seeded.apiKey}\n`, { mode: 0o600 });
  } else if (env.NODE_ENV !== "production" && existsSync(demoKeyFile)) {
    demoApiKey = readFileSync(demoKeyFile, "utf8").trim();
  }
  const server = createAppServer(runtime.deps, options);
  const url = await listen(server, env.PORT, env.HOST);
  return {
    url,
    deps: runtime.deps,
    demoApiKey,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
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
    `  Demo tenant   ${DEMO_TENANT_SLUG}`,
    `  Demo API key  ${app.demoApiKey ?? "(not available: create one with `pnpm cli keys create`)"}`,
    "",
    "  Try it:",
    `    curl -X POST ${app.url}/v1/requests/test \\`,
    `      -H "Authorization: Bearer ${app.demoApiKey ?? "apx_live_YOUR_KEY"}" -H "Content-Type: application/json" \\`,
    `      -d '{"submitterRef":"EMP-1042","requestType":"purchase_order","title":"Office Supplies Q3","amount":4500}'`,
    "",
  ];
  void env;
  return lines.join("\n");
}

export { describeTarget };
