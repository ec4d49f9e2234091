import { performance } from "node:perf_hooks";
import { type ApiKeyScope, type TenantRole, apiKeyStart, hasRole, hashApiKey, isWellFormedApiKey, parseBearer } from "@approvalmatrix/core";
import { apiKeys, type Database, eq, sql } from "@approvalmatrix/db";
import { type ApiKeyRow, findKeyCountingHit } from "./api-key-lookup";
import type { Actor, ApiContext } from "./context";
import { apiError } from "./errors";
import { idempotent } from "./idempotency-middleware";
import type { RateLimitHit, RateLimitOutcome } from "./rate-limit/rate-limiter";
import { middleware, publicProcedure } from "./trpc";

export { publicProcedure };

/** last_used_at is written at most once a minute per key and instance: not a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;
const lastUsedWrites = new Map<string, number>();

/** Failed authentications (no key, malformed or unknown key) share one budget per client address. */
export const AUTH_FAILURES_PER_MINUTE = 100;

/** A key that passed verification and the rate limit: what the scope step and the actor need. */
export interface AuthenticatedKey {
  key: ApiKeyRow;
  keyStart: string;
}

/**
 * Records the rate-limit state of a call for the response headers. In a tRPC batch the calls of
 * one HTTP request share the context and finish in any order: the state after the last counted
 * hit (a later window, or fewer remaining in the same one) wins, never an earlier figure.
 */
export function recordRateLimit(ctx: Pick<ApiContext, "response">, outcome: RateLimitOutcome): void {
  const previous = ctx.response.rateLimit;
  const later =
    !previous ||
    outcome.resetAt > previous.resetAt ||
    (outcome.resetAt === previous.resetAt && (outcome.remaining < previous.remaining || !outcome.allowed));
  if (later) ctx.response.rateLimit = outcome;
}

/**
 * Step 1, verify: the presented key must be in the Authorization header, well formed, known, not
 * revoked and not expired. Its lookup counts one hit on the key's own bucket (api-key-lookup.ts).
 * A refusal is counted on the caller's address instead (see refuseUnauthenticated).
 */
async function verifyApiKey(ctx: ApiContext): Promise<{ presented: string; key: ApiKeyRow; hit: RateLimitHit }> {
  if (ctx.credentialInQuery) {
    return refuseUnauthenticated(
      ctx,
      "API keys are accepted only in the Authorization header (Authorization: Bearer apx_live_…); remove the key from the query string, and rotate it: URLs end up in logs.",
    );
  }
  const presented = parseBearer(ctx.authorization);
  if (!presented) {
    return refuseUnauthenticated(
      ctx,
      ctx.authorization
        ? "The Authorization header must use the Bearer scheme: Authorization: Bearer apx_live_…"
        : "Missing API key. Send it as Authorization: Bearer apx_live_…",
    );
  }
  if (!isWellFormedApiKey(presented)) {
    return refuseUnauthenticated(ctx, "Malformed API key: keys are apx_live_ followed by 32 letters and digits.");
  }
  const found = await findKeyCountingHit(ctx.deps, hashApiKey(ctx.deps.apiKeyHashSecret, presented));
  if (!found.key) return refuseUnauthenticated(ctx, "Unknown API key.");
  const { key, hit } = found;
  if (ctx.observed) {
    ctx.observed.tenantId = key.tenantId;
    ctx.observed.keyId = key.id;
  }
  // A known key's refusal shows its own bucket, which the lookup counted.
  if (key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) {
    recordRateLimit(ctx, ctx.deps.rateLimiter.decide(hit, key.rateLimitPerMinute));
    throw apiError("unauthorized", key.revokedAt ? "This API key has been revoked." : "This API key has expired.");
  }
  return { presented, key, hit };
}

/**
 * 401, counted on the caller's address (never on the presented key: junk keys would each leave a
 * counter behind). Past AUTH_FAILURES_PER_MINUTE the answer is 429, which slows key guessing.
 */
async function refuseUnauthenticated(ctx: ApiContext, message: string): Promise<never> {
  const outcome = await ctx.deps.rateLimiter.consume(`unauth:${ctx.clientIp ?? "in-process"}`, AUTH_FAILURES_PER_MINUTE);
  recordRateLimit(ctx, outcome);
  if (!outcome.allowed) {
    if (ctx.observed) ctx.observed.rateLimited = "unauthenticated";
    throw apiError(
      "rate_limited",
      `Too many failed authentications from your address (${outcome.limit} per minute); retry in ${outcome.retryAfter} s.`,
    );
  }
  throw apiError("unauthorized", message);
}

/** Step 2, rate limit: the key's own per-minute limit applies to the hit its lookup counted. */
function applyRateLimit(ctx: ApiContext, key: ApiKeyRow, hit: RateLimitHit): void {
  const outcome = ctx.deps.rateLimiter.decide(hit, key.rateLimitPerMinute);
  recordRateLimit(ctx, outcome);
  if (!outcome.allowed) {
    if (ctx.observed) ctx.observed.rateLimited = "key";
    throw apiError("rate_limited", `Rate limit of ${outcome.limit} requests per minute exceeded; retry in ${outcome.retryAfter} s.`);
  }
}

/**
 * Steps 1 and 2 for one call: verify the key, then count and apply its rate limit. Throws 401 or
 * 429 with the rate-limit state recorded on ctx. A transport may run this before it reads the
 * body (REST does) and hand the result over as `ctx.authenticated`.
 */
export async function authenticateRequest(ctx: ApiContext): Promise<AuthenticatedKey> {
  const started = performance.now();
  const { presented, key, hit } = await verifyApiKey(ctx);
  applyRateLimit(ctx, key, hit);
  ctx.response.headers["Server-Timing"] = `auth;desc="auth+rate limit";dur=${(performance.now() - started).toFixed(3)}`;
  touchLastUsed(ctx.deps.db, key.id, key.lastUsedAt);
  return { key, keyStart: apiKeyStart(presented) };
}

/** Step 3, scope: the key must carry `scope`. */
function checkScope(key: ApiKeyRow, scope: ApiKeyScope): ApiKeyScope[] {
  const scopes = key.scopes as ApiKeyScope[];
  if (!scopes.includes(scope)) throw apiError("forbidden", `This API key lacks the ${scope} scope.`);
  return scopes;
}

/**
 * The key middleware: verify and rate limit (or reuse what the transport already did; each call
 * of a tRPC batch is counted), then the scope.
 */
function authenticateApiKey(scope: ApiKeyScope) {
  return middleware(async ({ ctx, next }) => {
    const { key, keyStart } = ctx.authenticated ?? (await authenticateRequest(ctx));
    const scopes = checkScope(key, scope);
    const actor: Actor = { kind: "apiKey", tenantId: key.tenantId, keyId: key.id, keyStart, scopes };
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

/** Budget of a caller without a key on an open endpoint, per client address (seed 002: verification). */
export const OPEN_CALLS_PER_MINUTE = 300;

/**
 * For endpoints anyone may call without a key (verification), rate limited per client address
 * (`perMinute`, bucket `open:<address>`). A caller that sends a key is treated like on any other
 * endpoint (401 for a bad key, its own rate limit) and must hold `scope`; it then sees only its own
 * tenant (`ctx.tenantId`). Without a key, `ctx.tenantId` is null. No Idempotency-Key: open
 * endpoints change nothing.
 */
export function openProcedure(scope: ApiKeyScope, perMinute = OPEN_CALLS_PER_MINUTE) {
  return publicProcedure.use(async ({ ctx, next }) => {
    if (ctx.authenticated || ctx.authorization !== null || ctx.credentialInQuery) {
      const { key, keyStart } = ctx.authenticated ?? (await authenticateRequest(ctx));
      const scopes = checkScope(key, scope);
      const actor: Actor = { kind: "apiKey", tenantId: key.tenantId, keyId: key.id, keyStart, scopes };
      return next({ ctx: { actor, tenantId: key.tenantId } });
    }
    const outcome = await ctx.deps.rateLimiter.consume(`open:${ctx.clientIp ?? "in-process"}`, perMinute);
    recordRateLimit(ctx, outcome);
    if (!outcome.allowed) {
      throw apiError(
        "rate_limited",
        `Rate limit of ${outcome.limit} requests per minute per address exceeded; retry in ${outcome.retryAfter} s.`,
      );
    }
    return next({ ctx: { actor: null, tenantId: null as string | null } });
  });
}

/**
 * For the admin app (a signed-in user) and the operator CLI: the tenant is the actor's own.
 * `minRole` is the least role allowed; the operator counts as owner.
 */
export function tenantProcedure(minRole: TenantRole) {
  return publicProcedure.use(({ ctx, next }) => {
    const actor = ctx.actor;
    if (!actor || actor.kind === "apiKey" || actor.kind === "scim" || actor.kind === "emailLink" || actor.kind === "system")
      throw apiError("unauthorized", "Sign in to continue.");
    if (actor.kind === "user" && !hasRole(actor.role, minRole)) {
      throw apiError("forbidden", `This needs the ${minRole} role.`);
    }
    return next({ ctx: { actor, tenantId: actor.tenantId } });
  });
}
