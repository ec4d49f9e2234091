/**
 * The sender: claims due messages with a lease (FOR UPDATE SKIP LOCKED, committed before any
 * network I/O, so two instances never take the same row), sends each over SMTP with a stable
 * Message-ID, and records the outcome only if it still holds the lease. A sender that dies
 * mid-send leaves a lapsing lease: the message is sent again later with the same Message-ID.
 * Runs as the worker's `messages.send` job.
 */
import { MAX_SEND_ATTEMPTS, type MessageStatus, sendRetryDelayMs } from "@approvalmatrix/core";
import {
  type Database,
  and,
  asc,
  eq,
  inArray,
  isNull,
  lte,
  or,
  memberNotificationSettings,
  messages,
  sql,
  tenantNotificationSettings,
} from "@approvalmatrix/db";
import type { NotificationConfig } from "./mailer";
import { type MessageContext, loadMessageContexts } from "./message-facts";
import { renderMessage, renderSubject } from "./render";

export const SEND_LEASE_MS = 60_000;
export const SEND_BATCH = 50;

export interface SenderDeps {
  db: Database;
  apiKeyHashSecret: string;
  notifications?: NotificationConfig;
}

export interface SendOutcome {
  sent: number;
  held: number;
  skipped: number;
  digest: number;
  retried: number;
  failed: number;
}

/** The Message-ID header of a message: the same on every attempt and on every instance. */
export function messageIdHeader(messageId: string, publicUrl: string): string {
  let host = "approvalmatrix.invalid";
  try {
    host = new URL(publicUrl).hostname || host;
  } catch {
    // keep the placeholder host
  }
  return `<${messageId}@${host}>`;
}

type MessageRow = typeof messages.$inferSelect;

/** Claims up to `limit` due messages for `leaseMs`; returns their rows and the lease they hold. */
export async function claimDueMessages(db: Database, now: Date, limit = SEND_BATCH, leaseMs = SEND_LEASE_MS) {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const due = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(eq(messages.status, "pending"), lte(messages.nextAttemptAt, now), or(isNull(messages.leaseUntil), lte(messages.leaseUntil, now))),
    )
    .orderBy(asc(messages.nextAttemptAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  const rows = await db
    .update(messages)
    .set({ leaseUntil, attempts: sql`${messages.attempts} + 1` })
    .where(inArray(messages.id, due))
    .returning();
  return { rows, leaseUntil };
}

/**
 * The tenant switches and member modes a claimed batch needs, read once for the batch (not three
 * statements per message): tenant id → e-mail on, member id → mode.
 */
async function settingsFor(db: Database, rows: MessageRow[]) {
  const tenantIds = [...new Set(rows.map((r) => r.tenantId))];
  const memberIds = [...new Set(rows.map((r) => r.memberId))];
  const [tenantRows, memberRows] = await Promise.all([
    db
      .select({ tenantId: tenantNotificationSettings.tenantId, on: tenantNotificationSettings.emailEnabled })
      .from(tenantNotificationSettings)
      .where(inArray(tenantNotificationSettings.tenantId, tenantIds)),
    db
      .select({ memberId: memberNotificationSettings.memberId, mode: memberNotificationSettings.emailMode })
      .from(memberNotificationSettings)
      .where(inArray(memberNotificationSettings.memberId, memberIds)),
  ]);
  return {
    tenantOn: new Map(tenantRows.map((t) => [t.tenantId, t.on])),
    memberMode: new Map(memberRows.map((m) => [m.memberId, m.mode])),
  };
}

/** Sends (or holds, skips, defers to the digest) every due message; loops until none is due. */
export async function sendDueMessages(deps: SenderDeps, now: Date, opts: { limit?: number; leaseMs?: number } = {}): Promise<SendOutcome> {
  const outcome: SendOutcome = { sent: 0, held: 0, skipped: 0, digest: 0, retried: 0, failed: 0 };
  for (;;) {
    const { rows, leaseUntil } = await claimDueMessages(deps.db, now, opts.limit, opts.leaseMs);
    if (rows.length === 0) return outcome;
    const settings = await settingsFor(deps.db, rows);
    const publicUrl = deps.notifications?.publicUrl ?? "http://localhost:3000";
    const gated = new Map(rows.map((m) => [m.id, gateOf(m, settings)]));
    const contexts = await loadMessageContexts(
      deps.db,
      { secret: deps.apiKeyHashSecret, publicUrl, now },
      rows.filter((m) => gated.get(m.id) === null),
    );
    // Outcomes that sent nothing are recorded together; a message handed to SMTP is recorded at
    // once, so a crash right after cannot make it go out twice more than the lease allows.
    const recorded: Outcome[] = [];
    for (const message of rows) {
      const done = gated.get(message.id) ?? (await deliverOne(deps, message, contexts.get(message.id), now));
      outcome[done.result]++;
      if (done.immediate) await recordOutcomes(deps.db, leaseUntil, [done]);
      else recorded.push(done);
    }
    await recordOutcomes(deps.db, leaseUntil, recorded);
  }
}

type DeliveryResult = keyof SendOutcome;

interface Outcome {
  id: string;
  result: DeliveryResult;
  status: MessageStatus;
  lastError?: string | null;
  toAddress?: string;
  subject?: string;
  sentAt?: Date;
  nextAttemptAt?: Date;
  /** Recorded at once (it went to SMTP, or SMTP refused it), not with the batch. */
  immediate?: true;
}

/** What the tenant's switch and the member's mode decide before anything is read or rendered; null: go on. */
function gateOf(message: MessageRow, settings: Awaited<ReturnType<typeof settingsFor>>): Outcome | null {
  const mode = settings.memberMode.get(message.memberId);
  if (settings.tenantOn.get(message.tenantId) === false)
    return { id: message.id, result: "skipped", status: "skipped", lastError: "e-mail is turned off for the tenant" };
  if (mode === "off") return { id: message.id, result: "skipped", status: "skipped", lastError: "the member turned e-mail off" };
  if (mode === "digest" && message.kind !== "digest") return { id: message.id, result: "digest", status: "digest" };
  return null;
}

/**
 * Records outcomes in one statement, each only while its lease is ours: a slower sender whose
 * lease lapsed must not overwrite the outcome.
 */
async function recordOutcomes(db: Database, leaseUntil: Date, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const rows = outcomes.map((o) => ({
    id: o.id,
    status: o.status,
    last_error: o.lastError ?? null,
    to_address: o.toAddress ?? null,
    subject: o.subject ?? null,
    sent_at: o.sentAt?.toISOString() ?? null,
    next_attempt_at: o.nextAttemptAt?.toISOString() ?? null,
  }));
  await db.execute(sql`
    update messages m set
      status = v.status, lease_until = null, last_error = v.last_error,
      to_address = coalesce(v.to_address, m.to_address), subject = coalesce(v.subject, m.subject),
      sent_at = coalesce(v.sent_at::timestamptz, m.sent_at), next_attempt_at = coalesce(v.next_attempt_at::timestamptz, m.next_attempt_at)
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as v(id text, status text, last_error text, to_address text, subject text, sent_at text, next_attempt_at text)
    where m.id = v.id and m.lease_until = ${leaseUntil.toISOString()}::timestamptz`);
}

/** Renders one message and sends it over SMTP, or keeps it for the Outbox page without SMTP_URL. */
async function deliverOne(deps: SenderDeps, message: MessageRow, context: MessageContext | undefined, now: Date): Promise<Outcome> {
  const config = deps.notifications;
  const publicUrl = config?.publicUrl ?? "http://localhost:3000";
  const id = message.id;
  if (!context?.recipient.email || !context.recipient.active) {
    const lastError = !context
      ? "the recipient no longer exists"
      : context.recipient.email
        ? "the member is deactivated"
        : "the member has no e-mail address";
    return { id, result: "skipped", status: "skipped", lastError };
  }
  // A held message keeps its address and subject only (the Outbox page renders its body when shown).
  if (!config?.mailer)
    return {
      id,
      result: "held",
      status: "held",
      toAddress: context.recipient.email,
      subject: renderSubject(context.facts),
      lastError: null,
    };
  const rendered = renderMessage(context.facts);
  const addressing = { toAddress: context.recipient.email, subject: rendered.subject };
  try {
    await config.mailer.send({
      from: config.from,
      to: context.recipient.email,
      ...rendered,
      messageId: messageIdHeader(message.id, publicUrl),
    });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
    if (message.attempts >= MAX_SEND_ATTEMPTS)
      return { id, result: "failed", status: "failed", ...addressing, lastError: reason, immediate: true };
    return {
      id,
      result: "retried",
      status: "pending",
      ...addressing,
      lastError: reason,
      nextAttemptAt: new Date(now.getTime() + sendRetryDelayMs(message.attempts)),
      immediate: true,
    };
  }
  return { id, result: "sent", status: "sent", ...addressing, sentAt: now, lastError: null, immediate: true };
}
