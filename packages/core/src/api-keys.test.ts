import { describe, expect, it } from "vitest";
import {
  API_KEY_PREFIX,
  apiKeyStart,
  generateApiKey,
  hashApiKey,
  hashesEqual,
  isStrongHashSecret,
  isWellFormedApiKey,
  parseBearer,
} from "./api-keys";
import { newId, randomBase62 } from "./ids";

describe("API keys", () => {
  it("are apx_live_ followed by 32 base62 characters, and all different", () => {
    const keys = new Set(Array.from({ length: 1000 }, generateApiKey));
    expect(keys.size).toBe(1000);
    for (const key of keys) {
      expect(key).toMatch(/^apx_live_[0-9A-Za-z]{32}$/);
      expect(isWellFormedApiKey(key)).toBe(true);
    }
  });

  it("draw characters uniformly enough (no modulo bias towards the first letters)", () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62_000);
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(750);
      expect(n).toBeLessThan(1250);
    }
  });

  it.each([
    ["apx_live_short", false],
    [`apx_live_${"a".repeat(33)}`, false],
    [`apx_test_${"a".repeat(32)}`, false],
    [`apx_live_${"a".repeat(31)}!`, false],
    [` apx_live_${"a".repeat(32)}`, false],
    [`apx_live_${"aZ09".repeat(8)}`, true],
  ])("isWellFormedApiKey(%j) is %s", (candidate, expected) => {
    expect(isWellFormedApiKey(candidate)).toBe(expected);
  });

  it("hash with the server secret: same key and secret give the same hash, another secret another", () => {
    const key = generateApiKey();
    const a = hashApiKey("secret-one-".repeat(4), key);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey("secret-one-".repeat(4), key)).toBe(a);
    expect(hashApiKey("secret-two-".repeat(4), key)).not.toBe(a);
    expect(a).not.toContain(key.slice(API_KEY_PREFIX.length));
    expect(hashesEqual(a, hashApiKey("secret-one-".repeat(4), key))).toBe(true);
    expect(hashesEqual(a, hashApiKey("secret-one-".repeat(4), generateApiKey()))).toBe(false);
  });

  it("show only their start", () => {
    expect(apiKeyStart("apx_live_ab12cdefghijklmnopqrstuvwxyz123456")).toBe("apx_live_ab12");
  });

  it.each([
    [undefined, null],
    ["", null],
    ["Bearer apx_live_x", "apx_live_x"],
    ["bearer   apx_live_x", "apx_live_x"],
    ["Basic apx_live_x", null],
    ["Bearer", null],
    ["Bearer a b", null],
  ])("parseBearer(%j) → %j", (header, expected) => {
    expect(parseBearer(header)).toBe(expected);
  });

  it.each([
    ["short", false],
    ["a".repeat(64), false],
    ["changeme-changeme-changeme-changeme", false],
    [randomBase62(48), true],
  ])("isStrongHashSecret(%j) is %s", (secret, expected) => {
    expect(isStrongHashSecret(secret)).toBe(expected);
  });
});

describe("ids", () => {
  it("carry their kind's prefix and 20 random characters", () => {
    expect(newId("request")).toMatch(/^req_[0-9A-Za-z]{20}$/);
    expect(newId("matrix")).toMatch(/^mat_/);
    expect(newId("member")).toMatch(/^mem_/);
    expect(newId("apiKey")).toMatch(/^key_/);
  });
});
