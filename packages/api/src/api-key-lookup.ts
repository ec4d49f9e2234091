import { type Queryable, apiKeys, eq, executePrepared, sql } from "@approvalmatrix/db";
import type { ApiDeps } from "./context";
import type { RateLimitHit } from "./rate-limit/rate-limiter";
import { PostgresRateLimitStore, countHit } from "./rate-limit/stores";

const keyColumns = {
  id: apiKeys.id,
  tenantId: apiKeys.tenantId,
  scopes: apiKeys.scopes,
  rateLimitPerMinute: apiKeys.rateLimitPerMinute,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

const keyByHash = (db: Queryable) =>
  db
    .select(keyColumns)
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .limit(1);

/** The key's row and, in the same statement, one hit on its rate-limit bucket. */
const keyByHashCountingHit = (db: Queryable) => {
  const hit = db.$with("hit").as(countHit(db));
  return db
    .with(hit)
    .select({ ...keyColumns, hits: sql<number>`(select count from hit)` })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .limit(1);
};

export type ApiKeyRow = Awaited<ReturnType<ReturnType<typeof keyByHash>["execute"]>>[number];

/**
 * Looks a key up by its hash and counts one hit on its rate-limit bucket, on every call (no cache:
 * a revocation counts from the very next request). The bucket is named by the hash, so the count
 * never waits for the row. With counters in the same PostgreSQL both happen in one statement (one
 * round trip); with Redis or memory the count runs beside the lookup. An unknown key is counted too
 * (its hit is not needed: it is refused whatever the count).
 */
export async function findKeyCountingHit(
  deps: Pick<ApiDeps, "db" | "rateLimiter">,
  keyHash: string,
): Promise<{ key: ApiKeyRow; hit: RateLimitHit } | { key: undefined }> {
  const { db, rateLimiter } = deps;
  const bucket = `key:${keyHash.slice(0, 32)}`;
  const store = rateLimiter.store;
  if (store instanceof PostgresRateLimitStore && store.db === db) {
    const window = rateLimiter.window();
    store.sweepBefore(window.windowStart, window.windowMs);
    const [row] = await executePrepared(db, "api_key_by_hash_counting_hit", keyByHashCountingHit, {
      keyHash,
      bucket,
      windowStart: window.windowStart,
    });
    if (!row) return { key: undefined };
    const { hits, ...key } = row;
    return { key, hit: { ...window, count: hits } };
  }
  const [[key], hit] = await Promise.all([executePrepared(db, "api_key_by_hash", keyByHash, { keyHash }), rateLimiter.hit(bucket)]);
  return key ? { key, hit } : { key: undefined };
}
