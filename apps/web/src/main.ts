import { readEnv } from "./env";
import { databaseTarget } from "./runtime";
import { logFormat } from "./observability/logger";
import { describeTracing } from "./observability/tracing";
import { describeOutputValidation, describeStart, describeTarget, startApp } from "./start";
import { createWebHandler } from "./web-handler";

async function main() {
  const env = readEnv();
  const app = await startApp(env, {
    createWebHandler: (deps) => createWebHandler(deps, { secureCookies: env.NODE_ENV === "production", trustProxy: env.TRUST_PROXY }),
  });
  const target = databaseTarget(env);
  // The banner is for people; a JSON log gets one structured line instead.
  if (logFormat(env) === "json") {
    app.logger.info(
      {
        url: app.url,
        metricsUrl: app.metricsUrl,
        database: describeTarget(target),
        outputValidation: describeOutputValidation(env),
        ...(app.tracing ? { traces: describeTracing(app.tracing) } : {}),
      },
      "ApprovalMatrix is running",
    );
    // Out at once, not with the next 4 KB of lines: supervisors and scripts wait for this one.
    app.logger.flush();
  } else console.log(describeStart(env, app, describeTarget(target)));
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.logger.info({ signal }, "shutting down");
    try {
      await app.close();
    } catch (error) {
      app.logger.error({ err: error }, "shutdown failed");
      app.logger.flush();
      process.exit(1);
    }
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
