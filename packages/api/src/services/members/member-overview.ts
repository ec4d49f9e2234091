import { DomainError } from "@approvalmatrix/core";
import { type Database, type Queryable, rowsOf, sql } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { deactivateMember } from "./deactivate-member";
import { assertEditableByAdmin } from "./synced";

const LIST_LIMIT = 100;

/** A member's page: who reports to them, what waits on them, what they submitted. */
export async function memberOverview(db: Queryable, tenantId: string, id: string) {
  const toIso = <T extends { createdAt: Date | string }>(r: T) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() });
  const [directReports, openApprovals, submitted] = await Promise.all([
    db.execute(sql`
      select id, name, external_ref as "externalRef", active from members
      where tenant_id = ${tenantId} and manager_id = ${id} order by name, external_ref limit ${LIST_LIMIT}`),
    db.execute(sql`
      select r.id, r.title, r.status, r.created_at as "createdAt", s.name as "stageName" from requests r
      join request_stages s on s.request_id = r.id and s.position = r.current_stage and s.status = 'open'
      where r.tenant_id = ${tenantId} and r.status in ('pending', 'in_progress') and s.approver_ids @> array[${id}]::text[]
        and not exists (select 1 from decisions d where d.request_id = r.id and d.stage = s.position and d.approver_id = ${id})
      order by r.created_at desc limit ${LIST_LIMIT}`),
    db.execute(sql`
      select id, title, status, created_at as "createdAt" from requests
      where tenant_id = ${tenantId} and submitter_id = ${id} order by created_at desc, id desc limit ${LIST_LIMIT}`),
  ]);
  return {
    directReports: rowsOf<{ id: string; name: string; externalRef: string; active: boolean }>(directReports),
    openApprovals: rowsOf<{ id: string; title: string; status: string; createdAt: Date; stageName: string }>(openApprovals).map(toIso),
    submitted: rowsOf<{ id: string; title: string; status: string; createdAt: Date }>(submitted).map(toIso),
  };
}

/** Members whose name or externalRef starts with `q`: the manager picker's suggestions. */
export async function lookupMembers(db: Queryable, tenantId: string, q: string, limit = 10) {
  const prefix = `${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return rowsOf<{ id: string; name: string; externalRef: string }>(
    await db.execute(sql`
      select id, name, external_ref as "externalRef" from members
      where tenant_id = ${tenantId} and active and (lower(name) like ${prefix} or lower(external_ref) like ${prefix}
        or lower(name) like ${`% ${prefix}`})
      order by name, external_ref limit ${limit}`),
  );
}

/** Deactivates several members at once, all or none; each as deactivateMember does (audit, re-pointed approvals). */
export function bulkDeactivateMembers(db: Database, actor: Actor, ids: string[], now: Date = new Date()): Promise<{ deactivated: number }> {
  if (ids.length === 0) throw new DomainError("invalid_request", "Select members to deactivate.", [{ field: "ids", message: "empty" }]);
  return db.transaction(async (tx) => {
    for (const id of ids) {
      await assertEditableByAdmin(tx, actor.tenantId, id, { active: false });
      await deactivateMember(tx, actor, id, now);
    }
    return { deactivated: ids.length };
  });
}
