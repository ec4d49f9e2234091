/**
 * A tenant's webhook endpoints: create (the secret shown once), list, read, update, delete,
 * disable / enable, and rotate the secret (the old one keeps signing for a window). Each change is
 * audited in its transaction.
 */
import {
  DomainError,
  type EventType,
  WEBHOOK_ROTATION_WINDOW_MS,
  checkWebhookUrl,
  decryptWebhookSecret,
  encryptWebhookSecret,
  generateWebhookSecret,
  newId,
  webhookSecretStart,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, desc, eq, webhookEndpoints } from "@approvalmatrix/db";
import type { Actor, ApiDeps } from "../../context";
import { writeAudit } from "../audit";
import type { WebhookSettings } from "./send";

/** The production rules, for processes that did not configure webhooks (ApiDeps.webhooks). */
export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = { requireHttps: true, allowLoopback: false, timeoutMs: 15_000 };

export function webhookSettings(deps: Pick<ApiDeps, "webhooks">): WebhookSettings {
  return deps.webhooks ?? DEFAULT_WEBHOOK_SETTINGS;
}

type EndpointRow = typeof webhookEndpoints.$inferSelect;

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string;
  eventTypes: EventType[];
  status: "enabled" | "disabled";
  disabledReason: string | null;
  disabledAt: string | null;
  secretStart: string;
  /** Until when the previous secret also signs (a rotation in progress), else null. */
  previousSecretExpiresAt: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toEndpointView(row: EndpointRow, now: Date = new Date()): WebhookEndpointView {
  const rotating = row.previousSecretExpiresAt && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt : null;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes as EventType[],
    status: row.status,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    secretStart: row.secretStart,
    previousSecretExpiresAt: rotating?.toISOString() ?? null,
    failingSince: row.failingSince?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The secrets that sign now: the current one, and the previous one while its window lasts. */
export function signingSecrets(row: EndpointRow, serverSecret: string, now: Date): string[] {
  const secrets = [decryptWebhookSecret(serverSecret, row.secretEncrypted)];
  if (row.previousSecretEncrypted && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now) {
    secrets.push(decryptWebhookSecret(serverSecret, row.previousSecretEncrypted));
  }
  return secrets;
}

function assertUrlAllowed(url: string, settings: WebhookSettings): void {
  const verdict = checkWebhookUrl(url, settings);
  if (!verdict.allowed) {
    throw new DomainError("webhook_url_refused", `The webhook URL is refused: ${verdict.reason}.`, [
      { field: "url", message: verdict.reason },
    ]);
  }
}

export async function findEndpoint(db: Queryable, tenantId: string, id: string): Promise<EndpointRow> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)))
    .limit(1);
  if (!row) throw new DomainError("not_found", `No webhook endpoint ${id} in your tenant.`);
  return row;
}

export interface NewWebhookEndpoint {
  url: string;
  description?: string | undefined;
  eventTypes?: EventType[] | undefined;
}

export async function createEndpoint(
  deps: ApiDeps,
  actor: Actor,
  input: NewWebhookEndpoint,
): Promise<WebhookEndpointView & { secret: string }> {
  assertUrlAllowed(input.url, webhookSettings(deps));
  const secret = generateWebhookSecret();
  const row = await deps.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId("webhookEndpoint"),
        tenantId: actor.tenantId,
        url: input.url,
        description: input.description ?? "",
        eventTypes: [...new Set(input.eventTypes ?? [])],
        secretEncrypted: encryptWebhookSecret(deps.apiKeyHashSecret, secret),
        secretStart: webhookSecretStart(secret),
      })
      .returning();
    if (!inserted) throw new Error("the webhook endpoint insert returned no row");
    await writeAudit(tx, actor, {
      action: "webhook_endpoint.created",
      targetType: "webhook_endpoint",
      targetId: inserted.id,
      data: { url: inserted.url, eventTypes: inserted.eventTypes },
    });
    return inserted;
  });
  return { ...toEndpointView(row), secret };
}

export async function listEndpoints(db: Queryable, tenantId: string): Promise<WebhookEndpointView[]> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.tenantId, tenantId))
    .orderBy(desc(webhookEndpoints.createdAt));
  return rows.map((row) => toEndpointView(row));
}

export async function getEndpoint(db: Queryable, tenantId: string, id: string): Promise<WebhookEndpointView> {
  return toEndpointView(await findEndpoint(db, tenantId, id));
}

export interface WebhookEndpointChanges {
  url?: string | undefined;
  description?: string | undefined;
  eventTypes?: EventType[] | undefined;
}

export function updateEndpoint(deps: ApiDeps, actor: Actor, id: string, changes: WebhookEndpointChanges): Promise<WebhookEndpointView> {
  if (changes.url !== undefined) assertUrlAllowed(changes.url, webhookSettings(deps));
  return changeEndpoint(deps.db, actor, id, "webhook_endpoint.updated", {
    ...(changes.url !== undefined ? { url: changes.url } : {}),
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.eventTypes !== undefined ? { eventTypes: [...new Set(changes.eventTypes)] } : {}),
  });
}

export function disableEndpoint(db: Database, actor: Actor, id: string, reason?: string): Promise<WebhookEndpointView> {
  return changeEndpoint(db, actor, id, "webhook_endpoint.disabled", {
    status: "disabled",
    disabledReason: reason?.trim() || "Disabled by a person of the tenant.",
    disabledAt: new Date(),
  });
}

/** Enabling starts a fresh health record: 5 more days of failures before it is disabled again. */
export function enableEndpoint(db: Database, actor: Actor, id: string): Promise<WebhookEndpointView> {
  return changeEndpoint(db, actor, id, "webhook_endpoint.enabled", {
    status: "enabled",
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
  });
}

async function changeEndpoint(
  db: Database,
  actor: Actor,
  id: string,
  action: string,
  set: Partial<typeof webhookEndpoints.$inferInsert>,
): Promise<WebhookEndpointView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(webhookEndpoints.tenantId, actor.tenantId), eq(webhookEndpoints.id, id)))
      .returning();
    if (!row) throw new DomainError("not_found", `No webhook endpoint ${id} in your tenant.`);
    await writeAudit(tx, actor, { action, targetType: "webhook_endpoint", targetId: id, data: { ...set, updatedAt: undefined } });
    return toEndpointView(row);
  });
}

/** Deletes the endpoint and its delivery log; pending deliveries stop (their jobs find nothing). */
export async function deleteEndpoint(db: Database, actor: Actor, id: string): Promise<{ id: string; deleted: true }> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, actor.tenantId), eq(webhookEndpoints.id, id)))
      .returning({ id: webhookEndpoints.id, url: webhookEndpoints.url });
    if (!row) throw new DomainError("not_found", `No webhook endpoint ${id} in your tenant.`);
    await writeAudit(tx, actor, {
      action: "webhook_endpoint.deleted",
      targetType: "webhook_endpoint",
      targetId: id,
      data: { url: row.url },
    });
  });
  return { id, deleted: true };
}

/**
 * A new secret, shown once. The previous one keeps signing until `now + windowMs` (0: stops at
 * once), so receivers can switch without dropping a delivery: both signatures are sent meanwhile.
 */
export async function rotateEndpointSecret(
  deps: ApiDeps,
  actor: Actor,
  id: string,
  now: Date,
  windowMs: number = WEBHOOK_ROTATION_WINDOW_MS,
): Promise<WebhookEndpointView & { secret: string }> {
  const secret = generateWebhookSecret();
  const row = await deps.db.transaction(async (tx) => {
    const current = await findEndpoint(tx, actor.tenantId, id);
    const [updated] = await tx
      .update(webhookEndpoints)
      .set({
        secretEncrypted: encryptWebhookSecret(deps.apiKeyHashSecret, secret),
        secretStart: webhookSecretStart(secret),
        previousSecretEncrypted: windowMs > 0 ? current.secretEncrypted : null,
        previousSecretExpiresAt: windowMs > 0 ? new Date(now.getTime() + windowMs) : null,
        updatedAt: now,
      })
      .where(eq(webhookEndpoints.id, current.id))
      .returning();
    if (!updated) throw new Error("the rotation update returned no row");
    await writeAudit(tx, actor, {
      action: "webhook_endpoint.secret_rotated",
      targetType: "webhook_endpoint",
      targetId: id,
      data: { secretStart: updated.secretStart, previousSecretExpiresAt: updated.previousSecretExpiresAt?.toISOString() ?? null },
    });
    return updated;
  });
  return { ...toEndpointView(row, now), secret };
}
