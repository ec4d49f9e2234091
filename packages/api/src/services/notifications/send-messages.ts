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
import { loadMessageContext } from "./message-facts";
import { renderMessage } from "./render";

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
    for (const message of rows) {
      const result = await deliverOne(deps, message, settings, leaseUntil, now);
      outcome[result]++;
    }
  }
}

type DeliveryResult = keyof SendOutcome;

async function deliverOne(
  deps: SenderDeps,
  message: MessageRow,
  settings: Awaited<ReturnType<typeof settingsFor>>,
  leaseUntil: Date,
  now: Date,
): Promise<DeliveryResult> {
  const { db } = deps;
  const config = deps.notifications;
  const publicUrl = config?.publicUrl ?? "http://localhost:3000";
  const id = message.id;
  // Only while the lease is ours: a slower sender whose lease lapsed must not overwrite the outcome.
  const finish = (status: MessageStatus, fields: Partial<typeof messages.$inferInsert> = {}) =>
    db
      .update(messages)
      .set({ status, leaseUntil: null, ...fields })
      .where(and(eq(messages.id, id), eq(messages.leaseUntil, leaseUntil)));

  const mode = settings.memberMode.get(message.memberId);
  if (settings.tenantOn.get(message.tenantId) === false) {
    await finish("skipped", { lastError: "e-mail is turned off for the tenant" });
    return "skipped";
  }
  if (mode === "off") {
    await finish("skipped", { lastError: "the member turned e-mail off" });
    return "skipped";
  }
  if (mode === "digest" && message.kind !== "digest") {
    await finish("digest");
    return "digest";
  }

  // Plain reads and one idempotent link insert: no transaction (two statements fewer per message).
  const context = await loadMessageContext(db, { secret: deps.apiKeyHashSecret, publicUrl, now }, message);
  if (!context.recipient.email || !context.recipient.active) {
    await finish("skipped", { lastError: context.recipient.email ? "the member is deactivated" : "the member has no e-mail address" });
    return "skipped";
  }
  const rendered = renderMessage(context.facts);
  const addressing = { toAddress: context.recipient.email, subject: rendered.subject };
  if (!config?.mailer) {
    await finish("held", { ...addressing, lastError: null });
    return "held";
  }
  try {
    await config.mailer.send({
      from: config.from,
      to: context.recipient.email,
      ...rendered,
      messageId: messageIdHeader(message.id, publicUrl),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (message.attempts >= MAX_SEND_ATTEMPTS) {
      await finish("failed", { ...addressing, lastError: reason.slice(0, 1000) });
      return "failed";
    }
    await finish("pending", {
      ...addressing,
      lastError: reason.slice(0, 1000),
      nextAttemptAt: new Date(now.getTime() + sendRetryDelayMs(message.attempts)),
    });
    return "retried";
  }
  await finish("sent", { ...addressing, sentAt: now, lastError: null });
  return "sent";
}
