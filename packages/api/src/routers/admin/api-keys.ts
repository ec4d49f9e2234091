import { API_KEY_SCOPES, DEFAULT_RATE_LIMIT_PER_MINUTE, apiKeyStart, generateApiKey, hashApiKey, newId } from "@approvalmatrix/core";
import { and, apiKeys, desc, eq, isNull } from "@approvalmatrix/db";
import { z } from "zod";
import { actorAudit } from "../../context";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import { writeAudit } from "../../services/audit";
import { router } from "../../trpc";

const apiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  start: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  rateLimitPerMinute: z.number().int(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  status: z.enum(["active", "expired", "revoked"]),
});

function toView(row: typeof apiKeys.$inferSelect): z.infer<typeof apiKeyView> {
  const status = row.revokedAt ? "revoked" : row.expiresAt && row.expiresAt.getTime() <= Date.now() ? "expired" : "active";
  return {
    id: row.id,
    name: row.name,
    start: row.start,
    scopes: row.scopes as z.infer<typeof apiKeyView>["scopes"],
    rateLimitPerMinute: row.rateLimitPerMinute,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    status,
  };
}

export const apiKeysRouter = router({
  create: tenantProcedure("admin")
    .input(
      z.strictObject({
        name: z.string().trim().min(1).max(100),
        scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
        expiresAt: z.iso
          .datetime()
          .optional()
          .refine((v) => !v || Date.parse(v) > Date.now(), "must be in the future"),
        rateLimitPerMinute: z.number().int().min(1).max(1_000_000).optional(),
      }),
    )
    .output(apiKeyView.extend({ key: z.string().describe("The full key. Shown once: it cannot be read again.") }))
    .mutation(async ({ ctx, input }) => {
      const key = generateApiKey();
      const who = actorAudit(ctx.actor);
      const row = await ctx.deps.db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(apiKeys)
          .values({
            id: newId("apiKey"),
            tenantId: ctx.tenantId,
            name: input.name,
            keyHash: hashApiKey(ctx.deps.apiKeyHashSecret, key),
            start: apiKeyStart(key),
            scopes: [...new Set(input.scopes)],
            rateLimitPerMinute: input.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
            createdBy: `${who.actorType}:${who.actorId}`,
            expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
          })
          .returning();
        await writeAudit(tx, ctx.actor, {
          action: "api_key.created",
          targetType: "api_key",
          targetId: inserted!.id,
          data: { name: input.name, scopes: input.scopes, start: inserted!.start },
        });
        return inserted!;
      });
      return { ...toView(row), key };
    }),

  list: tenantProcedure("admin")
    .output(z.array(apiKeyView))
    .query(async ({ ctx }) => {
      const rows = await ctx.deps.db.select().from(apiKeys).where(eq(apiKeys.tenantId, ctx.tenantId)).orderBy(desc(apiKeys.createdAt));
      return rows.map(toView);
    }),

  revoke: tenantProcedure("admin")
    .input(z.object({ id: z.string().min(1) }))
    .output(apiKeyView)
    .mutation(async ({ ctx, input }) => {
      return ctx.deps.db.transaction(async (tx) => {
        const [row] = await tx
          .update(apiKeys)
          .set({ revokedAt: new Date() })
          .where(and(eq(apiKeys.tenantId, ctx.tenantId), eq(apiKeys.id, input.id), isNull(apiKeys.revokedAt)))
          .returning();
        if (!row) {
          const [existing] = await tx
            .select()
            .from(apiKeys)
            .where(and(eq(apiKeys.tenantId, ctx.tenantId), eq(apiKeys.id, input.id)));
          if (existing) return toView(existing); // already revoked: revoking again changes nothing
          throw apiError("not_found", `No API key ${input.id}.`);
        }
        await writeAudit(tx, ctx.actor, { action: "api_key.revoked", targetType: "api_key", targetId: row.id, data: { start: row.start } });
        return toView(row);
      });
    }),
});
