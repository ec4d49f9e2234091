/**
 * SCIM Users over the members of a tenant. Every write goes through the members services
 * (createMember, updateMember, setMemberActive, deactivateMember), so audit rows and member events
 * come with it, inside one transaction per provisioning call that also writes the call's own audit
 * row (the identity provider as the actor) and the SCIM identity.
 *
 * Which members are Users: those an identity provider manages, and every active member (so a
 * provider can find and adopt the members a CSV import made, by userName or externalId).
 */
import {
  DomainError,
  type ExternalRefSource,
  SCIM_ENTERPRISE_USER_SCHEMA,
  SCIM_USER_SCHEMA,
  type ScimFilter,
  ScimError,
  type ScimUserFields,
  applyScimPatch,
  flattenValuePaths,
  listResponse,
  parseScimFilter,
  scimUserToFields,
} from "@approvalmatrix/core";
import { type Database, type Queryable, type SQL, and, eq, inArray, members, rowsOf, scimIdentities, sql } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { getDirectorySettings } from "../directory/settings";
import { deactivateMember } from "../members/deactivate-member";
import { createMember, setMemberActive, updateMember } from "../members/write-members";

export type ScimActor = Extract<Actor, { kind: "scim" }>;

export interface ScimCall {
  db: Database;
  actor: ScimActor;
  /** The absolute /scim/v2 URL, for meta.location and $ref. */
  baseUrl: string;
  /** When the call happens (which delegations are in force when a member is deactivated). */
  now?: Date;
}

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  externalRef: string;
  department: string | null;
  managerId: string | null;
  managerName: string | null;
  userId: string | null;
  active: boolean;
  createdAt: Date | string;
  updatedAt: Date | string;
  provider: string | null;
  userName: string | null;
  externalId: string | null;
  pendingManager: string | null;
  resource: Record<string, unknown> | null;
}

const USER_COLUMNS = sql`m.id, m.name, m.email, m.external_ref as "externalRef", m.department, m.manager_id as "managerId",
  (select g.name from members g where g.id = m.manager_id) as "managerName", m.user_id as "userId", m.active,
  m.created_at as "createdAt", m.updated_at as "updatedAt", si.provider, si.user_name as "userName", si.external_id as "externalId",
  si.pending_manager as "pendingManager", si.resource`;

const FROM = sql`members m left join scim_identities si on si.member_id = m.id`;
const visible = (tenantId: string) => sql`m.tenant_id = ${tenantId} and (si.member_id is not null or m.active)`;

const iso = (d: Date | string) => (typeof d === "string" ? new Date(d) : d).toISOString();

/** Outside SCIM a member's userName is their e-mail, else their externalRef. */
const userNameOf = (row: UserRow) => row.userName ?? row.email ?? row.externalRef;

export function toScimUser(row: UserRow, baseUrl: string, source: ExternalRefSource): Record<string, unknown> {
  const stored = { ...(row.resource ?? {}) };
  for (const key of Object.keys(stored)) if (/^(schemas|id|meta|password)$/i.test(key)) delete stored[key];
  const enterpriseKey = Object.keys(stored).find((k) => k.toLowerCase() === SCIM_ENTERPRISE_USER_SCHEMA.toLowerCase());
  const enterprise: Record<string, unknown> = {
    ...((enterpriseKey ? stored[enterpriseKey] : undefined) as Record<string, unknown> | undefined),
  };
  if (enterpriseKey) delete stored[enterpriseKey];
  delete enterprise.manager;
  delete enterprise.department;
  if (row.department) enterprise.department = row.department;
  if (source === "employeeNumber") enterprise.employeeNumber = row.externalRef;
  if (row.managerId)
    enterprise.manager = { value: row.managerId, $ref: `${baseUrl}/Users/${row.managerId}`, displayName: row.managerName ?? undefined };
  const storedEmails = Array.isArray(stored.emails) ? (stored.emails as { value?: unknown }[]) : [];
  const emails = !row.email
    ? []
    : storedEmails.some((e) => e.value === row.email)
      ? storedEmails
      : [{ value: row.email, type: "work", primary: true }];
  delete stored.emails;
  const externalId = row.externalId ?? (source === "externalId" && !row.provider ? row.externalRef : undefined);
  return {
    schemas: Object.keys(enterprise).length ? [SCIM_USER_SCHEMA, SCIM_ENTERPRISE_USER_SCHEMA] : [SCIM_USER_SCHEMA],
    ...stored,
    id: row.id,
    ...(externalId ? { externalId } : {}),
    userName: userNameOf(row),
    name: typeof stored.name === "object" && stored.name !== null ? stored.name : { formatted: row.name },
    displayName: row.name,
    emails,
    active: row.active,
    ...(Object.keys(enterprise).length ? { [SCIM_ENTERPRISE_USER_SCHEMA]: enterprise } : {}),
    meta: {
      resourceType: "User",
      created: iso(row.createdAt),
      lastModified: iso(row.updatedAt),
      location: `${baseUrl}/Users/${row.id}`,
    },
  };
}

// ---- filters → SQL --------------------------------------------------------------------------

interface Column {
  sql: SQL;
  type: "string" | "boolean" | "date";
  caseExact?: boolean;
  /**
   * For `eq`: the ids of a superset of the members it matches, from indexes. The column spans
   * both sides of the left join (coalesce(si.user_name, m.email, …)), which no index can serve, so
   * without this `userName eq "…"` (sent before every Okta and Entra create) reads every member of
   * the tenant. Added beside the exact test (see candidatesOf), so the meaning does not change.
   */
  eqCandidates?: (value: string) => SQL;
}

function columnOf(attr: string, source: ExternalRefSource, tenantId: string): Column | null {
  const enterprise = `${SCIM_ENTERPRISE_USER_SCHEMA.toLowerCase()}:`;
  switch (attr) {
    case "id":
      return { sql: sql`m.id`, type: "string", caseExact: true };
    case "username":
      // Each branch matches an index expression: scim_identities (tenant_id, lower(user_name)),
      // members (tenant_id, lower(email)) and members (tenant_id, lower(external_ref)) where email is null.
      return {
        sql: sql`coalesce(si.user_name, m.email, m.external_ref)`,
        type: "string",
        eqCandidates: (v) => sql`(
          select c.member_id from scim_identities c where c.tenant_id = ${tenantId} and lower(c.user_name) = lower(${v}::text)
          union all select c.id from members c where c.tenant_id = ${tenantId} and lower(c.email) = lower(${v}::text)
          union all select c.id from members c where c.tenant_id = ${tenantId} and c.email is null and lower(c.external_ref) = lower(${v}::text))`,
      };
    case "externalid":
      return source === "externalId"
        ? {
            sql: sql`coalesce(si.external_id, case when si.member_id is null then m.external_ref end)`,
            type: "string",
            caseExact: true,
            eqCandidates: (v) => sql`(
              select c.member_id from scim_identities c where c.tenant_id = ${tenantId} and c.external_id = ${v}::text
              union all select c.id from members c where c.tenant_id = ${tenantId} and c.external_ref = ${v}::text)`,
          }
        : {
            sql: sql`si.external_id`,
            type: "string",
            caseExact: true,
            eqCandidates: (v) =>
              sql`(select c.member_id from scim_identities c where c.tenant_id = ${tenantId} and c.external_id = ${v}::text)`,
          };
    case "emails":
    case "emails.value":
      return { sql: sql`m.email`, type: "string" };
    case "displayname":
    case "name.formatted":
      return { sql: sql`m.name`, type: "string" };
    case "active":
      return { sql: sql`m.active`, type: "boolean" };
    case "meta.created":
      return { sql: sql`m.created_at`, type: "date" };
    case "meta.lastmodified":
      return { sql: sql`m.updated_at`, type: "date" };
    case `${enterprise}department`:
      return { sql: sql`m.department`, type: "string" };
    case `${enterprise}employeenumber`:
      return source === "employeeNumber"
        ? { sql: sql`m.external_ref`, type: "string" }
        : { sql: sql`(si.resource -> ${SCIM_ENTERPRISE_USER_SCHEMA} ->> 'employeeNumber')`, type: "string" };
    case `${enterprise}manager`:
    case `${enterprise}manager.value`:
      return { sql: sql`m.manager_id`, type: "string", caseExact: true };
    default:
      return null;
  }
}

function filterSql(filter: ScimFilter, source: ExternalRefSource, tenantId: string): SQL {
  switch (filter.op) {
    case "and":
      return sql`(${filterSql(filter.left, source, tenantId)} and ${filterSql(filter.right, source, tenantId)})`;
    case "or":
      return sql`(${filterSql(filter.left, source, tenantId)} or ${filterSql(filter.right, source, tenantId)})`;
    case "not":
      return sql`not coalesce(${filterSql(filter.filter, source, tenantId)}, false)`;
    case "valuePath":
      return filterSql(flattenValuePaths(filter), source, tenantId);
    default:
  }
  const column = columnOf(filter.attr, source, tenantId);
  if (!column) throw new ScimError(400, `Filtering on "${filter.attr}" is not supported.`, "invalidFilter");
  const c = column.sql;
  if (filter.op === "pr") return column.type === "string" ? sql`(${c} is not null and ${c} <> '')` : sql`(${c} is not null)`;
  const value = filter.value;
  if (value === null) return filter.op === "ne" ? sql`(${c} is not null)` : filter.op === "eq" ? sql`(${c} is null)` : sql`false`;
  if (column.type === "boolean") {
    if (typeof value !== "boolean" || (filter.op !== "eq" && filter.op !== "ne"))
      throw new ScimError(400, `${filter.attr} takes eq or ne with true or false.`, "invalidFilter");
    return filter.op === "eq" ? sql`(${c} = ${value})` : sql`(${c} is distinct from ${value})`;
  }
  if (column.type === "date") {
    const at = typeof value === "string" ? new Date(value) : null;
    if (!at || Number.isNaN(at.getTime())) throw new ScimError(400, `${filter.attr} compares with a date-time string.`, "invalidFilter");
    const ops = { eq: sql`=`, ne: sql`<>`, gt: sql`>`, ge: sql`>=`, lt: sql`<`, le: sql`<=` } as const;
    if (!(filter.op in ops)) throw new ScimError(400, `${filter.attr} takes eq, ne, gt, ge, lt or le.`, "invalidFilter");
    return sql`(${c} ${ops[filter.op as keyof typeof ops]} ${at.toISOString()}::timestamptz)`;
  }
  const text = String(value);
  const col = column.caseExact ? c : sql`lower(${c})`;
  const v = column.caseExact ? sql`${text}::text` : sql`lower(${text}::text)`;
  switch (filter.op) {
    case "eq":
      return sql`(${col} = ${v})`;
    case "ne":
      return sql`(${col} is distinct from ${v})`;
    case "co":
      return sql`(strpos(${col}, ${v}) > 0)`;
    case "sw":
      return sql`starts_with(${col}, ${v})`;
    case "ew":
      return sql`(right(${col}, char_length(${v})) = ${v})`;
    case "gt":
      return sql`(${col} > ${v})`;
    case "ge":
      return sql`(${col} >= ${v})`;
    case "lt":
      return sql`(${col} < ${v})`;
    case "le":
      return sql`(${col} <= ${v})`;
  }
}

/**
 * The ids a filter can match at most, from indexes, or null when it cannot say (`pr`, `ne`,
 * `co`, …). Put at the top level of the WHERE clause, where PostgreSQL turns it into a semi-join
 * that starts from these few ids, instead of testing the exact filter on every member.
 */
function candidatesOf(filter: ScimFilter, source: ExternalRefSource, tenantId: string): SQL | null {
  switch (filter.op) {
    case "and":
      return candidatesOf(filter.left, source, tenantId) ?? candidatesOf(filter.right, source, tenantId);
    case "or": {
      const left = candidatesOf(filter.left, source, tenantId);
      const right = left && candidatesOf(filter.right, source, tenantId);
      return left && right ? sql`(${left} union all ${right})` : null;
    }
    case "valuePath":
      return candidatesOf(flattenValuePaths(filter), source, tenantId);
    case "eq": {
      const candidates = columnOf(filter.attr, source, tenantId)?.eqCandidates;
      return candidates && typeof filter.value === "string" ? candidates(filter.value) : null;
    }
    default:
      return null;
  }
}

// ---- reads ----------------------------------------------------------------------------------

async function loadUser(db: Queryable, tenantId: string, id: string): Promise<UserRow | null> {
  const [row] = rowsOf<UserRow>(await db.execute(sql`select ${USER_COLUMNS} from ${FROM} where ${visible(tenantId)} and m.id = ${id}`));
  return row ?? null;
}

const notFound = (id: string) => new ScimError(404, `No User ${id}.`);

export async function listScimUsers(
  call: ScimCall,
  query: { filter: string | null; startIndex: number; count: number },
): Promise<ReturnType<typeof listResponse>> {
  const tenantId = call.actor.tenantId;
  const { externalRefSource } = await getDirectorySettings(call.db, tenantId);
  const filter = query.filter ? parseScimFilter(query.filter) : null;
  const candidates = filter && candidatesOf(filter, externalRefSource, tenantId);
  const where = filter
    ? sql`${visible(tenantId)} and ${candidates ? sql`m.id in ${candidates} and ` : sql``}coalesce(${filterSql(filter, externalRefSource, tenantId)}, false)`
    : visible(tenantId);
  const [total] = rowsOf<{ n: number }>(await call.db.execute(sql`select count(*)::int as n from ${FROM} where ${where}`));
  const rows =
    query.count === 0
      ? []
      : rowsOf<UserRow>(
          await call.db.execute(
            sql`select ${USER_COLUMNS} from ${FROM} where ${where} order by m.created_at, m.id limit ${query.count} offset ${query.startIndex - 1}`,
          ),
        );
  return listResponse(
    rows.map((r) => toScimUser(r, call.baseUrl, externalRefSource)),
    total?.n ?? 0,
    query.startIndex,
  );
}

export async function getScimUser(call: ScimCall, id: string): Promise<Record<string, unknown>> {
  const { externalRefSource } = await getDirectorySettings(call.db, call.actor.tenantId);
  const row = await loadUser(call.db, call.actor.tenantId, id);
  if (!row) throw notFound(id);
  return toScimUser(row, call.baseUrl, externalRefSource);
}

// ---- writes ---------------------------------------------------------------------------------

/** A members-service refusal in SCIM's words. */
export function scimErrorFromDomain(error: DomainError): ScimError {
  if (error.code === "not_found") return new ScimError(404, error.message);
  if (error.code === "conflict") return new ScimError(409, error.message, "uniqueness");
  if (error.code === "forbidden") return new ScimError(403, error.message);
  return new ScimError(400, error.message, "invalidValue");
}

/** The member a provider's manager reference names: our id, or an identity's externalId or userName, or an externalRef. */
async function resolveManager(tx: Queryable, tenantId: string, value: string): Promise<{ id: string; externalRef: string } | null> {
  const [row] = rowsOf<{ id: string; externalRef: string }>(
    await tx.execute(sql`
      select m.id, m.external_ref as "externalRef" from members m left join scim_identities si on si.member_id = m.id
      where m.tenant_id = ${tenantId}
        -- Candidates from indexes first: the OR below spans both sides of the join, which no index serves.
        and m.id in (select c.id from members c where c.tenant_id = ${tenantId} and (c.id = ${value} or c.external_ref = ${value})
          union all select c.member_id from scim_identities c
          where c.tenant_id = ${tenantId} and (c.external_id = ${value} or lower(c.user_name) = lower(${value})))
        and (m.id = ${value} or si.external_id = ${value} or lower(si.user_name) = lower(${value}) or m.external_ref = ${value})
      order by (m.id = ${value}) desc, (si.external_id = ${value}) desc limit 1`),
  );
  return row ?? null;
}

/** What the stored resource keeps: the provider's own attributes, without what the member row says or may not be stored. */
function storable(resource: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...resource };
  for (const key of Object.keys(copy)) if (/^(id|meta|password|schemas)$/i.test(key)) delete copy[key];
  return copy;
}

type WriteKind = "created" | "replaced" | "patched";

/**
 * Creates or updates the member behind a User resource, in the caller's transaction: the members
 * services for the member (audit + events), the SCIM identity beside it, then the members who
 * were waiting for this one as their manager.
 */
async function writeUser(
  tx: Database,
  actor: ScimActor,
  existing: UserRow | null,
  resource: Record<string, unknown>,
  source: ExternalRefSource,
  now: Date = new Date(),
): Promise<{ id: string; kind: WriteKind | "adopted"; fields: ScimUserFields }> {
  const tenantId = actor.tenantId;
  const fields = scimUserToFields(resource, source);
  let target = existing;

  const [sameName] = rowsOf<{ memberId: string }>(
    await tx.execute(
      sql`select member_id as "memberId" from scim_identities where tenant_id = ${tenantId} and lower(user_name) = lower(${fields.userName})`,
    ),
  );
  if (sameName && sameName.memberId !== target?.id)
    throw new ScimError(409, `A User with userName "${fields.userName}" already exists.`, "uniqueness");

  let adopted = false;
  if (!target) {
    // A member made by an import or by hand with this externalRef: the provider takes it over.
    const [byRef] = rowsOf<UserRow>(
      await tx.execute(sql`select ${USER_COLUMNS} from ${FROM} where m.tenant_id = ${tenantId} and m.external_ref = ${fields.externalRef}`),
    );
    if (byRef?.provider) throw new ScimError(409, `A User with externalRef "${fields.externalRef}" already exists.`, "uniqueness");
    target = byRef ?? null;
    adopted = target !== null;
  }

  const manager = fields.managerValue ? await resolveManager(tx, tenantId, fields.managerValue) : null;
  if (manager && manager.id === target?.id) throw new ScimError(400, "A user cannot be their own manager.", "invalidValue");
  const pendingManager = fields.managerValue && !manager ? fields.managerValue : null;
  const memberFields = {
    name: fields.name,
    email: fields.email,
    externalRef: fields.externalRef,
    department: fields.department,
    managerRef: manager?.externalRef ?? null,
  };

  let id: string;
  if (target) {
    id = target.id;
    const changed =
      target.name !== fields.name ||
      target.email !== fields.email ||
      target.externalRef !== fields.externalRef ||
      target.department !== fields.department ||
      target.managerId !== (manager?.id ?? null);
    if (changed) await updateMember(tx, actor, { id, ...memberFields, userId: target.userId });
    if (target.active && !fields.active) await deactivateMember(tx, actor, id, now);
    else if (!target.active && fields.active) await setMemberActive(tx, actor, id, true);
  } else {
    id = (await createMember(tx, actor, memberFields)).id;
    if (!fields.active) await deactivateMember(tx, actor, id, now);
  }

  const identity = {
    provider: actor.provider,
    userName: fields.userName,
    externalId: fields.externalId,
    pendingManager,
    resource: storable(resource),
  };
  await tx
    .insert(scimIdentities)
    .values({ memberId: id, tenantId, ...identity })
    .onConflictDoUpdate({ target: scimIdentities.memberId, set: { ...identity, updatedAt: sql`now()` } });

  await resolveWaitingReports(tx, actor, { id, externalRef: fields.externalRef, externalId: fields.externalId, userName: fields.userName });
  return { id, kind: adopted ? "adopted" : existing ? "replaced" : "created", fields };
}

/** Members whose manager was named before this member existed now get them. */
async function resolveWaitingReports(
  tx: Database,
  actor: ScimActor,
  manager: { id: string; externalRef: string; externalId: string | null; userName: string },
): Promise<void> {
  const names = [manager.id, manager.externalRef, manager.userName, ...(manager.externalId ? [manager.externalId] : [])];
  const waiting = await tx
    .select({ memberId: scimIdentities.memberId })
    .from(scimIdentities)
    .where(and(eq(scimIdentities.tenantId, actor.tenantId), inArray(scimIdentities.pendingManager, names)));
  for (const { memberId } of waiting) {
    const [report] = await tx
      .select()
      .from(members)
      .where(and(eq(members.tenantId, actor.tenantId), eq(members.id, memberId)));
    if (!report || report.id === manager.id) continue;
    await updateMember(tx, actor, {
      id: report.id,
      name: report.name,
      email: report.email,
      externalRef: report.externalRef,
      department: report.department,
      managerRef: manager.externalRef,
      userId: report.userId,
    });
    await tx.update(scimIdentities).set({ pendingManager: null }).where(eq(scimIdentities.memberId, memberId));
  }
}

async function inTransaction<T>(call: ScimCall, run: (tx: Database, source: ExternalRefSource) => Promise<T>): Promise<T> {
  try {
    return await call.db.transaction(async (tx) => run(tx, (await getDirectorySettings(tx, call.actor.tenantId)).externalRefSource));
  } catch (error) {
    if (error instanceof DomainError) throw scimErrorFromDomain(error);
    throw error;
  }
}

async function audit(tx: Queryable, actor: ScimActor, action: string, id: string, data: Record<string, unknown>) {
  await writeAudit(tx, actor, { action, targetType: "member", targetId: id, data: { provider: actor.provider, ...data } });
}

export async function createScimUser(call: ScimCall, resource: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = await inTransaction(call, async (tx, source) => {
    const written = await writeUser(tx, call.actor, null, resource, source, call.now);
    await audit(tx, call.actor, written.kind === "adopted" ? "scim.user_adopted" : "scim.user_created", written.id, {
      userName: written.fields.userName,
      externalRef: written.fields.externalRef,
    });
    return written.id;
  });
  return getScimUser(call, id);
}

export async function replaceScimUser(call: ScimCall, id: string, resource: Record<string, unknown>): Promise<Record<string, unknown>> {
  await inTransaction(call, async (tx, source) => {
    const existing = await loadUser(tx, call.actor.tenantId, id);
    if (!existing) throw notFound(id);
    // PUT replaces the resource; providers that leave `active` out (Okta) mean "unchanged".
    const body = "active" in resource ? resource : { ...resource, active: existing.active };
    const written = await writeUser(tx, call.actor, existing, body, source, call.now);
    await audit(tx, call.actor, "scim.user_replaced", id, { userName: written.fields.userName, active: written.fields.active });
  });
  return getScimUser(call, id);
}

export async function patchScimUser(call: ScimCall, id: string, body: unknown): Promise<Record<string, unknown>> {
  await inTransaction(call, async (tx, source) => {
    const existing = await loadUser(tx, call.actor.tenantId, id);
    if (!existing) throw notFound(id);
    const current = toScimUser(existing, call.baseUrl, source);
    const patched = applyScimPatch(current, body);
    const written = await writeUser(tx, call.actor, existing, patched, source, call.now);
    await audit(tx, call.actor, "scim.user_patched", id, {
      userName: written.fields.userName,
      operations: Array.isArray((body as { Operations?: unknown }).Operations) ? (body as { Operations: unknown[] }).Operations.length : 0,
    });
  });
  return getScimUser(call, id);
}

/**
 * DELETE: the member is deactivated (their history stays, their open approvals are re-pointed)
 * and no longer managed by the provider; as a User it is gone (404 from now on).
 */
export async function deleteScimUser(call: ScimCall, id: string): Promise<void> {
  await inTransaction(call, async (tx) => {
    const existing = await loadUser(tx, call.actor.tenantId, id);
    if (!existing) throw notFound(id);
    if (existing.active) await deactivateMember(tx, call.actor, id, call.now);
    await tx.delete(scimIdentities).where(eq(scimIdentities.memberId, id));
    await audit(tx, call.actor, "scim.user_deleted", id, { userName: userNameOf(existing) });
  });
}
