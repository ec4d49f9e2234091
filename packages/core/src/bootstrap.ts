import { createHash, randomInt } from "node:crypto";
import { randomBase62 } from "./ids";

/**
 * Agent bootstrap with consent, shaped like OAuth's device authorization grant (RFC 8628): the
 * agent starts with an email, a person who holds that account approves in the admin app, and the
 * agent polls with a secret only it has until it collects its key, once.
 */
export const BOOTSTRAP_STATUSES = ["pending", "approved", "denied", "expired"] as const;
export type BootstrapStatus = (typeof BOOTSTRAP_STATUSES)[number];

/** How long a bootstrap waits for an answer (RFC 8628 suggests minutes; people need a little longer). */
export const BOOTSTRAP_TTL_MS = 15 * 60_000;
/** The least seconds between two polls (RFC 8628 `interval`). */
export const BOOTSTRAP_POLL_INTERVAL_SECONDS = 5;
/** Default and longest life of a key minted by consent. */
export const BOOTSTRAP_KEY_DEFAULT_DAYS = 30;
export const BOOTSTRAP_KEY_MAX_DAYS = 365;

export const BOOTSTRAP_POLL_SECRET_PREFIX = "bps_";

/** RFC 8628 §6.1: no vowels (no words), no look-alikes; 8 of 20 letters ≈ 34.5 bits, shown as XXXX-XXXX. */
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

export function generateUserCode(): string {
  let code = "";
  for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person types: case, spaces and the dash do not matter. */
export function normalizeUserCode(input: string): string {
  const letters = input.toUpperCase().replace(/[^A-Z]/g, "");
  return letters.length === 8 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : letters;
}

export function generatePollSecret(): string {
  return BOOTSTRAP_POLL_SECRET_PREFIX + randomBase62(32);
}

/** The poll secret is high-entropy: a plain SHA-256 is enough to store it. */
export function hashPollSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
