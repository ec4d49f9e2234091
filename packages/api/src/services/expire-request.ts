import { expire, isTerminal } from "@approvalmatrix/core";
import type { Database, Queryable } from "@approvalmatrix/db";
import type { Actor } from "../context";
import { lockRequest, saveTransition } from "./request-transition";

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
  await enqueueExpiry(tx, tenantId, requestId, expiresAt);
}

/** Set by the job mechanism once it is wired (see jobs/handlers.ts); a no-op only in unit tests without it. */
let enqueueExpiry: (tx: Queryable, tenantId: string, requestId: string, runAt: Date) => Promise<void> = () => Promise.resolve();

export function setExpiryEnqueuer(fn: typeof enqueueExpiry): void {
  enqueueExpiry = fn;
}

/**
 * Expires the request if it is still open at `now` and past its expires_at: terminal `expired`,
 * its open stage marked expired, audited as the platform's doing. Running it twice, or after a
 * decision closed the request, changes nothing (the job may be retried).
 */
export async function expireRequest(db: Database, tenantId: string, requestId: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const locked = await lockRequest(tx, tenantId, requestId).catch(() => null);
    if (!locked || isTerminal(locked.state.status)) return false;
    const expiresAt = locked.request.expiresAt;
    if (!expiresAt || expiresAt.getTime() > now.getTime()) return false;
    const actor: Actor = { kind: "system", tenantId, reason: "ttl_expired" };
    await saveTransition(tx, actor, locked, expire(locked.state), {
      now,
      eventData: (event) => (event.type === "status_changed" ? { expiresAt: expiresAt.toISOString() } : {}),
    });
    return true;
  });
}
