/**
 * The daily digest: a member who chose "daily digest" gets one e-mail a day, at DIGEST_HOUR_UTC,
 * listing the approvals still waiting for them among the messages queued since their last digest
 * (the sender parks those as `digest`). Composed by the worker's periodic `messages.digest` job;
 * the digest is an outbox row like any other message, sent by the sender. Exactly once per member
 * and day across instances: the row's dedupe key (`digest:<member>:<day>`) is unique, and only the
 * composer whose insert wins marks the carried messages.
 */
import { DIGEST_HOUR_UTC, asksForDecision, digestDedupeKey, digestSlot, newId } from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  and,
  asc,
  decisions,
  eq,
  inArray,
  lte,
  members,
  messages,
  requestStages,
  requests,
  sql,
} from "@approvalmatrix/db";

/** One approval waiting for the member, as the digest lists it. */
export interface DigestItem {
  requestId: string;
  title: string;
  amount: number | null;
  currency: string | null;
  submitterName: string;
  stageName: string;
  stage: number;
  totalStages: number;
  dueAt: string | null;
}

export interface DigestOutcome {
  /** Digests queued for sending. */
  composed: number;
  /** Members whose parked messages no longer ask anything (decided, cancelled): no e-mail. */
  empty: number;
}

/** Composes every digest owed at `now` (the worker's `messages.digest` job passes its clock's time). */
export async function composeDueDigests(db: Database, now: Date, hourUtc: number = DIGEST_HOUR_UTC): Promise<DigestOutcome> {
  const slot = digestSlot(now, hourUtc);
  const owed = await db
    .selectDistinct({ tenantId: messages.tenantId, memberId: messages.memberId })
    .from(messages)
    .where(and(eq(messages.status, "digest"), lte(messages.createdAt, slot.at)));
  const outcome: DigestOutcome = { composed: 0, empty: 0 };
  for (const member of owed) {
    const result = await db.transaction((tx) => composeDigest(tx, member.tenantId, member.memberId, slot, now));
    if (result) outcome[result]++;
  }
  return outcome;
}

async function composeDigest(
  tx: Queryable,
  tenantId: string,
  memberId: string,
  slot: { day: string; at: Date },
  now: Date,
): Promise<keyof DigestOutcome | null> {
  const digestId = newId("message");
  // First the unique key: a second composer (another instance) waits here for the first to commit,
  // then inserts nothing and leaves.
  const [inserted] = await tx
    .insert(messages)
    .values({
      id: digestId,
      tenantId,
      memberId,
      kind: "digest",
      data: { day: slot.day, items: [] },
      dedupeKey: digestDedupeKey(memberId, slot.day),
      nextAttemptAt: now,
      createdAt: now,
    })
    .onConflictDoNothing({ target: messages.dedupeKey, where: sql`${messages.dedupeKey} is not null` })
    .returning({ id: messages.id });
  if (!inserted) return null;

  const carried = await tx
    .update(messages)
    .set({ status: "digested", digestId })
    .where(
      and(
        eq(messages.tenantId, tenantId),
        eq(messages.memberId, memberId),
        eq(messages.status, "digest"),
        lte(messages.createdAt, slot.at),
      ),
    )
    .returning({ requestId: messages.requestId, stage: messages.stage, kind: messages.kind });
  const asking = carried.filter((m) => m.requestId !== null && asksForDecision(m.kind));
  const items = await waitingItems(
    tx,
    tenantId,
    memberId,
    asking.map((m) => m.requestId ?? ""),
  );
  if (items.length === 0) {
    // Kept, so the day's digest stays taken and the Outbox says why nothing went out.
    await tx
      .update(messages)
      .set({ status: "skipped", lastError: "nothing in the digest still waits for the member" })
      .where(eq(messages.id, digestId));
    return "empty";
  }
  await tx
    .update(messages)
    .set({ data: { day: slot.day, items } })
    .where(eq(messages.id, digestId));
  return "composed";
}

/** Of these requests, those whose open stage still waits on the member, oldest first. */
async function waitingItems(tx: Queryable, tenantId: string, memberId: string, requestIds: string[]): Promise<DigestItem[]> {
  const ids = [...new Set(requestIds)];
  if (ids.length === 0) return [];
  const rows = await tx
    .select({
      requestId: requests.id,
      title: requests.title,
      amount: requests.amount,
      currency: requests.currency,
      submitterName: members.name,
      stageName: requestStages.name,
      stage: requestStages.position,
      totalStages: requests.totalStages,
      dueAt: requestStages.dueAt,
    })
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .innerJoin(
      requestStages,
      and(eq(requestStages.requestId, requests.id), eq(requestStages.position, requests.currentStage), eq(requestStages.status, "open")),
    )
    .where(
      and(
        eq(requests.tenantId, tenantId),
        inArray(requests.id, ids),
        sql`${memberId} = any(${requestStages.approverIds})`,
        sql`not exists (select 1 from ${decisions} d where d.request_id = ${requests.id} and d.stage = ${requestStages.position} and d.approver_id = ${memberId})`,
      ),
    )
    .orderBy(asc(requests.createdAt));
  return rows.map((r) => ({ ...r, dueAt: r.dueAt?.toISOString() ?? null }));
}
