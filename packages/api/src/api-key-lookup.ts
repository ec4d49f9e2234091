import { type KeyRateLimitBucket, RATE_LIMIT_PERIOD_MS, keyRateLimit } from "@approvalmatrix/core";
import { type Queryable, apiKeys, eq, executePrepared, rateLimitBuckets, sql } from "@approvalmatrix/db";
import type { ApiDeps } from "./context";
import type { RateLimitOutcome } from "./rate-limit/rate-limiter";
import { gcraOnConflict } from "./rate-limit/gcra-sql";

const keyColumns = {
  id: apiKeys.id,
  tenantId: apiKeys.tenantId,
  name: apiKeys.name,
  scopes: apiKeys.scopes,
  rateLimitPerMinute: apiKeys.rateLimitPerMinute,
  rateLimits: apiKeys.rateLimits,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  disabledAt: apiKeys.disabledAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

const keyByHash = (db: Queryable) =>
  db
    .select(keyColumns)
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .limit(1);

/** The key's limit for the `keyBucket` placeholder, in SQL: core/rate-limits.ts keyRateLimit. */
const keyLimitSql = sql`coalesce((${apiKeys.rateLimits} ->> ${sql.placeholder("keyBucket")}::text)::int, ${apiKeys.rateLimitPerMinute}, ${sql.placeholder("defaultLimit")}::int)`;

/**
 * The key's row and, in the same statement, one GCRA call on its bucket with the key's own limit
 * for it: the bucket is inserted or moved only when the key exists (INSERT … SELECT FROM
 * api_keys), so unknown keys create no buckets. The PostgreSQL store runs it (stores.ts,
 * countWithKeyLookup).
 */
export const keyByHashCountingHit = (db: Queryable) => {
  const hit = db.$with("hit").as(
    db
      .insert(rateLimitBuckets)
      .select(
        db
          .select({
            bucket: sql<string>`${sql.placeholder("bucket")}::text`.as("bucket"),
            tat: sql<number>`${sql.placeholder("now")}::float8 + ${sql.placeholder("periodMs")}::float8 / ${keyLimitSql}`.as("tat"),
            intervalMs: sql<number>`${sql.placeholder("periodMs")}::float8 / ${keyLimitSql}`.as("interval_ms"),
            allowed: sql<boolean>`true`.as("allowed"),
          })
          .from(apiKeys)
          .where(eq(apiKeys.keyHash, sql.placeholder("keyHash"))),
      )
      .onConflictDoUpdate(gcraOnConflict)
      .returning({ tat: rateLimitBuckets.tat, allowed: rateLimitBuckets.allowed }),
  );
  return db
    .with(hit)
    .select({ ...keyColumns, hitTat: sql<number>`(select tat from hit)`, hitAllowed: sql<boolean>`(select allowed from hit)` })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .limit(1);
};

export type ApiKeyRow = Awaited<ReturnType<ReturnType<typeof keyByHash>["execute"]>>[number];
export type ApiKeyRowCountingHit = Awaited<ReturnType<ReturnType<typeof keyByHashCountingHit>["execute"]>>[number];

/** The rate-limit bucket of a key for one kind of call: named by its hash, never by the key. */
export function keyBucket(keyHash: string, bucket: KeyRateLimitBucket): string {
  return `key:${keyHash.slice(0, 32)}:${bucket}`;
}

/**
 * Looks a key up by its hash and, when it exists, makes one call on its `bucket` (creation,
 * status, other writes) with the key's limit for it, on every call (no cache: a revocation counts
 * from the very next request). An unknown key is never counted (junk keys would each leave a
 * bucket behind). A store that can fuse the call into the lookup does (PostgreSQL buckets in the
 * same database: one round trip); otherwise the lookup runs first and the call after it.
 */
export async function findKeyCountingHit(
  deps: Pick<ApiDeps, "db" | "rateLimiter">,
  keyHash: string,
  bucket: KeyRateLimitBucket,
): Promise<{ key: ApiKeyRow; outcome: RateLimitOutcome } | { key: undefined }> {
  const { db, rateLimiter } = deps;
  const name = keyBucket(keyHash, bucket);
  const now = rateLimiter.now();
  const fused = rateLimiter.store.countWithKeyLookup?.(db, keyHash, name, bucket, now, RATE_LIMIT_PERIOD_MS);
  if (fused) {
    const row = await fused;
    if (!row) return { key: undefined };
    const { hitTat, hitAllowed, ...key } = row;
    return { key, outcome: rateLimiter.decide({ allowed: hitAllowed, tat: Number(hitTat) }, now, keyRateLimit(key, bucket)) };
  }
  const [key] = await executePrepared(db, "api_key_by_hash", keyByHash, { keyHash });
  if (!key) return { key: undefined };
  return { key, outcome: await rateLimiter.consume(name, keyRateLimit(key, bucket)) };
}
