/**
 * The sender: claims due messages with a lease (FOR UPDATE SKIP LOCKED, committed before any
 * network I/O, so two instances never take the same row), sends each over SMTP with a stable
 * Message-ID, and records the outcome only if it still holds the lease. A sender that dies
 * mid-send leaves a lapsing lease: the message is sent again later with the same Message-ID.
 * Runs as the worker's `messages.send` job.
 */
import { type EmailMode, MAX_SEND_ATTEMPTS, type MessageKind, type MessageStatus, sendRetryDelayMs } from "@approvalmatrix/core";
import { type Database, type messages, rowsOf, sql, timestamptz } from "@approvalmatrix/db";
import type { NotificationConfig } from "./mailer";
import {
  type MessageContext,
  type MessageContextRow,
  type NewDecisionLink,
  decisionLinksInsert,
  insertDecisionLinks,
  messageContext,
} from "./message-facts";
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

/** A claimed message with what sending it needs: the tenant's switch, the member's mode, its context's row. */
interface ClaimedMessage {
  message: Pick<typeof messages.$inferSelect, "id" | "tenantId" | "memberId" | "kind" | "stage" | "data" | "attempts">;
  /** The tenant's e-mail switch; null when never set (on). */
  emailEnabled: boolean | null;
  /** The member's e-mail mode; null when never set (immediate). */
  emailMode: EmailMode | null;
  /** Null when the recipient no longer exists. */
  context: MessageContextRow | null;
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  member_id: string;
  kind: MessageKind;
  stage: number | null;
  data: Record<string, unknown>;
  attempts: number;
  email_enabled: boolean | null;
  email_mode: EmailMode | null;
  member_id_found: string | null;
  recipient_name: string | null;
  email: string | null;
  active: boolean | null;
  tenant_name: string | null;
  request_id_found: string | null;
  title: string | null;
  request_type: string | null;
  amount: number | null;
  currency: string | null;
  submitter_name: string | null;
  matrix_name: string | null;
  request_status: string | null;
  current_stage: number | null;
  total_stages: number | null;
  stage_name: string | null;
  stage_status: string | null;
  approver_ids: string[] | null;
  due_at: string | Date | null;
}

/**
 * Claims up to `limit` due messages for `leaseMs` (FOR UPDATE SKIP LOCKED: two senders never take
 * the same row) and reads, in the same statement, the settings that gate them and the facts their
 * templates need: one round trip per batch instead of four.
 */
export async function claimDueMessages(db: Database, now: Date, limit = SEND_BATCH, leaseMs = SEND_LEASE_MS) {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const at = timestamptz(now);
  const result = await db.execute(sql`
    with claimed as (
      update messages m set lease_until = ${timestamptz(leaseUntil)}, attempts = m.attempts + 1
      where m.id in (
        select id from messages
        where status = 'pending' and next_attempt_at <= ${at} and (lease_until is null or lease_until <= ${at})
        order by next_attempt_at limit ${limit}
        for update skip locked)
      returning m.id, m.tenant_id, m.member_id, m.kind, m.request_id, m.stage, m.data, m.attempts, m.next_attempt_at
    )
    select c.id, c.tenant_id, c.member_id, c.kind, c.stage, c.data, c.attempts,
      tns.email_enabled, mns.email_mode,
      mem.id as member_id_found, mem.name as recipient_name, mem.email, mem.active, t.name as tenant_name,
      r.id as request_id_found, r.title, r.request_type, r.amount, r.currency, sub.name as submitter_name, r.matrix_name,
      r.status as request_status, r.current_stage, r.total_stages,
      rs.name as stage_name, rs.status as stage_status, rs.approver_ids, rs.due_at
    from claimed c
    left join tenants t on t.id = c.tenant_id
    left join members mem on mem.tenant_id = c.tenant_id and mem.id = c.member_id
    left join tenant_notification_settings tns on tns.tenant_id = c.tenant_id
    left join member_notification_settings mns on mns.member_id = c.member_id
    left join requests r on r.tenant_id = c.tenant_id and r.id = c.request_id
    left join members sub on sub.id = r.submitter_id
    left join request_stages rs on rs.tenant_id = c.tenant_id and rs.request_id = r.id and rs.position = c.stage
    order by c.next_attempt_at, c.id`);
  return { claimed: rowsOf<ClaimRow>(result).map(claimedMessage), leaseUntil };
}

function claimedMessage(row: ClaimRow): ClaimedMessage {
  const found = row.member_id_found !== null && row.tenant_name !== null;
  return {
    message: {
      id: row.id,
      tenantId: row.tenant_id,
      memberId: row.member_id,
      kind: row.kind,
      stage: row.stage,
      data: row.data,
      attempts: row.attempts,
    },
    emailEnabled: row.email_enabled,
    emailMode: row.email_mode,
    context: found
      ? {
          recipientName: row.recipient_name ?? "",
          email: row.email,
          active: row.active ?? false,
          tenantName: row.tenant_name ?? "",
          requestId: row.request_id_found,
          title: row.title,
          requestType: row.request_type,
          amount: row.amount,
          currency: row.currency,
          submitterName: row.submitter_name,
          matrixName: row.matrix_name,
          requestStatus: row.request_status,
          currentStage: row.current_stage,
          totalStages: row.total_stages,
          stageName: row.stage_name,
          stageStatus: row.stage_status,
          approverIds: row.approver_ids,
          // postgres.js (under drizzle) hands instants over as text, PGlite as Dates.
          dueAt: row.due_at === null ? null : new Date(row.due_at),
        }
      : null,
  };
}

/** Sends (or holds, skips, defers to the digest) every due message; loops until none is due. */
export async function sendDueMessages(deps: SenderDeps, now: Date, opts: { limit?: number; leaseMs?: number } = {}): Promise<SendOutcome> {
  const outcome: SendOutcome = { sent: 0, held: 0, skipped: 0, digest: 0, retried: 0, failed: 0 };
  const publicUrl = deps.notifications?.publicUrl ?? "http://localhost:3000";
  const mailer = deps.notifications?.mailer ?? null;
  for (;;) {
    const { claimed, leaseUntil } = await claimDueMessages(deps.db, now, opts.limit, opts.leaseMs);
    if (claimed.length === 0) return outcome;
    const links: NewDecisionLink[] = [];
    const contexts = new Map<string, MessageContext | undefined>();
    const gated = new Map<string, Outcome | null>();
    for (const c of claimed) {
      const gate = gateOf(c);
      gated.set(c.message.id, gate);
      // Only a message that goes on gets its context (and its one-click link).
      if (gate === null && c.context) {
        contexts.set(c.message.id, messageContext(c.message, c.context, { secret: deps.apiKeyHashSecret, publicUrl, now }, links));
      }
    }
    // The links exist before any message carrying them leaves. Without SMTP nothing leaves: they
    // are written with the outcomes, in one statement.
    if (mailer && links.length) await insertDecisionLinks(deps.db, links);
    // Outcomes that sent nothing are recorded together; a message handed to SMTP is recorded at
    // once, so a crash right after cannot make it go out twice more than the lease allows.
    const recorded: Outcome[] = [];
    for (const { message } of claimed) {
      const done = gated.get(message.id) ?? (await deliverOne(deps, message, contexts.get(message.id), now));
      outcome[done.result]++;
      if (done.immediate) await recordOutcomes(deps.db, leaseUntil, [done]);
      else recorded.push(done);
    }
    await recordOutcomes(deps.db, leaseUntil, recorded, mailer ? [] : links);
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

/** What the tenant's switch and the member's mode decide before anything is rendered; null: go on. */
function gateOf({ message, emailEnabled, emailMode }: ClaimedMessage): Outcome | null {
  if (emailEnabled === false)
    return { id: message.id, result: "skipped", status: "skipped", lastError: "e-mail is turned off for the tenant" };
  if (emailMode === "off") return { id: message.id, result: "skipped", status: "skipped", lastError: "the member turned e-mail off" };
  if (emailMode === "digest" && message.kind !== "digest") return { id: message.id, result: "digest", status: "digest" };
  return null;
}

/**
 * Records outcomes in one statement, each only while its lease is ours: a slower sender whose
 * lease lapsed must not overwrite the outcome. `links` (a batch kept without SMTP) are inserted by
 * the same statement.
 */
async function recordOutcomes(db: Database, leaseUntil: Date, outcomes: Outcome[], links: NewDecisionLink[] = []): Promise<void> {
  if (outcomes.length === 0 && links.length === 0) return;
  const rows = outcomes.map((o) => ({
    id: o.id,
    status: o.status,
    last_error: o.lastError ?? null,
    to_address: o.toAddress ?? null,
    subject: o.subject ?? null,
    sent_at: o.sentAt?.toISOString() ?? null,
    next_attempt_at: o.nextAttemptAt?.toISOString() ?? null,
  }));
  // A data-modifying WITH always runs, whether or not the UPDATE reads it.
  await db.execute(sql`
    ${links.length ? sql`with new_links as (${decisionLinksInsert(links)})` : sql``}
    update messages m set
      status = v.status, lease_until = null, last_error = v.last_error,
      to_address = coalesce(v.to_address, m.to_address), subject = coalesce(v.subject, m.subject),
      sent_at = coalesce(v.sent_at::timestamptz, m.sent_at), next_attempt_at = coalesce(v.next_attempt_at::timestamptz, m.next_attempt_at)
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as v(id text, status text, last_error text, to_address text, subject text, sent_at text, next_attempt_at text)
    where m.id = v.id and m.lease_until = ${timestamptz(leaseUntil)}`);
}

/** Renders one message and sends it over SMTP, or keeps it for the Outbox page without SMTP_URL. */
async function deliverOne(
  deps: SenderDeps,
  message: ClaimedMessage["message"],
  context: MessageContext | undefined,
  now: Date,
): Promise<Outcome> {
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
