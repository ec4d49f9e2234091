import { DEFAULT_KEY_RATE_LIMITS, type KeyRateLimitBucket, type ServiceTokenConfig, findServiceToken } from "@approvalmatrix/core";
import { type Database, and, eq, members, sql, tenants } from "@approvalmatrix/db";
import type { ActingFor, ApiContext } from "./context";
import { apiError } from "./errors";

/** A service token that passed verification, with the approver it acts for. */
export interface AuthenticatedServiceToken {
  kind: "serviceToken";
  token: ServiceTokenConfig;
  tenantId: string;
  actingFor: ActingFor;
}

const tenantIds = new WeakMap<ServiceTokenConfig, string>();

async function tenantOf(db: Database, token: ServiceTokenConfig): Promise<string | null> {
  const cached = tenantIds.get(token);
  if (cached) return cached;
  const [row] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, token.tenantSlug));
  if (row) tenantIds.set(token, row.id);
  return row?.id ?? null;
}

/**
 * Resolves X-Approver-Email / X-Approver-Ref to an active member of the token's tenant. Refusals:
 * approver_required (neither header), approver_other_tenant (the email is only another tenant's),
 * unknown_approver, approver_inactive. Nothing is written before this passes.
 */
async function resolveApprover(db: Database, tenantId: string, headers: ApiContext["approverHeaders"]): Promise<ActingFor> {
  const email = headers?.email?.trim().toLowerCase() || null;
  const ref = headers?.ref?.trim() || null;
  if (!email && !ref) {
    throw apiError("approver_required", "A service token acts for an approver: send X-Approver-Email (or X-Approver-Ref).");
  }
  const columns = { id: members.id, ref: members.externalRef, name: members.name, active: members.active, tenantId: members.tenantId };
  const matches = await db
    .select(columns)
    .from(members)
    .where(email ? sql`lower(${members.email}) = ${email}` : and(eq(members.tenantId, tenantId), eq(members.externalRef, ref ?? "")))
    .limit(20);
  const own = matches.find((m) => m.tenantId === tenantId);
  const who = email ? `email ${email}` : `externalRef "${ref}"`;
  if (!own) {
    if (matches.length > 0) throw apiError("approver_other_tenant", `The member with ${who} is not in this service token's tenant.`);
    throw apiError("unknown_approver", `No member of this service token's tenant has ${who}.`);
  }
  if (!own.active) throw apiError("approver_inactive", `The member with ${who} (${own.name}) is deactivated.`);
  return { memberId: own.id, ref: own.ref, name: own.name };
}

/**
 * Verifies an `internal-…` bearer against INTERNAL_SERVICE_TOKEN (constant-time, hashes only),
 * counts the call on the token's own bucket (the per-key defaults), and resolves the approver.
 */
export async function authenticateServiceToken(
  ctx: ApiContext,
  presented: string,
  bucket: KeyRateLimitBucket,
  refuse: (message: string) => Promise<never>,
  recordRateLimit: (outcome: Awaited<ReturnType<ApiContext["deps"]["rateLimiter"]["consume"]>>) => void,
): Promise<AuthenticatedServiceToken> {
  const token = findServiceToken(ctx.deps.serviceTokens ?? [], presented);
  if (!token) return refuse("Unknown service token.");
  const tenantId = await tenantOf(ctx.deps.db, token);
  if (!tenantId) return refuse(`This service token is bound to tenant "${token.tenantSlug}", which does not exist.`);
  const outcome = await ctx.deps.rateLimiter.consume(`svc:${token.id}:${bucket}`, DEFAULT_KEY_RATE_LIMITS[bucket]);
  recordRateLimit(outcome);
  if (!outcome.allowed) {
    throw apiError("rate_limited", `Rate limit of ${outcome.limit} calls per minute exceeded; retry in ${outcome.retryAfter} s.`);
  }
  return { kind: "serviceToken", token, tenantId, actingFor: await resolveApprover(ctx.deps.db, tenantId, ctx.approverHeaders) };
}
