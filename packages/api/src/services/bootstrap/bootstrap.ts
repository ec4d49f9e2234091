import {
  type ApiKeyScope,
  BOOTSTRAP_KEY_DEFAULT_DAYS,
  BOOTSTRAP_POLL_INTERVAL_SECONDS,
  BOOTSTRAP_TTL_MS,
  type BootstrapStatus,
  DomainError,
  PUBLIC_RATE_LIMITS,
  generatePollSecret,
  generateUserCode,
  hashPollSecret,
  hashesEqual,
  mayGrantScope,
  must,
  newId,
  normalizeUserCode,
} from "@approvalmatrix/core";
import { type Database, and, bootstrapRequests, desc, eq, gt, isNull, users } from "@approvalmatrix/db";
import { createHash } from "node:crypto";
import type { Actor, ApiContext } from "../../context";
import { apiError } from "../../errors";
import { recordRateLimit } from "../../rate-limit/record";
import { insertApiKey } from "../api-keys/api-keys";
import { writeAudit } from "../audit";

export interface BootstrapStartInput {
  email: string;
  agentName: string;
  scopes: ApiKeyScope[];
  note?: string | undefined;
}

const emailBucket = (email: string) => `bootstrap-email:${createHash("sha256").update(email).digest("hex").slice(0, 32)}`;

/**
 * Starts an agent bootstrap. The answer is the same whether or not the email has an account
 * (nothing is looked up): a person holding that account sees it in the admin app, nobody else
 * can. 5 starts an hour per email and a cap per client address (429 with Retry-After).
 */
export async function startBootstrap(ctx: ApiContext, input: BootstrapStartInput) {
  const { deps } = ctx;
  const email = input.email.trim().toLowerCase();
  const perIp = await deps.rateLimiter.consume(
    `bootstrap-ip:${ctx.clientIp ?? "in-process"}`,
    PUBLIC_RATE_LIMITS.bootstrapPerIp.limit,
    PUBLIC_RATE_LIMITS.bootstrapPerIp.periodMs,
  );
  if (!perIp.allowed) {
    recordRateLimit(ctx, perIp);
    throw apiError("rate_limited", `Too many bootstrap starts from your address; retry in ${perIp.retryAfter} s.`);
  }
  const perEmail = await deps.rateLimiter.consume(
    emailBucket(email),
    PUBLIC_RATE_LIMITS.bootstrapPerEmail.limit,
    PUBLIC_RATE_LIMITS.bootstrapPerEmail.periodMs,
  );
  recordRateLimit(ctx, perEmail);
  if (!perEmail.allowed) {
    throw apiError("rate_limited", `At most ${perEmail.limit} bootstrap starts an hour per email; retry in ${perEmail.retryAfter} s.`);
  }
  const pollSecret = generatePollSecret();
  const id = newId("bootstrap");
  const expiresAt = new Date(deps.rateLimiter.now() + BOOTSTRAP_TTL_MS);
  let userCode = generateUserCode();
  for (let attempt = 0; ; attempt++) {
    try {
      await deps.db.insert(bootstrapRequests).values({
        id,
        email,
        agentName: input.agentName.trim(),
        scopes: [...new Set(input.scopes)],
        note: input.note?.trim() || null,
        userCode,
        pollSecretHash: hashPollSecret(pollSecret),
        clientIp: ctx.clientIp ?? null,
        expiresAt,
      });
      break;
    } catch (error) {
      // A user code collision (34 bits) is rare; draw again.
      if (attempt >= 3) throw error;
      userCode = generateUserCode();
    }
  }
  return {
    bootstrapId: id,
    userCode,
    verificationUrl: `${ctx.origin ?? ""}/consent?code=${userCode}`,
    expiresAt: expiresAt.toISOString(),
    interval: BOOTSTRAP_POLL_INTERVAL_SECONDS,
    pollSecret,
  };
}

export interface BootstrapStatusAnswer {
  bootstrapId: string;
  status: BootstrapStatus;
  expiresAt: string;
  interval: number;
  /** The key, in the first answer after approval only. */
  apiKey: { id: string; key: string; name: string; scopes: ApiKeyScope[]; expiresAt: string | null } | null;
  /** True once the key was handed out (this answer or an earlier one). */
  collected: boolean;
}

/**
 * The agent's poll. Only the holder of the poll secret gets an answer (anyone else: 404, as for
 * an unknown id); polling faster than the interval is 429 with Retry-After. On the first poll
 * after approval the key is minted and returned: exactly once, the row is claimed atomically.
 */
export async function pollBootstrap(ctx: ApiContext, bootstrapId: string, pollSecret: string | null): Promise<BootstrapStatusAnswer> {
  const { deps } = ctx;
  const { limit, periodMs } = PUBLIC_RATE_LIMITS.bootstrapPoll;
  const pace = await deps.rateLimiter.consume(`bootstrap-poll:${bootstrapId}`, limit, periodMs);
  recordRateLimit(ctx, pace);
  if (!pace.allowed) {
    throw apiError("rate_limited", `Polling too fast (slow_down): wait ${BOOTSTRAP_POLL_INTERVAL_SECONDS} s between polls.`);
  }
  const notFound = () => new DomainError("not_found", `No bootstrap ${bootstrapId} for this poll secret.`);
  const [row] = await deps.db.select().from(bootstrapRequests).where(eq(bootstrapRequests.id, bootstrapId));
  if (!row || !pollSecret || !hashesEqual(row.pollSecretHash, hashPollSecret(pollSecret))) throw notFound();
  const now = new Date(deps.rateLimiter.now());
  const answer = (status: BootstrapStatus, apiKey: BootstrapStatusAnswer["apiKey"] = null): BootstrapStatusAnswer => ({
    bootstrapId,
    status,
    expiresAt: row.expiresAt.toISOString(),
    interval: BOOTSTRAP_POLL_INTERVAL_SECONDS,
    apiKey,
    collected: apiKey !== null || row.collectedAt !== null,
  });
  if (row.status === "pending") {
    if (row.expiresAt <= now) {
      await deps.db
        .update(bootstrapRequests)
        .set({ status: "expired" })
        .where(and(eq(bootstrapRequests.id, row.id), eq(bootstrapRequests.status, "pending")));
      return answer("expired");
    }
    return answer("pending");
  }
  if (row.status !== "approved" || row.collectedAt) return answer(row.status);
  return deps.db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(bootstrapRequests)
      .set({ collectedAt: now })
      .where(and(eq(bootstrapRequests.id, row.id), isNull(bootstrapRequests.collectedAt)))
      .returning();
    if (!claimed) return { ...answer("approved"), collected: true };
    const tenantId = must(claimed.tenantId, "the approving tenant");
    const [holder] = await tx
      .select()
      .from(users)
      .where(eq(users.id, must(claimed.decidedBy, "the approving user")));
    if (!holder) throw notFound();
    const actor: Actor = { kind: "user", tenantId, userId: holder.id, role: holder.role, memberId: null };
    const { row: key, key: plaintext } = await insertApiKey(tx, actor, deps.apiKeyHashSecret, {
      name: `${claimed.agentName} (agent, ${claimed.id.slice(-6)})`,
      scopes: (claimed.grantedScopes ?? []) as ApiKeyScope[],
      expiresAt: claimed.keyExpiresAt?.toISOString(),
      consent: { userId: holder.id, userName: holder.name, email: holder.email, bootstrapId: claimed.id, agentName: claimed.agentName },
    });
    await tx.update(bootstrapRequests).set({ apiKeyId: key.id }).where(eq(bootstrapRequests.id, claimed.id));
    return answer("approved", {
      id: key.id,
      key: plaintext,
      name: key.name,
      scopes: key.scopes as ApiKeyScope[],
      expiresAt: key.expiresAt?.toISOString() ?? null,
    });
  });
}

/** What the account holder sees: bootstraps for their email, still pending. */
export async function pendingBootstrapsFor(db: Database, userId: string, now = new Date()) {
  const [user] = await db.select({ email: users.email, role: users.role }).from(users).where(eq(users.id, userId));
  if (!user) return [];
  const rows = await db
    .select()
    .from(bootstrapRequests)
    .where(and(eq(bootstrapRequests.email, user.email), eq(bootstrapRequests.status, "pending"), gt(bootstrapRequests.expiresAt, now)))
    .orderBy(desc(bootstrapRequests.createdAt))
    .limit(50);
  return rows.map((r) => ({
    id: r.id,
    agentName: r.agentName,
    scopes: r.scopes as ApiKeyScope[],
    grantableScopes: (r.scopes as ApiKeyScope[]).filter((s) => mayGrantScope(user.role, s)),
    note: r.note,
    userCode: r.userCode,
    clientIp: r.clientIp,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
  }));
}

export interface ConsentInput {
  bootstrapId: string;
  /** For approve: the scopes granted (a subset of those asked, each one the role may grant). */
  scopes?: ApiKeyScope[] | undefined;
  /** Days the minted key lives. */
  keyExpiresInDays?: number | undefined;
  /** The code the agent showed, when the person typed it: must match. */
  userCode?: string | undefined;
}

/** The account holder approves or denies; only the person whose email the agent gave, only while pending. */
export async function answerBootstrap(
  db: Database,
  actor: Extract<Actor, { kind: "user" }>,
  answer: "approved" | "denied",
  input: ConsentInput,
) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({ email: users.email, name: users.name, role: users.role })
      .from(users)
      .where(eq(users.id, actor.userId));
    const [row] = await tx.select().from(bootstrapRequests).where(eq(bootstrapRequests.id, input.bootstrapId)).for("update");
    // Someone else's (or a missing) bootstrap looks the same: not found.
    if (!user || !row || row.email !== user.email) throw new DomainError("not_found", `No agent request ${input.bootstrapId} for you.`);
    if (input.userCode && normalizeUserCode(input.userCode) !== row.userCode) {
      throw new DomainError("invalid_request", "Invalid request. userCode: does not match this agent request.", [
        { field: "userCode", message: "does not match" },
      ]);
    }
    const now = new Date();
    if (row.status !== "pending" || row.expiresAt <= now) {
      throw new DomainError(
        "conflict",
        row.status === "pending" ? "This agent request has expired." : `This agent request was already ${row.status}.`,
      );
    }
    let granted: ApiKeyScope[] = [];
    let keyExpiresAt: Date | null = null;
    if (answer === "approved") {
      granted = [...new Set(input.scopes ?? (row.scopes as ApiKeyScope[]))];
      const notAsked = granted.filter((s) => !row.scopes.includes(s));
      const notYours = granted.filter((s) => !mayGrantScope(user.role, s));
      if (granted.length === 0 || notAsked.length || notYours.length) {
        throw new DomainError(
          "invalid_request",
          granted.length === 0
            ? "Invalid request. scopes: grant at least one scope, or deny."
            : notAsked.length
              ? `Invalid request. scopes: the agent did not ask for ${notAsked.join(", ")}.`
              : `Invalid request. scopes: your role (${user.role}) may not grant ${notYours.join(", ")}.`,
          [{ field: "scopes", message: "not grantable" }],
        );
      }
      keyExpiresAt = new Date(now.getTime() + (input.keyExpiresInDays ?? BOOTSTRAP_KEY_DEFAULT_DAYS) * 86_400_000);
    }
    await tx
      .update(bootstrapRequests)
      .set({ status: answer, tenantId: actor.tenantId, decidedBy: actor.userId, decidedAt: now, grantedScopes: granted, keyExpiresAt })
      .where(eq(bootstrapRequests.id, row.id));
    await writeAudit(tx, actor, {
      action: answer === "approved" ? "bootstrap.approved" : "bootstrap.denied",
      targetType: "bootstrap",
      targetId: row.id,
      data: {
        agentName: row.agentName,
        askedScopes: row.scopes,
        ...(answer === "approved" ? { grantedScopes: granted, keyExpiresAt: keyExpiresAt?.toISOString() } : {}),
        userCode: row.userCode,
        clientIp: row.clientIp,
      },
    });
    return { bootstrapId: row.id, status: answer, grantedScopes: granted, keyExpiresAt: keyExpiresAt?.toISOString() ?? null };
  });
}
