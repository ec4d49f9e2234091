import { EVENT_API_VERSION, type EventType, newId } from "@approvalmatrix/core";
import { type Queryable, events } from "@approvalmatrix/db";

export interface NewEvent {
  type: EventType;
  data: Record<string, unknown>;
}

/** The events table row for one event. */
export function eventRow(tenantId: string, event: NewEvent, createdAt: Date) {
  return { id: newId("event"), tenantId, type: event.type, apiVersion: EVENT_API_VERSION, data: event.data, createdAt };
}

/**
 * Writes events into the outbox. Call it with the transaction that makes the change: the event
 * commits with it or not at all. Webhook fan-out happens later, off the request path (the
 * `events.dispatch` job).
 */
export async function emitEvents(tx: Queryable, tenantId: string, list: NewEvent[], createdAt: Date = new Date()): Promise<void> {
  if (list.length === 0) return;
  await tx.insert(events).values(list.map((event) => eventRow(tenantId, event, createdAt)));
}
