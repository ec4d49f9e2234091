import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIN_HASH_SECRET_LENGTH, isStrongHashSecret, randomBase62 } from "@approvalmatrix/core";
import type { ServerEnv } from "./env";

/**
 * API_KEY_HASH_SECRET: required and strong in production. In development a random one is made
 * once and kept in the data directory, so keys keep working across restarts.
 */
export function resolveHashSecret(env: ServerEnv): string {
  const given = env.API_KEY_HASH_SECRET;
  if (given !== undefined) {
    if (!isStrongHashSecret(given)) {
      throw new Error(
        `API_KEY_HASH_SECRET is too weak: use at least ${MIN_HASH_SECRET_LENGTH} random characters (e.g. \`openssl rand -base64 48\`).`,
      );
    }
    return given;
  }
  if (env.NODE_ENV === "production") {
    throw new Error(
      "API_KEY_HASH_SECRET is required in production: set it to at least 32 random characters (e.g. `openssl rand -base64 48`).",
    );
  }
  const file = join(env.DATA_DIR, "api-key-hash-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(env.DATA_DIR, { recursive: true });
  const secret = randomBase62(48);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
