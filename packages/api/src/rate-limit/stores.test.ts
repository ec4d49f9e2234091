import { generateApiKey, hashApiKey, newId, randomBase62, must } from "@approvalmatrix/core";
import { apiKeys } from "@approvalmatrix/db";
import { type TestDatabase, createTestDatabase, testDatabaseEngine } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findKeyCountingHit, keyBucket } from "../api-key-lookup";
import { createTenant } from "../services/tenants";
import { RATE_LIMIT_WINDOW_MS, RateLimiter, type RateLimitStore } from "./rate-limiter";
import { MemoryRateLimitStore, PostgresRateLimitStore, RedisRateLimitStore } from "./stores";

// Tests only: like the HTTP test harness, Redis is used when CI (or you) set REDIS_URL.
const REDIS_URL = process.env.REDIS_URL || undefined;

let database: TestDatabase;
const closers: (() => Promise<void>)[] = [];

// A fresh PGlite takes seconds on a busy machine: more than vitest's default hook timeout.
beforeAll(async () => {
  database = await createTestDatabase();
}, 120_000);
afterAll(async () => {
  for (const close of closers) await close();
  await database.destroy();
});

/** Two handles on one shared store, as two server instances would have (memory: one process only). */
interface StoreKind {
  name: string;
  open(): { first: RateLimitStore; second: RateLimitStore };
}

const kinds: StoreKind[] = [
  {
    name: "memory",
    open() {
      const store = new MemoryRateLimitStore();
      return { first: store, second: store };
    },
  },
  {
    name: `postgres (${testDatabaseEngine()})`,
    open: () => ({ first: new PostgresRateLimitStore(database.db), second: new PostgresRateLimitStore(database.db) }),
  },
];
if (REDIS_URL) {
  kinds.push({
    name: "redis",
    open() {
      const prefix = `apx-test-${randomBase62(8)}:`;
      const first = new RedisRateLimitStore(REDIS_URL, prefix);
      const second = new RedisRateLimitStore(REDIS_URL, prefix);
      closers.push(
        () => first.close(),
        () => second.close(),
      );
      return { first, second };
    },
  });
}

describe.each(kinds)("$name rate-limit store", (kind) => {
  const windowStart = Math.floor(Date.now() / RATE_LIMIT_WINDOW_MS) * RATE_LIMIT_WINDOW_MS;

  it("counts hits per bucket and starts again in the next window", async () => {
    const { first } = kind.open();
    const bucket = `b-${randomBase62(8)}`;
    expect(await first.hit(bucket, windowStart, RATE_LIMIT_WINDOW_MS)).toBe(1);
    expect(await first.hit(bucket, windowStart, RATE_LIMIT_WINDOW_MS)).toBe(2);
    expect(await first.hit(`other-${bucket}`, windowStart, RATE_LIMIT_WINDOW_MS)).toBe(1);
    expect(await first.hit(bucket, windowStart + RATE_LIMIT_WINDOW_MS, RATE_LIMIT_WINDOW_MS)).toBe(1);
  });

  // Sign-in (15 minutes) and the API (one minute) share the store: a new API minute must not
  // reset a sign-in counter whose window is still running.
  it("keeps a longer window's count when a shorter window rolls over", async () => {
    const { first, second } = kind.open();
    const long = 15 * RATE_LIMIT_WINDOW_MS;
    const longStart = Math.floor(Date.now() / long) * long;
    const signIn = `signin-${randomBase62(8)}`;
    for (let i = 0; i < 5; i++) await first.hit(signIn, longStart, long);
    // Minutes later within the same quarter hour, any API call opens a new one-minute window.
    await second.hit(`key-${randomBase62(8)}`, longStart + 7 * RATE_LIMIT_WINDOW_MS, RATE_LIMIT_WINDOW_MS);
    expect(await second.peek(signIn, longStart, long)).toBe(5);
    expect(await first.hit(signIn, longStart, long)).toBe(6);
    // Once its own window has ended, the counter starts again.
    await second.hit(`key-${randomBase62(8)}`, longStart + long, RATE_LIMIT_WINDOW_MS);
    expect(await first.hit(signIn, longStart + long, long)).toBe(1);
  });

  it("peeks at a count without adding to it", async () => {
    const { first, second } = kind.open();
    const bucket = `p-${randomBase62(8)}`;
    expect(await first.peek(bucket, windowStart, RATE_LIMIT_WINDOW_MS)).toBe(0);
    await first.hit(bucket, windowStart, RATE_LIMIT_WINDOW_MS);
    await first.hit(bucket, windowStart, RATE_LIMIT_WINDOW_MS);
    expect(await second.peek(bucket, windowStart, RATE_LIMIT_WINDOW_MS)).toBe(2);
    expect(await second.peek(bucket, windowStart, RATE_LIMIT_WINDOW_MS)).toBe(2);
    expect(await second.peek(bucket, windowStart + RATE_LIMIT_WINDOW_MS, RATE_LIMIT_WINDOW_MS)).toBe(0);
  });

  it("shares one count between instances and loses no hit under concurrency", async () => {
    const { first, second } = kind.open();
    const bucket = `c-${randomBase62(8)}`;
    const counts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? first : second).hit(bucket, windowStart, RATE_LIMIT_WINDOW_MS)),
    );
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe("RateLimiter", () => {
  it("allows `limit` hits a window, then refuses with the seconds to wait", async () => {
    let now = 5 * RATE_LIMIT_WINDOW_MS + 45_000;
    const limiter = new RateLimiter(new MemoryRateLimitStore(), () => now);
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await limiter.consume("k", 2));
    expect(outcomes.map((o) => [o.allowed, o.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(must(outcomes[2]).retryAfter).toBe(15);
    expect(must(outcomes[2]).resetAt).toBe((6 * RATE_LIMIT_WINDOW_MS) / 1000);
    now += 15_000;
    expect((await limiter.consume("k", 2)).allowed).toBe(true);
  });
});

describe("findKeyCountingHit", () => {
  const secret = randomBase62(48);
  let plaintext: string;
  let keyId: string;

  beforeAll(async () => {
    const tenant = await createTenant(database.db, { name: "Lookup", slug: `lookup-${randomBase62(6).toLowerCase()}` });
    plaintext = generateApiKey();
    keyId = newId("apiKey");
    await database.db.insert(apiKeys).values({
      id: keyId,
      tenantId: tenant.id,
      name: "lookup",
      keyHash: hashApiKey(secret, plaintext),
      start: plaintext.slice(0, 13),
      scopes: ["requests:read"],
      rateLimitPerMinute: 7,
      createdBy: "test",
    });
  });

  // The PostgreSQL store takes the one-statement path; memory and Redis look up, then count.
  const lookupKinds: [string, () => RateLimitStore][] = [
    ["counters in the same database", () => new PostgresRateLimitStore(database.db)],
    ["counters in memory", () => new MemoryRateLimitStore()],
  ];
  if (REDIS_URL) {
    lookupKinds.push([
      "counters in Redis",
      () => {
        const store = new RedisRateLimitStore(REDIS_URL, `apx-test-${randomBase62(8)}:`);
        closers.push(() => store.close());
        return store;
      },
    ]);
  }
  describe.each(lookupKinds)("with %s", (_name, makeStore) => {
    it("returns the key's row and counts one hit per call on the key's bucket", async () => {
      const deps = { db: database.db, rateLimiter: new RateLimiter(makeStore()) };
      const keyHash = hashApiKey(secret, plaintext);
      const first = await findKeyCountingHit(deps, keyHash);
      const second = await findKeyCountingHit(deps, keyHash);
      if (!first.key || !second.key) throw new Error("the key was not found");
      expect(first.key).toMatchObject({ id: keyId, scopes: ["requests:read"], rateLimitPerMinute: 7, revokedAt: null });
      expect(second.hit.count).toBe(first.hit.count + 1);
      expect(second.hit.windowStart % RATE_LIMIT_WINDOW_MS).toBe(0);
    });

    it("finds nothing for an unknown key and counts nothing: junk keys leave no counters behind", async () => {
      const deps = { db: database.db, rateLimiter: new RateLimiter(makeStore()) };
      const unknownHash = hashApiKey(secret, generateApiKey());
      for (let i = 0; i < 3; i++) expect(await findKeyCountingHit(deps, unknownHash)).toEqual({ key: undefined });
      // The bucket the key would have had is untouched: its first hit is the first.
      const hit = await deps.rateLimiter.hit(keyBucket(unknownHash));
      expect(hit.count).toBe(1);
    });
  });
});
