/**
 * SCIM Groups as departments: a Group's members are the members whose department is its
 * displayName. Adding a member to a Group sets their department, removing clears it, renaming
 * renames the department of its members; each change goes through updateMember (audit + event).
 */
import {
  DomainError,
  SCIM_GROUP_SCHEMA,
  ScimError,
  applyScimPatch,
  listResponse,
  matchesScimFilter,
  newId,
  parseScimFilter,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, asc, eq, members, rowsOf, scimGroups, sql } from "@approvalmatrix/db";
import { writeAudit } from "../audit";
import { updateMember } from "../members/write-members";
import { type ScimActor, type ScimCall, scimErrorFromDomain } from "./users";

type GroupRow = typeof scimGroups.$inferSelect;

async function groupMembers(db: Queryable, tenantId: string, displayName: string) {
  return rowsOf<{ id: string; name: string }>(
    await db.execute(sql`
      select m.id, m.name from members m left join scim_identities si on si.member_id = m.id
      where m.tenant_id = ${tenantId} and lower(m.department) = lower(${displayName}) and (si.member_id is not null or m.active)
      order by m.created_at, m.id`),
  );
}

async function toScimGroup(db: Queryable, row: GroupRow, baseUrl: string, withMembers: boolean) {
  const list = withMembers ? await groupMembers(db, row.tenantId, row.displayName) : null;
  return {
    schemas: [SCIM_GROUP_SCHEMA],
    id: row.id,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    displayName: row.displayName,
    ...(list ? { members: list.map((m) => ({ value: m.id, display: m.name, $ref: `${baseUrl}/Users/${m.id}` })) } : {}),
    meta: {
      resourceType: "Group",
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${row.id}`,
    },
  };
}

async function loadGroup(db: Queryable, tenantId: string, id: string): Promise<GroupRow> {
  const [row] = await db
    .select()
    .from(scimGroups)
    .where(and(eq(scimGroups.tenantId, tenantId), eq(scimGroups.id, id)));
  if (!row) throw new ScimError(404, `No Group ${id}.`);
  return row;
}

export async function listScimGroups(
  call: ScimCall,
  query: { filter: string | null; startIndex: number; count: number; excludeMembers: boolean },
) {
  const filter = query.filter ? parseScimFilter(query.filter) : null;
  const rows = await call.db
    .select()
    .from(scimGroups)
    .where(eq(scimGroups.tenantId, call.actor.tenantId))
    .orderBy(asc(scimGroups.createdAt), asc(scimGroups.id));
  // A tenant has tens of departments: filtered in memory, on the resource without its members.
  const matching = filter
    ? rows.filter((r) => matchesScimFilter({ id: r.id, displayName: r.displayName, externalId: r.externalId }, filter))
    : rows;
  const page = matching.slice(query.startIndex - 1, query.startIndex - 1 + query.count);
  const resources = await Promise.all(page.map((r) => toScimGroup(call.db, r, call.baseUrl, !query.excludeMembers)));
  return listResponse(resources, matching.length, query.startIndex);
}

export async function getScimGroup(call: ScimCall, id: string, excludeMembers = false) {
  return toScimGroup(call.db, await loadGroup(call.db, call.actor.tenantId, id), call.baseUrl, !excludeMembers);
}

async function setDepartment(tx: Database, actor: ScimActor, memberId: string, department: string | null): Promise<boolean> {
  const [m] = await tx
    .select()
    .from(members)
    .where(and(eq(members.tenantId, actor.tenantId), eq(members.id, memberId)));
  if (!m) throw new ScimError(400, `No User ${memberId} to make a member of the group.`, "invalidValue");
  if (m.department === department) return false;
  const managerRef = m.managerId
    ? ((await tx.select({ ref: members.externalRef }).from(members).where(eq(members.id, m.managerId)))[0]?.ref ?? null)
    : null;
  await updateMember(tx, actor, {
    id: m.id,
    name: m.name,
    email: m.email,
    externalRef: m.externalRef,
    department,
    managerRef,
    userId: m.userId,
  });
  return true;
}

function memberIds(resource: Record<string, unknown>): string[] {
  const list = Object.entries(resource).find(([k]) => k.toLowerCase() === "members")?.[1];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ScimError(400, "members must be an array.", "invalidValue");
  return [
    ...new Set(
      list.map((m) => {
        const value = typeof m === "object" && m !== null ? (m as { value?: unknown }).value : undefined;
        if (typeof value !== "string") throw new ScimError(400, "Each member needs a value (a User id).", "invalidValue");
        return value;
      }),
    ),
  ];
}

function displayNameOf(resource: Record<string, unknown>): string {
  const value = Object.entries(resource).find(([k]) => k.toLowerCase() === "displayname")?.[1];
  if (typeof value !== "string" || value.trim() === "") throw new ScimError(400, "displayName is required.", "invalidValue");
  if (value.trim().length > 200) throw new ScimError(400, "displayName is longer than 200 characters.", "invalidValue");
  return value.trim();
}

async function writeGroup(tx: Database, actor: ScimActor, existing: GroupRow | null, resource: Record<string, unknown>): Promise<GroupRow> {
  const tenantId = actor.tenantId;
  const displayName = displayNameOf(resource);
  const externalIdValue = Object.entries(resource).find(([k]) => k.toLowerCase() === "externalid")?.[1];
  const externalId = typeof externalIdValue === "string" ? externalIdValue : (existing?.externalId ?? null);
  const [clash] = await tx
    .select({ id: scimGroups.id })
    .from(scimGroups)
    .where(and(eq(scimGroups.tenantId, tenantId), sql`lower(${scimGroups.displayName}) = lower(${displayName})`));
  if (clash && clash.id !== existing?.id) throw new ScimError(409, `A Group named "${displayName}" already exists.`, "uniqueness");

  const before = existing ? await groupMembers(tx, tenantId, existing.displayName) : [];
  let row: GroupRow | undefined;
  if (existing) {
    [row] = await tx
      .update(scimGroups)
      .set({ displayName, externalId, updatedAt: sql`now()` })
      .where(eq(scimGroups.id, existing.id))
      .returning();
  } else {
    [row] = await tx
      .insert(scimGroups)
      .values({ id: newId("scimGroup"), tenantId, displayName, externalId })
      .returning();
  }
  if (!row) throw new Error("the group write returned no row");
  const wanted = new Set(memberIds(resource));
  for (const m of before) if (!wanted.has(m.id)) await setDepartment(tx, actor, m.id, null);
  for (const id of wanted) await setDepartment(tx, actor, id, displayName);
  return row;
}

async function inTransaction<T>(call: ScimCall, run: (tx: Database) => Promise<T>): Promise<T> {
  try {
    return await call.db.transaction(run);
  } catch (error) {
    if (error instanceof DomainError) throw scimErrorFromDomain(error);
    throw error;
  }
}

const audit = (tx: Queryable, actor: ScimActor, action: string, row: GroupRow) =>
  writeAudit(tx, actor, {
    action,
    targetType: "scim_group",
    targetId: row.id,
    data: { provider: actor.provider, displayName: row.displayName },
  });

export async function createScimGroup(call: ScimCall, resource: Record<string, unknown>) {
  const row = await inTransaction(call, async (tx) => {
    const created = await writeGroup(tx, call.actor, null, resource);
    await audit(tx, call.actor, "scim.group_created", created);
    return created;
  });
  return getScimGroup(call, row.id);
}

export async function replaceScimGroup(call: ScimCall, id: string, resource: Record<string, unknown>) {
  await inTransaction(call, async (tx) => {
    const row = await writeGroup(tx, call.actor, await loadGroup(tx, call.actor.tenantId, id), resource);
    await audit(tx, call.actor, "scim.group_replaced", row);
  });
  return getScimGroup(call, id);
}

export async function patchScimGroup(call: ScimCall, id: string, body: unknown) {
  await inTransaction(call, async (tx) => {
    const existing = await loadGroup(tx, call.actor.tenantId, id);
    const current = await toScimGroup(tx, existing, call.baseUrl, true);
    const row = await writeGroup(tx, call.actor, existing, applyScimPatch(current, body));
    await audit(tx, call.actor, "scim.group_patched", row);
  });
  return getScimGroup(call, id);
}

/** The group goes; its members keep their history and lose the department. */
export async function deleteScimGroup(call: ScimCall, id: string): Promise<void> {
  await inTransaction(call, async (tx) => {
    const existing = await loadGroup(tx, call.actor.tenantId, id);
    for (const m of await groupMembers(tx, call.actor.tenantId, existing.displayName)) await setDepartment(tx, call.actor, m.id, null);
    await tx.delete(scimGroups).where(eq(scimGroups.id, id));
    await audit(tx, call.actor, "scim.group_deleted", existing);
  });
}
