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

/** Claims up to `limit` due messages for `leaseMs`; returns their ids and the lease they hold. */
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
    .returning({ id: messages.id });
  return { ids: rows.map((r) => r.id), leaseUntil };
}

/** Sends (or holds, skips, defers to the digest) every due message; loops until none is due. */
export async function sendDueMessages(deps: SenderDeps, now: Date, opts: { limit?: number; leaseMs?: number } = {}): Promise<SendOutcome> {
  const outcome: SendOutcome = { sent: 0, held: 0, skipped: 0, digest: 0, retried: 0, failed: 0 };
  for (;;) {
    const { ids, leaseUntil } = await claimDueMessages(deps.db, now, opts.limit, opts.leaseMs);
    if (ids.length === 0) return outcome;
    for (const id of ids) {
      const result = await deliverOne(deps, id, leaseUntil, now);
      if (result) outcome[result]++;
    }
  }
}

type DeliveryResult = keyof SendOutcome;

async function deliverOne(deps: SenderDeps, id: string, leaseUntil: Date, now: Date): Promise<DeliveryResult | null> {
  const { db } = deps;
  const config = deps.notifications;
  const publicUrl = config?.publicUrl ?? "http://localhost:3000";
  const [message] = await db.select().from(messages).where(eq(messages.id, id));
  if (!message) return null;
  // Only while the lease is ours: a slower sender whose lease lapsed must not overwrite the outcome.
  const finish = (status: MessageStatus, fields: Partial<typeof messages.$inferInsert> = {}) =>
    db
      .update(messages)
      .set({ status, leaseUntil: null, ...fields })
      .where(and(eq(messages.id, id), eq(messages.leaseUntil, leaseUntil)));

  const [tenantSetting] = await db
    .select({ on: tenantNotificationSettings.emailEnabled })
    .from(tenantNotificationSettings)
    .where(eq(tenantNotificationSettings.tenantId, message.tenantId));
  const [memberSetting] = await db
    .select({ mode: memberNotificationSettings.emailMode })
    .from(memberNotificationSettings)
    .where(eq(memberNotificationSettings.memberId, message.memberId));
  if (tenantSetting && !tenantSetting.on) {
    await finish("skipped", { lastError: "e-mail is turned off for the tenant" });
    return "skipped";
  }
  if (memberSetting?.mode === "off") {
    await finish("skipped", { lastError: "the member turned e-mail off" });
    return "skipped";
  }
  if (memberSetting?.mode === "digest" && message.kind !== "digest") {
    await finish("digest");
    return "digest";
  }

  const context = await db.transaction((tx) => loadMessageContext(tx, { secret: deps.apiKeyHashSecret, publicUrl, now }, message));
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
