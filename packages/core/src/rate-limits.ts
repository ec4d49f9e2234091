/**
 * Rate limits: which buckets exist, their defaults, and GCRA (the generic cell rate algorithm),
 * the rule every store applies. GCRA keeps one number per bucket, the theoretical arrival time
 * (tat) of the next call: a call at `now` conforms when max(tat, now) + interval − now ≤ period,
 * where interval = period / limit, and then moves tat on by one interval. A refused call moves
 * nothing. Unlike a fixed window there is no edge to burst across: after `limit` calls the next
 * one waits one interval, whatever the clock says, so at most limit + t / interval calls pass in
 * any stretch of t ms (a fixed minute window let 2 × limit through in a few seconds).
 */

/** Per-key buckets, each configurable per key (limits per minute). */
export const KEY_RATE_LIMIT_BUCKETS = ["create", "status", "write"] as const;
export type KeyRateLimitBucket = (typeof KEY_RATE_LIMIT_BUCKETS)[number];

export const DEFAULT_KEY_RATE_LIMITS: Record<KeyRateLimitBucket, number> = {
  /** POST /v1/requests (seed 002: approval creation, 60 per minute per key). */
  create: 60,
  /** Reads: a request's status, lists, inboxes (seed 002: status checks, 120 per minute per key). */
  status: 120,
  /** Other writes: decisions, cancellations, dry-runs. */
  write: 60,
};

export const KEY_RATE_LIMIT_LABELS: Record<KeyRateLimitBucket, string> = {
  create: "Request creation",
  status: "Status checks and lists",
  write: "Decisions, cancellations, dry-runs",
};

/** Limits that do not belong to a key: per client address, per email, per bootstrap. */
export const PUBLIC_RATE_LIMITS = {
  /** Failed authentications per client address. */
  unauthenticated: { limit: 100, periodMs: 60_000 },
  /** Public verification per client address (seed 002). */
  verify: { limit: 300, periodMs: 60_000 },
  /** Agent bootstrap starts per email address (seed 002) … */
  bootstrapPerEmail: { limit: 5, periodMs: 60 * 60_000 },
  /** … and per client address, so one address cannot try many emails. */
  bootstrapPerIp: { limit: 30, periodMs: 60 * 60_000 },
  /** Polls of one bootstrap's status: one per interval (RFC 8628's `interval`, 5 s), a burst of 2. */
  bootstrapPoll: { limit: 2, periodMs: 10_000 },
} as const;

export const RATE_LIMIT_PERIOD_MS = 60_000;

/** The limit of `bucket` for a key: its own for that bucket, else its one-for-all limit, else the default. */
export function keyRateLimit(
  key: { rateLimits: Partial<Record<string, number>>; rateLimitPerMinute: number | null },
  bucket: KeyRateLimitBucket,
): number {
  return key.rateLimits[bucket] ?? key.rateLimitPerMinute ?? DEFAULT_KEY_RATE_LIMITS[bucket];
}

/** Float slack so that exactly `limit` calls fit however the interval rounds. */
export const GCRA_EPSILON_MS = 1e-6;

export interface GcraResult {
  allowed: boolean;
  /** The bucket's tat after the call: moved on when allowed, unchanged when refused. */
  tat: number;
}

/** One call on a bucket whose stored tat is `tat` (0 when none). */
export function gcra(tat: number, now: number, limit: number, periodMs: number): GcraResult {
  const interval = periodMs / limit;
  const next = Math.max(tat, now) + interval;
  return next - now <= periodMs + GCRA_EPSILON_MS ? { allowed: true, tat: next } : { allowed: false, tat };
}

export interface RateLimitState {
  allowed: boolean;
  limit: number;
  /** Calls that would still pass right now. */
  remaining: number;
  /** Unix seconds at which the bucket is full again. */
  resetAt: number;
  /** Whole seconds until the next call would pass (at least 1 when refused, 0 otherwise). */
  retryAfter: number;
}

/** What the headers say about a bucket after a call (or a look) at `now`. */
export function gcraState(result: GcraResult, now: number, limit: number, periodMs: number): RateLimitState {
  const interval = periodMs / limit;
  const used = Math.max(0, result.tat - now);
  const remaining = Math.max(0, Math.min(limit, Math.floor((periodMs - used) / interval + GCRA_EPSILON_MS)));
  const waitMs = Math.max(0, result.tat + interval - periodMs - now);
  return {
    allowed: result.allowed,
    limit,
    remaining: result.allowed ? remaining : 0,
    resetAt: Math.ceil(Math.max(result.tat, now) / 1000),
    retryAfter: result.allowed ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
  };
}
