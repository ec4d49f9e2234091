import { DomainError, SCIM_TOKEN_PATTERN, SCIM_TOKEN_PREFIX, hashApiKey, newId, randomBase62 } from "@approvalmatrix/core";
import { type Database, type Queryable, and, desc, eq, isNull, scimTokens, sql } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../../context";
import { writeAudit } from "../audit";

export interface ScimTokenView {
  id: string;
  provider: string;
  start: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function toView(row: typeof scimTokens.$inferSelect): ScimTokenView {
  return {
    id: row.id,
    provider: row.provider,
    start: row.start,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** A SCIM token for one identity provider: the plaintext is in the answer and nowhere else. */
export async function createScimToken(
  db: Database,
  actor: Actor,
  hashSecret: string,
  input: { provider: string },
): Promise<ScimTokenView & { token: string }> {
  const token = SCIM_TOKEN_PREFIX + randomBase62(40);
  const who = actorAudit(actor);
  const row = await db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(scimTokens)
      .values({
        id: newId("scimToken"),
        tenantId: actor.tenantId,
        provider: input.provider,
        tokenHash: hashApiKey(hashSecret, token),
        start: token.slice(0, SCIM_TOKEN_PREFIX.length + 4),
        createdBy: `${who.actorType}:${who.actorId}`,
      })
      .returning();
    if (!inserted) throw new Error("the SCIM token insert returned no row");
    await writeAudit(tx, actor, {
      action: "scim_token.created",
      targetType: "scim_token",
      targetId: inserted.id,
      data: { provider: input.provider, start: inserted.start },
    });
    return inserted;
  });
  return { ...toView(row), token };
}

export async function listScimTokens(db: Queryable, tenantId: string): Promise<ScimTokenView[]> {
  const rows = await db.select().from(scimTokens).where(eq(scimTokens.tenantId, tenantId)).orderBy(desc(scimTokens.createdAt));
  return rows.map(toView);
}

export function revokeScimToken(db: Database, actor: Actor, id: string): Promise<ScimTokenView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(scimTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(scimTokens.tenantId, actor.tenantId), eq(scimTokens.id, id), isNull(scimTokens.revokedAt)))
      .returning();
    if (row) {
      await writeAudit(tx, actor, { action: "scim_token.revoked", targetType: "scim_token", targetId: row.id, data: { start: row.start } });
      return toView(row);
    }
    const [existing] = await tx
      .select()
      .from(scimTokens)
      .where(and(eq(scimTokens.tenantId, actor.tenantId), eq(scimTokens.id, id)));
    if (!existing) throw new DomainError("not_found", `No SCIM token ${id}.`);
    return toView(existing);
  });
}

/** last_used_at at most once a minute per token and process. */
const lastUsedWrites = new Map<string, number>();

/** The tenant and provider of a presented SCIM token, or null when it is malformed, unknown or revoked. */
export async function findScimToken(
  db: Database,
  hashSecret: string,
  presented: string,
): Promise<{ id: string; tenantId: string; provider: string } | null> {
  if (!SCIM_TOKEN_PATTERN.test(presented)) return null;
  const [row] = await db
    .select({ id: scimTokens.id, tenantId: scimTokens.tenantId, provider: scimTokens.provider })
    .from(scimTokens)
    .where(and(eq(scimTokens.tokenHash, hashApiKey(hashSecret, presented)), isNull(scimTokens.revokedAt)))
    .limit(1);
  if (!row) return null;
  const now = Date.now();
  if (now - (lastUsedWrites.get(row.id) ?? 0) > 60_000) {
    lastUsedWrites.set(row.id, now);
    db.update(scimTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(scimTokens.id, row.id))
      .then(
        () => {},
        (error: unknown) => console.warn(`could not record last use of ${row.id}:`, error),
      );
  }
  return row;
}
