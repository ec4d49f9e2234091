import { REQUEST_STATUSES } from "@approvalmatrix/core";
import { type SQL, and, desc, eq, ilike, lt, members, or, requests, sql } from "@approvalmatrix/db";
import { z } from "zod";
import type { Actor } from "../../context";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import { decideRequest } from "../../services/decide-request";
import { loadRequestView } from "../../services/request-view";
import { router } from "../../trpc";
import { requestView } from "../requests/schemas";

const requestSummary = z.object({
  requestId: z.string(),
  title: z.string(),
  requestType: z.string(),
  status: z.enum(REQUEST_STATUSES),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  submitterRef: z.string(),
  submitterName: z.string(),
  matrixName: z.string(),
  currentStage: z.number().int().nullable(),
  totalStages: z.number().int(),
  createdAt: z.iso.datetime(),
});

/** Approvers see only requests on which they are (or were) an approver; admins see the tenant's. */
function visibleTo(actor: Actor): SQL | undefined {
  if (actor.kind !== "user" || actor.role !== "approver") return undefined;
  if (!actor.memberId) return sql`false`;
  return sql`exists (select 1 from request_stages s where s.request_id = ${requests.id} and s.tenant_id = ${requests.tenantId} and s.approver_ids @> array[${actor.memberId}]::text[])`;
}

/** Open requests whose current stage lists this member and that the member has not decided yet. */
function waitingOn(memberId: string): SQL {
  return sql`exists (select 1 from request_stages s where s.request_id = ${requests.id} and s.tenant_id = ${requests.tenantId}
    and s.position = ${requests.currentStage} and s.status = 'open' and s.approver_ids @> array[${memberId}]::text[])
    and not exists (select 1 from decisions d where d.request_id = ${requests.id} and d.tenant_id = ${requests.tenantId}
    and d.stage = ${requests.currentStage} and d.approver_id = ${memberId})`;
}

const summaryColumns = {
  requestId: requests.id,
  title: requests.title,
  requestType: requests.requestType,
  status: requests.status,
  amount: requests.amount,
  currency: requests.currency,
  submitterRef: members.externalRef,
  submitterName: members.name,
  matrixName: requests.matrixName,
  currentStage: requests.currentStage,
  totalStages: requests.totalStages,
  createdAt: requests.createdAt,
};

export const adminRequestsRouter = router({
  list: tenantProcedure("approver")
    .input(
      z.object({
        status: z.enum(REQUEST_STATUSES).optional(),
        requestType: z.string().trim().max(100).optional(),
        submitterRef: z.string().trim().max(200).optional(),
        search: z.string().trim().max(200).optional(),
        limit: z.number().int().min(1).max(100).default(25),
        before: z.string().optional(),
      }),
    )
    .output(z.object({ requests: z.array(requestSummary), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const [beforeAt, beforeId] = input.before?.split("|") ?? [];
      const beforeDate = beforeAt ? new Date(beforeAt) : null;
      const rows = await ctx.deps.db
        .select(summaryColumns)
        .from(requests)
        .innerJoin(members, eq(members.id, requests.submitterId))
        .where(
          and(
            eq(requests.tenantId, ctx.tenantId),
            visibleTo(ctx.actor),
            input.status ? eq(requests.status, input.status) : undefined,
            input.requestType ? eq(requests.requestType, input.requestType) : undefined,
            input.submitterRef ? eq(members.externalRef, input.submitterRef) : undefined,
            input.search ? ilike(requests.title, `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
            beforeDate && beforeId && !Number.isNaN(beforeDate.getTime())
              ? or(lt(requests.createdAt, beforeDate), and(eq(requests.createdAt, beforeDate), lt(requests.id, beforeId)))
              : undefined,
          ),
        )
        .orderBy(desc(requests.createdAt), desc(requests.id))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit).map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
      const last = page[page.length - 1];
      return { requests: page, nextCursor: rows.length > input.limit && last ? `${last.createdAt}|${last.requestId}` : null };
    }),

  get: tenantProcedure("approver")
    .input(z.object({ requestId: z.string().min(1) }))
    .output(requestView.extend({ submitterName: z.string(), canDecide: z.boolean() }))
    .query(async ({ ctx, input }) => {
      const visibility = visibleTo(ctx.actor);
      if (visibility) {
        const [row] = await ctx.deps.db
          .select({ id: requests.id })
          .from(requests)
          .where(and(eq(requests.tenantId, ctx.tenantId), eq(requests.id, input.requestId), visibility));
        if (!row) throw apiError("not_found", `No request ${input.requestId}.`);
      }
      const view = await loadRequestView(ctx.deps.db, ctx.tenantId, input.requestId);
      if (!view) throw apiError("not_found", `No request ${input.requestId}.`);
      const [submitter] = await ctx.deps.db
        .select({ name: members.name })
        .from(members)
        .where(and(eq(members.tenantId, ctx.tenantId), eq(members.externalRef, view.submitterRef)));
      const memberId = ctx.actor.kind === "user" ? ctx.actor.memberId : null;
      let canDecide = false;
      if (memberId) {
        const [waiting] = await ctx.deps.db
          .select({ id: requests.id })
          .from(requests)
          .where(and(eq(requests.tenantId, ctx.tenantId), eq(requests.id, input.requestId), waitingOn(memberId)));
        canDecide = !!waiting;
      }
      return { ...view, submitterName: submitter?.name ?? view.submitterRef, canDecide };
    }),

  /** The signed-in approver's inbox: requests waiting on their decision, oldest first. */
  inbox: tenantProcedure("approver")
    .output(z.object({ requests: z.array(requestSummary), linkedMember: z.boolean() }))
    .query(async ({ ctx }) => {
      const memberId = ctx.actor.kind === "user" ? ctx.actor.memberId : null;
      if (!memberId) return { requests: [], linkedMember: false };
      const rows = await ctx.deps.db
        .select(summaryColumns)
        .from(requests)
        .innerJoin(members, eq(members.id, requests.submitterId))
        .where(and(eq(requests.tenantId, ctx.tenantId), waitingOn(memberId)))
        .orderBy(requests.createdAt)
        .limit(200);
      return { requests: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), linkedMember: true };
    }),

  /** The signed-in approver decides as their own member: the approver never comes from input. */
  decide: tenantProcedure("approver")
    .input(
      z.object({
        requestId: z.string().min(1),
        decision: z.enum(["approved", "rejected"]),
        comment: z.string().trim().max(2000).nullish(),
      }),
    )
    .output(requestView)
    .mutation(({ ctx, input }) => {
      const memberId = ctx.actor.kind === "user" ? ctx.actor.memberId : null;
      if (!memberId)
        throw apiError(
          "forbidden",
          "Your sign-in is not linked to a member, so you cannot decide. Ask an admin to link you on the Members page.",
        );
      return decideRequest(ctx.deps.db, ctx.actor, {
        requestId: input.requestId,
        approver: { memberId },
        decision: input.decision,
        comment: input.comment ?? null,
      });
    }),
});
