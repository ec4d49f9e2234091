import { describe, expect, it } from "vitest";
import { DEFAULT_KEY_RATE_LIMITS, gcra, gcraState, keyRateLimit } from "./rate-limits";

/** Runs calls at the given times against one bucket; returns which passed. */
function run(times: number[], limit: number, periodMs: number): boolean[] {
  let tat = 0;
  return times.map((now) => {
    const result = gcra(tat, now, limit, periodMs);
    tat = result.tat;
    return result.allowed;
  });
}

describe("gcra", () => {
  it("lets `limit` calls through at once, then one per interval", () => {
    expect(run([0, 0, 0, 0], 3, 60_000)).toEqual([true, true, true, false]);
    expect(run([0, 0, 0, 19_999, 20_000], 3, 60_000)).toEqual([true, true, true, false, true]);
  });

  it("has no window edge: 60 calls before a minute boundary leave nothing for just after it", () => {
    const limit = 60;
    const before = Array.from({ length: limit }, (_, i) => 59_000 + i * 10); // the last second of minute 0
    const after = Array.from({ length: limit }, (_, i) => 60_000 + i * 10); // the first of minute 1
    const passed = run([...before, ...after], limit, 60_000);
    expect(passed.slice(0, limit).every(Boolean)).toBe(true);
    // A fixed window would let all 60 through again; GCRA refills one a second (1.6 s elapsed).
    expect(passed.slice(limit).filter(Boolean).length).toBeLessThanOrEqual(2);
  });

  it("passes at most limit + t / interval calls in any stretch of t (hammering every 100 ms for 3 minutes)", () => {
    const limit = 60;
    const times = Array.from({ length: 1800 }, (_, i) => i * 100);
    const passed = run(times, limit, 60_000);
    const at = times.filter((_, i) => passed[i]);
    for (const start of at) {
      const in5s = at.filter((t) => t >= start && t < start + 5_000).length;
      const inMinute = at.filter((t) => t >= start && t < start + 60_000).length;
      expect(in5s).toBeLessThanOrEqual(limit + 5);
      expect(inMinute).toBeLessThanOrEqual(2 * limit);
    }
    // Steady state: one call a second.
    expect(at.filter((t) => t >= 120_000 && t < 180_000)).toHaveLength(60);
  });

  it("describes the bucket: remaining, reset and retry-after", () => {
    const first = gcra(0, 1_000, 3, 60_000);
    expect(gcraState(first, 1_000, 3, 60_000)).toEqual({ allowed: true, limit: 3, remaining: 2, resetAt: 21, retryAfter: 0 });
    const third = gcra(gcra(first.tat, 1_000, 3, 60_000).tat, 1_000, 3, 60_000);
    expect(gcraState(third, 1_000, 3, 60_000)).toMatchObject({ remaining: 0, resetAt: 61 });
    const refused = gcra(third.tat, 1_000, 3, 60_000);
    expect(gcraState(refused, 1_000, 3, 60_000)).toMatchObject({ allowed: false, remaining: 0, retryAfter: 20 });
  });
});

describe("keyRateLimit", () => {
  it("takes the key's bucket limit, else its one-for-all limit, else the default", () => {
    expect(keyRateLimit({ rateLimits: {}, rateLimitPerMinute: null }, "status")).toBe(DEFAULT_KEY_RATE_LIMITS.status);
    expect(keyRateLimit({ rateLimits: {}, rateLimitPerMinute: 7 }, "status")).toBe(7);
    expect(keyRateLimit({ rateLimits: { status: 9 }, rateLimitPerMinute: 7 }, "status")).toBe(9);
  });
});
