import type { Database } from "@approvalmatrix/db";
import type { ApiKeyRowCountingHit } from "../api-key-lookup";

/**
 * Fixed-window counters: each bucket allows `limit` hits per window. A store counts; the limiter
 * turns counts into decisions and headers. Stores are shared by all instances (PostgreSQL,
 * Redis) except the in-memory one, which is only for the single-process embedded mode.
 */
export interface RateLimitStore {
  readonly name: string;
  /** Adds one hit to `bucket` in the window starting at `windowStart` (ms) and returns the count. */
  hit(bucket: string, windowStart: number, windowMs: number): Promise<number>;
  /**
   * Optional capability: the API-key lookup by `keyHash` in `db` with one hit on `bucket` fused into
   * the same statement, counted only when the key exists (one round trip on the hot path). Returns
   * undefined when this store cannot do it for `db` (its counters live elsewhere); the caller then
   * looks up first and counts after.
   */
  countWithKeyLookup?(
    db: Database,
    keyHash: string,
    bucket: string,
    windowStart: number,
    windowMs: number,
  ): Promise<ApiKeyRowCountingHit | null> | undefined;
  /** The count of `bucket` in that window, adding nothing (0 when none). */
  peek(bucket: string, windowStart: number, windowMs: number): Promise<number>;
  /** Readiness (/readyz): resolves when a store outside the database answers (Redis). */
  ping?(): Promise<void>;
  close?(): Promise<void>;
}

export interface RateLimitOutcome {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the window resets. */
  resetAt: number;
  /** Whole seconds to wait when refused. */
  retryAfter: number;
}

export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * The longest window a limiter may use (sign-in uses 15 minutes). Stores that sweep idle
 * counters in bulk keep everything younger than this, whatever window the sweeping hit has.
 */
export const LONGEST_WINDOW_MS = 60 * 60_000;

export class RateLimiter {
  constructor(
    readonly store: RateLimitStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The window a hit made now falls in. */
  window(windowMs = RATE_LIMIT_WINDOW_MS): RateLimitWindow {
    if (windowMs > LONGEST_WINDOW_MS) throw new Error(`A rate-limit window is at most ${LONGEST_WINDOW_MS} ms.`);
    const now = this.now();
    return { now, windowStart: now - (now % windowMs), windowMs };
  }

  /** Counts one hit on `bucket`; `decide` turns it into an outcome once the limit is known. */
  async hit(bucket: string, windowMs = RATE_LIMIT_WINDOW_MS): Promise<RateLimitHit> {
    const window = this.window(windowMs);
    const count = await this.store.hit(bucket, window.windowStart, window.windowMs);
    return { ...window, count };
  }

  decide(hit: RateLimitHit, limit: number): RateLimitOutcome {
    const resetMs = hit.windowStart + hit.windowMs;
    return {
      allowed: hit.count <= limit,
      limit,
      remaining: Math.max(0, limit - hit.count),
      resetAt: Math.ceil(resetMs / 1000),
      retryAfter: Math.max(1, Math.ceil((resetMs - hit.now) / 1000)),
    };
  }

  async consume(bucket: string, limit: number, windowMs = RATE_LIMIT_WINDOW_MS): Promise<RateLimitOutcome> {
    return this.decide(await this.hit(bucket, windowMs), limit);
  }

  /**
   * Whether `bucket` is still under `limit` in this window, counting nothing: for limits on
   * failures (sign-in), where only a failed attempt is recorded (with `hit`) yet a locked bucket
   * refuses every attempt, the right password too.
   */
  async check(bucket: string, limit: number, windowMs = RATE_LIMIT_WINDOW_MS): Promise<RateLimitOutcome> {
    const window = this.window(windowMs);
    const count = await this.store.peek(bucket, window.windowStart, window.windowMs);
    // As if one more attempt were made: `limit` failures lock the bucket.
    return this.decide({ ...window, count: count + 1 }, limit);
  }
}

export interface RateLimitWindow {
  now: number;
  windowStart: number;
  windowMs: number;
}

export interface RateLimitHit extends RateLimitWindow {
  count: number;
}

export function rateLimitHeaders(outcome: RateLimitOutcome): Record<string, string> {
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(outcome.limit),
    "X-RateLimit-Remaining": String(outcome.remaining),
    "X-RateLimit-Reset": String(outcome.resetAt),
  };
  if (!outcome.allowed) headers["Retry-After"] = String(outcome.retryAfter);
  return headers;
}
