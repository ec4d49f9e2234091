import { type AuditActorType, escapeLike } from "@approvalmatrix/core";
import { type Queryable, and, auditLog, desc, eq, gte, ilike, lte, users } from "@approvalmatrix/db";
import { afterCursorRow, cursorId } from "../paging/keyset";

export interface AuditLogFilter {
  /** A prefix of the action, e.g. api_key or member.imported. */
  action?: string | undefined;
  actorType?: AuditActorType | undefined;
  target?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  /** The previous page's nextCursor. */
  before?: string | undefined;
}

/** The tenant's audit log, newest first, in keyset pages. */
export async function listAuditLog(db: Queryable, tenantId: string, input: AuditLogFilter) {
  const rows = await db
    .select({ entry: auditLog, actorName: users.name })
    .from(auditLog)
    .leftJoin(users, and(eq(auditLog.actorType, "user"), eq(users.id, auditLog.actorId)))
    .where(
      and(
        eq(auditLog.tenantId, tenantId),
        input.action ? ilike(auditLog.action, `${escapeLike(input.action)}%`) : undefined,
        input.actorType ? eq(auditLog.actorType, input.actorType) : undefined,
        input.target ? eq(auditLog.targetId, input.target) : undefined,
        input.from ? gte(auditLog.createdAt, new Date(`${input.from}T00:00:00Z`)) : undefined,
        input.to ? lte(auditLog.createdAt, new Date(`${input.to}T23:59:59.999Z`)) : undefined,
        input.before ? afterCursorRow("audit_log", tenantId, cursorId(input.before)) : undefined,
      ),
    )
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(input.limit + 1);
  const page = rows
    .slice(0, input.limit)
    .map(({ entry, actorName }) => ({ ...entry, actorName, createdAt: entry.createdAt.toISOString() }));
  return { entries: page, nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
}
