/**
 * How fast is GET /v1/requests on a tenant with a million requests? Bulk-inserts them into a
 * throwaway PostgreSQL database (created beside TEST_DATABASE_URL, dropped at the end), then
 * times the real listing query (the api package's listRequests, through drizzle and postgres.js)
 * for the first page, deep pages and filtered pages, and shows which index each plan uses.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm --filter @approvalmatrix/bench bench:list
 *   … bench:list --rows 200000 --runs 100 --keep
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { type ListRequestsInput, inboxQuery, listInbox, listRequests, listRequestsQuery } from "@approvalmatrix/api";
import { must } from "@approvalmatrix/core";
import { type Database, rowsOf, sql } from "@approvalmatrix/db";
import { createTestDatabase, testDatabaseEngine } from "@approvalmatrix/db/testing";
import postgres from "postgres";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    runs: { type: "string", default: "200" },
    keep: { type: "boolean", default: false },
  },
});
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const BATCH = 100_000;
const MEMBERS = 1000;
const TENANT = "ten_bench";
const OTHER_TENANT = "ten_bench_other";

if (testDatabaseEngine() !== "postgres") {
  console.error(
    "bench:list needs PostgreSQL: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres); a throwaway database is created beside it and dropped afterwards.",
  );
  process.exit(1);
}
if (!Number.isInteger(ROWS) || ROWS < 10_000 || !Number.isInteger(RUNS) || RUNS < 10) {
  console.error("--rows must be an integer of at least 10000 and --runs one of at least 10.");
  process.exit(1);
}

const database = await createTestDatabase();
if (database.target.kind !== "postgres") throw new Error("unreachable: engine is postgres");
const db: Database = database.db;
const raw = postgres(database.target.url, { max: 1, onnotice: () => {} });

function progress(label: string, done: number, total: number, started: number) {
  const pct = ((done / total) * 100).toFixed(0).padStart(3);
  process.stdout.write(
    `\r  ${label}: ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} (${pct}%) ${((performance.now() - started) / 1000).toFixed(1)} s   `,
  );
  if (done === total) process.stdout.write("\n");
}

async function seed() {
  console.log(
    `Seeding ${ROWS.toLocaleString("en-US")} requests for one tenant (${database.target.kind === "postgres" ? new URL(database.target.url).pathname.slice(1) : ""})`,
  );
  await db.execute(
    sql`insert into tenants (id, name, slug) values (${TENANT}, 'Bench Corp', 'bench'), (${OTHER_TENANT}, 'Other Corp', 'bench-other')`,
  );
  await db.execute(sql`
    insert into members (id, tenant_id, name, external_ref, department)
    select 'mem_b_' || lpad(m::text, 4, '0'), ${TENANT}, 'Member ' || m, 'EMP-B' || lpad(m::text, 4, '0'), 'Dept ' || (m % 20)
    from generate_series(1, ${MEMBERS}) m`);
  await db.execute(
    sql`insert into members (id, tenant_id, name, external_ref) values ('mem_o_0001', ${OTHER_TENANT}, 'Other', 'EMP-B0001')`,
  );
  await db.execute(sql`
    insert into matrices (id, tenant_id, name, request_type) values
      ('mat_bench', ${TENANT}, 'Bench matrix', 'purchase_order'), ('mat_other', ${OTHER_TENANT}, 'Other matrix', 'purchase_order')`);

  // Statuses as a live tenant has them: mostly closed, 15% waiting. Two requests share each
  // minute (ties on created_at); ids are random like real ones; types and submitters spread.
  const started = performance.now();
  for (let from = 1; from <= ROWS; from += BATCH) {
    const to = Math.min(ROWS, from + BATCH - 1);
    await db.execute(sql`
      insert into requests (id, tenant_id, submitter_id, request_type, title, amount, currency, metadata, matrix_id, matrix_name,
                            status, current_stage, total_stages, created_at, updated_at)
      select 'req_' || substr(md5('bench' || g), 1, 20), ${TENANT}, 'mem_b_' || lpad((1 + (g::bigint * 7919) % ${MEMBERS})::text, 4, '0'),
             (array['purchase_order','purchase_order','purchase_order','travel','time_off','laptop'])[1 + g % 6],
             'Request ' || g, (g % 50000)::float8, 'USD', '{}'::jsonb, 'mat_bench', 'Bench matrix',
             case when h < 70 then 'approved' when h < 80 then 'rejected' when h < 85 then 'cancelled' when h < 95 then 'in_progress' else 'pending' end,
             case when h >= 85 then 1 + (h % 2) end, 2,
             timestamptz '2023-01-01 00:00:00+00' + (g / 2) * interval '1 minute',
             timestamptz '2023-01-01 00:00:00+00' + (g / 2) * interval '1 minute'
      from (select g, (g::bigint * 2654435761) % 100 as h from generate_series(${from}::int, ${to}::int) g) s`);
    // One stage row per request: open for the waiting ones, with one of 50 approvers.
    await db.execute(sql`
      insert into request_stages (request_id, tenant_id, position, name, rule, quorum, approver_ids, status)
      select r.id, r.tenant_id, coalesce(r.current_stage, 2), 'Stage', 'any', null, array['mem_b_' || lpad((1 + get_byte(decode(md5('approver' || g), 'hex'), 0) % 50)::text, 4, '0')],
             case r.status when 'approved' then 'approved' when 'rejected' then 'rejected' when 'cancelled' then 'cancelled' else 'open' end
      from generate_series(${from}::int, ${to}::int) g
      join requests r on r.id = 'req_' || substr(md5('bench' || g), 1, 20)`);
    progress("requests", to, ROWS, started);
  }
  const otherRows = Math.round(ROWS / 10);
  await db.execute(sql`
    insert into requests (id, tenant_id, submitter_id, request_type, title, matrix_id, matrix_name, status, total_stages, created_at, updated_at)
    select 'req_' || substr(md5('other' || g), 1, 20), ${OTHER_TENANT}, 'mem_o_0001', 'purchase_order', 'Other ' || g, 'mat_other', 'Other matrix',
           'pending', 1, timestamptz '2023-01-01 00:00:00+00' + g * interval '5 minutes', now()
    from generate_series(1, ${otherRows}::int) g`);
  console.log(`  + ${otherRows.toLocaleString("en-US")} requests of another tenant; ANALYZE…`);
  await db.execute(sql`analyze`);
}

/** The id at `offset` in a filtered newest-first list: a cursor for a deep page. */
async function cursorAt(offset: number, where = sql`true`): Promise<string> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(
      sql`select id from requests where tenant_id = ${TENANT} and ${where} order by created_at desc nulls last, id desc nulls last offset ${offset} limit 1`,
    ),
  );
  if (!rows[0]) throw new Error(`no row at offset ${offset}`);
  return rows[0].id;
}

interface Scenario {
  name: string;
  /** Listing scenarios must be one index range scan in keyset order: no sort, no sequential scan. */
  keyset: boolean;
  run: () => Promise<{ data: unknown[] }>;
  /** The statement to EXPLAIN. */
  query: { sql: string; params: unknown[] };
}

function listScenario(name: string, input: Partial<ListRequestsInput>): Scenario {
  const full: ListRequestsInput = { limit: 20, ...input };
  return { name, keyset: true, run: () => listRequests(db, TENANT, full), query: listRequestsQuery(db, TENANT, full).toSQL() };
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

/** The scans of a plan, outermost first: "Index Scan requests_tenant_created_idx", "Seq Scan requests", "Sort". */
function describePlan(node: PlanNode): string[] {
  const own =
    node["Index Name"] !== undefined
      ? [`${node["Node Type"]} ${node["Index Name"]}`]
      : node["Node Type"].includes("Scan") || node["Node Type"] === "Sort"
        ? [`${node["Node Type"]}${node["Relation Name"] ? ` ${node["Relation Name"]}` : ""}`]
        : [];
  return [...own, ...(node.Plans ?? []).flatMap(describePlan)];
}

async function explain(query: Scenario["query"]) {
  const [row] = await raw.unsafe(`explain (analyze, buffers, format json) ${query.sql}`, query.params as never[]);
  const plan = (row as unknown as { "QUERY PLAN": [{ Plan: PlanNode & { "Shared Hit Blocks": number; "Shared Read Blocks": number } }] })[
    "QUERY PLAN"
  ][0].Plan;
  const scans = describePlan(plan);
  return {
    scans: [...new Set(scans)].join(" + "),
    indexed: !scans.some((s) => s.startsWith("Seq Scan") || s === "Sort"),
    buffers: plan["Shared Hit Blocks"] + plan["Shared Read Blocks"],
  };
}

function percentile(sorted: number[], p: number): number {
  return must(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)], "a sample");
}

async function time(scenario: Scenario, runs: number) {
  for (let i = 0; i < Math.min(10, runs); i++) await scenario.run();
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const page = await scenario.run();
    samples.push(performance.now() - started);
    rows = page.data.length;
  }
  samples.sort((a, b) => a - b);
  return { rows, p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

try {
  await seed();
  const deep = Math.floor(ROWS * 0.9);
  const pendingDeep = Math.floor(ROWS * 0.05 * 0.9);
  const inboxMember = "mem_b_0007";
  const inboxInput = { limit: 20 };
  const scenarios: Scenario[] = [
    listScenario("first page (limit 20)", {}),
    listScenario("first page (limit 100)", { limit: 100 }),
    listScenario(`deep page (after row ${deep.toLocaleString("en-US")})`, { startingAfter: await cursorAt(deep) }),
    listScenario("last page", { startingAfter: await cursorAt(ROWS - 10) }),
    listScenario("status=pending (5%)", { status: "pending" }),
    listScenario(`status=pending, deep (after row ${pendingDeep.toLocaleString("en-US")})`, {
      status: "pending",
      startingAfter: await cursorAt(pendingDeep, sql`status = 'pending'`),
    }),
    listScenario("requestType=laptop (17%)", { requestType: "laptop" }),
    listScenario("submitterRef (0.1%)", { submitterRef: "EMP-B0042" }),
    listScenario("submitterRef, deeper (after its row 100)", {
      submitterRef: "EMP-B0042",
      startingAfter: await cursorAt(Math.max(0, Math.min(100, Math.floor(ROWS / MEMBERS) - 21)), sql`submitter_id = 'mem_b_0042'`),
    }),
    listScenario("created in one week", { createdAfter: "2023-06-01T00:00:00Z", createdBefore: "2023-06-08T00:00:00Z" }),
    listScenario("status=rejected & type=travel", { status: "rejected", requestType: "travel" }),
    {
      // Driven from the member's open stages (a partial GIN index), then sorted: its cost follows
      // the size of one member's queue, not of the tenant.
      name: "inbox of one approver (tRPC)",
      keyset: false,
      run: () => listInbox(db, TENANT, { approverRef: "EMP-B0007", ...inboxInput }),
      query: inboxQuery(db, TENANT, inboxMember, inboxInput).toSQL(),
    },
  ];
  // For contrast, the same deep page by OFFSET: what keyset pagination avoids.
  const offsetQuery = {
    sql: `select id from requests where tenant_id = $1 order by created_at desc nulls last, id desc nulls last offset ${deep} limit 21`,
    params: [TENANT],
  };
  const offsetScenario: Scenario = {
    keyset: false,
    name: `(contrast) OFFSET ${deep.toLocaleString("en-US")}`,
    run: async () => ({ data: await raw.unsafe(offsetQuery.sql, offsetQuery.params) }),
    query: offsetQuery,
  };

  console.log(`\nTiming ${RUNS} runs of each (after 10 warm-up runs); plans from EXPLAIN (ANALYZE, BUFFERS)\n`);
  const header = `${"scenario".padEnd(44)} ${"rows".padStart(4)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"buffers".padStart(8)}  plan`;
  console.log(header);
  console.log("-".repeat(header.length + 40));
  let allIndexed = true;
  for (const scenario of [...scenarios, offsetScenario]) {
    const timing = await time(scenario, scenario === offsetScenario ? 10 : RUNS);
    const plan = await explain(scenario.query);
    if (scenario.keyset) allIndexed &&= plan.indexed;
    console.log(
      `${scenario.name.padEnd(44)} ${String(timing.rows).padStart(4)} ${timing.p50.toFixed(2).padStart(7)} ${timing.p99.toFixed(2).padStart(7)} ${String(plan.buffers).padStart(8)}  ${plan.scans}${plan.indexed || !scenario.keyset ? "" : "  ← NOT a keyset index scan"}`,
    );
  }
  console.log(
    `\n${allIndexed ? "Every listing scenario is one index range scan in keyset order: no sort, no sequential scan." : "Some scenario needs a sort or a sequential scan: see the plans above."}`,
  );
} finally {
  await raw.end({ timeout: 5 });
  if (args.keep) {
    await database.close();
    console.log(`Kept the database: ${database.target.url}`);
  } else {
    await database.destroy();
  }
}
