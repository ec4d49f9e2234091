/**
 * Everything a message's template needs, read when it is sent (or shown in the Outbox page). An
 * approver's message gets its one-click link here: the link row is created once (its id derives
 * from the message's), and its token is recomputed from the secret, never stored.
 */
import { decisionLinkToken, hashDecisionLinkToken, must } from "@approvalmatrix/core";
import { type Queryable, and, decisionLinks, eq, members, type messages, requestStages, requests, tenants } from "@approvalmatrix/db";
import type { DigestItem } from "./digests";
import { type MessageFacts, formatAmount } from "./render";

/** How long a link lives at most; it dies earlier when its stage closes. */
export const DECISION_LINK_MAX_AGE_MS = 30 * 24 * 3_600_000;

/** Kinds that ask the recipient to decide, and so carry Approve/Reject links. */
const ASKING_KINDS = new Set(["stage_opened", "reminder", "escalated", "reassigned"]);

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
  const [recipient] = await tx
    .select({ name: members.name, email: members.email, active: members.active, tenantName: tenants.name })
    .from(members)
    .innerJoin(tenants, eq(tenants.id, members.tenantId))
    .where(and(eq(members.tenantId, message.tenantId), eq(members.id, message.memberId)));
  const who = must(recipient, "the message's recipient");
  let request: MessageFacts["request"] = null;
  let stage: MessageFacts["stage"] = null;
  let links: MessageFacts["links"] = null;
  if (message.requestId) {
    const [row] = await tx
      .select({
        id: requests.id,
        title: requests.title,
        requestType: requests.requestType,
        amount: requests.amount,
        currency: requests.currency,
        submitterName: members.name,
        matrixName: requests.matrixName,
        status: requests.status,
        currentStage: requests.currentStage,
        totalStages: requests.totalStages,
      })
      .from(requests)
      .innerJoin(members, eq(members.id, requests.submitterId))
      .where(and(eq(requests.tenantId, message.tenantId), eq(requests.id, message.requestId)));
    if (row) {
      const { currentStage, totalStages, ...rest } = row;
      request = rest;
      if (message.stage !== null) {
        const [s] = await tx
          .select({
            name: requestStages.name,
            status: requestStages.status,
            approverIds: requestStages.approverIds,
            dueAt: requestStages.dueAt,
          })
          .from(requestStages)
          .where(
            and(
              eq(requestStages.tenantId, message.tenantId),
              eq(requestStages.requestId, row.id),
              eq(requestStages.position, message.stage),
            ),
          );
        if (s) {
          stage = { position: message.stage, name: s.name, total: totalStages, dueAt: s.dueAt };
          const asks = ASKING_KINDS.has(message.kind) && s.status === "open" && currentStage === message.stage;
          if (asks && s.approverIds.includes(message.memberId)) {
            const linkId = decisionLinkIdFor(message.id);
            const token = decisionLinkToken(opts.secret, linkId);
            await tx
              .insert(decisionLinks)
              .values({
                id: linkId,
                tenantId: message.tenantId,
                requestId: row.id,
                stage: message.stage,
                approverId: message.memberId,
                messageId: message.id,
                tokenHash: hashDecisionLinkToken(token),
                expiresAt: new Date(opts.now.getTime() + DECISION_LINK_MAX_AGE_MS),
                createdAt: opts.now,
              })
              .onConflictDoNothing();
            links = {
              approve: decisionLinkUrl(opts.publicUrl, token, "approved"),
              reject: decisionLinkUrl(opts.publicUrl, token, "rejected"),
            };
          }
        }
      }
    }
  }
  return {
    recipient: { email: who.email, active: who.active },
    facts: {
      kind: message.kind,
      tenantName: who.tenantName,
      recipientName: who.name,
      request,
      stage,
      links,
      requestUrl: request ? `${opts.publicUrl}/requests/${request.id}` : null,
      data: message.data,
      ...(message.kind === "digest" ? { digestLines: digestLines(message.data, opts.publicUrl) } : {}),
    },
  };
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
