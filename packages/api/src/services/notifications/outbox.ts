/** The admin app's Outbox page and the notification settings (tenant switch, member modes). */
import { DomainError, type EmailMode } from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  and,
  desc,
  eq,
  memberNotificationSettings,
  members,
  messages,
  tenantNotificationSettings,
} from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { afterCursorRow, cursorId } from "../paging/keyset";
import type { NotificationConfig } from "./mailer";
import { loadMessageContext } from "./message-facts";
import { renderMessage } from "./render";

export interface OutboxInput {
  limit: number;
  before?: string | undefined;
}

/**
 * The tenant's messages, newest first, each rendered as it was (or will be) sent: like Mailpit,
 * so a server without SMTP_URL loses nothing and its links can be followed from here.
 */
export async function listOutbox(
  db: Database,
  deps: { apiKeyHashSecret: string; notifications?: NotificationConfig | undefined },
  tenantId: string,
  input: OutboxInput,
  now = new Date(),
) {
  const rows = await db
    .select({ message: messages, recipientName: members.name, recipientEmail: members.email })
    .from(messages)
    .innerJoin(members, eq(members.id, messages.memberId))
    .where(and(eq(messages.tenantId, tenantId), input.before ? afterCursorRow("messages", tenantId, cursorId(input.before)) : undefined))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(input.limit + 1);
  const publicUrl = deps.notifications?.publicUrl ?? "http://localhost:3000";
  const page = [];
  for (const { message, recipientName, recipientEmail } of rows.slice(0, input.limit)) {
    const context = await db.transaction((tx) => loadMessageContext(tx, { secret: deps.apiKeyHashSecret, publicUrl, now }, message));
    const rendered = renderMessage(context.facts);
    page.push({
      id: message.id,
      kind: message.kind,
      status: message.status,
      to: message.toAddress ?? recipientEmail,
      recipientName,
      subject: message.subject ?? rendered.subject,
      text: rendered.text,
      html: rendered.html,
      requestId: message.requestId,
      attempts: message.attempts,
      lastError: message.lastError,
      createdAt: message.createdAt.toISOString(),
      sentAt: message.sentAt?.toISOString() ?? null,
    });
  }
  return {
    messages: page,
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    delivery: deps.notifications?.mailer ? ("smtp" as const) : ("outbox" as const),
  };
}

export async function readNotificationSettings(db: Queryable, tenantId: string) {
  const [tenant] = await db
    .select({ emailEnabled: tenantNotificationSettings.emailEnabled })
    .from(tenantNotificationSettings)
    .where(eq(tenantNotificationSettings.tenantId, tenantId));
  return { emailEnabled: tenant?.emailEnabled ?? true };
}

export async function setTenantEmailEnabled(db: Database, actor: Actor, emailEnabled: boolean) {
  await db.transaction(async (tx) => {
    await tx
      .insert(tenantNotificationSettings)
      .values({ tenantId: actor.tenantId, emailEnabled })
      .onConflictDoUpdate({ target: tenantNotificationSettings.tenantId, set: { emailEnabled, updatedAt: new Date() } });
    await writeAudit(tx, actor, {
      action: "notifications.tenant_switch",
      targetType: "tenant",
      targetId: actor.tenantId,
      data: { emailEnabled },
    });
  });
  return { emailEnabled };
}

export async function readMemberEmailMode(db: Queryable, tenantId: string, memberId: string): Promise<EmailMode> {
  const [row] = await db
    .select({ mode: memberNotificationSettings.emailMode })
    .from(memberNotificationSettings)
    .where(and(eq(memberNotificationSettings.tenantId, tenantId), eq(memberNotificationSettings.memberId, memberId)));
  return row?.mode ?? "immediate";
}

export async function setMemberEmailMode(db: Database, actor: Actor, memberId: string, emailMode: EmailMode) {
  await db.transaction(async (tx) => {
    const [member] = await tx
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, actor.tenantId), eq(members.id, memberId)));
    if (!member) {
      throw new DomainError("not_found", `No member ${memberId}.`);
    }
    await tx
      .insert(memberNotificationSettings)
      .values({ memberId, tenantId: actor.tenantId, emailMode })
      .onConflictDoUpdate({ target: memberNotificationSettings.memberId, set: { emailMode, updatedAt: new Date() } });
    await writeAudit(tx, actor, { action: "member.email_mode_set", targetType: "member", targetId: memberId, data: { emailMode } });
  });
  return { memberId, emailMode };
}
