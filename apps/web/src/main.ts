import { readEnv } from "./env";
import { databaseTarget } from "./runtime";
import { describeStart, describeTarget, startApp } from "./start";
import { createWebHandler } from "./web-handler";

async function main() {
  const env = readEnv();
  const app = await startApp(env, {
    createWebHandler: (deps) => createWebHandler(deps, { secureCookies: env.NODE_ENV === "production", trustProxy: env.TRUST_PROXY }),
  });
  console.log(describeStart(env, app, describeTarget(databaseTarget(env))));
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`\n${signal}: shutting down…`);
    await app.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
