import { type GcraResult, type KeyRateLimitBucket, RATE_LIMIT_PERIOD_MS, type RateLimitState, gcraState } from "@approvalmatrix/core";
import type { Database } from "@approvalmatrix/db";
import type { ApiKeyRowCountingHit } from "../api-key-lookup";

/**
 * GCRA buckets (core/rate-limits.ts): a store keeps each bucket's theoretical arrival time and
 * applies one call atomically, in one round trip; the limiter turns the result into an outcome
 * and headers. Stores are shared by all instances (PostgreSQL, Redis) except the in-memory one,
 * which is only for the single-process embedded mode.
 */
export interface RateLimitStore {
  readonly name: string;
  /** One call on `bucket` at `now` (Unix ms) with `limit` calls per `periodMs`: GCRA, atomically. */
  consume(bucket: string, now: number, limit: number, periodMs: number): Promise<GcraResult>;
  /**
   * Optional capability: the API-key lookup by `keyHash` in `db` with one call on the key's
   * bucket fused into the same statement, its limit read from the key row, counted only when the
   * key exists (one round trip on the hot path). Returns undefined when this store cannot do it
   * for `db` (its buckets live elsewhere); the caller then looks up first and counts after.
   */
  countWithKeyLookup?(
    db: Database,
    keyHash: string,
    bucket: string,
    keyBucket: KeyRateLimitBucket,
    now: number,
    periodMs: number,
  ): Promise<ApiKeyRowCountingHit | null> | undefined;
  /** The stored tat of `bucket`, adding nothing (0 when none). */
  peek(bucket: string): Promise<number>;
  /** Readiness (/readyz): resolves when a store outside the database answers (Redis). */
  ping?(): Promise<void>;
  close?(): Promise<void>;
}

export type RateLimitOutcome = RateLimitState;

export { RATE_LIMIT_PERIOD_MS };

export class RateLimiter {
  constructor(
    readonly store: RateLimitStore,
    readonly now: () => number = Date.now,
  ) {}

  /** The outcome of a call the store already applied (the fused key lookup). */
  decide(result: GcraResult, at: number, limit: number, periodMs = RATE_LIMIT_PERIOD_MS): RateLimitOutcome {
    return gcraState(result, at, limit, periodMs);
  }

  /** One call on `bucket`, refused when over `limit` per `periodMs`. */
  async consume(bucket: string, limit: number, periodMs = RATE_LIMIT_PERIOD_MS): Promise<RateLimitOutcome> {
    const now = this.now();
    return gcraState(await this.store.consume(bucket, now, limit, periodMs), now, limit, periodMs);
  }

  /** Records one failure on `bucket` (sign-in): the same as a call. */
  hit(bucket: string, limit: number, periodMs = RATE_LIMIT_PERIOD_MS): Promise<RateLimitOutcome> {
    return this.consume(bucket, limit, periodMs);
  }

  /**
   * Whether a call on `bucket` would pass now, counting nothing: for limits on failures
   * (sign-in), where only a failed attempt is recorded (with `hit`) yet a spent bucket refuses
   * every attempt, the right password too.
   */
  async check(bucket: string, limit: number, periodMs = RATE_LIMIT_PERIOD_MS): Promise<RateLimitOutcome> {
    const now = this.now();
    const tat = await this.store.peek(bucket);
    const interval = periodMs / limit;
    const allowed = Math.max(tat, now) + interval - now <= periodMs + 1e-6;
    return gcraState({ allowed, tat: allowed ? Math.max(tat, now) + interval : tat }, now, limit, periodMs);
  }
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
