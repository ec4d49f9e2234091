/**
 * Writing messages into the outbox, always inside the caller's transaction (or statement): a
 * committed change has its messages, a rolled-back one has none. The worker sends them.
 */
import { type MessageKind, newId } from "@approvalmatrix/core";
import { type Queryable, messages } from "@approvalmatrix/db";

export interface QueuedMessage {
  memberId: string;
  kind: MessageKind;
  requestId?: string | null;
  stage?: number | null;
  data?: Record<string, unknown>;
}

export async function queueMessages(tx: Queryable, tenantId: string, list: QueuedMessage[], now: Date): Promise<void> {
  if (list.length === 0) return;
  await tx.insert(messages).values(
    list.map((m) => ({
      id: newId("message"),
      tenantId,
      memberId: m.memberId,
      kind: m.kind,
      requestId: m.requestId ?? null,
      stage: m.stage ?? null,
      data: m.data ?? {},
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
}

/** One `stage_opened` (or reminder, escalation…) message per approver of a stage. */
export function stageMessages(
  requestId: string,
  stage: number,
  approverIds: readonly string[],
  kind: MessageKind = "stage_opened",
): QueuedMessage[] {
  return [...new Set(approverIds)].map((memberId) => ({ memberId, kind, requestId, stage }));
}
