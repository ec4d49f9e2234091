import {
  type ApiKeyScope,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DomainError,
  apiKeyStart,
  clashingApiKeyName,
  generateApiKey,
  hashApiKey,
  newId,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, apiKeys, desc, eq, isNull } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";

export interface ApiKeyView {
  id: string;
  name: string;
  start: string;
  scopes: ApiKeyScope[];
  rateLimitPerMinute: number;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: "active" | "expired" | "revoked";
}

function toApiKeyView(row: typeof apiKeys.$inferSelect): ApiKeyView {
  const status = row.revokedAt ? "revoked" : row.expiresAt && row.expiresAt.getTime() <= Date.now() ? "expired" : "active";
  return {
    id: row.id,
    name: row.name,
    start: row.start,
    scopes: row.scopes as ApiKeyScope[],
    rateLimitPerMinute: row.rateLimitPerMinute,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    status,
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
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)));
  return rows.map((r) => r.name);
}

export interface NewApiKey {
  name: string;
  scopes: ApiKeyScope[];
  expiresAt?: string | undefined;
  rateLimitPerMinute?: number | undefined;
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
  const key = generateApiKey();
  const who = actorAudit(actor);
  try {
    const row = await db.transaction(async (tx) => {
      // Checked first for a clear message; the unique index settles two creates racing.
      if (clashingApiKeyName(input.name, await activeKeyNames(tx, actor.tenantId)) !== null) throw nameTaken(input.name);
      const [inserted] = await tx
        .insert(apiKeys)
        .values({
          id: newId("apiKey"),
          tenantId: actor.tenantId,
          name: input.name,
          keyHash: hashApiKey(apiKeyHashSecret, key),
          start: apiKeyStart(key),
          scopes: [...new Set(input.scopes)],
          rateLimitPerMinute: input.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
          createdBy: `${who.actorType}:${who.actorId}`,
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        })
        .returning();
      if (!inserted) throw new Error("the API key insert returned no row");
      await writeAudit(tx, actor, {
        action: "api_key.created",
        targetType: "api_key",
        targetId: inserted.id,
        data: { name: input.name, scopes: input.scopes, start: inserted.start },
      });
      await emitEvents(tx, actor.tenantId, [{ type: "api_key.created", data: apiKeyEventData(inserted) }]);
      return inserted;
    });
    return { ...toApiKeyView(row), key };
  } catch (error) {
    if (!(error instanceof DomainError) && isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
}

export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyView[]> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(desc(apiKeys.createdAt));
  return rows.map(toApiKeyView);
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
