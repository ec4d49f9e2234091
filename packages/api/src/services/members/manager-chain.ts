import { type Queryable, rowsOf, sql } from "@approvalmatrix/db";

export interface ChainLink {
  id: string;
  externalRef: string;
  managerId: string | null;
  managerRef: string | null;
}

/**
 * The members above the members whose externalRef is in `refs`, them included, as they are
 * stored: one recursive query however tall the chart. UNION (not UNION ALL) drops a member seen
 * before, so a loop already in the data ends the walk instead of running forever.
 */
export async function loadManagerChains(db: Queryable, tenantId: string, start: { ids?: string[]; refs?: string[] }): Promise<ChainLink[]> {
  const ids = JSON.stringify(start.ids ?? []);
  const refs = JSON.stringify(start.refs ?? []);
  return rowsOf<ChainLink>(
    await db.execute(sql`
      with recursive chain(id, external_ref, manager_id) as (
        select m.id, m.external_ref, m.manager_id from members m
        where m.tenant_id = ${tenantId}
          and (m.id in (select json_array_elements_text(${ids}::json))
            or m.external_ref in (select json_array_elements_text(${refs}::json)))
        union
        select m.id, m.external_ref, m.manager_id from members m
        join chain c on m.id = c.manager_id
        where m.tenant_id = ${tenantId}
      )
      select c.id, c.external_ref as "externalRef", c.manager_id as "managerId", g.external_ref as "managerRef"
      from chain c left join members g on g.id = c.manager_id`),
  );
}
