import { type Queryable, asc, events, inArray, isNull, lt } from "@approvalmatrix/db";
import type { JobHandler } from "@approvalmatrix/jobs";

/** Events handed out per dispatch run. */
const DISPATCH_BATCH = 500;
/** How long events stay readable on GET /v1/events (documented: at least 30 days). */
export const EVENT_RETENTION_MS = 30 * 24 * 60 * 60_000;

/**
 * Takes undispatched events off the outbox in creation order, at most `limit`, under
 * FOR UPDATE SKIP LOCKED (instances dispatching at once take disjoint batches), marks them
 * dispatched and hands them to `fanOut`, all in one transaction: an event is fanned out once, and
 * a fan-out that fails leaves it undispatched. Claiming and marking are one statement (not a
 * SELECT and an UPDATE listing every id).
 */
export async function dispatchEvents(
  db: Queryable,
  now: Date,
  fanOut: (tx: Queryable, batch: (typeof events.$inferSelect)[]) => Promise<void>,
  limit = DISPATCH_BATCH,
): Promise<number> {
  return db.transaction(async (tx) => {
    const due = tx
      .select({ id: events.id })
      .from(events)
      .where(isNull(events.dispatchedAt))
      .orderBy(asc(events.seq))
      .limit(limit)
      .for("update", { skipLocked: true });
    const batch = await tx.update(events).set({ dispatchedAt: now }).where(inArray(events.id, due)).returning();
    if (batch.length === 0) return 0;
    // RETURNING keeps no order: the fan-out sees the events in creation order.
    batch.sort((a, b) => a.seq - b.seq);
    await fanOut(tx, batch);
    return batch.length;
  });
}

/**
 * The periodic `events.dispatch` job: drains the outbox. With no webhook endpoints there is
 * nothing to fan out to; the webhooks module passes its own fan-out.
 */
export function eventsDispatchJob(fanOut: Parameters<typeof dispatchEvents>[2] = async () => {}): JobHandler {
  return async (_job, { db, now }) => {
    while ((await dispatchEvents(db, now, fanOut)) === DISPATCH_BATCH) {
      // A full batch: more may be waiting.
    }
  };
}

/** The periodic `events.purge` job: events older than the retention period go. */
export const eventsPurgeJob: JobHandler = async (_job, { db, now }) => {
  await db.delete(events).where(lt(events.createdAt, new Date(now.getTime() - EVENT_RETENTION_MS)));
};
