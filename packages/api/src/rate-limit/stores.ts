import { type Database, type Queryable, executePrepared, rateLimitCounters, sql } from "@approvalmatrix/db";
import { Redis } from "ioredis";
import { type ApiKeyRowCountingHit, keyByHashCountingHit } from "../api-key-lookup";
import type { RateLimitStore } from "./rate-limiter";

/** Single-process only: the embedded mode. Old windows are swept as buckets roll over. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly name = "memory";
  private readonly counts = new Map<string, { windowStart: number; count: number }>();
  private lastSweep = 0;

  async hit(bucket: string, windowStart: number): Promise<number> {
    if (windowStart !== this.lastSweep) {
      for (const [key, entry] of this.counts) if (entry.windowStart < windowStart) this.counts.delete(key);
      this.lastSweep = windowStart;
    }
    const entry = this.counts.get(bucket);
    if (entry && entry.windowStart === windowStart) return ++entry.count;
    this.counts.set(bucket, { windowStart, count: 1 });
    return 1;
  }
}

/**
 * One upsert per hit on an unlogged table; the row is reset when a new window starts. Buckets
 * idle for a whole window are swept once per window and instance.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  readonly name = "postgres";
  private sweptWindow = 0;
  constructor(readonly db: Database) {}

  async hit(bucket: string, windowStart: number, windowMs: number): Promise<number> {
    this.sweepBefore(windowStart, windowMs);
    const [row] = await executePrepared(this.db, "rate_limit_hit", countHit, { bucket, windowStart });
    return row?.count ?? 1;
  }

  /** The key lookup with this hit fused in (api-key-lookup.ts); only when the keys live in our database. */
  countWithKeyLookup(db: Database, keyHash: string, bucket: string, windowStart: number, windowMs: number) {
    if (db !== this.db) return undefined;
    this.sweepBefore(windowStart, windowMs);
    return executePrepared(db, "api_key_by_hash_counting_hit", keyByHashCountingHit, { keyHash, bucket, windowStart }).then(
      ([row]): ApiKeyRowCountingHit | null => row ?? null,
    );
  }

  /** Off the request path, once per window and instance: drops buckets idle for a whole window. */
  sweepBefore(windowStart: number, windowMs: number): void {
    if (windowStart === this.sweptWindow) return;
    this.sweptWindow = windowStart;
    this.db.execute(sql`delete from rate_limit_counters where window_start < ${windowStart - windowMs}`).then(
      () => {},
      (error: unknown) => console.warn("could not sweep old rate-limit counters:", error),
    );
  }
}

/**
 * One hit on the bucket named by the `bucket` placeholder in the window `windowStart`, returning
 * the count. Runs on every API call: built once, prepared (see executePrepared); the API-key
 * lookup embeds it too (api-key-lookup.ts).
 */
export const countHit = (db: Queryable) =>
  db
    .insert(rateLimitCounters)
    .values({ bucket: sql.placeholder("bucket"), windowStart: sql.placeholder("windowStart"), count: 1 })
    .onConflictDoUpdate({
      target: rateLimitCounters.bucket,
      set: {
        count: sql`case when ${rateLimitCounters.windowStart} = excluded.window_start then ${rateLimitCounters.count} + 1 else 1 end`,
        windowStart: sql`excluded.window_start`,
      },
    })
    .returning({ count: rateLimitCounters.count });

/** INCR and PEXPIRE in one round trip; the key dies with its window. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly name = "redis";
  private readonly redis: Redis;
  /** `keyPrefix` keeps deployments (or test runs) that share one Redis apart. */
  constructor(
    url: string,
    private readonly keyPrefix = "apx:",
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false });
  }

  async hit(bucket: string, windowStart: number, windowMs: number): Promise<number> {
    const key = `${this.keyPrefix}rl:${bucket}:${windowStart}`;
    const results = await this.redis
      .multi()
      .incr(key)
      .pexpire(key, windowMs + 1000)
      .exec();
    const [error, count] = results?.[0] ?? [new Error("Redis returned no result"), 0];
    if (error) throw error;
    return Number(count);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
