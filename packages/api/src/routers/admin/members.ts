import { newId } from "@approvalmatrix/core";
import { type Queryable, and, asc, eq, gt, ilike, members, or } from "@approvalmatrix/db";
import { z } from "zod";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import { writeAudit } from "../../services/audit";
import { router } from "../../trpc";

export const memberView = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  externalRef: z.string(),
  department: z.string().nullable(),
  managerId: z.string().nullable(),
  active: z.boolean(),
});

const memberFields = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().nullish(),
  externalRef: z.string().trim().min(1).max(200),
  department: z.string().trim().min(1).max(200).nullish(),
  managerRef: z.string().trim().min(1).max(200).nullish().describe("The manager's externalRef."),
});

async function memberIdByRef(db: Queryable, tenantId: string, ref: string, field: string): Promise<string> {
  const [row] = await db.select({ id: members.id }).from(members).where(and(eq(members.tenantId, tenantId), eq(members.externalRef, ref)));
  if (!row) throw apiError("invalid_request", `No member has externalRef "${ref}".`, [{ field, message: "unknown externalRef" }]);
  return row.id;
}

function toView(row: typeof members.$inferSelect): z.infer<typeof memberView> {
  const { id, name, email, externalRef, department, managerId, active } = row;
  return { id, name, email, externalRef, department, managerId, active };
}

export const membersRouter = router({
  create: tenantProcedure("admin")
    .input(memberFields)
    .output(memberView)
    .mutation(async ({ ctx, input }) => {
      return ctx.deps.db.transaction(async (tx) => {
        const managerId = input.managerRef ? await memberIdByRef(tx, ctx.tenantId, input.managerRef, "managerRef") : null;
        const [row] = await tx
          .insert(members)
          .values({
            id: newId("member"),
            tenantId: ctx.tenantId,
            name: input.name,
            email: input.email ?? null,
            externalRef: input.externalRef,
            department: input.department ?? null,
            managerId,
          })
          .onConflictDoNothing()
          .returning();
        if (!row) throw apiError("conflict", `A member with externalRef "${input.externalRef}" already exists.`, [{ field: "externalRef", message: "already in use" }]);
        await writeAudit(tx, ctx.actor, { action: "member.created", targetType: "member", targetId: row.id, data: { externalRef: row.externalRef } });
        return toView(row);
      });
    }),

  list: tenantProcedure("admin")
    .input(z.object({ search: z.string().trim().max(200).optional(), limit: z.number().int().min(1).max(200).default(50), after: z.string().optional() }))
    .output(z.object({ members: z.array(memberView), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const pattern = input.search ? `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      const rows = await ctx.deps.db
        .select()
        .from(members)
        .where(
          and(
            eq(members.tenantId, ctx.tenantId),
            pattern ? or(ilike(members.name, pattern), ilike(members.externalRef, pattern), ilike(members.email, pattern)) : undefined,
            input.after ? gt(members.externalRef, input.after) : undefined,
          ),
        )
        .orderBy(asc(members.externalRef))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit);
      return { members: page.map(toView), nextCursor: rows.length > input.limit ? page[page.length - 1]!.externalRef : null };
    }),
});
