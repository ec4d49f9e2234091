import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readEnv } from "./env";
import { resolveHashSecret } from "./hash-secret";

const dirs: string[] = [];
const env = (vars: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), "apx-secret-"));
  dirs.push(dir);
  return readEnv({ DATA_DIR: dir, ...vars });
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("API_KEY_HASH_SECRET at start-up", () => {
  it("is required in production", () => {
    expect(() => resolveHashSecret(env({ NODE_ENV: "production" }))).toThrow(/required in production/);
  });

  it.each(["short", "x".repeat(64), "changeme-changeme-changeme-changeme"])("refuses the weak secret %j, in any environment", (secret) => {
    expect(() => resolveHashSecret(env({ NODE_ENV: "production", API_KEY_HASH_SECRET: secret }))).toThrow(/too weak/);
    expect(() => resolveHashSecret(env({ NODE_ENV: "development", API_KEY_HASH_SECRET: secret }))).toThrow(/too weak/);
  });

  it("takes a strong one as given", () => {
    const secret = "pQ7vX2mR9sT4wY6zB8nC1dF3gH5jK0lM";
    expect(resolveHashSecret(env({ NODE_ENV: "production", API_KEY_HASH_SECRET: secret }))).toBe(secret);
  });

  it("in development generates one into the data directory, private to the owner, and keeps it", () => {
    const e = env({ NODE_ENV: "development" });
    const first = resolveHashSecret(e);
    const file = join(e.DATA_DIR, "api-key-hash-secret");
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(readFileSync(file, "utf8").trim()).toBe(first);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(resolveHashSecret(e)).toBe(first);
    expect(resolveHashSecret(env({ NODE_ENV: "development" }))).not.toBe(first);
  });
});
