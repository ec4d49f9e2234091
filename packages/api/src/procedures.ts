import { performance } from "node:perf_hooks";
import {
  type ApiKeyScope,
  type KeyRateLimitBucket,
  PUBLIC_RATE_LIMITS,
  type TenantRole,
  apiKeyStart,
  hasRole,
  hashApiKey,
  isServiceToken,
  isWellFormedApiKey,
  parseBearer,
} from "@approvalmatrix/core";
import { type ApiKeyRow, findKeyCountingHit } from "./api-key-lookup";
import type { Actor, ApiContext } from "./context";
import { apiError } from "./errors";
import { idempotent } from "./idempotency-middleware";
import { type AuthenticatedServiceToken, authenticateServiceToken } from "./service-token-auth";
import { keyUsageRecorder } from "./services/api-keys/usage";
import type { RateLimitOutcome } from "./rate-limit/rate-limiter";
import { recordRateLimit } from "./rate-limit/record";
import { type ProcedureMeta, middleware, publicProcedure } from "./trpc";

export { publicProcedure, recordRateLimit };

/** Failed authentications (no key, malformed or unknown key) share one budget per client address. */
export const AUTH_FAILURES_PER_MINUTE = PUBLIC_RATE_LIMITS.unauthenticated.limit;

/** A key that passed verification and the rate limit: what the scope step and the actor need. */
export interface AuthenticatedKey {
  kind: "apiKey";
  key: ApiKeyRow;
  keyStart: string;
}

/** Who a transport authenticated: an API key, or an internal service token acting for an approver. */
export type AuthenticatedCaller = AuthenticatedKey | AuthenticatedServiceToken;

/**
 * Step 1, verify: the presented key must be in the Authorization header, well formed, known, not
 * revoked and not expired. Its lookup counts one hit on the key's own bucket (api-key-lookup.ts).
 * A refusal is counted on the caller's address instead (see refuseUnauthenticated).
 */
async function verifyApiKey(
  ctx: ApiContext,
  bucket: KeyRateLimitBucket,
): Promise<{ presented: string; key: ApiKeyRow; outcome: RateLimitOutcome }> {
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
  const found = await findKeyCountingHit(ctx.deps, hashApiKey(ctx.deps.apiKeyHashSecret, presented), bucket);
  if (!found.key) return refuseUnauthenticated(ctx, "Unknown API key.");
  const { key, outcome } = found;
  if (ctx.observed) {
    ctx.observed.tenantId = key.tenantId;
    ctx.observed.keyId = key.id;
  }
  // A known key's refusal shows its own bucket, which the lookup counted. An expiry (a reroll's
  // grace included) is compared with this instance's clock on every call: no cache to go stale.
  const refusal = key.revokedAt
    ? "This API key has been revoked."
    : key.expiresAt && key.expiresAt.getTime() <= ctx.deps.clock.now().getTime()
      ? "This API key has expired."
      : key.disabledAt
        ? "This API key is disabled."
        : null;
  if (refusal) {
    recordRateLimit(ctx, outcome);
    throw apiError("unauthorized", refusal);
  }
  return { presented, key, outcome };
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

/** Step 2, rate limit: the outcome of the call the lookup made on the key's bucket. */
function applyRateLimit(ctx: ApiContext, outcome: RateLimitOutcome): void {
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
export async function authenticateRequest(ctx: ApiContext, bucket: KeyRateLimitBucket): Promise<AuthenticatedCaller> {
  const bearer = ctx.credentialInQuery ? null : parseBearer(ctx.authorization);
  if (bearer && isServiceToken(bearer)) {
    return authenticateServiceToken(
      ctx,
      bearer,
      bucket,
      (message) => refuseUnauthenticated(ctx, message),
      (outcome) => recordRateLimit(ctx, outcome),
    );
  }
  const started = performance.now();
  const { presented, key, outcome } = await verifyApiKey(ctx, bucket);
  applyRateLimit(ctx, outcome);
  ctx.response.headers["Server-Timing"] = `auth;desc="auth+rate limit";dur=${(performance.now() - started).toFixed(3)}`;
  keyUsageRecorder(ctx.deps.db).record(key.id, key.tenantId, new Date(ctx.deps.rateLimiter.now()));
  return { kind: "apiKey", key, keyStart: apiKeyStart(presented) };
}

/** Step 3, scope: the key (or service token) must carry `scope`; the actor it becomes. */
function callerActor(caller: AuthenticatedCaller, scope: ApiKeyScope): Actor {
  if (caller.kind === "serviceToken") {
    const { token, tenantId, actingFor } = caller;
    if (!token.scopes.includes(scope)) throw apiError("forbidden", `This service token lacks the ${scope} scope.`);
    return { kind: "serviceToken", tenantId, tokenId: token.id, tokenName: token.name, scopes: token.scopes, actingFor };
  }
  const { key, keyStart } = caller;
  const scopes = key.scopes as ApiKeyScope[];
  if (!scopes.includes(scope)) throw apiError("forbidden", `This API key lacks the ${scope} scope.`);
  return { kind: "apiKey", tenantId: key.tenantId, keyId: key.id, keyStart, scopes };
}

/**
 * The key middleware: verify and rate limit (or reuse what the transport already did; each call
 * of a tRPC batch is counted), then the scope.
 */
function authenticateApiKey(scope: ApiKeyScope) {
  return middleware(async ({ ctx, next, meta, type }) => {
    const actor = callerActor(ctx.authenticated ?? (await authenticateRequest(ctx, rateLimitBucketOf(meta, type))), scope);
    return next({ ctx: { actor, tenantId: actor.tenantId } });
  });
}

/** The key bucket a procedure counts on: its meta's, else reads are status checks and writes writes. */
export function rateLimitBucketOf(meta: ProcedureMeta | undefined, type: "query" | "mutation" | "subscription"): KeyRateLimitBucket {
  return meta?.rateLimit ?? (type === "query" ? "status" : "write");
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
  return publicProcedure.use(async ({ ctx, next, meta, type }) => {
    if (ctx.authenticated || ctx.authorization !== null || ctx.credentialInQuery) {
      const actor = callerActor(ctx.authenticated ?? (await authenticateRequest(ctx, rateLimitBucketOf(meta, type))), scope);
      return next({ ctx: { actor, tenantId: actor.tenantId } });
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
 * For what both the admin app and external callers manage (API keys over /v1): a signed-in user
 * with `minRole` (or the operator), or else a key with `scope`.
 */
export function tenantOrApiKeyProcedure(minRole: TenantRole, scope: ApiKeyScope) {
  return publicProcedure.use(async ({ ctx, next, meta, type }) => {
    const actor = ctx.actor;
    if (actor && (actor.kind === "user" || actor.kind === "operator")) {
      if (actor.kind === "user" && !hasRole(actor.role, minRole)) throw apiError("forbidden", `This needs the ${minRole} role.`);
      return next({ ctx: { actor, tenantId: actor.tenantId } });
    }
    const caller = ctx.authenticated ?? (await authenticateRequest(ctx, rateLimitBucketOf(meta, type)));
    if (caller.kind === "serviceToken") throw apiError("forbidden", "Service tokens cannot manage API keys.");
    const keyActor = callerActor(caller, scope);
    return next({ ctx: { actor: keyActor, tenantId: keyActor.tenantId } });
  });
}

/**
 * For the admin app (a signed-in user) and the operator CLI: the tenant is the actor's own.
 * `minRole` is the least role allowed; the operator counts as owner.
 */
export function tenantProcedure(minRole: TenantRole) {
  return publicProcedure.use(({ ctx, next }) => {
    const actor = ctx.actor;
    if (
      !actor ||
      actor.kind === "apiKey" ||
      actor.kind === "serviceToken" ||
      actor.kind === "scim" ||
      actor.kind === "emailLink" ||
      actor.kind === "system"
    )
      throw apiError("unauthorized", "Sign in to continue.");
    if (actor.kind === "user" && !hasRole(actor.role, minRole)) {
      throw apiError("forbidden", `This needs the ${minRole} role.`);
    }
    return next({ ctx: { actor, tenantId: actor.tenantId } });
  });
}
