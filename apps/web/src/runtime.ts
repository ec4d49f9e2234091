import { join } from "node:path";
import {
  type ApiDeps,
  MemoryRateLimitStore,
  PostgresRateLimitStore,
  RateLimiter,
  type RateLimitStore,
  RedisRateLimitStore,
  keyUsageRecorder,
} from "@approvalmatrix/api";
import { type Clock, parseServiceTokens, systemClock } from "@approvalmatrix/core";
import { type DatabaseHandle, type DatabaseTarget, migrateDatabase, openDatabase } from "@approvalmatrix/db";
import { lockDataDir } from "./data-dir-lock";
import type { ServerEnv } from "./env";
import { resolveHashSecret } from "./hash-secret";

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

/** Opens (and migrates) the database and picks the rate-limit store: what a process needs to serve. */
export async function openRuntime(env: ServerEnv, holder: string, database?: DatabaseHandle, clock: Clock = systemClock): Promise<Runtime> {
  const target = database?.target ?? databaseTarget(env);
  const unlock = target.kind === "pglite" && target.dataDir ? lockDataDir(env.DATA_DIR, holder) : () => {};
  try {
    const handle = database ?? (await openDatabase(target));
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
      serviceTokens: parseServiceTokens(env.INTERNAL_SERVICE_TOKEN),
      clock,
    };
    return {
      deps,
      database: handle,
      rateLimitStore,
      async close() {
        // Counts of key usage not yet written go out before the database closes.
        await keyUsageRecorder(handle.db).flush();
        await rateLimitStore.close?.();
        if (!database) await handle.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
