import { join } from "node:path";
import {
  type ApiDeps,
  type ApiLogger,
  MemoryRateLimitStore,
  PostgresRateLimitStore,
  RateLimiter,
  ReceiptSigner,
  type RateLimitStore,
  RedisRateLimitStore,
  smtpTransport,
  keyUsageRecorder,
} from "@approvalmatrix/api";
import { type Clock, parseServiceTokens, systemClock } from "@approvalmatrix/core";
import { type DatabaseHandle, type DatabaseTarget, migrateDatabase, openDatabase } from "@approvalmatrix/db";
import { lockDataDir } from "./data-dir-lock";
import type { ServerEnv } from "./env";
import { resolveHashSecret, resolveReceiptSigningSecret } from "./hash-secret";
import type { Tracing } from "./observability/tracing";

export interface Runtime {
  deps: ApiDeps;
  database: DatabaseHandle;
  rateLimitStore: RateLimitStore;
  close(): Promise<void>;
}

export function databaseTarget(env: ServerEnv): DatabaseTarget {
  return env.DATABASE_URL
    ? { kind: "postgres", url: env.DATABASE_URL, maxConnections: env.DATABASE_POOL_SIZE }
    : { kind: "pglite", dataDir: join(env.DATA_DIR, "pglite") };
}

/**
 * Opens (and migrates) the database and picks the rate-limit store: what a process needs to serve.
 * With `tracing`, procedure calls and the SQL of a database it opens itself are traced.
 */
export async function openRuntime(
  env: ServerEnv,
  holder: string,
  database?: DatabaseHandle,
  clock: Clock = systemClock,
  logger?: ApiLogger,
  tracing?: Pick<Tracing, "procedures" | "queries"> | null,
): Promise<Runtime> {
  const target = database?.target ?? databaseTarget(env);
  const unlock = target.kind === "pglite" && target.dataDir ? lockDataDir(env.DATA_DIR, holder) : () => {};
  try {
    const handle = database ?? (await openDatabase(target, tracing ? { tracer: tracing.queries(target) } : {}));
    if (!database) await migrateDatabase(handle);
    // In-memory counting is only right when one process owns the database (the embedded mode).
    const rateLimitStore: RateLimitStore = env.REDIS_URL
      ? new RedisRateLimitStore(env.REDIS_URL, env.REDIS_KEY_PREFIX)
      : target.kind === "postgres"
        ? new PostgresRateLimitStore(handle.db)
        : new MemoryRateLimitStore();
    const deps: ApiDeps = {
      db: handle.db,
      apiKeyHashSecret: resolveHashSecret(env),
      rateLimiter: new RateLimiter(rateLimitStore),
      maxBodyBytes: env.MAX_BODY_BYTES,
      webhooks: {
        requireHttps: env.NODE_ENV === "production",
        allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK === "true",
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      },
      ...(logger ? { logger } : {}),
      receipts: new ReceiptSigner(handle.db, resolveReceiptSigningSecret(env)),
      notifications: {
        mailer: env.SMTP_URL ? smtpTransport(env.SMTP_URL) : null,
        from: env.MAIL_FROM,
        // Completed by startApp with the address it listens on when PUBLIC_URL is not set.
        publicUrl: env.PUBLIC_URL?.replace(/\/$/, "") ?? "",
      },
      serviceTokens: parseServiceTokens(env.INTERNAL_SERVICE_TOKEN),
      clock,
      ...(tracing ? { tracer: tracing.procedures } : {}),
    };
    // Creates the first keys, and fails fast when the secret does not decrypt the stored ones.
    await deps.receipts.ensureKeys();
    return {
      deps,
      database: handle,
      rateLimitStore,
      async close() {
        // Counts of key usage not yet written go out before the database closes.
        await keyUsageRecorder(handle.db).flush();
        await rateLimitStore.close?.();
        deps.notifications?.mailer?.close();
        if (!database) await handle.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
