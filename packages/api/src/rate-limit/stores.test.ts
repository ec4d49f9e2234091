import { generateApiKey, hashApiKey, newId, randomBase62 } from "@approvalmatrix/core";
import { apiKeys } from "@approvalmatrix/db";
import { type TestDatabase, createTestDatabase, testDatabaseEngine } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findKeyCountingHit, keyBucket } from "../api-key-lookup";
import { createTenant } from "../services/tenants";
import { RateLimiter, type RateLimitStore } from "./rate-limiter";
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

describe.each(kinds)("$name rate-limit store (GCRA)", (kind) => {
  const minute = 60_000;
  // A minute boundary of the Unix clock, as a fixed window would have had it.
  const boundary = Math.floor(Date.now() / minute) * minute + 5 * minute;

  it("lets `limit` calls through at once, refuses the next without moving the bucket, and refills one per interval", async () => {
    const { first } = kind.open();
    const bucket = `b-${randomBase62(8)}`;
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await first.consume(bucket, boundary, 3, minute));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]?.tat).toBeCloseTo(boundary + minute, 3);
    // Refused calls moved nothing: one interval (20 s) after the burst, one more passes.
    expect((await first.consume(bucket, boundary + 19_999, 3, minute)).allowed).toBe(false);
    expect((await first.consume(bucket, boundary + 20_000, 3, minute)).allowed).toBe(true);
  });

  it("has no window edge: a full burst just before a minute boundary leaves nothing just after it", async () => {
    const { first, second } = kind.open();
    const bucket = `edge-${randomBase62(8)}`;
    let passed = 0;
    for (let i = 0; i < 60; i++) if ((await first.consume(bucket, boundary - 1_000 + i * 10, 60, minute)).allowed) passed++;
    expect(passed).toBe(60);
    let after = 0;
    for (let i = 0; i < 60; i++) if ((await second.consume(bucket, boundary + 100 + i * 10, 60, minute)).allowed) after++;
    // A fixed one-minute window would let 60 more through here (120 in 2 s); GCRA refills one a second.
    expect(after).toBeLessThanOrEqual(2);
    // Five seconds on, about five more, not a fresh minute's worth.
    let later = 0;
    for (let i = 0; i < 60; i++) if ((await second.consume(bucket, boundary + 5_000, 60, minute)).allowed) later++;
    expect(later).toBeLessThanOrEqual(5);
  });

  it("keeps buckets independent, each with its own limit and period", async () => {
    const { first } = kind.open();
    const id = randomBase62(8);
    for (let i = 0; i < 2; i++) expect((await first.consume(`create-${id}`, boundary, 2, minute)).allowed).toBe(true);
    expect((await first.consume(`create-${id}`, boundary, 2, minute)).allowed).toBe(false);
    expect((await first.consume(`status-${id}`, boundary, 120, minute)).allowed).toBe(true);
    const hour = 60 * minute;
    for (let i = 0; i < 5; i++) expect((await first.consume(`email-${id}`, boundary, 5, hour)).allowed).toBe(true);
    expect((await first.consume(`email-${id}`, boundary + 11 * minute, 5, hour)).allowed).toBe(false);
    expect((await first.consume(`email-${id}`, boundary + 12 * minute, 5, hour)).allowed).toBe(true);
  });

  it("peeks at a bucket's tat without adding to it", async () => {
    const { first, second } = kind.open();
    const bucket = `p-${randomBase62(8)}`;
    expect(await first.peek(bucket)).toBe(0);
    await first.consume(bucket, boundary, 4, minute);
    await first.consume(bucket, boundary, 4, minute);
    expect(await second.peek(bucket)).toBeCloseTo(boundary + 30_000, 3);
    expect(await second.peek(bucket)).toBeCloseTo(boundary + 30_000, 3);
  });

  it("shares one bucket between instances and lets exactly `limit` concurrent calls through", async () => {
    const { first, second } = kind.open();
    const bucket = `c-${randomBase62(8)}`;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? first : second).consume(bucket, boundary, 30, minute)));
    expect(results.filter((r) => r.allowed)).toHaveLength(30);
  });
});

describe("RateLimiter", () => {
  it("allows `limit` calls, then refuses with the seconds to wait and the reset time", async () => {
    let now = 5 * 60_000 + 45_000;
    const limiter = new RateLimiter(new MemoryRateLimitStore(), () => now);
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await limiter.consume("k", 2));
    expect(outcomes.map((o) => [o.allowed, o.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(outcomes[2]?.retryAfter).toBe(30);
    expect(outcomes[1]?.resetAt).toBe((now + 60_000) / 1000);
    now += 30_000;
    expect((await limiter.consume("k", 2)).allowed).toBe(true);
  });

  it("checks a bucket without counting (sign-in's failure limits)", async () => {
    const now = 1_000_000;
    const limiter = new RateLimiter(new MemoryRateLimitStore(), () => now);
    for (let i = 0; i < 3; i++) expect((await limiter.check("f", 2, 900_000)).allowed).toBe(true);
    await limiter.hit("f", 2, 900_000);
    await limiter.hit("f", 2, 900_000);
    expect(await limiter.check("f", 2, 900_000)).toMatchObject({ allowed: false, retryAfter: 450 });
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
      rateLimits: { create: 2 },
      createdBy: "test",
    });
  });

  // The PostgreSQL store takes the one-statement path; memory and Redis look up, then count.
  const lookupKinds: [string, () => RateLimitStore][] = [
    ["buckets in the same database", () => new PostgresRateLimitStore(database.db)],
    ["buckets in memory", () => new MemoryRateLimitStore()],
  ];
  if (REDIS_URL) {
    lookupKinds.push([
      "buckets in Redis",
      () => {
        const store = new RedisRateLimitStore(REDIS_URL, `apx-test-${randomBase62(8)}:`);
        closers.push(() => store.close());
        return store;
      },
    ]);
  }
  describe.each(lookupKinds)("with %s", (_name, makeStore) => {
    it("returns the key's row and counts one call per lookup on the bucket asked for, with the key's limit for it", async () => {
      const deps = { db: database.db, rateLimiter: new RateLimiter(makeStore()) };
      const keyHash = hashApiKey(secret, plaintext);
      const outcomes = [];
      for (let i = 0; i < 3; i++) {
        const found = await findKeyCountingHit(deps, keyHash, "create");
        if (!found.key) throw new Error("the key was not found");
        expect(found.key).toMatchObject({ id: keyId, scopes: ["requests:read"], revokedAt: null });
        outcomes.push(found.outcome);
      }
      expect(outcomes.map((o) => [o.allowed, o.limit, o.remaining])).toEqual([
        [true, 2, 1],
        [true, 2, 0],
        [false, 2, 0],
      ]);
      // The status bucket is its own, at its default of 120 a minute.
      const status = await findKeyCountingHit(deps, keyHash, "status");
      expect(status.key && status.outcome).toMatchObject({ allowed: true, limit: 120, remaining: 119 });
    });

    it("finds nothing for an unknown key and counts nothing: junk keys leave no buckets behind", async () => {
      const deps = { db: database.db, rateLimiter: new RateLimiter(makeStore()) };
      const unknownHash = hashApiKey(secret, generateApiKey());
      for (let i = 0; i < 3; i++) expect(await findKeyCountingHit(deps, unknownHash, "status")).toEqual({ key: undefined });
      expect(await deps.rateLimiter.store.peek(keyBucket(unknownHash, "status"))).toBe(0);
    });
  });
});
