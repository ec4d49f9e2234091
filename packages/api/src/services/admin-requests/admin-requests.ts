/**
 * The admin app's view of requests: admins see the tenant's, approvers only those they are (or
 * were) an approver on, and an approver decides as their own member.
 */
import { DomainError, type RequestStatus, escapeLike } from "@approvalmatrix/core";
import { type Queryable, type SQL, and, desc, eq, ilike, members, requests, sql } from "@approvalmatrix/db";
import type { Actor, ApiDeps } from "../../context";
import type { RequestView } from "../../contracts/requests";
import { decideRequest } from "../decide-request";
import { afterCursorRow, cursorId } from "../paging/keyset";
import { loadRequestView } from "../request-view";

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
  /** The open stage's deadline, for the due date and overdue badge. */
  dueAt: sql<string | null>`(select to_char(s.due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') from request_stages s
    where s.tenant_id = ${requests.tenantId} and s.request_id = ${requests.id} and s.position = ${requests.currentStage} and s.status = 'open')`,
};

function memberOf(actor: Actor): string | null {
  return actor.kind === "user" ? actor.memberId : null;
}

export interface AdminRequestFilter {
  status?: RequestStatus | undefined;
  requestType?: string | undefined;
  submitterRef?: string | undefined;
  /** Words of the title. */
  search?: string | undefined;
  limit: number;
  /** The previous page's nextCursor. */
  before?: string | undefined;
}

/** Requests the actor may see, newest first, in keyset pages. */
export async function listAdminRequests(db: Queryable, actor: Actor, input: AdminRequestFilter) {
  const rows = await db
    .select(summaryColumns)
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(
      and(
        eq(requests.tenantId, actor.tenantId),
        visibleTo(actor),
        input.status ? eq(requests.status, input.status) : undefined,
        input.requestType ? eq(requests.requestType, input.requestType) : undefined,
        input.submitterRef ? eq(members.externalRef, input.submitterRef) : undefined,
        input.search ? ilike(requests.title, `%${escapeLike(input.search)}%`) : undefined,
        input.before ? afterCursorRow("requests", actor.tenantId, cursorId(input.before)) : undefined,
      ),
    )
    .orderBy(desc(requests.createdAt), desc(requests.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit).map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
  return { requests: page, nextCursor: rows.length > input.limit ? (page.at(-1)?.requestId ?? null) : null };
}

/** One request as the admin app shows it, with whether the actor can decide it now. */
export async function getAdminRequest(db: Queryable, actor: Actor, requestId: string) {
  const tenantId = actor.tenantId;
  const visibility = visibleTo(actor);
  if (visibility) {
    const [row] = await db
      .select({ id: requests.id })
      .from(requests)
      .where(and(eq(requests.tenantId, tenantId), eq(requests.id, requestId), visibility));
    if (!row) throw new DomainError("not_found", `No request ${requestId}.`);
  }
  const view = await loadRequestView(db, tenantId, requestId);
  if (!view) throw new DomainError("not_found", `No request ${requestId}.`);
  const [submitter] = await db
    .select({ name: members.name })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.externalRef, view.submitterRef)));
  const memberId = memberOf(actor);
  let canDecide = false;
  if (memberId) {
    const [waiting] = await db
      .select({ id: requests.id })
      .from(requests)
      .where(and(eq(requests.tenantId, tenantId), eq(requests.id, requestId), waitingOn(memberId)));
    canDecide = !!waiting;
  }
  return { ...view, submitterName: submitter?.name ?? view.submitterRef, canDecide };
}

/** The signed-in approver's inbox: requests waiting on their decision, oldest first. */
export async function adminInbox(db: Queryable, actor: Actor) {
  const memberId = memberOf(actor);
  if (!memberId) return { requests: [], linkedMember: false };
  const rows = await db
    .select(summaryColumns)
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(and(eq(requests.tenantId, actor.tenantId), waitingOn(memberId)))
    .orderBy(requests.createdAt)
    .limit(200);
  return { requests: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), linkedMember: true };
}

/** The signed-in approver decides as their own member: the approver never comes from input. */
export function decideAsSignedInApprover(
  deps: Pick<ApiDeps, "db" | "receipts">,
  actor: Actor,
  input: { requestId: string; decision: "approved" | "rejected"; comment?: string | null | undefined },
): Promise<RequestView> {
  const memberId = memberOf(actor);
  if (!memberId)
    throw new DomainError(
      "forbidden",
      "Your sign-in is not linked to a member, so you cannot decide. Ask an admin to link you on the Members page.",
    );
  return decideRequest(
    deps.db,
    actor,
    { requestId: input.requestId, approver: { memberId }, decision: input.decision, comment: input.comment ?? null },
    deps.receipts,
  );
}
