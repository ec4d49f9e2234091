import { newId } from "@approvalmatrix/core";
import { type Queryable, auditLog } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../context";

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string;
  data?: Record<string, unknown>;
}

/** Call inside the transaction that makes the change, so the two commit or fail together. */
export async function writeAudit(tx: Queryable, actor: Actor, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  const who = actorAudit(actor);
  await tx
    .insert(auditLog)
    .values(list.map((entry) => ({ id: newId("audit"), tenantId: actor.tenantId, ...who, ...entry, data: entry.data ?? {} })));
}
