import {
  type ApiKeyScope,
  DomainError,
  KEY_RATE_LIMIT_BUCKETS,
  type KeyRateLimitBucket,
  keyRateLimit,
  apiKeyStart,
  clashingApiKeyName,
  generateApiKey,
  hashApiKey,
  must,
  newId,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, apiKeyUsage, apiKeys, desc, eq, gte, isNull } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";

export const REROLL_GRACE_PERIODS = { none: 0, "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 } as const;
export type RerollGrace = keyof typeof REROLL_GRACE_PERIODS;

/** Keys that expire within this time get a warning in the admin app. */
export const EXPIRY_WARNING_MS = 7 * 86_400_000;

export interface ApiKeyView {
  id: string;
  name: string;
  start: string;
  scopes: ApiKeyScope[];
  /** The one-for-all limit per minute, when the key has one. */
  rateLimitPerMinute: number | null;
  /** The limit per minute of each of the key's buckets, as applied. */
  rateLimits: Record<KeyRateLimitBucket, number>;
  allowAdHoc: boolean;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  disabledAt: string | null;
  /** After a reroll: the key that replaced this one; this one works until expiresAt. */
  replacedById: string | null;
  /** Minted by agent bootstrap: who consented, for which agent. */
  consent: { userName: string; email: string; agentName: string; bootstrapId: string } | null;
  status: "active" | "disabled" | "expired" | "revoked";
  /** Active and expiring within EXPIRY_WARNING_MS. */
  expiresSoon: boolean;
}

export function toApiKeyView(row: typeof apiKeys.$inferSelect, now = Date.now()): ApiKeyView {
  const expired = row.expiresAt !== null && row.expiresAt.getTime() <= now;
  const status = row.revokedAt ? "revoked" : expired ? "expired" : row.disabledAt ? "disabled" : "active";
  return {
    id: row.id,
    name: row.name,
    start: row.start,
    scopes: row.scopes as ApiKeyScope[],
    rateLimitPerMinute: row.rateLimitPerMinute,
    rateLimits: Object.fromEntries(KEY_RATE_LIMIT_BUCKETS.map((b) => [b, keyRateLimit(row, b)])) as Record<KeyRateLimitBucket, number>,
    allowAdHoc: row.allowAdHoc,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    replacedById: row.replacedById,
    consent: row.consent
      ? { userName: row.consent.userName, email: row.consent.email, agentName: row.consent.agentName, bootstrapId: row.consent.bootstrapId }
      : null,
    status,
    expiresSoon: status === "active" && row.expiresAt !== null && row.expiresAt.getTime() - now <= EXPIRY_WARNING_MS,
  };
}

const nameTaken = (name: string) =>
  new DomainError("conflict", `An API key named "${name}" already exists. Revoke it first, or pick another name.`, [
    { field: "name", message: "already used by a key that is not revoked" },
  ]);

/** PostgreSQL's unique_violation, as postgres.js and PGlite both report it (drizzle may wrap it). */
function isUniqueViolation(error: unknown): boolean {
  for (let e = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}

async function activeKeyNames(db: Queryable, tenantId: string): Promise<string[]> {
  const rows = await db
    .select({ name: apiKeys.name })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt), isNull(apiKeys.replacedById)));
  return rows.map((r) => r.name);
}

export interface NewApiKey {
  name: string;
  scopes: ApiKeyScope[];
  expiresAt?: string | undefined;
  rateLimitPerMinute?: number | undefined;
  rateLimits?: Partial<Record<KeyRateLimitBucket, number>> | undefined;
  allowAdHoc?: boolean | undefined;
}

/** Inserts a key row inside `tx` (create, reroll, bootstrap) and audits it; returns the row and the plaintext. */
export async function insertApiKey(
  tx: Queryable,
  actor: Actor,
  apiKeyHashSecret: string,
  input: NewApiKey & { consent?: (typeof apiKeys.$inferInsert)["consent"] },
  audit: { action: string; data?: Record<string, unknown> } = { action: "api_key.created" },
): Promise<{ row: typeof apiKeys.$inferSelect; key: string }> {
  const key = generateApiKey();
  const who = actorAudit(actor);
  const [inserted] = await tx
    .insert(apiKeys)
    .values({
      id: newId("apiKey"),
      tenantId: actor.tenantId,
      name: input.name,
      keyHash: hashApiKey(apiKeyHashSecret, key),
      start: apiKeyStart(key),
      scopes: [...new Set(input.scopes)],
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      rateLimits: input.rateLimits ?? {},
      allowAdHoc: input.allowAdHoc ?? false,
      consent: input.consent ?? null,
      createdBy: `${who.actorType}:${who.actorId}`,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
    })
    .returning();
  if (!inserted) throw new Error("the API key insert returned no row");
  await writeAudit(tx, actor, {
    action: audit.action,
    targetType: "api_key",
    targetId: inserted.id,
    data: {
      name: input.name,
      scopes: inserted.scopes,
      start: inserted.start,
      ...(input.consent
        ? { createdByConsentOf: `${input.consent.userName} <${input.consent.email}>`, agentName: input.consent.agentName }
        : {}),
      ...audit.data,
    },
  });
  await emitEvents(tx, actor.tenantId, [{ type: "api_key.created", data: apiKeyEventData(inserted) }]);
  return { row: inserted, key };
}

/** A key event's payload: its identity and powers, never its secret or hash. */
function apiKeyEventData(row: typeof apiKeys.$inferSelect): Record<string, unknown> {
  return {
    keyId: row.id,
    tenantId: row.tenantId,
    name: row.name,
    start: row.start,
    scopes: row.scopes,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** Creates a key; the plaintext is in the answer and nowhere else. */
export async function createApiKey(
  db: Database,
  actor: Actor,
  apiKeyHashSecret: string,
  input: NewApiKey,
): Promise<ApiKeyView & { key: string }> {
  try {
    const { row, key } = await db.transaction(async (tx) => {
      // Checked first for a clear message; the unique index settles two creates racing.
      if (clashingApiKeyName(input.name, await activeKeyNames(tx, actor.tenantId)) !== null) throw nameTaken(input.name);
      return insertApiKey(tx, actor, apiKeyHashSecret, input);
    });
    return { ...toApiKeyView(row), key };
  } catch (error) {
    if (!(error instanceof DomainError) && isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
}

export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyView[]> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(desc(apiKeys.createdAt));
  return rows.map((row) => toApiKeyView(row));
}

/** Revoking a revoked key changes nothing and answers it as it is. */
export function revokeApiKey(db: Database, actor: Actor, id: string): Promise<ApiKeyView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.tenantId, actor.tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) {
      const [existing] = await tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, actor.tenantId), eq(apiKeys.id, id)));
      if (existing) return toApiKeyView(existing);
      throw new DomainError("not_found", `No API key ${id}.`);
    }
    await writeAudit(tx, actor, { action: "api_key.revoked", targetType: "api_key", targetId: row.id, data: { start: row.start } });
    await emitEvents(tx, actor.tenantId, [{ type: "api_key.revoked", data: apiKeyEventData(row) }]);
    return toApiKeyView(row);
  });
}

/** The tenant's key `id`, locked for the rest of `tx`; not_found otherwise. */
async function lockKey(tx: Queryable, tenantId: string, id: string): Promise<typeof apiKeys.$inferSelect> {
  const [row] = await tx
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)))
    .for("update");
  if (!row) throw new DomainError("not_found", `No API key ${id}.`);
  return row;
}

function refuseUnlessLive(row: typeof apiKeys.$inferSelect, what: string): void {
  if (row.revokedAt) throw new DomainError("conflict", `This API key is revoked: it cannot be ${what}.`);
  if (row.expiresAt && row.expiresAt.getTime() <= Date.now())
    throw new DomainError("conflict", `This API key has expired: it cannot be ${what}.`);
  if (row.replacedById)
    throw new DomainError("conflict", `This API key was rerolled (replaced by ${row.replacedById}): it cannot be ${what}.`);
}

export interface ApiKeyChanges {
  name?: string | undefined;
  scopes?: ApiKeyScope[] | undefined;
  /** null clears the expiry. */
  expiresAt?: string | null | undefined;
  /** null: each bucket's default (or the per-bucket limits). */
  rateLimitPerMinute?: number | null | undefined;
  rateLimits?: Partial<Record<KeyRateLimitBucket, number>> | undefined;
  allowAdHoc?: boolean | undefined;
}

/** Edits a live key's name, scopes, expiry, limits or ad-hoc permission; audited with what changed. */
export async function updateApiKey(db: Database, actor: Actor, id: string, changes: ApiKeyChanges): Promise<ApiKeyView> {
  try {
    return await db.transaction(async (tx) => {
      const row = await lockKey(tx, actor.tenantId, id);
      refuseUnlessLive(row, "edited");
      const set: Partial<typeof apiKeys.$inferInsert> = {};
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      const note = (field: string, from: unknown, to: unknown) => {
        if (JSON.stringify(from) !== JSON.stringify(to)) changed[field] = { from, to };
      };
      if (changes.name !== undefined && changes.name !== row.name) {
        const others = (await activeKeyNames(tx, actor.tenantId)).filter((n) => n !== row.name);
        if (clashingApiKeyName(changes.name, others) !== null) throw nameTaken(changes.name);
        set.name = changes.name;
        note("name", row.name, changes.name);
      }
      if (changes.scopes !== undefined) {
        set.scopes = [...new Set(changes.scopes)];
        note("scopes", row.scopes, set.scopes);
      }
      if (changes.expiresAt !== undefined) {
        set.expiresAt = changes.expiresAt === null ? null : new Date(changes.expiresAt);
        note("expiresAt", row.expiresAt?.toISOString() ?? null, set.expiresAt?.toISOString() ?? null);
      }
      if (changes.rateLimitPerMinute !== undefined) {
        set.rateLimitPerMinute = changes.rateLimitPerMinute;
        note("rateLimitPerMinute", row.rateLimitPerMinute, changes.rateLimitPerMinute);
      }
      if (changes.rateLimits !== undefined) {
        set.rateLimits = changes.rateLimits;
        note("rateLimits", row.rateLimits, changes.rateLimits);
      }
      if (changes.allowAdHoc !== undefined) {
        set.allowAdHoc = changes.allowAdHoc;
        note("allowAdHoc", row.allowAdHoc, changes.allowAdHoc);
      }
      if (Object.keys(changed).length === 0) return toApiKeyView(row);
      const [updated] = await tx.update(apiKeys).set(set).where(eq(apiKeys.id, row.id)).returning();
      await writeAudit(tx, actor, {
        action: "api_key.updated",
        targetType: "api_key",
        targetId: row.id,
        data: { start: row.start, changes: changed },
      });
      return toApiKeyView(must(updated, "the updated key"));
    });
  } catch (error) {
    if (!(error instanceof DomainError) && isUniqueViolation(error)) throw nameTaken(changes.name ?? "");
    throw error;
  }
}

/** Disables (refused like a revoked key) or enables again a live key; doing it twice changes nothing. */
export function setApiKeyDisabled(db: Database, actor: Actor, id: string, disabled: boolean): Promise<ApiKeyView> {
  return db.transaction(async (tx) => {
    const row = await lockKey(tx, actor.tenantId, id);
    if ((row.disabledAt !== null) === disabled) return toApiKeyView(row);
    refuseUnlessLive(row, disabled ? "disabled" : "enabled");
    const [updated] = await tx
      .update(apiKeys)
      .set({ disabledAt: disabled ? new Date() : null })
      .where(eq(apiKeys.id, row.id))
      .returning();
    await writeAudit(tx, actor, {
      action: disabled ? "api_key.disabled" : "api_key.enabled",
      targetType: "api_key",
      targetId: row.id,
      data: { start: row.start },
    });
    return toApiKeyView(must(updated, "the updated key"));
  });
}

/**
 * Rerolls a live key: a new key (same name, scopes, limits, expiry) replaces it, and the old one
 * keeps working until the grace ends (none: revoked at once), then fails on every instance at the
 * same moment — its expires_at is read on every call. The new plaintext is in the answer only.
 */
export async function rerollApiKey(
  db: Database,
  actor: Actor,
  apiKeyHashSecret: string,
  id: string,
  grace: RerollGrace,
  now = new Date(),
): Promise<{ key: ApiKeyView & { key: string }; previous: ApiKeyView }> {
  return db.transaction(async (tx) => {
    const old = await lockKey(tx, actor.tenantId, id);
    refuseUnlessLive(old, "rerolled");
    const graceEnds = new Date(now.getTime() + REROLL_GRACE_PERIODS[grace]);
    // The old key gives up its name first (the unique index skips replaced keys).
    const [previous] = await tx
      .update(apiKeys)
      .set(
        grace === "none"
          ? { revokedAt: now, replacedById: "pending" }
          : { expiresAt: old.expiresAt && old.expiresAt < graceEnds ? old.expiresAt : graceEnds, replacedById: "pending" },
      )
      .where(eq(apiKeys.id, old.id))
      .returning();
    const { row, key } = await insertApiKey(
      tx,
      actor,
      apiKeyHashSecret,
      {
        name: old.name,
        scopes: old.scopes as ApiKeyScope[],
        expiresAt: old.expiresAt?.toISOString(),
        rateLimitPerMinute: old.rateLimitPerMinute ?? undefined,
        rateLimits: old.rateLimits,
        allowAdHoc: old.allowAdHoc,
        consent: old.consent,
      },
      {
        action: "api_key.rerolled",
        data: {
          replaces: old.id,
          previousStart: old.start,
          grace,
          oldKeyWorksUntil: grace === "none" ? now.toISOString() : must(previous).expiresAt?.toISOString(),
        },
      },
    );
    const [linked] = await tx.update(apiKeys).set({ replacedById: row.id }).where(eq(apiKeys.id, old.id)).returning();
    if (grace === "none")
      await emitEvents(tx, actor.tenantId, [{ type: "api_key.revoked", data: apiKeyEventData(must(linked, "the rerolled key")) }]);
    return { key: { ...toApiKeyView(row, now.getTime()), key }, previous: toApiKeyView(must(linked, "the rerolled key"), now.getTime()) };
  });
}

export interface ApiKeyUsageDay {
  day: string;
  count: number;
}

/** Calls per UTC day over the last `days` days (oldest first, zeros included), for the chart. */
export async function apiKeyUsageHistory(
  db: Queryable,
  tenantId: string,
  id: string,
  days = 30,
  now = new Date(),
): Promise<ApiKeyUsageDay[]> {
  const [key] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)));
  if (!key) throw new DomainError("not_found", `No API key ${id}.`);
  const dayList = Array.from({ length: days }, (_, i) => new Date(now.getTime() - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const rows = await db
    .select({ day: apiKeyUsage.day, count: apiKeyUsage.count })
    .from(apiKeyUsage)
    .where(and(eq(apiKeyUsage.tenantId, tenantId), eq(apiKeyUsage.keyId, id), gte(apiKeyUsage.day, must(dayList[0]))));
  const byDay = new Map(rows.map((r) => [r.day, r.count]));
  return dayList.map((day) => ({ day, count: byDay.get(day) ?? 0 }));
}

/** Calls per UTC day of every key of the tenant over the last `days` days, in one query (the keys page's charts). */
export async function tenantKeyUsage(
  db: Queryable,
  tenantId: string,
  days = 30,
  now = new Date(),
): Promise<{ keyId: string; days: ApiKeyUsageDay[] }[]> {
  const dayList = Array.from({ length: days }, (_, i) => new Date(now.getTime() - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const rows = await db
    .select({ keyId: apiKeyUsage.keyId, day: apiKeyUsage.day, count: apiKeyUsage.count })
    .from(apiKeyUsage)
    .where(and(eq(apiKeyUsage.tenantId, tenantId), gte(apiKeyUsage.day, must(dayList[0]))));
  const byKey = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const days = byKey.get(row.keyId) ?? new Map<string, number>();
    days.set(row.day, row.count);
    byKey.set(row.keyId, days);
  }
  return [...byKey].map(([keyId, counts]) => ({ keyId, days: dayList.map((day) => ({ day, count: counts.get(day) ?? 0 })) }));
}
