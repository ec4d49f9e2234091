import { type Queryable, asc, events, inArray, isNull, lt } from "@approvalmatrix/db";
import type { JobContext, JobHandler } from "@approvalmatrix/jobs";

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
  fanOut: FanOut,
  limit = DISPATCH_BATCH,
): Promise<{ events: number; created: number }> {
  return db.transaction(async (tx) => {
    const due = tx
      .select({ id: events.id })
      .from(events)
      .where(isNull(events.dispatchedAt))
      .orderBy(asc(events.seq))
      .limit(limit)
      .for("update", { skipLocked: true });
    const batch = await tx.update(events).set({ dispatchedAt: now }).where(inArray(events.id, due)).returning();
    if (batch.length === 0) return { events: 0, created: 0 };
    // RETURNING keeps no order: the fan-out sees the events in creation order.
    batch.sort((a, b) => a.seq - b.seq);
    const created = await fanOut(tx, batch);
    return { events: batch.length, created };
  });
}

/** Turns a batch of events into work (webhook deliveries) in the dispatch's transaction; returns how many rows it created. */
export type FanOut = (tx: Queryable, batch: (typeof events.$inferSelect)[]) => Promise<number>;

/**
 * The periodic `events.dispatch` job: drains the outbox. With no webhook endpoints there is
 * nothing to fan out to; the webhooks module passes its own fan-out, and `created` is told when
 * a batch's fan-out made work, after it committed.
 */
export function eventsDispatchJob(fanOut: FanOut = () => Promise.resolve(0), created?: (ctx: JobContext) => void): JobHandler {
  return async (_job, ctx) => {
    for (;;) {
      const run = await dispatchEvents(ctx.db, ctx.now, fanOut);
      // Each committed batch's work can start while the next batch is dispatched.
      if (run.created > 0) created?.(ctx);
      // A full batch: more may be waiting.
      if (run.events < DISPATCH_BATCH) break;
    }
  };
}

/** The periodic `events.purge` job: events older than the retention period go. */
export const eventsPurgeJob: JobHandler = async (_job, { db, now }) => {
  await db.delete(events).where(lt(events.createdAt, new Date(now.getTime() - EVENT_RETENTION_MS)));
};
