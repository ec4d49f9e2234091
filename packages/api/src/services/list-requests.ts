/**
 * Listing requests newest first with keyset pagination on (created_at desc, id desc). Every
 * filter has an index ending in that keyset (db/schema/requests.ts), and the cursor is resolved
 * inside the query, so a page costs an index range scan of `limit + 1` entries whether it is the
 * first page or the ten-thousandth. tooling/bench/list-requests.ts measures it on a million rows.
 */
import { DomainError } from "@approvalmatrix/core";
import { type Queryable, type SQL, and, eq, members, requestStages, requests, sql } from "@approvalmatrix/db";
import type { InboxInput, ListRequestsInput, RequestPage } from "../contracts/requests";
import { afterCursorRow } from "./paging/keyset";

const summaryColumns = {
  requestId: requests.id,
  status: requests.status,
  title: requests.title,
  submitterRef: members.externalRef,
  requestType: requests.requestType,
  amount: requests.amount,
  currency: requests.currency,
  matrixId: requests.matrixId,
  matrixName: requests.matrixName,
  currentStage: requests.currentStage,
  totalStages: requests.totalStages,
  expiresAt: requests.expiresAt,
  createdAt: requests.createdAt,
  updatedAt: requests.updatedAt,
};

// `nulls last` matches the indexes exactly (plain `desc` means nulls first, which they cannot serve).
const NEWEST_FIRST = [sql`${requests.createdAt} desc nulls last`, sql`${requests.id} desc nulls last`];

/** Rows strictly after the cursor request in newest-first order; no rows if it does not exist. */
function afterCursor(tenantId: string, cursor: string): SQL {
  return afterCursorRow("requests", tenantId, cursor);
}

type PageInput = { limit: number; startingAfter?: string | undefined };

/** The one SELECT behind GET /v1/requests, exported so the benchmark can EXPLAIN it. */
export function listRequestsQuery(db: Queryable, tenantId: string, input: ListRequestsInput) {
  return db
    .select(summaryColumns)
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(
      and(
        eq(requests.tenantId, tenantId),
        input.status ? eq(requests.status, input.status) : undefined,
        input.requestType ? eq(requests.requestType, input.requestType) : undefined,
        input.submitterRef
          ? sql`${requests.submitterId} = (select m.id from members m where m.tenant_id = ${tenantId} and m.external_ref = ${input.submitterRef})`
          : undefined,
        // Compared as timestamptz in SQL: a Date would drop the microseconds.
        input.createdAfter ? sql`${requests.createdAt} >= ${input.createdAfter}::timestamptz` : undefined,
        input.createdBefore ? sql`${requests.createdAt} < ${input.createdBefore}::timestamptz` : undefined,
        input.updatedAfter ? sql`${requests.updatedAt} >= ${input.updatedAfter}::timestamptz` : undefined,
        input.startingAfter ? afterCursor(tenantId, input.startingAfter) : undefined,
      ),
    )
    .orderBy(...NEWEST_FIRST)
    .limit(input.limit + 1);
}

/** Open requests whose current stage waits on `memberId`, who has not decided it yet. */
export function inboxQuery(db: Queryable, tenantId: string, memberId: string, input: PageInput) {
  return (
    db
      .select(summaryColumns)
      // From the open stages listing the member (a partial GIN index), to their requests.
      .from(requestStages)
      .innerJoin(requests, and(eq(requests.id, requestStages.requestId), eq(requests.currentStage, requestStages.position)))
      .innerJoin(members, eq(members.id, requests.submitterId))
      .where(
        and(
          eq(requestStages.tenantId, tenantId),
          eq(requestStages.status, "open"),
          sql`${requestStages.approverIds} @> array[${memberId}]::text[]`,
          eq(requests.tenantId, tenantId),
          sql`not exists (select 1 from decisions d where d.request_id = ${requests.id} and d.stage = ${requestStages.position} and d.approver_id = ${memberId})`,
          input.startingAfter ? afterCursor(tenantId, input.startingAfter) : undefined,
        ),
      )
      .orderBy(...NEWEST_FIRST)
      .limit(input.limit + 1)
  );
}

type SummaryRow = Awaited<ReturnType<typeof listRequestsQuery>>[number];

async function toPage(db: Queryable, tenantId: string, rows: SummaryRow[], input: PageInput): Promise<RequestPage> {
  if (rows.length === 0 && input.startingAfter) await assertCursorExists(db, tenantId, input.startingAfter);
  const page = rows.slice(0, input.limit);
  const hasMore = rows.length > input.limit;
  const last = page.at(-1);
  return {
    data: page.map((row) => ({
      ...row,
      expiresAt: row.expiresAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    })),
    hasMore,
    ...(hasMore && last ? { nextCursor: last.requestId } : {}),
  };
}

/** An empty page after a cursor: tell a stale or foreign cursor apart from the end of the list. */
async function assertCursorExists(db: Queryable, tenantId: string, cursor: string): Promise<void> {
  const [row] = await db
    .select({ id: requests.id })
    .from(requests)
    .where(and(eq(requests.tenantId, tenantId), eq(requests.id, cursor)))
    .limit(1);
  if (!row) {
    throw new DomainError(
      "invalid_request",
      `startingAfter: no request ${cursor} in your tenant. Pass the nextCursor of the previous page.`,
      [{ field: "startingAfter", message: "unknown requestId" }],
    );
  }
}

export async function listRequests(db: Queryable, tenantId: string, input: ListRequestsInput): Promise<RequestPage> {
  return toPage(db, tenantId, await listRequestsQuery(db, tenantId, input), input);
}

/** The requests waiting on one member, newest first: what an approver's inbox shows. */
export async function listInbox(db: Queryable, tenantId: string, input: InboxInput): Promise<RequestPage> {
  const [member] = await db
    .select({ id: members.id, active: members.active })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), eq(members.externalRef, input.approverRef)))
    .limit(1);
  if (!member || !member.active) {
    throw new DomainError("unknown_approver", `No active member has externalRef "${input.approverRef}".`, [
      { field: "approverRef", message: "unknown externalRef" },
    ]);
  }
  return toPage(db, tenantId, await inboxQuery(db, tenantId, member.id, input), input);
}
