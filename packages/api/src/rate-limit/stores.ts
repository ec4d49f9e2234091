import { DEFAULT_KEY_RATE_LIMITS, GCRA_EPSILON_MS, type GcraResult, type KeyRateLimitBucket, gcra } from "@approvalmatrix/core";
import { type Database, eq, executePrepared, rateLimitBuckets, sql } from "@approvalmatrix/db";
import { Redis } from "ioredis";
import { type ApiKeyRowCountingHit, keyByHashCountingHit } from "../api-key-lookup";
import { consumeBucket } from "./gcra-sql";
import type { RateLimitStore } from "./rate-limiter";

/** Idle buckets (tat passed: full again, the same as no row) are dropped at most this often. */
const SWEEP_EVERY_MS = 60_000;

/** Single-process only: the embedded mode. One number per bucket. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly name = "memory";
  private readonly tats = new Map<string, number>();
  private sweptAt = 0;

  // Synchronous inside; a Promise only because the store interface is shared with Redis and PostgreSQL.
  consume(bucket: string, now: number, limit: number, periodMs: number): Promise<GcraResult> {
    this.sweep(now);
    const result = gcra(this.tats.get(bucket) ?? 0, now, limit, periodMs);
    if (result.allowed) this.tats.set(bucket, result.tat);
    return Promise.resolve(result);
  }

  peek(bucket: string): Promise<number> {
    return Promise.resolve(this.tats.get(bucket) ?? 0);
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [bucket, tat] of this.tats) if (tat <= now) this.tats.delete(bucket);
  }
}

/**
 * One upsert per call on an unlogged table. Idle buckets are swept once a minute and instance,
 * off the request path.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  readonly name = "postgres";
  private sweptAt = 0;
  constructor(readonly db: Database) {}

  async consume(bucket: string, now: number, limit: number, periodMs: number): Promise<GcraResult> {
    this.sweep(now);
    const [row] = await executePrepared(this.db, "rate_limit_consume", consumeBucket, {
      bucket,
      now,
      intervalMs: periodMs / limit,
      periodMs,
    });
    if (!row) throw new Error("the rate-limit upsert returned no row");
    return row;
  }

  /** The key lookup with this call fused in (api-key-lookup.ts); only when the keys live in our database. */
  countWithKeyLookup(db: Database, keyHash: string, bucket: string, keyBucket: KeyRateLimitBucket, now: number, periodMs: number) {
    if (db !== this.db) return undefined;
    this.sweep(now);
    return executePrepared(db, "api_key_by_hash_counting_hit", keyByHashCountingHit, {
      keyHash,
      bucket,
      keyBucket,
      defaultLimit: DEFAULT_KEY_RATE_LIMITS[keyBucket],
      now,
      periodMs,
    }).then(([row]): ApiKeyRowCountingHit | null => row ?? null);
  }

  async peek(bucket: string): Promise<number> {
    const [row] = await this.db.select({ tat: rateLimitBuckets.tat }).from(rateLimitBuckets).where(eq(rateLimitBuckets.bucket, bucket));
    return row?.tat ?? 0;
  }

  /** Drops buckets that are full again (tat passed), once a minute and instance, not awaited. */
  sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    this.db.execute(sql`delete from rate_limit_buckets where tat < ${now}`).then(
      () => {},
      (error: unknown) => console.warn("could not sweep idle rate-limit buckets:", error),
    );
  }
}

/**
 * GCRA in Redis: one EVALSHA per call (ioredis sends EVAL once if the script is not cached). The
 * key expires when the bucket is full again. tat travels as a string: Lua numbers returned to
 * Redis would be cut to integers.
 */
const GCRA_LUA = `
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local nextTat = math.max(tat, now) + interval
if nextTat - now <= period + ${GCRA_EPSILON_MS} then
  local value = string.format('%.6f', nextTat)
  redis.call('SET', KEYS[1], value, 'PX', math.ceil(nextTat - now) + 1000)
  return {1, value}
end
return {0, string.format('%.6f', tat)}
`;

type GcraRedis = Redis & { gcra(key: string, now: number, interval: number, period: number): Promise<[number, string]> };

export class RedisRateLimitStore implements RateLimitStore {
  readonly name = "redis";
  private readonly redis: GcraRedis;
  /** `keyPrefix` keeps deployments (or test runs) that share one Redis apart. */
  constructor(
    url: string,
    private readonly keyPrefix = "apx:",
  ) {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false });
    redis.defineCommand("gcra", { numberOfKeys: 1, lua: GCRA_LUA });
    this.redis = redis as GcraRedis;
    // While Redis is down ioredis reconnects and emits an error per attempt: one line per new
    // error, not an "Unhandled error event" flood (/readyz tells which dependency is down).
    let lastError = "";
    this.redis.on("error", (error: Error) => {
      if (error.message !== lastError) console.warn(`Redis rate-limit store: ${error.message}`);
      lastError = error.message;
    });
    this.redis.on("ready", () => (lastError = ""));
  }

  async consume(bucket: string, now: number, limit: number, periodMs: number): Promise<GcraResult> {
    const [allowed, tat] = await this.redis.gcra(`${this.keyPrefix}rl:${bucket}`, now, periodMs / limit, periodMs);
    return { allowed: allowed === 1, tat: Number(tat) };
  }

  async peek(bucket: string): Promise<number> {
    return Number((await this.redis.get(`${this.keyPrefix}rl:${bucket}`)) ?? 0);
  }

  /** Readiness: answers when Redis does. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
