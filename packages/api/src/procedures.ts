import { performance } from "node:perf_hooks";
import { type ApiKeyScope, apiKeyStart, hashApiKey, isWellFormedApiKey, parseBearer } from "@approvalmatrix/core";
import { apiKeys, type Database, eq, sql } from "@approvalmatrix/db";
import type { Actor } from "./context";
import { apiError } from "./errors";
import { rateLimitHeaders } from "./rate-limit/rate-limiter";
import { idempotent } from "./services/idempotency";
import { middleware, publicProcedure } from "./trpc";

export { publicProcedure };

/** last_used_at is written at most once a minute per key and instance: not a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;
const lastUsedWrites = new Map<string, number>();

const authenticateApiKey = middleware(async ({ ctx, next }) => {
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
  const { db, apiKeyHashSecret, rateLimiter } = ctx.deps;
  const keyHash = hashApiKey(apiKeyHashSecret, presented);
  // The lookup and the rate-limit hit run side by side: the bucket is named by the key's hash,
  // so it does not wait for the row; the key's own limit is applied once both are back.
  const [key, hit] = await Promise.all([findApiKeyByHash(db, keyHash), rateLimiter.hit(`key:${keyHash.slice(0, 32)}`)]);
  if (!key) throw apiError("unauthorized", "Unknown API key.");
  if (key.revokedAt) throw apiError("unauthorized", "This API key has been revoked.");
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw apiError("unauthorized", "This API key has expired.");

  const outcome = rateLimiter.decide(hit, key.rateLimitPerMinute);
  Object.assign(ctx.response.headers, rateLimitHeaders(outcome));
  ctx.response.headers["Server-Timing"] = `auth;desc="auth+rate limit";dur=${(performance.now() - started).toFixed(3)}`;
  if (!outcome.allowed) {
    throw apiError("rate_limited", `Rate limit of ${outcome.limit} requests per minute exceeded; retry in ${outcome.retryAfter} s.`);
  }

  touchLastUsed(ctx.deps.db, key.id, key.lastUsedAt);
  const actor: Actor = {
    kind: "apiKey",
    tenantId: key.tenantId,
    keyId: key.id,
    keyStart: apiKeyStart(presented),
    scopes: key.scopes as ApiKeyScope[],
  };
  return next({ ctx: { actor } });
});

/** Prepared once per database: the key lookup runs on every API call. */
const keyLookups = new WeakMap<Database, ReturnType<typeof prepareKeyLookup>>();

function prepareKeyLookup(db: Database) {
  return db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      scopes: apiKeys.scopes,
      rateLimitPerMinute: apiKeys.rateLimitPerMinute,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      lastUsedAt: apiKeys.lastUsedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .limit(1)
    .prepare("api_key_by_hash");
}

async function findApiKeyByHash(db: Database, keyHash: string) {
  let lookup = keyLookups.get(db);
  if (!lookup) keyLookups.set(db, (lookup = prepareKeyLookup(db)));
  const [key] = await lookup.execute({ keyHash });
  return key;
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
  return publicProcedure
    .use(authenticateApiKey)
    .use(({ ctx, next }) => {
      if (!ctx.actor.scopes.includes(scope)) {
        throw apiError("forbidden", `This API key lacks the ${scope} scope.`);
      }
      return next({ ctx: { actor: ctx.actor, tenantId: ctx.actor.tenantId } });
    })
    .use(idempotent);
}

export type TenantRole = "owner" | "admin" | "approver";
const ROLE_RANK: Record<TenantRole, number> = { approver: 0, admin: 1, owner: 2 };

/**
 * For the admin app (a signed-in user) and the operator CLI: the tenant is the actor's own.
 * `minRole` is the least role allowed; the operator counts as owner.
 */
export function tenantProcedure(minRole: TenantRole) {
  return publicProcedure.use(({ ctx, next }) => {
    const actor = ctx.actor;
    if (!actor || actor.kind === "apiKey") throw apiError("unauthorized", "Sign in to continue.");
    if (actor.kind === "user" && ROLE_RANK[actor.role] < ROLE_RANK[minRole]) {
      throw apiError("forbidden", `This needs the ${minRole} role.`);
    }
    return next({ ctx: { actor, tenantId: actor.tenantId } });
  });
}
