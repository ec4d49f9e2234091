import postgres from "postgres";
import { randomBase62 } from "@approvalmatrix/core";
import { type DatabaseHandle, type DatabaseTarget, openDatabase } from "./client";
import { readTestEnv } from "./env";
import { migrateDatabase } from "./migrate";

export interface TestDatabase extends DatabaseHandle {
  /** Closes the handle and drops the throwaway database. */
  destroy(): Promise<void>;
}

/** Which engine tests run on: PostgreSQL when TEST_DATABASE_URL is set, PGlite otherwise. */
export function testDatabaseEngine(): "postgres" | "pglite" {
  return readTestEnv().TEST_DATABASE_URL ? "postgres" : "pglite";
}

/**
 * A fresh, migrated database of its own for one test file: a new database on the server named
 * by TEST_DATABASE_URL (dropped afterwards), or an in-memory PGlite.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { TEST_DATABASE_URL } = readTestEnv();
  if (!TEST_DATABASE_URL) {
    const handle = await openDatabase({ kind: "pglite", dataDir: null });
    await migrateDatabase(handle);
    return { ...handle, destroy: () => handle.close() };
  }
  const name = `am_test_${randomBase62(12).toLowerCase()}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const target: DatabaseTarget = { kind: "postgres", url: url.toString(), maxConnections: 20 };
  const handle = await openDatabase(target);
  await migrateDatabase(handle);
  return {
    ...handle,
    async destroy() {
      await handle.close();
      const dropper = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      await dropper.end();
    },
  };
}
