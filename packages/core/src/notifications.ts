/**
 * E-mail notifications and one-click decision links: the vocabularies, the retry schedule and
 * the token rules. Pure (node:crypto only), table-tested in notifications.test.ts.
 */
import { createHash, createHmac } from "node:crypto";

/** What a message is about. `digest` bundles a member's `digest`-mode messages once a day. */
export const MESSAGE_KINDS = ["stage_opened", "reminder", "escalated", "outcome", "reassigned", "digest"] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** The kinds that ask the member to decide: they carry one-click links, and a digest lists them. */
const ASKING_KINDS: ReadonlySet<string> = new Set<MessageKind>(["stage_opened", "reminder", "escalated", "reassigned"]);
export function asksForDecision(kind: string): boolean {
  return ASKING_KINDS.has(kind);
}

/**
 * pending → sent, or back to pending with a later next_attempt_at after a failure, until
 * MAX_SEND_ATTEMPTS (failed). held: no SMTP_URL, kept for the Outbox page. skipped: the member or
 * the tenant turned e-mail off, or the member has no address. digest: waiting for the daily
 * digest; digested: carried by one.
 */
export const MESSAGE_STATUSES = ["pending", "sent", "failed", "held", "skipped", "digest", "digested"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const EMAIL_MODES = ["immediate", "digest", "off"] as const;
export type EmailMode = (typeof EMAIL_MODES)[number];

export const EMAIL_MODE_LABELS: Record<EmailMode, string> = {
  immediate: "Immediately",
  digest: "Daily digest",
  off: "Off",
};

export const MAX_SEND_ATTEMPTS = 8;

/** The hour of the day (UTC) the daily digest goes out; tenants have no time zone setting yet. */
export const DIGEST_HOUR_UTC = 8;

/**
 * The digest a member is owed at `now`: the latest digest instant at or before it and that
 * instant's day ("2026-11-30"). A digest carries what was queued up to `at`, and one per member
 * per `day` is sent (the day is part of the digest's dedupe key).
 */
export function digestSlot(now: Date, hourUtc: number = DIGEST_HOUR_UTC): { day: string; at: Date } {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hourUtc));
  if (at.getTime() > now.getTime()) at.setUTCDate(at.getUTCDate() - 1);
  return { day: at.toISOString().slice(0, 10), at };
}

/** At most one digest per member and day, across instances: the outbox row's unique key. */
export function digestDedupeKey(memberId: string, day: string): string {
  return `digest:${memberId}:${day}`;
}

/**
 * When to try again after the `attempt`-th failed send (1-based): 30 s, 1, 2, 4 … minutes, capped
 * at an hour, with up to 20 % jitter so senders that failed together do not retry together.
 */
export function sendRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return Math.round(base * (1 + 0.2 * random()));
}

/** The token in a decision link: an HMAC of the link id under the server secret (never stored). */
export function decisionLinkToken(secret: string, linkId: string): string {
  return createHmac("sha256", secret).update(`decision-link:${linkId}`).digest("base64url");
}

/** What is stored and looked up: the token's SHA-256. */
export function hashDecisionLinkToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function isWellFormedDecisionLinkToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** Why a link cannot decide, in the words its page shows. */
export type DecisionLinkState = "usable" | "used" | "expired" | "closed" | "superseded" | "already_decided";

export const DECISION_LINK_STATE_MESSAGES: Record<Exclude<DecisionLinkState, "usable">, string> = {
  used: "This link was already used. Each link decides once.",
  expired: "This link has expired.",
  closed: "This request no longer waits for this decision: the stage is closed.",
  superseded: "This link was superseded: the stage was reassigned to someone else.",
  already_decided: "You have already decided on this stage.",
};

/**
 * Whether a link may decide now. Checked in this order: used, closed (the request or its stage
 * moved on), expired, superseded (the approver is no longer on the stage), already decided.
 */
export function decisionLinkState(input: {
  usedAt: Date | null;
  expiresAt: Date;
  now: Date;
  requestOpen: boolean;
  currentStage: number | null;
  linkStage: number;
  stageApproverIds: readonly string[];
  approverId: string;
  approverDecided: boolean;
}): DecisionLinkState {
  if (input.usedAt) return "used";
  if (!input.requestOpen || input.currentStage !== input.linkStage) return "closed";
  if (input.expiresAt.getTime() <= input.now.getTime()) return "expired";
  if (!input.stageApproverIds.includes(input.approverId)) return "superseded";
  if (input.approverDecided) return "already_decided";
  return "usable";
}
