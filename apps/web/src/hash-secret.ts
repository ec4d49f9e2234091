import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIN_HASH_SECRET_LENGTH, isStrongHashSecret, randomBase62 } from "@approvalmatrix/core";
import type { ServerEnv } from "./env";

/**
 * API_KEY_HASH_SECRET: required and strong in production. In development a random one is made
 * once and kept in the data directory, so keys keep working across restarts.
 */
export function resolveHashSecret(env: ServerEnv): string {
  return resolveSecret(env, "API_KEY_HASH_SECRET", "api-key-hash-secret");
}

/**
 * RECEIPT_SIGNING_SECRET, which encrypts the receipt-signing keys at rest: the same rules. Losing
 * it loses the ability to sign with the stored keys (rotate to new ones); receipts stay verifiable.
 */
export function resolveReceiptSigningSecret(env: ServerEnv): string {
  return resolveSecret(env, "RECEIPT_SIGNING_SECRET", "receipt-signing-secret");
}

function resolveSecret(env: ServerEnv, name: "API_KEY_HASH_SECRET" | "RECEIPT_SIGNING_SECRET", fileName: string): string {
  const given = env[name];
  if (given !== undefined) {
    if (!isStrongHashSecret(given)) {
      throw new Error(`${name} is too weak: use at least ${MIN_HASH_SECRET_LENGTH} random characters (e.g. \`openssl rand -base64 48\`).`);
    }
    return given;
  }
  if (env.NODE_ENV === "production") {
    throw new Error(`${name} is required in production: set it to at least 32 random characters (e.g. \`openssl rand -base64 48\`).`);
  }
  const file = join(env.DATA_DIR, fileName);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(env.DATA_DIR, { recursive: true });
  const secret = randomBase62(48);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
