/**
 * The Members list sorted by each column, both ways, paged by keyset: every member exactly once,
 * in the column's order, ties (same name, same manager, same instant to the microsecond) broken by
 * externalRef, members without a department or manager last (first when descending). Runs on
 * PGlite, and on PostgreSQL when TEST_DATABASE_URL is set: run it both ways.
 */
import { MEMBER_SORTS, type MemberSort, SORT_DIRECTIONS, type SortDirection } from "@approvalmatrix/core";
import { sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminTestBed, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;

const NAMES = ["Ann", "Bob", "Cleo", "Dan", "Eve"];
interface Row {
  ref: string;
  name: string;
  department: string | null;
  manager: string | null;
  active: boolean;
  /** updated_at, in microseconds after a fixed instant: ties every three rows. */
  updated: number;
}
const ROWS: Row[] = Array.from({ length: 23 }, (_, k) => {
  const i = k + 1;
  return {
    ref: `M${String(i).padStart(2, "0")}`,
    name: NAMES[i % NAMES.length] ?? "",
    department: i % 4 === 0 ? null : i % 2 ? "Ops" : "Sales",
    manager: i <= 3 ? null : `M0${(i % 3) + 1}`,
    active: i % 7 !== 0,
    updated: Math.floor(i / 3),
  };
});
const byRef = new Map(ROWS.map((r) => [r.ref, r]));

/** What each sort compares, nulls as a flag before the value (so they come last ascending). */
function key(row: Row, sort: MemberSort): (string | number)[] {
  const managerName = row.manager ? (byRef.get(row.manager)?.name ?? "") : null;
  switch (sort) {
    case "externalRef":
      return [row.ref];
    case "name":
      return [row.name, row.ref];
    case "department":
      return [row.department === null ? 1 : 0, row.department ?? "", row.ref];
    case "manager":
      return [managerName === null ? 1 : 0, managerName ?? "", row.ref];
    case "updated":
      return [row.updated, row.ref];
  }
}
function expected(rows: Row[], sort: MemberSort, direction: SortDirection): string[] {
  const cmp = (a: Row, b: Row) => {
    const [x, y] = [key(a, sort), key(b, sort)];
    for (let i = 0; i < x.length; i++) {
      const [p, q] = [x[i] ?? "", y[i] ?? ""];
      if (p !== q) return p < q ? -1 : 1;
    }
    return 0;
  };
  const sorted = [...rows].sort(cmp).map((r) => r.ref);
  return direction === "asc" ? sorted : sorted.reverse();
}

beforeAll(async () => {
  bed = await startAdminTestBed();
  const values = sql.join(
    ROWS.map(
      (r) =>
        sql`(${`mem_sort_${r.ref}`}, ${bed.tenantId}, ${r.name}, ${r.ref}, ${r.department}, ${r.manager ? `mem_sort_${r.manager}` : null}, ${r.active}, timestamptz '2026-01-01 00:00:00.000100+00' + make_interval(secs => ${r.updated}::int / 1000000.0))`,
    ),
    sql`, `,
  );
  await bed.database.db.execute(
    sql`insert into members (id, tenant_id, name, external_ref, department, manager_id, active, updated_at) values ${values}`,
  );
});
afterAll(() => bed.close());

/** Every page of the Members list, 4 at a time, following nextCursor. */
async function allPages(input: {
  sort: MemberSort;
  direction: SortDirection;
  status?: "active" | "all";
  department?: string;
  search?: string;
}) {
  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await bed.caller().admin.members.search({ status: "all", ...input, limit: 4, ...(after ? { after } : {}) });
    seen.push(...page.members.map((m) => m.externalRef));
    if (!page.nextCursor) return seen;
    after = page.nextCursor;
  }
  throw new Error("paging did not end");
}

describe("admin.members.search sorted", () => {
  for (const sort of MEMBER_SORTS)
    for (const direction of SORT_DIRECTIONS)
      it(`by ${sort} ${direction}: every member once, in order`, async () => {
        expect(await allPages({ sort, direction })).toEqual(expected(ROWS, sort, direction));
      });

  it("keeps the filters while sorting (active members of Ops by manager, descending)", async () => {
    const rows = ROWS.filter((r) => r.active && r.department === "Ops");
    expect(await allPages({ sort: "manager", direction: "desc", status: "active", department: "Ops" })).toEqual(
      expected(rows, "manager", "desc"),
    );
  });

  it("sorts search results too", async () => {
    const rows = ROWS.filter((r) => r.name === "Bob");
    expect(await allPages({ sort: "updated", direction: "desc", search: "bob" })).toEqual(expected(rows, "updated", "desc"));
    expect(await allPages({ sort: "externalRef", direction: "desc", search: "bob" })).toEqual(expected(rows, "externalRef", "desc"));
  });

  it("admin.members.list takes the same sort", async () => {
    const page = await bed.caller().admin.members.list({ sort: "department", direction: "asc", limit: 50 });
    expect(page.members.map((m) => m.externalRef)).toEqual(expected(ROWS, "department", "asc"));
  });

  it("an unknown cursor yields no rows, and a bad sort is refused", async () => {
    const page = await bed.caller().admin.members.search({ sort: "name", direction: "asc", after: "NOBODY" });
    expect(page.members).toEqual([]);
    await expect(bed.caller().admin.members.search({ sort: "email" as never })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
