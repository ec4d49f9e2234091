/**
 * Keyset paging returns every row exactly once, also when rows share a timestamp (one decision
 * writes several audit rows in one transaction, so with one now()) and when they are microseconds
 * apart, which PostgreSQL keeps and a JavaScript Date does not. Runs on PGlite, and on PostgreSQL
 * when TEST_DATABASE_URL is set: run it both ways.
 */
import { sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRequests } from "../../services/list-requests";
import { type AdminTestBed, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
/** Ids newest first, as every list orders them (created_at desc, id desc). */
let auditIds: string[];
let requestIds: string[];

// Seven rows with one timestamp, then seven one microsecond apart, then seven more with one
// timestamp a microsecond after those: ties and microseconds on both sides of every page break.
const TIMES = sql`(values
  (1, now()), (2, now()), (3, now()), (4, now()), (5, now()), (6, now()), (7, now()),
  (8, timestamptz '2026-01-01 00:00:00.000101+00'), (9, timestamptz '2026-01-01 00:00:00.000102+00'),
  (10, timestamptz '2026-01-01 00:00:00.000103+00'), (11, timestamptz '2026-01-01 00:00:00.000104+00'),
  (12, timestamptz '2026-01-01 00:00:00.000105+00'), (13, timestamptz '2026-01-01 00:00:00.000106+00'),
  (14, timestamptz '2026-01-01 00:00:00.000107+00'),
  (15, timestamptz '2026-01-01 00:00:00.000108+00'), (16, timestamptz '2026-01-01 00:00:00.000108+00'),
  (17, timestamptz '2026-01-01 00:00:00.000108+00'), (18, timestamptz '2026-01-01 00:00:00.000108+00'),
  (19, timestamptz '2026-01-01 00:00:00.000109+00'), (20, timestamptz '2026-01-01 00:00:00.000109+00'),
  (21, timestamptz '2026-01-01 00:00:00.000109+00')) as t(n, at)`;

beforeAll(async () => {
  bed = await startAdminTestBed();
  const admin = bed.caller().admin;
  const submitter = await admin.members.create({ name: "Alex Kim", externalRef: "EMP-1" });
  await admin.members.create({ name: "Bob Lee", externalRef: "EMP-2" });
  const matrix = await admin.matrices.create({
    name: "Purchases",
    requestType: "purchase_order",
    stages: [{ name: "Finance", rule: "any", approvers: { type: "members", memberRefs: ["EMP-2"] } }],
  });
  const db = bed.database.db;
  // Each in one statement, so now() is one instant for all of its rows.
  await db.execute(sql`insert into audit_log (id, tenant_id, actor_type, actor_id, action, target_type, target_id, created_at)
    select 'aud_paging_' || lpad(t.n::text, 2, '0'), ${bed.tenantId}, 'operator', 'cli', 'paging.test', 'x', 'x', t.at from ${TIMES}`);
  await db.execute(sql`insert into requests (id, tenant_id, submitter_id, request_type, title, matrix_id, matrix_name, status, current_stage, total_stages, created_at, updated_at)
    select 'req_paging_' || lpad(t.n::text, 2, '0'), ${bed.tenantId}, ${submitter.id}, 'purchase_order', 'Paging ' || t.n, ${matrix.id}, 'Purchases', 'pending', 1, 1, t.at, t.at from ${TIMES}`);
  const newestFirst = (table: "audit_log" | "requests") =>
    db.execute(
      sql`select id from ${sql.identifier(table)} where tenant_id = ${bed.tenantId} and id like ${`%_paging_%`} order by created_at desc, id desc`,
    );
  const ids = (result: unknown) =>
    (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows).map((r) => (r as { id: string }).id);
  auditIds = ids(await newestFirst("audit_log"));
  requestIds = ids(await newestFirst("requests"));
  expect(auditIds).toHaveLength(21);
});
afterAll(() => bed.close());

/** Follows the cursor from the first page to the last; returns every id in the order seen. */
async function collect(
  page: (cursor: string | undefined) => Promise<{ ids: string[]; next: string | null | undefined }>,
): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const { ids, next } = await page(cursor);
    seen.push(...ids);
    if (!next) return seen;
    cursor = next;
  }
  throw new Error("paging did not end");
}

describe.each([1, 2, 3, 5, 8])("pages of %i", (limit) => {
  it("admin.audit.list returns every entry exactly once, newest first", async () => {
    const seen = await collect(async (before) => {
      const page = await bed.caller().admin.audit.list({ action: "paging.", limit, ...(before ? { before } : {}) });
      return { ids: page.entries.map((e) => e.id), next: page.nextCursor };
    });
    expect(seen).toEqual(auditIds);
  });

  it("admin.requests.list returns every request exactly once, newest first", async () => {
    const seen = await collect(async (before) => {
      const page = await bed.caller().admin.requests.list({ limit, ...(before ? { before } : {}) });
      return { ids: page.requests.map((r) => r.requestId), next: page.nextCursor };
    });
    expect(seen).toEqual(requestIds);
  });

  it("GET /v1/requests (listRequests) returns every request exactly once, newest first", async () => {
    const seen = await collect(async (startingAfter) => {
      const page = await listRequests(bed.database.db, bed.tenantId, { limit, ...(startingAfter ? { startingAfter } : {}) });
      return { ids: page.data.map((r) => r.requestId), next: page.nextCursor };
    });
    expect(seen).toEqual(requestIds);
  });
});
