import { newId } from "@approvalmatrix/core";
import {
  type Queryable,
  type SQL,
  and,
  asc,
  count,
  eq,
  gt,
  ilike,
  memberSearchDocument,
  members,
  ne,
  or,
  sql,
  users,
} from "@approvalmatrix/db";
import { z } from "zod";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import { writeAudit } from "../../services/audit";
import { router } from "../../trpc";
import { csvLine } from "./csv";
import { MEMBER_CSV_COLUMNS, importMembersCsv } from "./member-import";

export const memberView = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  externalRef: z.string(),
  department: z.string().nullable(),
  managerId: z.string().nullable(),
  active: z.boolean(),
});

/** A member with the names the admin app shows beside the ids. */
export const memberDetail = memberView.extend({
  managerRef: z.string().nullable(),
  managerName: z.string().nullable(),
  userId: z.string().nullable(),
  userEmail: z.string().nullable(),
});

const memberFields = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().nullish(),
  externalRef: z.string().trim().min(1).max(200),
  department: z.string().trim().min(1).max(200).nullish(),
  managerRef: z.string().trim().min(1).max(200).nullish().describe("The manager's externalRef."),
});

async function memberIdByRef(db: Queryable, tenantId: string, ref: string, field: string): Promise<string> {
  const [row] = await db
    .select({ id: members.id })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.externalRef, ref)));
  if (!row) throw apiError("invalid_request", `No member has externalRef "${ref}".`, [{ field, message: "unknown externalRef" }]);
  return row.id;
}

function toView(row: typeof members.$inferSelect): z.infer<typeof memberView> {
  const { id, name, email, externalRef, department, managerId, active } = row;
  return { id, name, email, externalRef, department, managerId, active };
}

const memberBasics = {
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
        if (!row)
          throw apiError("conflict", `A member with externalRef "${input.externalRef}" already exists.`, [
            { field: "externalRef", message: "already in use" },
          ]);
        await writeAudit(tx, ctx.actor, {
          action: "member.created",
          targetType: "member",
          targetId: row.id,
          data: { externalRef: row.externalRef },
        });
        return toView(row);
      });
    }),

  list: tenantProcedure("admin")
    .input(
      z.object({
        search: z.string().trim().max(200).optional(),
        limit: z.number().int().min(1).max(200).default(50),
        after: z.string().optional(),
      }),
    )
    .output(z.object({ members: z.array(memberView), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const rows = await ctx.deps.db
        .select()
        .from(members)
        .where(
          and(
            eq(members.tenantId, ctx.tenantId),
            input.search ? memberSearchMatch(input.search) : undefined,
            input.after ? gt(members.externalRef, input.after) : undefined,
          ),
        )
        .orderBy(pageOrder(input.search))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit);
      return { members: page.map(toView), nextCursor: rows.length > input.limit ? page[page.length - 1]!.externalRef : null };
    }),
};

function detailQuery(db: Queryable) {
  return db
    .select({
      id: members.id,
      name: members.name,
      email: members.email,
      externalRef: members.externalRef,
      department: members.department,
      managerId: members.managerId,
      active: members.active,
      // Correlated lookups on the primary key: cheaper than a self-join alias and just as exact.
      managerRef: sql<string | null>`(select g.external_ref from members g where g.id = ${members.managerId})`,
      managerName: sql<string | null>`(select g.name from members g where g.id = ${members.managerId})`,
      userId: members.userId,
      userEmail: users.email,
    })
    .from(members)
    .leftJoin(users, eq(users.id, members.userId));
}

/**
 * Members whose name, externalRef, email or department has a word starting with each word of
 * `search` ("oka" finds Okafor, "emp-0600" finds EMP-060001, "liam okafor" needs both): answered
 * from the members_search_idx GIN index, so it costs the same at 100 000 members as at 100. A
 * fragment from the middle of a word ("kafo") does not match: that needs a substring scan of every
 * row (or pg_trgm, which PGlite lacks), which is what made search slow. A search with no letter or
 * digit at all falls back to that substring scan.
 */
function memberSearchMatch(search: string): SQL | undefined {
  if (!/[\p{L}\p{N}]/u.test(search)) {
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return or(
      ilike(members.name, pattern),
      ilike(members.externalRef, pattern),
      ilike(members.email, pattern),
      ilike(members.department, pattern),
    );
  }
  // Words are cut in SQL with the same regexp as the indexed document, so both sides agree on
  // what a word is whatever the database's locale; each becomes a prefix term ("word:*").
  const prefixes = sql`regexp_replace(nullif(trim(regexp_replace(lower(${search}::text), '[^[:alnum:]]+', ' ', 'g')), ''), ' +', ':* & ', 'g') || ':*'`;
  return sql`${memberSearchDocument(members)} @@ to_tsquery('simple'::regconfig, ${prefixes})`;
}

/**
 * externalRef order. While searching, as an expression (same order, same collation) the
 * (tenant_id, external_ref) index cannot supply: otherwise the planner, guessing that a prefix
 * term matches ~2% of rows, walks that index and computes the search document of every row until
 * 50 match, which for a rare or absent word is the whole tenant (1.4 s at 100 000 members instead
 * of 2 ms from the GIN index and a top-50 sort).
 */
function pageOrder(search: string | undefined): SQL {
  return search ? sql`${members.externalRef} || ''` : asc(members.externalRef);
}

function searchFilter(tenantId: string, search: string | undefined, status: "active" | "inactive" | "all") {
  return and(
    eq(members.tenantId, tenantId),
    search ? memberSearchMatch(search) : undefined,
    status === "all" ? undefined : eq(members.active, status === "active"),
  );
}

const memberUpdate = z.strictObject({
  id: z.string().min(1),
  name: z.string().trim().min(1).max(200),
  email: z.email().nullish(),
  externalRef: z.string().trim().min(1).max(200),
  department: z.string().trim().min(1).max(200).nullish(),
  managerRef: z.string().trim().min(1).max(200).nullish(),
  userId: z.string().min(1).nullish().describe("The sign-in user this member decides as."),
});

export const membersRouter = router({
  ...memberBasics,
  search: tenantProcedure("admin")
    .input(
      z.object({
        search: z.string().trim().max(200).optional(),
        status: z.enum(["active", "inactive", "all"]).default("all"),
        limit: z.number().int().min(1).max(200).default(50),
        after: z.string().optional(),
      }),
    )
    .output(z.object({ members: z.array(memberDetail), nextCursor: z.string().nullable(), total: z.number().int() }))
    .query(async ({ ctx, input }) => {
      const where = searchFilter(ctx.tenantId, input.search, input.status);
      // Keyset pagination on the (tenant_id, external_ref) unique index: page 2000 costs what page 1 does.
      const [rows, totals] = await Promise.all([
        detailQuery(ctx.deps.db)
          .where(and(where, input.after ? gt(members.externalRef, input.after) : undefined))
          .orderBy(pageOrder(input.search))
          .limit(input.limit + 1),
        ctx.deps.db.select({ n: count() }).from(members).where(where),
      ]);
      const page = rows.slice(0, input.limit);
      return { members: page, nextCursor: rows.length > input.limit ? page[page.length - 1]!.externalRef : null, total: totals[0]?.n ?? 0 };
    }),

  get: tenantProcedure("admin")
    .input(z.object({ id: z.string().min(1) }))
    .output(memberDetail)
    .query(async ({ ctx, input }) => {
      const [row] = await detailQuery(ctx.deps.db).where(and(eq(members.tenantId, ctx.tenantId), eq(members.id, input.id)));
      if (!row) throw apiError("not_found", `No member ${input.id}.`);
      return row;
    }),

  update: tenantProcedure("admin")
    .input(memberUpdate)
    .output(memberView)
    .mutation(async ({ ctx, input }) => {
      return ctx.deps.db.transaction(async (tx) => {
        const [existing] = await tx
          .select({ id: members.id })
          .from(members)
          .where(and(eq(members.tenantId, ctx.tenantId), eq(members.id, input.id)));
        if (!existing) throw apiError("not_found", `No member ${input.id}.`);
        const managerId = input.managerRef ? await memberIdByRef(tx, ctx.tenantId, input.managerRef, "managerRef") : null;
        if (managerId === input.id)
          throw apiError("invalid_request", "A member cannot be their own manager.", [
            { field: "managerRef", message: "cannot be the member" },
          ]);
        if (input.userId) {
          const [user] = await tx
            .select({ id: users.id })
            .from(users)
            .where(and(eq(users.tenantId, ctx.tenantId), eq(users.id, input.userId)));
          if (!user) throw apiError("invalid_request", "No such user in this tenant.", [{ field: "userId", message: "unknown user" }]);
          const [taken] = await tx
            .select({ ref: members.externalRef })
            .from(members)
            .where(and(eq(members.tenantId, ctx.tenantId), eq(members.userId, input.userId), ne(members.id, input.id)));
          if (taken)
            throw apiError("conflict", `That user is already linked to member ${taken.ref}.`, [
              { field: "userId", message: "already linked" },
            ]);
        }
        const [clash] = await tx
          .select({ id: members.id })
          .from(members)
          .where(and(eq(members.tenantId, ctx.tenantId), eq(members.externalRef, input.externalRef), ne(members.id, input.id)));
        if (clash)
          throw apiError("conflict", `A member with externalRef "${input.externalRef}" already exists.`, [
            { field: "externalRef", message: "already in use" },
          ]);
        const [row] = await tx
          .update(members)
          .set({
            name: input.name,
            email: input.email ?? null,
            externalRef: input.externalRef,
            department: input.department ?? null,
            managerId,
            userId: input.userId ?? null,
            updatedAt: sql`now()`,
          })
          .where(and(eq(members.tenantId, ctx.tenantId), eq(members.id, input.id)))
          .returning();
        if (!row) throw apiError("not_found", `No member ${input.id}.`);
        await writeAudit(tx, ctx.actor, {
          action: "member.updated",
          targetType: "member",
          targetId: row.id,
          data: { externalRef: row.externalRef },
        });
        return toView(row);
      });
    }),

  setActive: tenantProcedure("admin")
    .input(z.object({ id: z.string().min(1), active: z.boolean() }))
    .output(memberView)
    .mutation(async ({ ctx, input }) => {
      return ctx.deps.db.transaction(async (tx) => {
        const [row] = await tx
          .update(members)
          .set({ active: input.active, updatedAt: sql`now()` })
          .where(and(eq(members.tenantId, ctx.tenantId), eq(members.id, input.id)))
          .returning();
        if (!row) throw apiError("not_found", `No member ${input.id}.`);
        await writeAudit(tx, ctx.actor, {
          action: input.active ? "member.reactivated" : "member.deactivated",
          targetType: "member",
          targetId: row.id,
          data: { externalRef: row.externalRef },
        });
        return toView(row);
      });
    }),

  /** CSV upsert by externalRef; reports progress through ctx.onProgress. */
  importCsv: tenantProcedure("admin")
    .input(z.object({ csv: z.string().max(50_000_000) }))
    .mutation(({ ctx, input }) => importMembersCsv(ctx.deps.db, ctx.actor, input.csv, ctx.onProgress)),

  /** One page of the CSV export (header on the first page); the caller streams pages. */
  exportPage: tenantProcedure("admin")
    .input(z.object({ after: z.string().optional(), limit: z.number().int().min(1).max(10_000).default(5000) }))
    .output(z.object({ csv: z.string(), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const rows = await detailQuery(ctx.deps.db)
        .where(and(eq(members.tenantId, ctx.tenantId), input.after ? gt(members.externalRef, input.after) : undefined))
        .orderBy(asc(members.externalRef))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit);
      let csv = input.after ? "" : csvLine([...MEMBER_CSV_COLUMNS]);
      for (const m of page) csv += csvLine([m.externalRef, m.name, m.email, m.department, m.managerRef, m.active]);
      return { csv, nextCursor: rows.length > input.limit ? page[page.length - 1]!.externalRef : null };
    }),
});
