/**
 * Everything a message's template needs, read when it is sent (or shown in the Outbox page). An
 * approver's message gets its one-click link here: the link row is created once (its id derives
 * from the message's), and its token is recomputed from the secret, never stored.
 */
import { asksForDecision, decisionLinkToken, hashDecisionLinkToken, must } from "@approvalmatrix/core";
import {
  type Queryable,
  type SQL,
  alias,
  and,
  decisionLinks,
  eq,
  inArray,
  members,
  messages,
  requestStages,
  requests,
  sql,
  tenants,
} from "@approvalmatrix/db";
import type { DigestItem } from "./digests";
import { type MessageFacts, formatAmount } from "./render";

/** How long a link lives at most; it dies earlier when its stage closes. */
export const DECISION_LINK_MAX_AGE_MS = 30 * 24 * 3_600_000;

/** Kinds that ask the recipient to decide, and so carry Approve/Reject links. */
export function decisionLinkIdFor(messageId: string): string {
  return `dlk_${messageId.slice(messageId.indexOf("_") + 1)}`;
}

export function decisionLinkUrl(publicUrl: string, token: string, decision: "approved" | "rejected"): string {
  return `${publicUrl}/decide/${token}?decision=${decision}`;
}

export interface MessageContext {
  facts: MessageFacts;
  recipient: { email: string | null; active: boolean };
}

export async function loadMessageContext(
  tx: Queryable,
  opts: { secret: string; publicUrl: string; now: Date },
  message: typeof messages.$inferSelect,
): Promise<MessageContext> {
  return must((await loadMessageContexts(tx, opts, [message])).get(message.id), "the message's recipient");
}

const submitters = alias(members, "submitter");

export interface NewDecisionLink {
  id: string;
  tenantId: string;
  requestId: string;
  stage: number;
  approverId: string;
  messageId: string;
  tokenHash: string;
  expiresAt: Date;
  createdAt: Date;
}

/**
 * The contexts of a batch of messages (message id → context) in one read, and the links the
 * asking ones carry in one insert: a sender working off a backlog pays two statements per batch,
 * not four per message. A message whose recipient is gone has no entry.
 */
export async function loadMessageContexts(
  db: Queryable,
  opts: { secret: string; publicUrl: string; now: Date },
  batch: (typeof messages.$inferSelect)[],
): Promise<Map<string, MessageContext>> {
  const contexts = new Map<string, MessageContext>();
  if (batch.length === 0) return contexts;
  const rows = await db
    .select({
      messageId: messages.id,
      recipientName: members.name,
      email: members.email,
      active: members.active,
      tenantName: tenants.name,
      requestId: requests.id,
      title: requests.title,
      requestType: requests.requestType,
      amount: requests.amount,
      currency: requests.currency,
      submitterName: submitters.name,
      matrixName: requests.matrixName,
      requestStatus: requests.status,
      currentStage: requests.currentStage,
      totalStages: requests.totalStages,
      stageName: requestStages.name,
      stageStatus: requestStages.status,
      approverIds: requestStages.approverIds,
      dueAt: requestStages.dueAt,
    })
    .from(messages)
    .innerJoin(members, and(eq(members.tenantId, messages.tenantId), eq(members.id, messages.memberId)))
    .innerJoin(tenants, eq(tenants.id, messages.tenantId))
    .leftJoin(requests, and(eq(requests.tenantId, messages.tenantId), eq(requests.id, messages.requestId)))
    .leftJoin(submitters, eq(submitters.id, requests.submitterId))
    .leftJoin(
      requestStages,
      and(
        eq(requestStages.tenantId, messages.tenantId),
        eq(requestStages.requestId, requests.id),
        eq(requestStages.position, messages.stage),
      ),
    )
    .where(
      inArray(
        messages.id,
        batch.map((m) => m.id),
      ),
    );
  const byId = new Map(rows.map((r) => [r.messageId, r]));
  const links: NewDecisionLink[] = [];
  for (const message of batch) {
    const row = byId.get(message.id);
    if (row) contexts.set(message.id, messageContext(message, row, opts, links));
  }
  // A link is created once (its id derives from the message's): a second send finds it there.
  await insertDecisionLinks(db, links);
  return contexts;
}

/** What a message's context is read from: its recipient, tenant, request and stage (null when gone). */
export interface MessageContextRow {
  recipientName: string;
  email: string | null;
  active: boolean;
  tenantName: string;
  requestId: string | null;
  title: string | null;
  requestType: string | null;
  amount: number | null;
  currency: string | null;
  submitterName: string | null;
  matrixName: string | null;
  requestStatus: string | null;
  currentStage: number | null;
  totalStages: number | null;
  stageName: string | null;
  stageStatus: string | null;
  approverIds: string[] | null;
  dueAt: Date | null;
}

type ContextMessage = Pick<typeof messages.$inferSelect, "id" | "tenantId" | "memberId" | "kind" | "stage" | "data">;

/**
 * A message's context from its row; an asking message's one-click link goes into `links` (to be
 * inserted before the message is sent or shown).
 */
export function messageContext(
  message: ContextMessage,
  row: MessageContextRow,
  opts: { secret: string; publicUrl: string; now: Date },
  links: NewDecisionLink[],
): MessageContext {
  let request: MessageFacts["request"] = null;
  let stage: MessageFacts["stage"] = null;
  let linkUrls: MessageFacts["links"] = null;
  if (row.requestId !== null && row.title !== null && row.requestType !== null && row.requestStatus !== null) {
    request = {
      id: row.requestId,
      title: row.title,
      requestType: row.requestType,
      amount: row.amount,
      currency: row.currency,
      submitterName: row.submitterName ?? "",
      matrixName: row.matrixName ?? "",
      status: row.requestStatus,
    };
    if (message.stage !== null && row.stageName !== null && row.stageStatus !== null) {
      stage = { position: message.stage, name: row.stageName, total: row.totalStages ?? 0, dueAt: row.dueAt };
      const asks = asksForDecision(message.kind) && row.stageStatus === "open" && row.currentStage === message.stage;
      if (asks && (row.approverIds ?? []).includes(message.memberId)) {
        const linkId = decisionLinkIdFor(message.id);
        const token = decisionLinkToken(opts.secret, linkId);
        links.push({
          id: linkId,
          tenantId: message.tenantId,
          requestId: row.requestId,
          stage: message.stage,
          approverId: message.memberId,
          messageId: message.id,
          tokenHash: hashDecisionLinkToken(token),
          expiresAt: new Date(opts.now.getTime() + DECISION_LINK_MAX_AGE_MS),
          createdAt: opts.now,
        });
        linkUrls = {
          approve: decisionLinkUrl(opts.publicUrl, token, "approved"),
          reject: decisionLinkUrl(opts.publicUrl, token, "rejected"),
        };
      }
    }
  }
  return {
    recipient: { email: row.email, active: row.active },
    facts: {
      kind: message.kind,
      tenantName: row.tenantName,
      recipientName: row.recipientName,
      request,
      stage,
      links: linkUrls,
      requestUrl: request ? `${opts.publicUrl}/requests/${request.id}` : null,
      data: message.data,
      ...(message.kind === "digest" ? { digestLines: digestLines(message.data, opts.publicUrl) } : {}),
    },
  };
}

/**
 * The INSERT of a batch's links, as one JSON parameter rather than nine per row (drizzle's building
 * of a many-row VALUES list was the sender's largest CPU cost). A link that exists stays.
 */
export function decisionLinksInsert(links: NewDecisionLink[]): SQL {
  const rows = links.map((l) => ({
    id: l.id,
    tenant_id: l.tenantId,
    request_id: l.requestId,
    stage: l.stage,
    approver_id: l.approverId,
    message_id: l.messageId,
    token_hash: l.tokenHash,
    expires_at: l.expiresAt.toISOString(),
    created_at: l.createdAt.toISOString(),
  }));
  return sql`
    insert into ${decisionLinks} (id, tenant_id, request_id, stage, approver_id, message_id, token_hash, expires_at, created_at)
    select v.id, v.tenant_id, v.request_id, v.stage, v.approver_id, v.message_id, v.token_hash, v.expires_at, v.created_at
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as v(id text, tenant_id text, request_id text, stage integer, approver_id text, message_id text, token_hash text,
        expires_at timestamptz, created_at timestamptz)
    on conflict do nothing`;
}

export async function insertDecisionLinks(db: Queryable, links: NewDecisionLink[]): Promise<void> {
  if (links.length) await db.execute(decisionLinksInsert(links));
}

/** One line per approval a digest lists, with the request's page. */
function digestLines(data: Record<string, unknown>, publicUrl: string): string[] {
  const items = Array.isArray(data.items) ? (data.items as DigestItem[]) : [];
  return items.map(
    (i) =>
      `${i.title} — ${formatAmount(i.amount, i.currency)} from ${i.submitterName}, ${i.stageName} (stage ${i.stage} of ${i.totalStages})` +
      `${i.dueAt ? `, due ${i.dueAt.replace(".000Z", "Z")}` : ""}: ${publicUrl}/requests/${i.requestId}`,
  );
}
