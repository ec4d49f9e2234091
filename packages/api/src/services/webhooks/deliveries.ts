/**
 * Delivering events to webhook endpoints. The fan-out turns undispatched events (the outbox) into
 * one delivery per matching enabled endpoint, due at once. The deliveries are their own queue: the
 * `webhooks.deliver_due` job claims a batch of due ones with a lease (their `next_attempt_at`
 * pushed ahead), sends them at once, and settles the successes in one statement; a failure is
 * recorded on its own and its retry is just the delivery's next `next_attempt_at` on the Standard
 * Webhooks schedule. The delivery, not a job, carries the state, so a crash mid-attempt only
 * repeats the attempt once the lease lapses, under the same `webhook-id`.
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
  asc,
  desc,
  eq,
  type events,
  gte,
  inArray,
  isNull,
  lt,
  lte,
  rowsOf,
  sql,
  timestamptz,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from "@approvalmatrix/db";
import type { JobHandler } from "@approvalmatrix/jobs";
import type { Actor, ApiDeps } from "../../context";
import { writeAudit } from "../audit";
import { emitEvents } from "../events/emit";
import { findEndpoint, signingSecrets, webhookSettings } from "./endpoints";
import { type AttemptResult, sendWebhookAttempt } from "./send";

export const DELIVER_DUE_JOB = "webhooks.deliver_due";
/**
 * Deliveries one run claims and sends at once. All of a batch are in flight together, so a batch
 * ends within one attempt deadline (15 s), well inside its lease.
 */
export const DELIVERY_BATCH = 32;
/** How long a claim holds: a sender that died mid-batch leaves its deliveries due again after this. */
export const DELIVERY_LEASE_MS = 60_000;

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
type DeliveryRow = typeof webhookDeliveries.$inferSelect;
type EndpointRow = typeof webhookEndpoints.$inferSelect;

/**
 * The webhooks' part of the `events.dispatch` job (jobs/events-dispatch.ts claims undispatched
 * events with FOR UPDATE SKIP LOCKED, so instances dispatching at once take disjoint batches, and
 * marks them dispatched in the same transaction): one delivery per event and matching enabled
 * endpoint, due now. The unique (endpoint, event) index makes a repeated fan-out create nothing
 * twice. Returns how many deliveries it created.
 */
export function webhookFanOut(deps: Pick<ApiDeps, "clock">) {
  return async (tx: Queryable, batch: EventRow[]): Promise<number> => {
    const now = deps.clock.now();
    const tenantIds = [...new Set(batch.map((e) => e.tenantId))];
    const endpoints = await tx
      .select({ id: webhookEndpoints.id, tenantId: webhookEndpoints.tenantId, eventTypes: webhookEndpoints.eventTypes })
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.tenantId, tenantIds), eq(webhookEndpoints.status, "enabled")));
    if (endpoints.length === 0) return 0;
    const rows: { id: string; tenant_id: string; endpoint_id: string; event_id: string; event_type: string; body: string }[] = [];
    for (const event of batch) {
      const body = eventEnvelope(event);
      for (const endpoint of endpoints) {
        if (endpoint.tenantId !== event.tenantId) continue;
        if (endpoint.eventTypes.length > 0 && !endpoint.eventTypes.includes(event.type)) continue;
        rows.push({
          id: newId("webhookDelivery"),
          tenant_id: event.tenantId,
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_type: event.type,
          body,
        });
      }
    }
    if (rows.length === 0) return 0;
    // One jsonb parameter rather than ten per row: building a 5 000-parameter insert cost more
    // CPU than the insert. The webhook-id is the event id.
    const at = timestamptz(now);
    const inserted = await tx.execute(sql`
      insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, webhook_id, body, next_attempt_at, created_at, updated_at)
      select v.id, v.tenant_id, v.endpoint_id, v.event_id, v.event_type, v.event_id, v.body, ${at}, ${at}, ${at}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as v(id text, tenant_id text, endpoint_id text, event_id text, event_type text, body text)
      on conflict do nothing
      returning id`);
    return rowsOf(inserted).length;
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

export interface ClaimedDelivery {
  delivery: DeliveryRow;
  endpoint: EndpointRow;
}

/**
 * Claims up to `limit` due pending deliveries with their endpoints, in one statement: rows locked
 * by another sender are skipped (FOR UPDATE SKIP LOCKED) and each claimed row's `next_attempt_at`
 * moves a lease ahead, so no other sender takes it until the lease lapses. Its `attempts` stays:
 * the settle is guarded on it.
 */
export async function claimDueDeliveries(
  db: Database,
  now: Date,
  limit = DELIVERY_BATCH,
  leaseMs = DELIVERY_LEASE_MS,
): Promise<ClaimedDelivery[]> {
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, now)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  const claimed = db.$with("claimed").as(
    db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(now.getTime() + leaseMs) })
      .where(inArray(webhookDeliveries.id, due))
      .returning(),
  );
  const rows = await db.with(claimed).select().from(claimed).innerJoin(webhookEndpoints, eq(webhookEndpoints.id, claimed.endpointId));
  return rows.map((row) => ({ delivery: row.claimed, endpoint: row.webhook_endpoints }));
}

/**
 * One run of the sender: claims a batch of due deliveries, sends each (signed with its endpoint's
 * secrets, behind the SSRF guard) all at once, then records the outcomes. Returns how many it
 * claimed (a full batch: more may be due).
 */
export async function deliverDueWebhooks(
  deps: Pick<ApiDeps, "db" | "apiKeyHashSecret" | "webhooks">,
  now: Date,
  opts: { limit?: number; leaseMs?: number } = {},
): Promise<number> {
  const claimed = await claimDueDeliveries(deps.db, now, opts.limit, opts.leaseMs);
  if (claimed.length === 0) return 0;
  const toDisabled = claimed.filter((c) => c.endpoint.status === "disabled").map((c) => c.delivery.id);
  if (toDisabled.length > 0) {
    await deps.db
      .update(webhookDeliveries)
      .set({ status: "failed", lastError: "the endpoint is disabled", nextAttemptAt: null, updatedAt: now })
      .where(and(inArray(webhookDeliveries.id, toDisabled), eq(webhookDeliveries.status, "pending")));
  }
  // An endpoint's secrets are decrypted once per batch, not once per delivery.
  const secrets = new Map<string, string[]>();
  const settings = webhookSettings(deps);
  const sent = await Promise.all(
    claimed
      .filter((c) => c.endpoint.status !== "disabled")
      .map(async ({ delivery, endpoint }) => {
        let endpointSecrets = secrets.get(endpoint.id);
        if (!endpointSecrets) secrets.set(endpoint.id, (endpointSecrets = signingSecrets(endpoint, deps.apiKeyHashSecret, now)));
        // The timestamp receivers check against their own clock: the wall clock, never a test's clock.
        const headers = signWebhook({ id: delivery.webhookId, timestamp: new Date(), body: delivery.body, secrets: endpointSecrets });
        const result = await sendWebhookAttempt(endpoint.url, { ...headers }, delivery.body, settings);
        return { delivery, endpoint, result };
      }),
  );
  // A success to a healthy endpoint is the common case: all of them in one statement. The rest
  // (failures, and a success that ends an endpoint's failing streak) one transaction each.
  const plain = sent.filter((s) => isSuccess(s.result) && !s.endpoint.failingSince);
  await settleSuccesses(deps.db, plain, now);
  for (const s of sent) {
    if (!plain.includes(s)) await recordAttempt(deps.db, s.delivery, s.endpoint, s.result, now);
  }
  return claimed.length;
}

/** The `webhooks.deliver_due` job (periodic, and nudged by a dispatch that created deliveries): batches until none is due. */
export function deliverDueJob(deps: Pick<ApiDeps, "db" | "apiKeyHashSecret" | "webhooks">): JobHandler {
  return async (_job, { clock }) => {
    // Each batch reads the clock afresh: its lease counts from its own claim.
    while ((await deliverDueWebhooks(deps, clock.now())) === DELIVERY_BATCH) {
      // A full batch: more may be due.
    }
  };
}

function isSuccess(result: AttemptResult): boolean {
  return result.status !== null && isWebhookSuccess(result.status);
}

/**
 * Logs the attempts and settles the deliveries of a batch's successes in one statement (a
 * data-modifying WITH always runs): each delivery settles only if it is still pending at the
 * attempt count this run read, else another sender (whose lease followed a lapsed one) settled it
 * and this attempt stays in the log only.
 */
async function settleSuccesses(db: Database, sent: { delivery: DeliveryRow; result: AttemptResult }[], now: Date): Promise<void> {
  if (sent.length === 0) return;
  const rows = sent.map(({ delivery, result }) => ({
    attempt_id: newId("webhookAttempt"),
    tenant_id: delivery.tenantId,
    delivery_id: delivery.id,
    attempts: delivery.attempts,
    response_status: result.status,
    response_body: result.body,
    duration_ms: result.durationMs,
  }));
  const at = timestamptz(now);
  await db.execute(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as v(attempt_id text, tenant_id text, delivery_id text, attempts int, response_status int, response_body text, duration_ms int)
    ), logged as (
      insert into webhook_attempts (id, tenant_id, delivery_id, attempted_at, response_status, response_body, error, duration_ms)
      select attempt_id, tenant_id, delivery_id, ${at}, response_status, response_body, null, duration_ms from v
    )
    update webhook_deliveries d set
      status = 'succeeded', attempts = v.attempts + 1, last_response_status = v.response_status,
      last_error = null, next_attempt_at = null, updated_at = ${at}
    from v
    where d.id = v.delivery_id and d.status = 'pending' and d.attempts = v.attempts`);
}

/**
 * One attempt's outcome in a transaction of its own: a failure (the retry schedule, Retry-After,
 * 410, the 5-day rule) or a success that clears an endpoint's failing streak.
 */
async function recordAttempt(db: Database, delivery: DeliveryRow, endpoint: EndpointRow, result: AttemptResult, now: Date): Promise<void> {
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
  await db.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values(attempt);
    // Another sender may have settled it meanwhile (this attempt outlived its lease): keep the
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

    if (isSuccess(result)) {
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
    // The retry is the delivery falling due again: the sender claims it then.
    await tx
      .update(webhookDeliveries)
      .set({ ...base, lastError: error, nextAttemptAt: next })
      .where(eq(webhookDeliveries.id, delivery.id));
  });
}

export interface DeliveryQueueStats {
  /** Pending deliveries: due, claimed or waiting for a retry. */
  pending: number;
  /** Pending deliveries due now (a claimed one is not: its lease moved it ahead). */
  due: number;
  /** How late the oldest due delivery is; null when none is due. */
  oldestDueAgeMs: number | null;
}

/**
 * The delivery queue's figures, for /metrics, `cli worker --once` and (one tenant's) the admin
 * app: deliveries are not jobs, so the job queue's figures do not count them.
 */
export async function deliveryQueueStats(db: Queryable, now: Date, tenantId?: string): Promise<DeliveryQueueStats> {
  const at = timestamptz(now);
  const [row] = await db
    .select({
      pending: sql<number>`count(*)`.mapWith(Number),
      due: sql<number>`count(*) filter (where ${webhookDeliveries.nextAttemptAt} <= ${at})`.mapWith(Number),
      oldestDue: sql<string | null>`min(${webhookDeliveries.nextAttemptAt}) filter (where ${webhookDeliveries.nextAttemptAt} <= ${at})`,
    })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "pending"), tenantId ? eq(webhookDeliveries.tenantId, tenantId) : undefined));
  const oldest = row?.oldestDue ? new Date(row.oldestDue) : null;
  return {
    pending: row?.pending ?? 0,
    due: row?.due ?? 0,
    oldestDueAgeMs: oldest ? Math.max(0, now.getTime() - oldest.getTime()) : null,
  };
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

/**
 * Sends a delivery again now (a new round of the schedule), whatever its state: it is due at once
 * (the caller nudges the sender, deps.webhooksDue).
 */
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

/** Makes every failed delivery of the endpoint created at or after `since` due again now; returns how many. */
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
      .returning({ id: webhookDeliveries.id });
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
