import { performance } from "node:perf_hooks";
import { type ApiKeyScope, type TenantRole, apiKeyStart, hasRole, hashApiKey, isWellFormedApiKey, parseBearer } from "@approvalmatrix/core";
import { apiKeys, type Database, eq, sql } from "@approvalmatrix/db";
import type { Actor } from "./context";
import { apiError } from "./errors";
import { findKeyCountingHit } from "./api-key-lookup";
import { rateLimitHeaders } from "./rate-limit/rate-limiter";
import { idempotent } from "./services/idempotency";
import { middleware, publicProcedure } from "./trpc";

export { publicProcedure };

/** last_used_at is written at most once a minute per key and instance: not a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;
const lastUsedWrites = new Map<string, number>();

/** Authentication, rate limit and the scope check in one middleware (one step of tRPC's chain). */
function authenticateApiKey(scope: ApiKeyScope) {
  return middleware(async ({ ctx, next }) => {
    const started = performance.now();
    if (ctx.credentialInQuery) {
      throw apiError(
        "unauthorized",
        "API keys are accepted only in the Authorization header (Authorization: Bearer apx_live_…); remove the key from the query string, and rotate it: URLs end up in logs.",
      );
    }
    const presented = parseBearer(ctx.authorization);
    if (!presented) {
      throw apiError(
        "unauthorized",
        ctx.authorization
          ? "The Authorization header must use the Bearer scheme: Authorization: Bearer apx_live_…"
          : "Missing API key. Send it as Authorization: Bearer apx_live_…",
      );
    }
    if (!isWellFormedApiKey(presented)) {
      throw apiError("unauthorized", "Malformed API key: keys are apx_live_ followed by 32 letters and digits.");
    }
    const found = await findKeyCountingHit(ctx.deps, hashApiKey(ctx.deps.apiKeyHashSecret, presented));
    if (!found.key) throw apiError("unauthorized", "Unknown API key.");
    const { key, hit } = found;
    if (key.revokedAt) throw apiError("unauthorized", "This API key has been revoked.");
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw apiError("unauthorized", "This API key has expired.");

    // The key's own limit applies once its row is known.
    const outcome = ctx.deps.rateLimiter.decide(hit, key.rateLimitPerMinute);
    Object.assign(ctx.response.headers, rateLimitHeaders(outcome));
    ctx.response.headers["Server-Timing"] = `auth;desc="auth+rate limit";dur=${(performance.now() - started).toFixed(3)}`;
    if (!outcome.allowed) {
      throw apiError("rate_limited", `Rate limit of ${outcome.limit} requests per minute exceeded; retry in ${outcome.retryAfter} s.`);
    }

    touchLastUsed(ctx.deps.db, key.id, key.lastUsedAt);
    const scopes = key.scopes as ApiKeyScope[];
    if (!scopes.includes(scope)) throw apiError("forbidden", `This API key lacks the ${scope} scope.`);
    const actor: Actor = { kind: "apiKey", tenantId: key.tenantId, keyId: key.id, keyStart: apiKeyStart(presented), scopes };
    return next({ ctx: { actor, tenantId: key.tenantId } });
  });
}

function touchLastUsed(db: Database, keyId: string, lastUsedAt: Date | null): void {
  const now = Date.now();
  if (lastUsedAt && now - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  if (now - (lastUsedWrites.get(keyId) ?? 0) < LAST_USED_RESOLUTION_MS) return;
  lastUsedWrites.set(keyId, now);
  db.update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(eq(apiKeys.id, keyId))
    .then(
      () => {},
      (error: unknown) => console.warn(`could not record last use of ${keyId}:`, error),
    );
}

/**
 * For external callers: a valid key with `scope`. Auth and rate limiting run before input parsing;
 * so does the Idempotency-Key check, which every mutation gets here (services/idempotency.ts).
 */
export function apiKeyProcedure(scope: ApiKeyScope) {
  return publicProcedure.use(authenticateApiKey(scope)).use(idempotent);
}

/**
 * For the admin app (a signed-in user) and the operator CLI: the tenant is the actor's own.
 * `minRole` is the least role allowed; the operator counts as owner.
 */
export function tenantProcedure(minRole: TenantRole) {
  return publicProcedure.use(({ ctx, next }) => {
    const actor = ctx.actor;
    if (!actor || actor.kind === "apiKey") throw apiError("unauthorized", "Sign in to continue.");
    if (actor.kind === "user" && !hasRole(actor.role, minRole)) {
      throw apiError("forbidden", `This needs the ${minRole} role.`);
    }
    return next({ ctx: { actor, tenantId: actor.tenantId } });
  });
}
