/**
 * Webhooks per the Standard Webhooks v1 spec (https://www.standardwebhooks.com): secrets, the
 * signature, the retry schedule and the address rules of the SSRF guard. Pure functions; the HTTP
 * sending lives in packages/api/src/services/webhooks.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { BlockList, isIP } from "node:net";

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** Standard Webhooks asks for 24 to 64 random bytes. */
const WEBHOOK_SECRET_BYTES = 32;

/** A fresh signing secret: `whsec_` and base64 of 32 random bytes. Shown once to the tenant. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(WEBHOOK_SECRET_BYTES).toString("base64");
}

/** The HMAC key of a secret: the base64 after `whsec_` (as every Standard Webhooks library reads it). */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, "base64");
}

/** One `v1,<base64>` signature: HMAC-SHA256 over `id.timestamp.body`. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

export interface SignedWebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  /** Space-separated: one signature per secret (the new and the old one during a rotation). */
  "webhook-signature": string;
}

/** The three headers of one attempt, signed with every given secret (current first). */
export function signWebhook(input: { id: string; timestamp: Date; body: string; secrets: readonly string[] }): SignedWebhookHeaders {
  if (input.secrets.length === 0) throw new Error("signWebhook needs at least one secret");
  const seconds = Math.floor(input.timestamp.getTime() / 1000);
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(seconds),
    "webhook-signature": input.secrets.map((secret) => webhookSignature(secret, input.id, seconds, input.body)).join(" "),
  };
}

/**
 * Signing secrets must be readable to sign, so they are encrypted at rest (AES-256-GCM) under a key
 * derived from a server secret (API_KEY_HASH_SECRET) with HKDF: a leaked table alone reveals none.
 */
function encryptionKey(serverSecret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", serverSecret, "approvalmatrix", "webhook-signing-secrets v1", 32));
}

export function encryptWebhookSecret(serverSecret: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(serverSecret), iv);
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64")}`;
}

export function decryptWebhookSecret(serverSecret: string, stored: string): string {
  if (!stored.startsWith("v1:")) throw new Error("unknown webhook secret encoding");
  const raw = Buffer.from(stored.slice(3), "base64");
  const decipher = createDecipheriv("aes-256-gcm", encryptionKey(serverSecret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/** The start of a secret shown in lists (never the secret itself). */
export function webhookSecretStart(secret: string): string {
  return secret.slice(0, WEBHOOK_SECRET_PREFIX.length + 4);
}

/**
 * Standard Webhooks' retry schedule: the delay before attempt n+1 after attempt n failed. The first
 * attempt is immediate; after the 10th failure the delivery is failed for good.
 */
export const WEBHOOK_RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
] as const;
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length + 1;
/** An endpoint whose every attempt failed for this long is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * 3_600_000;
/** How long the old secret keeps signing after a rotation unless told otherwise. */
export const WEBHOOK_ROTATION_WINDOW_MS = 24 * 3_600_000;
/** An attempt that has not answered within this fails. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** The part of a receiver's answer kept per attempt. */
export const WEBHOOK_RESPONSE_SNIPPET_BYTES = 1024;
/** A Retry-After is honoured up to this; a receiver cannot park a delivery for longer. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * When to try again after `attemptsMade` failed attempts, or null when they are used up. The
 * schedule's delay gets ±10 % jitter (so endpoints that failed together do not retry in lockstep);
 * a Retry-After from the receiver is honoured when it asks for longer.
 */
export function nextWebhookAttempt(
  attemptsMade: number,
  now: Date,
  options: { retryAfterMs?: number | null; random?: () => number } = {},
): Date | null {
  const base = WEBHOOK_RETRY_DELAYS_MS[attemptsMade - 1];
  if (base === undefined) return null;
  const jitter = 1 + ((options.random ?? Math.random)() * 2 - 1) * 0.1;
  const delay = Math.max(Math.round(base * jitter), Math.min(options.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return new Date(now.getTime() + delay);
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds from `now`; null when absent or invalid. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/** Only 2xx counts as delivered; a redirect is a failure and is not followed. */
export function isWebhookSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

// ---------------------------------------------------------------------------------------------
// SSRF guard: which addresses a webhook may reach.

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Never reachable by a webhook: private, link-local (cloud metadata), reserved, multicast. */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT (and Alibaba's metadata at 100.100.100.200)
  ["169.254.0.0", 16], // link-local: AWS/GCP/Azure metadata at 169.254.169.254
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved and broadcast
] as const) {
  FORBIDDEN.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local (AWS metadata's fd00:ec2::254)
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  FORBIDDEN.addSubnet(network, prefix, "ipv6");
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 address. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::ffff:0:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const words = expandIpv6(lower);
  if (!words) return null;
  const asV4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:hhhh:hhhh (mapped, hex form) and 64:ff9b::hhhh:hhhh (NAT64)
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return asV4(words[6] ?? 0, words[7] ?? 0);
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0)) return asV4(words[6] ?? 0, words[7] ?? 0);
  if (words[0] === 0x2002) return asV4(words[1] ?? 0, words[2] ?? 0); // 6to4
  return null;
}

function expandIpv6(address: string): number[] | null {
  if (address.includes(".")) return null;
  const [head = "", tail] = address.split("::");
  const parse = (part: string) => (part ? part.split(":").map((w) => parseInt(w, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...left, ...Array<number>(missing).fill(0), ...right];
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether a webhook may connect to `address` (an IP literal, as resolved from DNS). Loopback is
 * refused unless `allowLoopback` (development and tests); private, link-local, metadata and
 * reserved ranges always are. An IPv6 address that carries an IPv4 one is judged by that.
 */
export function checkWebhookAddress(address: string, options: { allowLoopback: boolean }): AddressVerdict {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) return { allowed: false, reason: `${address} is not an IP address` };
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4) return checkWebhookAddress(v4, options);
  }
  const type = family === 4 ? "ipv4" : "ipv6";
  if (LOOPBACK.check(bare, type)) {
    return options.allowLoopback ? { allowed: true } : { allowed: false, reason: `${bare} is a loopback address` };
  }
  if (FORBIDDEN.check(bare, type)) return { allowed: false, reason: `${bare} is a private, link-local or reserved address` };
  return { allowed: true };
}

export interface WebhookUrlPolicy {
  /** Production: only https URLs. */
  requireHttps: boolean;
  /** Development and tests (WEBHOOK_ALLOW_LOOPBACK=true): loopback receivers are allowed. */
  allowLoopback: boolean;
}

/**
 * What can be judged from the URL alone (when an endpoint is saved, and again before each attempt):
 * the scheme, no credentials, and a host that is not a forbidden IP literal or `localhost`. The
 * addresses a host name resolves to are checked on every attempt, at connection time.
 */
export function checkWebhookUrl(url: string, policy: WebhookUrlPolicy): AddressVerdict {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { allowed: false, reason: "not a valid absolute URL" };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return { allowed: false, reason: "the scheme must be https" };
  if (policy.requireHttps && parsed.protocol !== "https:") return { allowed: false, reason: "only https URLs are accepted" };
  if (parsed.username || parsed.password) return { allowed: false, reason: "credentials in the URL are not accepted" };
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) return checkWebhookAddress(host, policy);
  const lower = host.toLowerCase().replace(/\.$/, "");
  if (lower === "localhost" || lower.endsWith(".localhost")) {
    return policy.allowLoopback ? { allowed: true } : { allowed: false, reason: `${host} is a loopback address` };
  }
  return { allowed: true };
}
