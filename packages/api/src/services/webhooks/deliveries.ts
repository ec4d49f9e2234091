/**
 * Delivering events to webhook endpoints. The fan-out turns undispatched events (the outbox) into
 * one delivery per matching enabled endpoint and queues a `webhooks.deliver` job for each; the job
 * makes one signed attempt and either finishes it or asks the worker to run it again at the next
 * step of the Standard Webhooks schedule. The delivery id, not the job, carries the state, so a
 * crash mid-attempt only repeats the attempt, under the same `webhook-id`.
 */
import {
  DomainError,
  EVENT_API_VERSION,
  WEBHOOK_DISABLE_AFTER_MS,
  isWebhookSuccess,
  newId,
  nextWebhookAttempt,
  parseRetryAfter,
  signWebhook,
} from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  and,
  desc,
  eq,
  type events,
  gte,
  inArray,
  isNull,
  lt,
  sql,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from "@approvalmatrix/db";
import { enqueueJobs } from "@approvalmatrix/jobs";
import type { Actor, ApiDeps } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";
import { findEndpoint, signingSecrets, webhookSettings } from "./endpoints";
import { type AttemptResult, sendWebhookAttempt } from "./send";

export const DELIVER_JOB = "webhooks.deliver";
const deliverJob = (deliveryId: string, tenantId: string, runAt?: Date) => ({
  kind: DELIVER_JOB,
  payload: { deliveryId },
  tenantId,
  dedupeKey: `webhook-delivery:${deliveryId}`,
  ...(runAt ? { runAt } : {}),
});

/** The body every receiver gets: the event envelope. */
export function eventEnvelope(event: { id: string; type: string; createdAt: Date; apiVersion: string; data: unknown }): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    apiVersion: event.apiVersion,
    data: event.data,
  });
}

type EventRow = typeof events.$inferSelect;

/**
 * The webhooks' part of the `events.dispatch` job (jobs/events-dispatch.ts claims undispatched
 * events with FOR UPDATE SKIP LOCKED, so instances dispatching at once take disjoint batches, and
 * marks them dispatched in the same transaction): one delivery per event and matching enabled
 * endpoint, and a job for each. The unique (endpoint, event) index makes a repeated fan-out
 * create nothing twice.
 */
export function webhookFanOut(deps: Pick<ApiDeps, "clock">) {
  return async (tx: Queryable, batch: EventRow[]): Promise<void> => {
    const now = deps.clock.now();
    const tenantIds = [...new Set(batch.map((e) => e.tenantId))];
    const endpoints = await tx
      .select({ id: webhookEndpoints.id, tenantId: webhookEndpoints.tenantId, eventTypes: webhookEndpoints.eventTypes })
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.tenantId, tenantIds), eq(webhookEndpoints.status, "enabled")));
    if (endpoints.length === 0) return;
    const rows: (typeof webhookDeliveries.$inferInsert)[] = [];
    for (const event of batch) {
      const body = eventEnvelope(event);
      for (const endpoint of endpoints) {
        if (endpoint.tenantId !== event.tenantId) continue;
        if (endpoint.eventTypes.length > 0 && !endpoint.eventTypes.includes(event.type)) continue;
        rows.push({
          id: newId("webhookDelivery"),
          tenantId: event.tenantId,
          endpointId: endpoint.id,
          eventId: event.id,
          eventType: event.type,
          webhookId: event.id,
          body,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        });
      }
    }
    for (let i = 0; i < rows.length; i += 1000) {
      const created = await tx
        .insert(webhookDeliveries)
        .values(rows.slice(i, i + 1000))
        .onConflictDoNothing()
        .returning({ id: webhookDeliveries.id, tenantId: webhookDeliveries.tenantId });
      await enqueueJobs(
        tx,
        created.map((d) => deliverJob(d.id, d.tenantId, now)),
      );
    }
  };
}

/** Disables an enabled endpoint and tells the tenant (event + audit); false when it already was. */
async function disableForHealth(tx: Queryable, endpoint: { id: string; tenantId: string; url: string }, reason: string, now: Date) {
  const [row] = await tx
    .update(webhookEndpoints)
    .set({ status: "disabled", disabledReason: reason, disabledAt: now, updatedAt: now })
    .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.status, "enabled")))
    .returning({ id: webhookEndpoints.id });
  if (!row) return false;
  const system: Actor = { kind: "system", tenantId: endpoint.tenantId, reason: "webhook endpoint health" };
  await writeAudit(tx, system, {
    action: "webhook_endpoint.disabled",
    targetType: "webhook_endpoint",
    targetId: endpoint.id,
    data: { reason, automatic: true },
  });
  await emitEvents(tx, endpoint.tenantId, [
    { type: "webhook_endpoint.disabled", data: { endpointId: endpoint.id, url: endpoint.url, reason, disabledAt: now.toISOString() } },
  ]);
  return true;
}

/**
 * The `webhooks.deliver` job: one attempt of one delivery. Returns the instant of the next attempt
 * (the worker reschedules the job) or nothing when the delivery is settled.
 */
export async function deliverWebhook(
  deps: Pick<ApiDeps, "db" | "apiKeyHashSecret" | "webhooks">,
  deliveryId: string,
  now: Date,
): Promise<void | { retryAt: Date }> {
  const [found] = await deps.db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, deliveryId))
    .limit(1);
  if (!found || found.delivery.status !== "pending") return;
  const { delivery, endpoint } = found;
  if (endpoint.status === "disabled") {
    await deps.db
      .update(webhookDeliveries)
      .set({ status: "failed", lastError: "the endpoint is disabled", nextAttemptAt: null, updatedAt: now })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, "pending")));
    return;
  }
  // The timestamp receivers check against their own clock: the wall clock, never a test's clock.
  const headers = signWebhook({
    id: delivery.webhookId,
    timestamp: new Date(),
    body: delivery.body,
    secrets: signingSecrets(endpoint, deps.apiKeyHashSecret, now),
  });
  const result = await sendWebhookAttempt(endpoint.url, { ...headers }, delivery.body, webhookSettings(deps));
  return recordAttempt(deps.db, delivery, endpoint, result, now);
}

async function recordAttempt(
  db: Database,
  delivery: typeof webhookDeliveries.$inferSelect,
  endpoint: typeof webhookEndpoints.$inferSelect,
  result: AttemptResult,
  now: Date,
): Promise<void | { retryAt: Date }> {
  const attempt = {
    id: newId("webhookAttempt"),
    tenantId: delivery.tenantId,
    deliveryId: delivery.id,
    attemptedAt: now,
    responseStatus: result.status,
    responseBody: result.body,
    error: result.error ?? (result.status !== null && !isWebhookSuccess(result.status) ? describeFailure(result) : null),
    durationMs: result.durationMs,
  };
  if (result.status !== null && isWebhookSuccess(result.status) && !endpoint.failingSince) {
    // The common case in one statement: the attempt is logged (a data-modifying WITH always runs),
    // and the delivery settles only if it is still pending at the attempt count this run read
    // (else another worker settled it).
    const logged = db.$with("logged").as(db.insert(webhookAttempts).values(attempt).returning({ id: webhookAttempts.id }));
    await db
      .with(logged)
      .update(webhookDeliveries)
      .set({
        status: "succeeded",
        attempts: delivery.attempts + 1,
        lastResponseStatus: result.status,
        lastError: null,
        nextAttemptAt: null,
        updatedAt: now,
      })
      .where(
        and(
          eq(webhookDeliveries.id, delivery.id),
          eq(webhookDeliveries.status, "pending"),
          eq(webhookDeliveries.attempts, delivery.attempts),
        ),
      );
    return;
  }
  return db.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values(attempt);
    // Another worker may have settled it meanwhile (this attempt outlived its lease): keep the
    // attempt in the log, but its state is theirs.
    const [current] = await tx
      .select({ status: webhookDeliveries.status, attempts: webhookDeliveries.attempts })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, delivery.id))
      .for("update");
    if (current?.status !== "pending" || current.attempts !== delivery.attempts) return;
    const attempts = delivery.attempts + 1;
    const base = { attempts, lastResponseStatus: result.status, updatedAt: now };
    const settle = (status: "succeeded" | "failed", lastError: string | null) =>
      tx
        .update(webhookDeliveries)
        .set({ ...base, status, lastError, nextAttemptAt: null })
        .where(eq(webhookDeliveries.id, delivery.id));

    if (result.status !== null && isWebhookSuccess(result.status)) {
      await settle("succeeded", null);
      if (endpoint.failingSince) {
        await tx.update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, endpoint.id));
      }
      return;
    }

    const error = result.error ?? describeFailure(result);
    if (result.status === 410) {
      await settle("failed", error);
      await disableForHealth(tx, endpoint, "The receiver answered 410 Gone.", now);
      return;
    }
    const failingSince = endpoint.failingSince ?? now;
    if (!endpoint.failingSince) {
      await tx
        .update(webhookEndpoints)
        .set({ failingSince: now })
        .where(and(eq(webhookEndpoints.id, endpoint.id), isNull(webhookEndpoints.failingSince)));
    }
    if (now.getTime() - failingSince.getTime() >= WEBHOOK_DISABLE_AFTER_MS) {
      await settle("failed", error);
      await disableForHealth(tx, endpoint, "Every delivery failed for 5 days.", now);
      return;
    }
    const retryAfter = header(result.headers["retry-after"]);
    const next = nextWebhookAttempt(attempts, now, { retryAfterMs: parseRetryAfter(retryAfter, now) });
    if (!next) {
      await settle("failed", error);
      return;
    }
    await tx
      .update(webhookDeliveries)
      .set({ ...base, lastError: error, nextAttemptAt: next })
      .where(eq(webhookDeliveries.id, delivery.id));
    return { retryAt: next };
  });
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function describeFailure(result: AttemptResult): string {
  if (result.status === null) return result.error ?? "no response";
  if (result.status >= 300 && result.status < 400) {
    return `redirect ${result.status} to ${header(result.headers.location) ?? "(no location)"}: redirects are not followed`;
  }
  return `the receiver answered ${result.status}`;
}

// ---------------------------------------------------------------------------------------------
// What the admin app and the REST API do with deliveries.

export interface WebhookAttemptView {
  attemptedAt: string;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliveryView {
  id: string;
  endpointId: string;
  eventId: string | null;
  eventType: string;
  webhookId: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  attemptLog: WebhookAttemptView[];
}

export interface DeliveryPage {
  data: WebhookDeliveryView[];
  hasMore: boolean;
  nextCursor?: string;
}

async function attemptsOf(db: Queryable, deliveryIds: string[]): Promise<Map<string, WebhookAttemptView[]>> {
  const byDelivery = new Map<string, WebhookAttemptView[]>();
  if (deliveryIds.length === 0) return byDelivery;
  const rows = await db
    .select()
    .from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, deliveryIds))
    .orderBy(webhookAttempts.attemptedAt, webhookAttempts.id);
  for (const row of rows) {
    const list = byDelivery.get(row.deliveryId) ?? [];
    list.push({
      attemptedAt: row.attemptedAt.toISOString(),
      responseStatus: row.responseStatus,
      responseBody: row.responseBody,
      error: row.error,
      durationMs: row.durationMs,
    });
    byDelivery.set(row.deliveryId, list);
  }
  return byDelivery;
}

function toDeliveryView(row: typeof webhookDeliveries.$inferSelect, attemptLog: WebhookAttemptView[]): WebhookDeliveryView {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventId: row.eventId,
    eventType: row.eventType,
    webhookId: row.webhookId,
    status: row.status,
    attempts: row.attempts,
    lastResponseStatus: row.lastResponseStatus,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    attemptLog,
  };
}

/** An endpoint's delivery log, newest first, with every attempt; keyset on (created_at, id). */
export async function listDeliveries(
  db: Queryable,
  tenantId: string,
  input: { endpointId: string; status?: "pending" | "succeeded" | "failed" | undefined; limit: number; startingAfter?: string | undefined },
): Promise<DeliveryPage> {
  await findEndpoint(db, tenantId, input.endpointId);
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenantId),
        eq(webhookDeliveries.endpointId, input.endpointId),
        input.status ? eq(webhookDeliveries.status, input.status) : undefined,
        input.startingAfter
          ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < ((select c.created_at from webhook_deliveries c where c.tenant_id = ${tenantId} and c.id = ${input.startingAfter}), ${input.startingAfter})`
          : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const attempts = await attemptsOf(
    db,
    page.map((r) => r.id),
  );
  const hasMore = rows.length > input.limit;
  const last = page.at(-1);
  return {
    data: page.map((row) => toDeliveryView(row, attempts.get(row.id) ?? [])),
    hasMore,
    ...(hasMore && last ? { nextCursor: last.id } : {}),
  };
}

/** Sends a delivery again now (a new round of the schedule), whatever its state. */
export async function resendDelivery(
  db: Database,
  actor: Actor,
  endpointId: string,
  deliveryId: string,
  now: Date,
): Promise<WebhookDeliveryView> {
  return db.transaction(async (tx) => {
    await findEndpoint(tx, actor.tenantId, endpointId);
    const [row] = await tx
      .update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now, updatedAt: now })
      .where(
        and(
          eq(webhookDeliveries.tenantId, actor.tenantId),
          eq(webhookDeliveries.endpointId, endpointId),
          eq(webhookDeliveries.id, deliveryId),
        ),
      )
      .returning();
    if (!row) throw new DomainError("not_found", `No delivery ${deliveryId} for webhook endpoint ${endpointId}.`);
    await enqueueJobs(tx, [deliverJob(row.id, row.tenantId, now)]);
    await writeAudit(tx, actor, {
      action: "webhook_delivery.resent",
      targetType: "webhook_delivery",
      targetId: row.id,
      data: { endpointId },
    });
    const attempts = await attemptsOf(tx, [row.id]);
    return toDeliveryView(row, attempts.get(row.id) ?? []);
  });
}

/** Sends every failed delivery of the endpoint created at or after `since` again; returns how many. */
export async function replayFailedDeliveries(
  db: Database,
  actor: Actor,
  endpointId: string,
  since: string,
  now: Date,
): Promise<{ replayed: number }> {
  return db.transaction(async (tx) => {
    await findEndpoint(tx, actor.tenantId, endpointId);
    const rows = await tx
      .update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now, updatedAt: now })
      .where(
        and(
          eq(webhookDeliveries.tenantId, actor.tenantId),
          eq(webhookDeliveries.endpointId, endpointId),
          eq(webhookDeliveries.status, "failed"),
          gte(webhookDeliveries.createdAt, sql`${since}::timestamptz`),
        ),
      )
      .returning({ id: webhookDeliveries.id, tenantId: webhookDeliveries.tenantId });
    for (let i = 0; i < rows.length; i += 1000) {
      await enqueueJobs(
        tx,
        rows.slice(i, i + 1000).map((r) => deliverJob(r.id, r.tenantId, now)),
      );
    }
    await writeAudit(tx, actor, {
      action: "webhook_endpoint.replayed",
      targetType: "webhook_endpoint",
      targetId: endpointId,
      data: { since, replayed: rows.length },
    });
    return { replayed: rows.length };
  });
}

export interface PingResult {
  delivery: WebhookDeliveryView;
  success: boolean;
}

/**
 * A test ping: a `webhook.test` message sent now, once, with the endpoint's secrets, whatever its
 * state and filter. The answer says what the receiver replied; it is kept in the delivery log.
 */
export async function pingEndpoint(deps: ApiDeps, actor: Actor, endpointId: string, now: Date): Promise<PingResult> {
  const endpoint = await findEndpoint(deps.db, actor.tenantId, endpointId);
  const webhookId = newId("webhookMessage");
  const body = JSON.stringify({
    id: webhookId,
    type: "webhook.test",
    createdAt: now.toISOString(),
    apiVersion: EVENT_API_VERSION,
    data: { endpointId, message: "A test ping from ApprovalMatrix: your endpoint receives and verifies webhooks." },
  });
  const [delivery] = await deps.db
    .insert(webhookDeliveries)
    .values({
      id: newId("webhookDelivery"),
      tenantId: actor.tenantId,
      endpointId,
      eventId: null,
      eventType: "webhook.test",
      webhookId,
      body,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!delivery) throw new Error("the ping insert returned no row");
  const headers = signWebhook({
    id: webhookId,
    timestamp: new Date(),
    body,
    secrets: signingSecrets(endpoint, deps.apiKeyHashSecret, now),
  });
  const result = await sendWebhookAttempt(endpoint.url, { ...headers }, body, webhookSettings(deps));
  const success = result.status !== null && isWebhookSuccess(result.status);
  const [row] = await deps.db.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values({
      id: newId("webhookAttempt"),
      tenantId: actor.tenantId,
      deliveryId: delivery.id,
      attemptedAt: now,
      responseStatus: result.status,
      responseBody: result.body,
      error: success ? null : (result.error ?? describeFailure(result)),
      durationMs: result.durationMs,
    });
    await writeAudit(tx, actor, {
      action: "webhook_endpoint.pinged",
      targetType: "webhook_endpoint",
      targetId: endpointId,
      data: { success },
    });
    return tx
      .update(webhookDeliveries)
      .set({
        status: success ? "succeeded" : "failed",
        attempts: 1,
        lastResponseStatus: result.status,
        lastError: success ? null : (result.error ?? describeFailure(result)),
        updatedAt: now,
      })
      .where(eq(webhookDeliveries.id, delivery.id))
      .returning();
  });
  if (!row) throw new Error("the ping update returned no row");
  const attempts = await attemptsOf(deps.db, [row.id]);
  return { delivery: toDeliveryView(row, attempts.get(row.id) ?? []), success };
}

/** The periodic `webhooks.purge` job's work: settled deliveries (and their attempts) older than the event retention go. */
export async function purgeOldDeliveries(db: Queryable, now: Date, retentionMs: number): Promise<void> {
  await db
    .delete(webhookDeliveries)
    .where(and(lt(webhookDeliveries.createdAt, new Date(now.getTime() - retentionMs)), sql`${webhookDeliveries.status} <> 'pending'`));
}
