import { apiError } from "./errors";
import {
  IDEMPOTENCY_HEADER,
  type IdempotencyClaim,
  IDEMPOTENCY_KEY_PATTERN,
  claimIdempotencyKey,
  requestBodyHash,
  storeIdempotentResponse,
  sweepNowAndThen,
} from "./services/idempotency";
import { StoredResponse, middleware } from "./trpc";

/** Carries a failed result out of the transaction so that the transaction rolls back. */
class RolledBack extends Error {
  constructor(readonly result: unknown) {
    super("rolled back");
  }
}

/**
 * The Idempotency-Key step of the API-key ladder (protocol in services/idempotency.ts): after
 * authentication (it needs the tenant), before input parsing (it hashes the body as sent). Queries
 * and calls without the header pass straight through. A replay ends the call with the stored
 * response through StoredResponse, which the procedure boundary (trpc.ts) answers with.
 */
export const idempotent = middleware(async ({ ctx, meta, type, path, getRawInput, next }) => {
  const key = ctx.idempotencyKey;
  const tenantId = ctx.actor?.tenantId;
  if (type !== "mutation" || key === undefined || key === null || !tenantId) return next();
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw apiError("invalid_request", `The ${IDEMPOTENCY_HEADER} header must be 1 to 255 visible ASCII characters, such as a UUID.`, [
      { field: IDEMPOTENCY_HEADER, message: "must be 1-255 visible ASCII characters" },
    ]);
  }
  const claim: IdempotencyClaim = { tenantId, key, endpoint: path, bodyHash: requestBodyHash(await getRawInput()) };
  sweepNowAndThen(ctx.deps.db);

  try {
    return await ctx.deps.db.transaction(async (tx) => {
      const outcome = await claimIdempotencyKey(tx, claim);
      if (outcome.kind === "replay") {
        ctx.response.headers["Idempotent-Replayed"] = "true";
        throw new StoredResponse(outcome.status, outcome.body);
      }
      // The procedure runs on this transaction: its own transactions become savepoints in it.
      const result = await next({ ctx: { deps: { ...ctx.deps, db: tx } } });
      if (!result.ok) throw new RolledBack(result);
      await storeIdempotentResponse(tx, claim, ctx.response.status ?? meta?.successStatus ?? 200, result.data);
      return result;
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.result as Awaited<ReturnType<typeof next>>;
    throw error;
  }
});
