import { createHmac, timingSafeEqual } from "node:crypto";
import { randomBase62 } from "./ids";

export const API_KEY_PREFIX = "apx_live_";
export const API_KEY_RANDOM_LENGTH = 32;
const API_KEY_PATTERN = /^apx_live_[0-9A-Za-z]{32}$/;

export const API_KEY_SCOPES = [
  "requests:write",
  "requests:read",
  "decisions:write",
  "requests:verify",
  "events:read",
  "webhooks:write",
  "keys:write",
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * What each scope lets a key do, in words for the people who create keys (the admin app and the
 * CLI show these). Keep in step with the apiKeyProcedure(scope) of each /v1 endpoint: cancelling
 * is requests:write (the submitting system withdraws its own request), not decisions:write.
 */
export const API_KEY_SCOPE_DESCRIPTIONS: Record<ApiKeyScope, string> = {
  "requests:write": "Submit, dry-run and cancel requests",
  "requests:read": "Read requests, their status and approvers' inboxes",
  "decisions:write": "Approve or reject requests on behalf of an approver",
  "events:read": "Read the tenant's events (GET /v1/events), to catch up on what changed",
  "webhooks:write": "Create, change, test and delete webhook endpoints, and read their deliveries",
  "requests:verify": "Verify signed decision receipts of this tenant (the public verify endpoint needs no key)",
  "keys:write": "Manage the tenant's API keys (create, edit, reroll, disable, revoke): as powerful as an admin",
};

/** A fresh key: the plaintext is shown once; only its hash and its start are stored. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBase62(API_KEY_RANDOM_LENGTH);
}

export function isWellFormedApiKey(candidate: string): boolean {
  return API_KEY_PATTERN.test(candidate);
}

/** HMAC with a server secret: a leaked table alone cannot be brute-forced offline. */
export function hashApiKey(secret: string, key: string): string {
  return createHmac("sha256", secret).update(key).digest("hex");
}

/** What is shown and logged instead of the key: the prefix and four characters. */
export function apiKeyStart(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `Bearer <key>` → key; anything else → null. The scheme is case-insensitive (RFC 7235). */
export function parseBearer(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Minimum length of API_KEY_HASH_SECRET outside development. */
export const MIN_HASH_SECRET_LENGTH = 32;

export function isStrongHashSecret(secret: string): boolean {
  if (secret.length < MIN_HASH_SECRET_LENGTH) return false;
  // Reject secrets made of one repeated character or an obvious placeholder.
  if (new Set(secret).size < 8) return false;
  return !/^(changeme|secret|password|test)/i.test(secret);
}
