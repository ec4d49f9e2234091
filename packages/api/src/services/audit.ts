import { newId } from "@approvalmatrix/core";
import { type Queryable, auditLog, sql } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../context";

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string;
  data?: Record<string, unknown>;
}

/** The audit_log row for one entry. */
export function auditRow(actor: Actor, entry: AuditEntry) {
  // A service token's rows say whom it acted for, beside who it is: "Slack bot acting for Jane Smith".
  const data =
    actor.kind === "serviceToken"
      ? { ...entry.data, actorName: actor.tokenName, actingFor: { ref: actor.actingFor.ref, name: actor.actingFor.name } }
      : (entry.data ?? {});
  return { id: newId("audit"), tenantId: actor.tenantId, ...actorAudit(actor), ...entry, data };
}

const AUDIT_FIELDS = ["id", "tenantId", "actorType", "actorId", "action", "targetType", "targetId", "data"] as const;

/** An audit row as placeholders `audit_<field>`, for statements prepared once (see submit-request.ts). */
export const auditRowPlaceholders = Object.fromEntries(
  AUDIT_FIELDS.map((field) => [field, sql.placeholder(`audit_${field}`)]),
) as unknown as typeof auditLog.$inferInsert;

/** The values that fill auditRowPlaceholders. */
export function auditRowParams(actor: Actor, entry: AuditEntry): Record<string, unknown> {
  const row = auditRow(actor, entry);
  return Object.fromEntries(AUDIT_FIELDS.map((field) => [`audit_${field}`, row[field]]));
}

/** Call inside the transaction that makes the change, so the two commit or fail together. */
export async function writeAudit(tx: Queryable, actor: Actor, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await tx.insert(auditLog).values(list.map((entry) => auditRow(actor, entry)));
}
