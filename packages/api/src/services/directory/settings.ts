import type { DeactivationPolicy, ExternalRefSource } from "@approvalmatrix/core";
import { type Queryable, directorySettings, eq, sql } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";

export interface DirectorySettings {
  externalRefSource: ExternalRefSource;
  deactivationPolicy: DeactivationPolicy;
}

export const DEFAULT_DIRECTORY_SETTINGS: DirectorySettings = { externalRefSource: "externalId", deactivationPolicy: "manager" };

export async function getDirectorySettings(db: Queryable, tenantId: string): Promise<DirectorySettings> {
  const [row] = await db
    .select({ externalRefSource: directorySettings.externalRefSource, deactivationPolicy: directorySettings.deactivationPolicy })
    .from(directorySettings)
    .where(eq(directorySettings.tenantId, tenantId));
  return row ?? DEFAULT_DIRECTORY_SETTINGS;
}

export async function updateDirectorySettings(db: Queryable, actor: Actor, input: Partial<DirectorySettings>): Promise<DirectorySettings> {
  const next = { ...(await getDirectorySettings(db, actor.tenantId)), ...input };
  await db
    .insert(directorySettings)
    .values({ tenantId: actor.tenantId, ...next })
    .onConflictDoUpdate({ target: directorySettings.tenantId, set: { ...next, updatedAt: sql`now()` } });
  await writeAudit(db, actor, { action: "directory.settings_updated", targetType: "tenant", targetId: actor.tenantId, data: { ...next } });
  return next;
}
