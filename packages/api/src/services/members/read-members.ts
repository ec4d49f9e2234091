import { MEMBER_CSV_COLUMNS, DomainError, type MemberSort, type SortDirection, escapeLike } from "@approvalmatrix/core";
import {
  type Queryable,
  type SQL,
  alias,
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  ilike,
  inArray,
  memberSearchDocument,
  members,
  or,
  sql,
  users,
} from "@approvalmatrix/db";
import { csvLine } from "./csv";

export interface MemberView {
  id: string;
  name: string;
  email: string | null;
  externalRef: string;
  department: string | null;
  managerId: string | null;
  active: boolean;
}

export type MemberStatusFilter = "active" | "inactive" | "all";

export function toMemberView(row: typeof members.$inferSelect): MemberView {
  const { id, name, email, externalRef, department, managerId, active } = row;
  return { id, name, email, externalRef, department, managerId, active };
}

/**
 * The manager, joined as `mgr`: sorting by the manager's name needs it for every row, where a
 * correlated lookup per row made a page of 100 000 members take seconds.
 */
const manager = alias(members, "mgr");

function detailQuery(db: Queryable) {
  return db
    .select({
      id: members.id,
      name: members.name,
      email: members.email,
      externalRef: members.externalRef,
      department: members.department,
      managerId: members.managerId,
      active: members.active,
      managerRef: manager.externalRef,
      managerName: manager.name,
      userId: members.userId,
      userEmail: users.email,
      updatedAt: members.updatedAt,
      /** The identity provider that syncs this member over SCIM, or null. */
      syncedFrom: sql<string | null>`(select si.provider from scim_identities si where si.member_id = ${members.id})`,
    })
    .from(members)
    .leftJoin(manager, eq(manager.id, members.managerId))
    .leftJoin(users, eq(users.id, members.userId));
}

const withIsoDates = <T extends { updatedAt: Date }>(row: T) => ({ ...row, updatedAt: row.updatedAt.toISOString() });

/**
 * Members whose name, externalRef, email or department has a word starting with each word of
 * `search` ("oka" finds Okafor, "emp-0600" finds EMP-060001, "liam okafor" needs both): answered
 * from the members_search_idx GIN index, so it costs the same at 100 000 members as at 100. A
 * fragment from the middle of a word ("kafo") does not match: that needs a substring scan of every
 * row (or pg_trgm, which PGlite lacks), which is what made search slow. A search with no letter or
 * digit at all falls back to that substring scan.
 */
function memberSearchMatch(search: string): SQL | undefined {
  if (!/[\p{L}\p{N}]/u.test(search)) {
    const pattern = `%${escapeLike(search)}%`;
    return or(
      ilike(members.name, pattern),
      ilike(members.externalRef, pattern),
      ilike(members.email, pattern),
      ilike(members.department, pattern),
    );
  }
  // Words are cut in SQL with the same regexp as the indexed document, so both sides agree on
  // what a word is whatever the database's locale; each becomes a prefix term ("word:*").
  const prefixes = sql`regexp_replace(nullif(trim(regexp_replace(lower(${search}::text), '[^[:alnum:]]+', ' ', 'g')), ''), ' +', ':* & ', 'g') || ':*'`;
  return sql`${memberSearchDocument(members)} @@ to_tsquery('simple'::regconfig, ${prefixes})`;
}

/**
 * The sort key of a column, ties broken by externalRef (unique per tenant), so the order is total
 * and a page can start strictly after its cursor row. A nullable column sorts as (is null,
 * coalesce(…)): a row comparison with a NULL in it is neither true nor false, and rows would be
 * skipped; this way members without a department or manager come last (first when descending).
 * The expressions name `members` and its manager `mgr`, so the same SQL reads the cursor row's
 * values in a subquery joined the same way.
 */
function sortKey(sort: MemberSort): SQL[] {
  switch (sort) {
    case "externalRef":
      return [];
    case "name":
      return [member("name")];
    case "department":
      return [sql`(${member("department")} is null)`, sql`coalesce(${member("department")}, '')`];
    case "manager":
      return [sql`("mgr"."id" is null)`, sql`coalesce("mgr"."name", '')`];
    case "updated":
      return [member("updated_at")];
  }
}

/** A column of the bare `members` table, qualified, so that inside the cursor subquery it names the cursor row's. */
const member = (column: string) => sql.raw(`"members"."${column}"`);

interface PageOrder {
  orderBy: SQL[];
  /** Rows strictly after the row whose externalRef is the cursor; an unknown cursor yields no rows. */
  after: (tenantId: string, cursor: string) => SQL;
}

/**
 * The order of a page and its keyset condition. The cursor is always the last row's externalRef;
 * the sort values are read from that row in SQL (a timestamp through a JavaScript Date would lose
 * PostgreSQL's microseconds and skip or repeat rows), as paging/keyset.ts does for requests.
 */
function pageOrderOf(search: string | undefined, sort: MemberSort = "externalRef", direction: SortDirection = "asc"): PageOrder {
  const keys = sortKey(sort);
  const dir = (e: SQL | typeof members.externalRef) => (direction === "asc" ? asc(e) : desc(e));
  if (keys.length === 0) {
    return {
      // While searching, externalRef order as an expression (same order, same collation) the
      // (tenant_id, external_ref) index cannot supply: otherwise the planner, guessing that a prefix
      // term matches ~2% of rows, walks that index and computes the search document of every row
      // until 50 match, which for a rare or absent word is the whole tenant (1.4 s at 100 000
      // members instead of 2 ms from the GIN index and a top-50 sort).
      orderBy: [search ? dir(sql`${members.externalRef} || ''`) : dir(members.externalRef)],
      after: (_tenantId, cursor) => (direction === "asc" ? gt(members.externalRef, cursor) : sql`${members.externalRef} < ${cursor}`),
    };
  }
  const tuple = sql.join([...keys, member("external_ref")], sql`, `);
  const cmp = direction === "asc" ? sql`>` : sql`<`;
  return {
    orderBy: [...keys.map((k) => dir(k)), dir(members.externalRef)],
    after: (tenantId, cursor) =>
      sql`(${tuple}) ${cmp} (select ${tuple} from members left join members mgr on mgr.id = members.manager_id
        where members.tenant_id = ${tenantId} and members.external_ref = ${cursor})`,
  };
}

function searchFilter(
  tenantId: string,
  search: string | undefined,
  status: MemberStatusFilter,
  filters: { department?: string | undefined; managerRef?: string | undefined } = {},
) {
  return and(
    eq(members.tenantId, tenantId),
    search ? memberSearchMatch(search) : undefined,
    status === "all" ? undefined : eq(members.active, status === "active"),
    filters.department ? eq(members.department, filters.department) : undefined,
    filters.managerRef
      ? sql`${members.managerId} = (select g.id from members g where g.tenant_id = ${tenantId} and g.external_ref = ${filters.managerRef})`
      : undefined,
  );
}

interface MemberPageInput {
  search?: string | undefined;
  limit: number;
  after?: string | undefined;
  /** externalRef unless given; ties are broken by externalRef. */
  sort?: MemberSort | undefined;
  direction?: SortDirection | undefined;
}

/** One page of members in the asked order (externalRef by default); the cursor is the last externalRef. */
export async function listMembers(db: Queryable, tenantId: string, input: MemberPageInput) {
  const order = pageOrderOf(input.search, input.sort, input.direction);
  const rows = await db
    .select({ member: members })
    .from(members)
    .leftJoin(manager, eq(manager.id, members.managerId))
    .where(
      and(
        eq(members.tenantId, tenantId),
        input.search ? memberSearchMatch(input.search) : undefined,
        input.after ? order.after(tenantId, input.after) : undefined,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit).map((r) => r.member);
  return { members: page.map(toMemberView), nextCursor: rows.length > input.limit ? (page.at(-1)?.externalRef ?? null) : null };
}

/** The Members page: details, the total matching, and keyset pages on the (tenant_id, external_ref) unique index. */
export async function searchMembers(
  db: Queryable,
  tenantId: string,
  input: MemberPageInput & { status: MemberStatusFilter; department?: string | undefined; managerRef?: string | undefined },
) {
  const where = searchFilter(tenantId, input.search, input.status, input);
  const order = pageOrderOf(input.search, input.sort, input.direction);
  // Keyset pagination: page 2000 costs what page 1 does. The page is chosen first (ids only: a
  // sort that no index serves then sorts the members alone), and its details read for those rows.
  const [ids, totals] = await Promise.all([
    db
      .select({ id: members.id })
      .from(members)
      .leftJoin(manager, eq(manager.id, members.managerId))
      .where(and(where, input.after ? order.after(tenantId, input.after) : undefined))
      .orderBy(...order.orderBy)
      .limit(input.limit + 1),
    db.select({ n: count() }).from(members).where(where),
  ]);
  const pageIds = ids.slice(0, input.limit).map((r) => r.id);
  const details = pageIds.length ? await detailQuery(db).where(and(eq(members.tenantId, tenantId), inArray(members.id, pageIds))) : [];
  const byId = new Map(details.map((d) => [d.id, d]));
  const page = pageIds.flatMap((id) => {
    const row = byId.get(id);
    return row ? [withIsoDates(row)] : [];
  });
  return { members: page, nextCursor: ids.length > input.limit ? (page.at(-1)?.externalRef ?? null) : null, total: totals[0]?.n ?? 0 };
}

export async function getMember(db: Queryable, tenantId: string, id: string) {
  const [row] = await detailQuery(db).where(and(eq(members.tenantId, tenantId), eq(members.id, id)));
  if (!row) throw new DomainError("not_found", `No member ${id}.`);
  return withIsoDates(row);
}

/** One page of the CSV export (header on the first page); the caller streams pages. */
export async function exportMembersPage(db: Queryable, tenantId: string, input: { after?: string | undefined; limit: number }) {
  const rows = await detailQuery(db)
    .where(and(eq(members.tenantId, tenantId), input.after ? gt(members.externalRef, input.after) : undefined))
    .orderBy(asc(members.externalRef))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  let csv = input.after ? "" : csvLine([...MEMBER_CSV_COLUMNS]);
  for (const m of page) csv += csvLine([m.externalRef, m.name, m.email, m.department, m.managerRef, m.active]);
  return { csv, nextCursor: rows.length > input.limit ? (page.at(-1)?.externalRef ?? null) : null };
}

/** The departments of the tenant's members, for the list's filter. */
export async function listDepartments(db: Queryable, tenantId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ department: members.department })
    .from(members)
    .where(and(eq(members.tenantId, tenantId), sql`${members.department} is not null`))
    .orderBy(asc(members.department))
    .limit(500);
  return rows.map((r) => r.department ?? "");
}
