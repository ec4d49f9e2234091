import { createRequire } from "node:module";
import { dirname } from "node:path";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import postgres from "postgres";
import type { DatabaseHandle } from "./client";

// Resolved through the package, not import.meta.url, so bundlers that move this file still find it.
export const migrationsFolder = dirname(createRequire(import.meta.url).resolve("@approvalmatrix/db/migrations/meta/_journal.json")).replace(
  /\/meta$/,
  "",
);

/** Any lock id will do as long as every instance uses the same one. */
const MIGRATION_LOCK_ID = 7_042_001;

/**
 * Applies the committed migrations. On PostgreSQL an advisory lock makes instances that start
 * together migrate one at a time.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  if (handle.target.kind === "pglite") {
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  const client = postgres(handle.target.url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}
