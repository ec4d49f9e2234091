import { newId } from "@approvalmatrix/core";
import { type Queryable, and, eq, isNotNull, jobs, like, sql } from "@approvalmatrix/db";

export interface NewJob {
  /** Which handler runs it (the worker's `handlers` map). */
  kind: string;
  payload?: Record<string, unknown>;
  /** Not before this instant; now when absent. */
  runAt?: Date;
  /**
   * At most one live job per key: enqueueing a key that is already queued does nothing (a
   * deadline planned twice, a periodic job started by every instance). A key whose job ran out of
   * attempts is revived.
   */
  dedupeKey?: string;
  tenantId?: string;
  /** Failures (thrown errors) before the job is kept as failed; 20 by default. */
  maxAttempts?: number;
}

/**
 * Queues a job. Call it with the transaction that makes the change the job follows from: the job
 * commits with the change or not at all (a crash can neither lose it nor run it for a rollback).
 */
export async function enqueueJob(tx: Queryable, job: NewJob): Promise<void> {
  await enqueueJobs(tx, [job]);
}

export async function enqueueJobs(tx: Queryable, list: NewJob[]): Promise<void> {
  if (list.length === 0) return;
  const now = new Date();
  await tx
    .insert(jobs)
    .values(
      list.map((job) => ({
        id: newId("job"),
        kind: job.kind,
        payload: job.payload ?? {},
        tenantId: job.tenantId ?? null,
        dedupeKey: job.dedupeKey ?? null,
        runAt: job.runAt ?? now,
        maxAttempts: job.maxAttempts ?? 20,
        createdAt: now,
      })),
    )
    .onConflictDoUpdate({
      target: jobs.dedupeKey,
      set: {
        runAt: sql`excluded.run_at`,
        payload: sql`excluded.payload`,
        attempts: 0,
        failedAt: null,
        lastError: null,
      },
      // Only a failed job is replaced; a live one with the key stands.
      setWhere: isNotNull(jobs.failedAt),
    });
}

export interface JobFilter {
  kind?: string;
  dedupeKey?: string;
  /** Every job whose key starts with this (e.g. `deadline:req_123:`). */
  dedupeKeyPrefix?: string;
  tenantId?: string;
}

/**
 * Deletes queued jobs that no longer apply (a request decided before its deadline), in the
 * caller's transaction. A job already running finishes; handlers re-check their preconditions.
 */
export async function cancelJobs(tx: Queryable, filter: JobFilter): Promise<number> {
  const conditions = [
    filter.kind === undefined ? undefined : eq(jobs.kind, filter.kind),
    filter.dedupeKey === undefined ? undefined : eq(jobs.dedupeKey, filter.dedupeKey),
    filter.dedupeKeyPrefix === undefined ? undefined : like(jobs.dedupeKey, `${escapeLikePattern(filter.dedupeKeyPrefix)}%`),
    filter.tenantId === undefined ? undefined : eq(jobs.tenantId, filter.tenantId),
  ].filter((c) => c !== undefined);
  if (conditions.length === 0) throw new Error("cancelJobs needs a filter");
  const deleted = await tx
    .delete(jobs)
    .where(and(...conditions))
    .returning({ id: jobs.id });
  return deleted.length;
}

function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
