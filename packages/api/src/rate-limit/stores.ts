import { type Database, type Queryable, and, eq, executePrepared, rateLimitCounters, sql } from "@approvalmatrix/db";
import { Redis } from "ioredis";
import { type ApiKeyRowCountingHit, keyByHashCountingHit } from "../api-key-lookup";
import { LONGEST_WINDOW_MS, type RateLimitStore } from "./rate-limiter";

/**
 * Single-process only: the embedded mode. Each counter lives until its own window ends: buckets
 * of different window lengths (the API's minute, sign-in's 15 minutes) share this store, so a
 * new minute must not wipe a quarter-hour counter.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly name = "memory";
  private readonly counts = new Map<string, { windowStart: number; windowEnd: number; count: number }>();
  /** The latest window start seen: no hit is older, so a window ending before it is over. */
  private latestStart = 0;
  private sweptAt = 0;

  // Synchronous inside; a Promise only because the store interface is shared with Redis and PostgreSQL.
  hit(bucket: string, windowStart: number, windowMs: number): Promise<number> {
    this.sweep(windowStart);
    const entry = this.counts.get(bucket);
    if (entry && entry.windowStart === windowStart) return Promise.resolve(++entry.count);
    this.counts.set(bucket, { windowStart, windowEnd: windowStart + windowMs, count: 1 });
    return Promise.resolve(1);
  }

  peek(bucket: string, windowStart: number): Promise<number> {
    const entry = this.counts.get(bucket);
    return Promise.resolve(entry && entry.windowStart === windowStart ? entry.count : 0);
  }

  /** Drops counters whose window has ended, at most once per new window start. */
  private sweep(windowStart: number): void {
    if (windowStart > this.latestStart) this.latestStart = windowStart;
    if (this.latestStart === this.sweptAt) return;
    this.sweptAt = this.latestStart;
    for (const [key, entry] of this.counts) if (entry.windowEnd <= this.latestStart) this.counts.delete(key);
  }
}

/**
 * One upsert per hit on an unlogged table; the row is reset when a new window starts. Buckets
 * idle for the longest window are swept once per window and instance.
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

  async peek(bucket: string, windowStart: number): Promise<number> {
    const [row] = await this.db
      .select({ count: rateLimitCounters.count })
      .from(rateLimitCounters)
      .where(and(eq(rateLimitCounters.bucket, bucket), eq(rateLimitCounters.windowStart, windowStart)));
    return row?.count ?? 0;
  }

  /**
   * Off the request path, once per window and instance: drops buckets idle for the longest
   * window. Not the hit's own window: a minute's hit must not drop a 15-minute sign-in counter.
   */
  sweepBefore(windowStart: number, windowMs: number): void {
    if (windowStart === this.sweptWindow) return;
    this.sweptWindow = windowStart;
    this.db.execute(sql`delete from rate_limit_counters where window_start < ${windowStart - Math.max(windowMs, LONGEST_WINDOW_MS)}`).then(
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
    // While Redis is down ioredis reconnects and emits an error per attempt: one line per new
    // error, not an "Unhandled error event" flood (/readyz tells which dependency is down).
    let lastError = "";
    this.redis.on("error", (error: Error) => {
      if (error.message !== lastError) console.warn(`Redis rate-limit store: ${error.message}`);
      lastError = error.message;
    });
    this.redis.on("ready", () => (lastError = ""));
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

  async peek(bucket: string, windowStart: number): Promise<number> {
    return Number((await this.redis.get(`${this.keyPrefix}rl:${bucket}:${windowStart}`)) ?? 0);
  }

  /** Readiness: answers when Redis does. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
