import { type AdHocPolicy, DomainError, must } from "@approvalmatrix/core";
import { type Database, type Queryable, eq, tenants } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";

export interface TenantSettings {
  adHocRequests: AdHocPolicy;
}

export async function getTenantSettings(db: Queryable, tenantId: string): Promise<TenantSettings> {
  const [row] = await db.select({ adHocRequests: tenants.adHocRequests }).from(tenants).where(eq(tenants.id, tenantId));
  if (!row) throw new DomainError("not_found", "No such tenant.");
  return row;
}

/** Changes the tenant's settings; audited with the old and new values. */
export function updateTenantSettings(db: Database, actor: Actor, changes: Partial<TenantSettings>): Promise<TenantSettings> {
  return db.transaction(async (tx) => {
    const before = await getTenantSettings(tx, actor.tenantId);
    if (changes.adHocRequests === undefined || changes.adHocRequests === before.adHocRequests) return before;
    const [after] = await tx
      .update(tenants)
      .set({ adHocRequests: changes.adHocRequests })
      .where(eq(tenants.id, actor.tenantId))
      .returning({ adHocRequests: tenants.adHocRequests });
    await writeAudit(tx, actor, {
      action: "tenant.settings_updated",
      targetType: "tenant",
      targetId: actor.tenantId,
      data: { adHocRequests: { from: before.adHocRequests, to: changes.adHocRequests } },
    });
    return must(after, "the updated tenant");
  });
}
