import { and, auditLog, desc, eq, gte, ilike, lt, lte, or, users } from "@approvalmatrix/db";
import { z } from "zod";
import { tenantProcedure } from "../../procedures";
import { router } from "../../trpc";

const auditView = z.object({
  id: z.string(),
  actorType: z.string(),
  actorId: z.string(),
  actorName: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
});

export const auditRouter = router({
  /** Newest first; `before` is the previous page's last cursor (createdAt|id). */
  list: tenantProcedure("admin")
    .input(
      z.object({
        action: z.string().trim().max(100).optional().describe("Prefix, e.g. api_key or member.imported."),
        actorType: z.enum(["api_key", "user", "operator", "system"]).optional(),
        target: z.string().trim().max(200).optional().describe("A target id, e.g. key_… or mat_…"),
        from: z.iso.date().optional(),
        to: z.iso.date().optional(),
        limit: z.number().int().min(1).max(200).default(50),
        before: z.string().optional(),
      }),
    )
    .output(z.object({ entries: z.array(auditView), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const [beforeAt, beforeId] = input.before?.split("|") ?? [];
      const beforeDate = beforeAt ? new Date(beforeAt) : null;
      const rows = await ctx.deps.db
        .select({ entry: auditLog, actorName: users.name })
        .from(auditLog)
        .leftJoin(users, and(eq(auditLog.actorType, "user"), eq(users.id, auditLog.actorId)))
        .where(
          and(
            eq(auditLog.tenantId, ctx.tenantId),
            input.action ? ilike(auditLog.action, `${input.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
            input.actorType ? eq(auditLog.actorType, input.actorType) : undefined,
            input.target ? eq(auditLog.targetId, input.target) : undefined,
            input.from ? gte(auditLog.createdAt, new Date(`${input.from}T00:00:00Z`)) : undefined,
            input.to ? lte(auditLog.createdAt, new Date(`${input.to}T23:59:59.999Z`)) : undefined,
            beforeDate && beforeId && !Number.isNaN(beforeDate.getTime())
              ? or(lt(auditLog.createdAt, beforeDate), and(eq(auditLog.createdAt, beforeDate), lt(auditLog.id, beforeId)))
              : undefined,
          ),
        )
        .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
        .limit(input.limit + 1);
      const page = rows
        .slice(0, input.limit)
        .map(({ entry, actorName }) => ({ ...entry, actorName, createdAt: entry.createdAt.toISOString() }));
      const last = page[page.length - 1];
      return { entries: page, nextCursor: rows.length > input.limit && last ? `${last.createdAt}|${last.id}` : null };
    }),
});
