/**
 * GET /v1/events: a tenant's events newest first, keyset-paged on (created_at desc, id desc) like
 * the requests list, so a system that was down can catch up without webhooks. Events are kept
 * EVENT_RETENTION_DAYS days (the periodic `events.purge` job, jobs/events-dispatch.ts).
 */
import { DomainError, type EventType } from "@approvalmatrix/core";
import { type Queryable, and, eq, events, sql } from "@approvalmatrix/db";

/** Documented retention; the purge job uses the same 30 days (EVENT_RETENTION_MS). */
export const EVENT_RETENTION_DAYS = 30;

export interface EventView {
  id: string;
  type: EventType;
  createdAt: string;
  apiVersion: string;
  data: Record<string, unknown>;
}

export interface EventPage {
  data: EventView[];
  hasMore: boolean;
  nextCursor?: string;
}

export interface ListEventsInput {
  type?: EventType | undefined;
  createdAfter?: string | undefined;
  createdBefore?: string | undefined;
  limit: number;
  startingAfter?: string | undefined;
}

export async function listEvents(db: Queryable, tenantId: string, input: ListEventsInput): Promise<EventPage> {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.tenantId, tenantId),
        input.type ? eq(events.type, input.type) : undefined,
        input.createdAfter ? sql`${events.createdAt} >= ${input.createdAfter}::timestamptz` : undefined,
        input.createdBefore ? sql`${events.createdAt} < ${input.createdBefore}::timestamptz` : undefined,
        // The cursor's timestamp is read in SQL: a JavaScript Date would drop PostgreSQL's microseconds.
        input.startingAfter
          ? sql`(${events.createdAt}, ${events.id}) < ((select c.created_at from events c where c.tenant_id = ${tenantId} and c.id = ${input.startingAfter}), ${input.startingAfter})`
          : undefined,
      ),
    )
    .orderBy(sql`${events.createdAt} desc`, sql`${events.id} desc`)
    .limit(input.limit + 1);
  if (rows.length === 0 && input.startingAfter) {
    const [cursor] = await db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.tenantId, tenantId), eq(events.id, input.startingAfter)));
    if (!cursor) {
      throw new DomainError(
        "invalid_request",
        `startingAfter: no event ${input.startingAfter} in your tenant (events are kept ${EVENT_RETENTION_DAYS} days).`,
        [{ field: "startingAfter", message: "unknown event id" }],
      );
    }
  }
  const page = rows.slice(0, input.limit);
  const hasMore = rows.length > input.limit;
  const last = page.at(-1);
  return {
    data: page.map((row) => ({
      id: row.id,
      type: row.type as EventType,
      createdAt: row.createdAt.toISOString(),
      apiVersion: row.apiVersion,
      data: row.data,
    })),
    hasMore,
    ...(hasMore && last ? { nextCursor: last.id } : {}),
  };
}
