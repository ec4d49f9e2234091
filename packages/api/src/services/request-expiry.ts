import type { Queryable } from "@approvalmatrix/db";
import { cancelJobs, enqueueJob } from "@approvalmatrix/jobs";

/** The job kind that expires one request whose ttlSeconds ran out (jobs/handlers.ts). */
export const REQUEST_EXPIRE_JOB = "request.expire";

export function requestExpiryDedupeKey(requestId: string): string {
  return `${REQUEST_EXPIRE_JOB}:${requestId}`;
}

/**
 * Enqueues the expiry of a request with ttlSeconds, inside the transaction that creates it: the
 * job is a row (durable across restarts, claimed once across instances), not a timer in memory.
 */
export async function scheduleRequestExpiry(tx: Queryable, tenantId: string, requestId: string, expiresAt: Date): Promise<void> {
  await enqueueJob(tx, {
    kind: REQUEST_EXPIRE_JOB,
    payload: { requestId },
    runAt: expiresAt,
    dedupeKey: requestExpiryDedupeKey(requestId),
    tenantId,
  });
}

/** Drops the expiry job of a request that reached a terminal status first (in its transaction). */
export async function cancelRequestExpiry(tx: Queryable, requestId: string): Promise<void> {
  await cancelJobs(tx, { dedupeKey: requestExpiryDedupeKey(requestId) });
}
