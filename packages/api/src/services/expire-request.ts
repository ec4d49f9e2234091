import { expire, isTerminal } from "@approvalmatrix/core";
import type { Database } from "@approvalmatrix/db";
import type { JobHandler } from "@approvalmatrix/jobs";
import type { Actor } from "../context";
import { describeActor } from "./actor";
import type { ReceiptSigner } from "./receipts/keys";
import { lockRequest, saveTransition } from "./request-transition";

/** The job: expire the request named in the payload (a no-op when it was decided in the meantime). */
export function requestExpireJob(signer: ReceiptSigner): JobHandler {
  return async (job, { db, now }) => {
    const requestId = job.payload.requestId;
    if (typeof requestId !== "string" || !job.tenantId) return;
    await expireRequest(db, signer, job.tenantId, requestId, now);
  };
}

/**
 * Expires the request if it is still open at `now` and past its expires_at: terminal `expired`,
 * its open stage marked expired, audited as the platform's doing. Running it twice, or after a
 * decision closed the request, changes nothing (the job may be retried).
 */
export async function expireRequest(db: Database, signer: ReceiptSigner, tenantId: string, requestId: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const locked = await lockRequest(tx, tenantId, requestId).catch(() => null);
    if (!locked || isTerminal(locked.state.status)) return false;
    const expiresAt = locked.request.expiresAt;
    if (!expiresAt || expiresAt.getTime() > now.getTime()) return false;
    const actor: Actor = { kind: "system", tenantId, reason: "ttl_expired" };
    await saveTransition(tx, actor, locked, expire(locked.state), {
      now,
      eventData: (event) => (event.type === "status_changed" ? { expiresAt: expiresAt.toISOString() } : {}),
      // The outcome receipt: the platform expired it (its time to live ran out).
      receipts: { signer, actor: await describeActor(tx, actor), reason: `ttl expired at ${expiresAt.toISOString()}` },
    });
    return true;
  });
}
