/**
 * Idempotency-Key for every mutation (REST POSTs and tRPC mutations alike: both reach the same
 * procedure). The first call with a key runs and its success response is stored; a retry with the
 * same key and the same body replays that status and body for 24 hours; the same key with another
 * body or on another endpoint is refused with 409 idempotency_conflict.
 *
 * The key is claimed with INSERT … ON CONFLICT (an expired key is taken over, a live one is left
 * alone) inside the same transaction as the work itself, so the stored response and the writes it
 * describes commit together or not at all.
 * A concurrent duplicate blocks on that insert until the first call's transaction ends, then
 * replays its response (or, if the first call failed and rolled back, runs in its place): the
 * loser waits, it never runs twice. Errors are not stored: a failed call releases its key, and a
 * retry runs again (it wrote nothing, so it cannot apply twice).
 */
import { createHash } from "node:crypto";
import { type Database, type Queryable, and, eq, idempotencyKeys, lt, sql } from "@approvalmatrix/db";
import stableStringify from "safe-stable-stringify";
import { apiError } from "../errors";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
/** Replays are guaranteed for this long; older keys may be reused and are swept. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;
/** Visible ASCII, as Stripe and the IETF draft allow; long enough for any UUID or hash. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Equal bodies hash equal whatever their key order: JSON with object keys sorted at every level. */
export function requestBodyHash(input: unknown): string {
  return createHash("sha256")
    .update(stableStringify(input ?? null))
    .digest("hex");
}

export interface IdempotencyClaim {
  tenantId: string;
  key: string;
  /** The procedure path (requests.create): REST and tRPC share it, so a key means one operation. */
  endpoint: string;
  bodyHash: string;
}

export type ClaimOutcome = { kind: "claimed" } | { kind: "replay"; status: number; body: unknown };

/** Claims `claim.key` for this transaction, or returns the response stored for it. */
export async function claimIdempotencyKey(tx: Queryable, claim: IdempotencyClaim): Promise<ClaimOutcome> {
  const where = and(eq(idempotencyKeys.tenantId, claim.tenantId), eq(idempotencyKeys.key, claim.key));
  // A new key is inserted; a key past its window is taken over as if new; a live one is left
  // alone. Blocks while another transaction holds an uncommitted claim on the same key.
  const claimed = await tx
    .insert(idempotencyKeys)
    .values({ tenantId: claim.tenantId, key: claim.key, endpoint: claim.endpoint, bodyHash: claim.bodyHash })
    .onConflictDoUpdate({
      target: [idempotencyKeys.tenantId, idempotencyKeys.key],
      set: { endpoint: claim.endpoint, bodyHash: claim.bodyHash, responseStatus: null, responseBody: null, createdAt: sql`now()` },
      setWhere: lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`),
    })
    .returning({ key: idempotencyKeys.key });
  if (claimed.length > 0) return { kind: "claimed" };

  const [stored] = await tx
    .select({
      endpoint: idempotencyKeys.endpoint,
      bodyHash: idempotencyKeys.bodyHash,
      responseStatus: idempotencyKeys.responseStatus,
      // The stored JSON text itself (see storeIdempotentResponse), not drizzle's parse of the jsonb.
      responseText: sql<string | null>`${idempotencyKeys.responseBody} #>> '{}'`,
    })
    .from(idempotencyKeys)
    .where(where)
    .limit(1);
  if (!stored || stored.responseStatus === null || stored.responseText === null) {
    // Only possible if the row vanished or was written outside this protocol: ask for a retry.
    throw apiError("idempotency_conflict", "Another request with this Idempotency-Key is in progress; retry shortly.");
  }
  if (stored.endpoint !== claim.endpoint) {
    throw apiError(
      "idempotency_conflict",
      `This Idempotency-Key was already used for another operation (${stored.endpoint}). Use a new key for each operation.`,
    );
  }
  if (stored.bodyHash !== claim.bodyHash) {
    throw apiError(
      "idempotency_conflict",
      "This Idempotency-Key was already used with a different request body. Use a new key for a different request.",
    );
  }
  return { kind: "replay", status: stored.responseStatus, body: JSON.parse(stored.responseText) };
}

/** Stores the response of the call that claimed the key, in the same transaction. */
export async function storeIdempotentResponse(tx: Queryable, claim: IdempotencyClaim, status: number, body: unknown): Promise<void> {
  await tx
    .update(idempotencyKeys)
    // The exact JSON text, kept as a jsonb string: a jsonb object would reorder the keys, and a
    // replay is meant to be the same bytes as the first response.
    .set({ responseStatus: status, responseBody: sql`to_jsonb(${JSON.stringify(body ?? null)}::text)` })
    .where(and(eq(idempotencyKeys.tenantId, claim.tenantId), eq(idempotencyKeys.key, claim.key)));
}

/** Deletes keys older than the replay window; returns how many. */
export async function purgeExpiredIdempotencyKeys(db: Queryable): Promise<number> {
  const deleted = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}

/** The sweep runs at most once an hour per process, off the request path. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
let lastSweep = 0;
export function sweepNowAndThen(db: Database): void {
  const now = Date.now();
  if (now - lastSweep < SWEEP_INTERVAL_MS) return;
  lastSweep = now;
  purgeExpiredIdempotencyKeys(db).catch((error: unknown) => console.warn("could not sweep expired idempotency keys:", error));
}
