import { type Queryable, apiKeys, eq, executePrepared, rateLimitCounters, sql } from "@approvalmatrix/db";
import type { ApiDeps } from "./context";
import type { RateLimitHit } from "./rate-limit/rate-limiter";

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

/**
 * The key's row and, in the same statement, one hit on its rate-limit bucket: the counter is
 * inserted or bumped only when the key exists (INSERT … SELECT FROM api_keys), so unknown keys
 * create no counters. The PostgreSQL store runs it (stores.ts, countWithKeyLookup).
 */
export const keyByHashCountingHit = (db: Queryable) => {
  const hit = db.$with("hit").as(
    db
      .insert(rateLimitCounters)
      .select(
        db
          .select({
            bucket: sql<string>`${sql.placeholder("bucket")}::text`.as("bucket"),
            windowStart: sql<number>`${sql.placeholder("windowStart")}::bigint`.as("window_start"),
            count: sql<number>`1`.as("count"),
          })
          .from(apiKeys)
          .where(eq(apiKeys.keyHash, sql.placeholder("keyHash"))),
      )
      .onConflictDoUpdate({
        target: rateLimitCounters.bucket,
        set: {
          count: sql`case when ${rateLimitCounters.windowStart} = excluded.window_start then ${rateLimitCounters.count} + 1 else 1 end`,
          windowStart: sql`excluded.window_start`,
        },
      })
      .returning({ count: rateLimitCounters.count }),
  );
  return db
    .with(hit)
    .select({ ...keyColumns, hits: sql<number>`(select count from hit)` })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .limit(1);
};

export type ApiKeyRow = Awaited<ReturnType<ReturnType<typeof keyByHash>["execute"]>>[number];
export type ApiKeyRowCountingHit = Awaited<ReturnType<ReturnType<typeof keyByHashCountingHit>["execute"]>>[number];

/** The rate-limit bucket of a key: named by its hash, never by the key. */
export function keyBucket(keyHash: string): string {
  return `key:${keyHash.slice(0, 32)}`;
}

/**
 * Looks a key up by its hash and, when it exists, counts one hit on its rate-limit bucket, on
 * every call (no cache: a revocation counts from the very next request). An unknown key is never
 * counted (junk keys would each leave a counter behind). A store that can fuse the count into the
 * lookup does (PostgreSQL counters in the same database: one round trip); otherwise the lookup
 * runs first and the count after it.
 */
export async function findKeyCountingHit(
  deps: Pick<ApiDeps, "db" | "rateLimiter">,
  keyHash: string,
): Promise<{ key: ApiKeyRow; hit: RateLimitHit } | { key: undefined }> {
  const { db, rateLimiter } = deps;
  const bucket = keyBucket(keyHash);
  const window = rateLimiter.window();
  const fused = rateLimiter.store.countWithKeyLookup?.(db, keyHash, bucket, window.windowStart, window.windowMs);
  if (fused) {
    const row = await fused;
    if (!row) return { key: undefined };
    const { hits, ...key } = row;
    return { key, hit: { ...window, count: hits } };
  }
  const [key] = await executePrepared(db, "api_key_by_hash", keyByHash, { keyHash });
  if (!key) return { key: undefined };
  return { key, hit: await rateLimiter.hit(bucket) };
}
