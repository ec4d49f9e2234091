/**
 * Is the admin app's Members page fast with 100 000 members, and does the CSV import hold up?
 * Creates a throwaway database (PostgreSQL beside TEST_DATABASE_URL, or an in-memory PGlite when
 * it is unset: the fresh-laptop default), a tenant, and a generated CSV of `--rows` members
 * (managers, departments, emails), then goes through the real tRPC procedures as an operator:
 *
 *   1. imports the file (progress printed as the import reports it),
 *   2. imports the same file again (every row an update),
 *   3. imports a copy with a few bad rows: nothing may change, every bad row must be reported,
 *   4. times member search (name fragment, name prefix, externalRef, email, status), first and
 *      deep pages, and the whole CSV export.
 *
 * Prints a markdown table and writes it to results/local/members-latest.md (results/members-latest.md, tracked, with BENCH_SAVE=1).
 *
 *   pnpm bench:members                        # PGlite
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm bench:members
 *   … bench:members --rows 20000 --runs 50
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { MemoryRateLimitStore, RateLimiter, createCaller, createTenant } from "@approvalmatrix/api";
import { must, systemClock } from "@approvalmatrix/core";
import { type Database, rowsOf, sql } from "@approvalmatrix/db";
import { createTestDatabase, testDatabaseEngine } from "@approvalmatrix/db/testing";
import { resultsFile } from "./results-file";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    runs: { type: "string", default: "30" },
  },
});
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
if (!Number.isInteger(ROWS) || ROWS < 100 || !Number.isInteger(RUNS) || RUNS < 5) {
  console.error("--rows must be an integer of at least 100 and --runs one of at least 5.");
  process.exit(1);
}

const engine = testDatabaseEngine();
const MB = 1024 * 1024;

// --- memory: peak RSS, sampled between awaits and from the progress callback -------------------
let peakRss = process.memoryUsage.rss();
let phasePeak = peakRss;
const sampleRss = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if (rss > phasePeak) phasePeak = rss;
};
const sampler = setInterval(sampleRss, 25);
sampler.unref();

// --- the generated file ------------------------------------------------------------------------
const FIRST = ["Alice", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ingrid", "Jonas", "Keiko", "Liam", "Maya", "Nils"];
const LAST = ["Johnson", "Okafor", "Schmidt", "Nakamura", "García", "Rossi", "Dubois", "Kowalski", "Nguyen", "O'Brien", "Haddad", "Larsen"];
const DEPARTMENTS = Array.from({ length: 40 }, (_, i) => `Department ${String(i + 1).padStart(2, "0")}`);

const ascii = (s: string) =>
  s
    .normalize("NFD")
    .toLowerCase()
    .replace(/[^a-z]/g, "");
const ref = (i: number) => `EMP-${String(i).padStart(6, "0")}`;
/** Row i (1-based): a tree of managers ten wide, so every manager is another row of the file. */
function member(i: number, suffix = "") {
  const first = must(FIRST[i % FIRST.length]);
  const last = must(LAST[Math.floor(i / FIRST.length) % LAST.length]);
  return {
    externalRef: ref(i),
    name: `${first} ${last} ${i}${suffix}`,
    email: `${ascii(first)}.${ascii(last)}.${i}@example.com`,
    department: must(DEPARTMENTS[i % DEPARTMENTS.length]),
    managerRef: i === 1 ? "" : ref(Math.floor(i / 10) || 1),
    active: i % 17 === 0 ? "false" : "true",
  };
}
const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
function csvOf(rows: ReturnType<typeof member>[]): string {
  const lines = ["externalRef,name,email,department,managerRef,active"];
  for (const r of rows) lines.push([r.externalRef, r.name, r.email, r.department, r.managerRef, r.active].map(cell).join(","));
  return `${lines.join("\n")}\n`;
}

// --- output ------------------------------------------------------------------------------------
const fmt = (n: number) => n.toLocaleString("en-US");
function progressLine(label: string, phase: string, done: number, total: number, started: number) {
  const pct = total ? Math.floor((done / total) * 100) : 0;
  const bar = "#".repeat(Math.floor(pct / 5)).padEnd(20, ".");
  process.stdout.write(
    `\r  ${label.padEnd(16)} [${bar}] ${String(pct).padStart(3)}% ${phase.padEnd(10)} ${fmt(done).padStart(9)} / ${fmt(total).padEnd(9)} ${((performance.now() - started) / 1000).toFixed(1)} s   `,
  );
}

function percentile(sorted: number[], p: number): number {
  return must(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)], "a sample");
}

const database = await createTestDatabase();
const db: Database = database.db;
const deps = {
  db,
  apiKeyHashSecret: "bench-secret-not-used",
  rateLimiter: new RateLimiter(new MemoryRateLimitStore()),
  maxBodyBytes: 1 << 20,
  clock: systemClock,
};
const callerFor = (tenantId: string, onProgress?: (p: { phase: string; done: number; total: number }) => void) =>
  createCaller({
    deps,
    requestId: "bench",
    authorization: null,
    credentialInQuery: false,
    response: { headers: {} },
    actor: { kind: "operator", tenantId },
    ...(onProgress ? { onProgress } : {}),
  });

interface ImportRow {
  name: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakMb: number;
  outcome: string;
}
interface ReadRow {
  name: string;
  rows: number;
  p50: number;
  p99: number;
}

async function timedImport(tenantId: string, label: string, csv: string) {
  global.gc?.();
  phasePeak = process.memoryUsage.rss();
  const started = performance.now();
  let progressCalls = 0;
  const caller = callerFor(tenantId, (p) => {
    progressCalls++;
    sampleRss();
    progressLine(label, p.phase, p.done, p.total, started);
  });
  const result = await caller.admin.members.importCsv({ csv });
  sampleRss();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n    ${progressCalls} progress reports; ${seconds.toFixed(1)} s\n`);
  return { result, seconds, peakMb: phasePeak / MB };
}

async function timeRead(name: string, run: () => Promise<number>, runs = RUNS): Promise<ReadRow> {
  for (let i = 0; i < Math.min(3, runs); i++) await run();
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    rows = await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const row = { name, rows, p50: percentile(samples, 50), p99: percentile(samples, 99) };
  console.log(
    `  ${name.padEnd(46)} ${String(rows).padStart(7)} rows  p50 ${row.p50.toFixed(1).padStart(7)} ms  p99 ${row.p99.toFixed(1).padStart(7)} ms`,
  );
  return row;
}

const failures: string[] = [];
const check = (ok: boolean, message: string) => {
  if (!ok) {
    failures.push(message.length > 300 ? `${message.slice(0, 300)}…` : message);
    console.log(`  ✗ ${message}`);
  }
};

try {
  const startedAll = performance.now();
  console.log(
    `Members bench: ${fmt(ROWS)} rows on ${engine === "postgres" ? `PostgreSQL (${new URL((database.target as { url: string }).url).pathname.slice(1)})` : "embedded PGlite (in memory)"}, ${RUNS} runs per read\n`,
  );
  const tenant = await createTenant(db, { name: "Bench Members Corp", slug: `bench-members-${Date.now()}` });
  // A small second tenant: searches must not see its rows.
  const other = await createTenant(db, { name: "Other Corp", slug: `bench-other-${Date.now()}` });
  const caller = callerFor(tenant.id);

  const genStarted = performance.now();
  const rows = Array.from({ length: ROWS }, (_, k) => member(k + 1));
  const csv = csvOf(rows);
  console.log(
    `Generated the CSV: ${fmt(ROWS)} rows, ${(csv.length / MB).toFixed(1)} MB in ${((performance.now() - genStarted) / 1000).toFixed(1)} s`,
  );

  const imports: ImportRow[] = [];
  const otherImport = await callerFor(other.id).admin.members.importCsv({ csv: csvOf(rows.slice(0, 1000)) });
  check(otherImport.ok, "the other tenant's 1 000-row import failed");

  // 1. First import: every row created.
  console.log("\nImports");
  const first = await timedImport(tenant.id, "first import", csv);
  check(
    first.result.ok && first.result.created === ROWS,
    `first import: expected ${ROWS} created, got ${JSON.stringify(first.result).slice(0, 300)}`,
  );
  imports.push({
    name: "import, all new",
    rows: ROWS,
    seconds: first.seconds,
    rowsPerSecond: ROWS / first.seconds,
    peakMb: first.peakMb,
    outcome: first.result.ok ? `${fmt(first.result.created)} created` : `failed: ${first.result.errorCount} errors`,
  });

  // 2. The same file again: every row an update.
  const second = await timedImport(tenant.id, "re-import", csv);
  check(
    second.result.ok && second.result.updated === ROWS,
    `re-import: expected ${ROWS} updated, got ${JSON.stringify(second.result).slice(0, 300)}`,
  );
  imports.push({
    name: "re-import, all upserts",
    rows: ROWS,
    seconds: second.seconds,
    rowsPerSecond: ROWS / second.seconds,
    peakMb: second.peakMb,
    outcome: second.result.ok ? `${fmt(second.result.updated)} updated` : `failed: ${second.result.errorCount} errors`,
  });

  // 3. Every row renamed, plus a few bad rows spread through the file: nothing may be written.
  const renamed = rows.map((r) => ({ ...r, name: `${r.name} (v3)` }));
  const bad = [
    { at: Math.floor(ROWS * 0.1), field: "email", edit: (r: ReturnType<typeof member>) => ({ ...r, email: "not-an-email" }) },
    { at: Math.floor(ROWS * 0.3), field: "name", edit: (r: ReturnType<typeof member>) => ({ ...r, name: "" }) },
    { at: Math.floor(ROWS * 0.5), field: "externalRef", edit: (r: ReturnType<typeof member>) => ({ ...r, externalRef: ref(7) }) },
    { at: Math.floor(ROWS * 0.7), field: "managerRef", edit: (r: ReturnType<typeof member>) => ({ ...r, managerRef: "EMP-NOBODY" }) },
    { at: Math.floor(ROWS * 0.9), field: "active", edit: (r: ReturnType<typeof member>) => ({ ...r, active: "maybe" }) },
    { at: ROWS - 1, field: "managerRef", edit: (r: ReturnType<typeof member>) => ({ ...r, managerRef: r.externalRef }) },
  ];
  for (const b of bad) renamed[b.at] = b.edit(must(renamed[b.at]));
  const third = await timedImport(tenant.id, "bad rows", csvOf(renamed));
  const expectedLines = bad.map((b) => ({ line: b.at + 2, field: b.field }));
  const reported = third.result.ok ? [] : third.result.errors;
  check(!third.result.ok, "the file with bad rows was imported");
  check(
    !third.result.ok && third.result.errorCount === bad.length,
    `bad rows: expected ${bad.length} errors, got ${third.result.ok ? 0 : third.result.errorCount}`,
  );
  for (const e of expectedLines)
    check(
      reported.some((r) => r.line === e.line && r.field === e.field),
      `bad rows: line ${e.line} (${e.field}) was not reported`,
    );
  const [touched] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from members where tenant_id = ${tenant.id} and name like '%(v3)'`),
  );
  check(touched?.n === 0, `bad rows: ${touched?.n} members were renamed although the file was refused`);
  imports.push({
    name: `file with ${bad.length} bad rows`,
    rows: ROWS,
    seconds: third.seconds,
    rowsPerSecond: ROWS / third.seconds,
    peakMb: third.peakMb,
    outcome: third.result.ok
      ? "IMPORTED (wrong)"
      : `refused, ${third.result.errorCount} errors reported${touched?.n === 0 ? ", 0 rows changed" : `, ${touched?.n} rows changed (wrong)`}`,
  });
  for (const e of reported.slice(0, 10)) console.log(`    line ${e.line} ${e.field}: ${e.message}`);

  // 4. Reads, as the Members page and the export make them.
  await db.execute(sql`analyze members`);
  const sample = must(rows[Math.floor(ROWS * 0.6)]);
  const deepAfter = ref(Math.floor(ROWS * 0.9));
  const search = (input: Parameters<typeof caller.admin.members.search>[0]) => async () =>
    (await caller.admin.members.search({ limit: 50, ...input })).members.length;
  console.log(`\nReads (${RUNS} runs each after 3 warm-up runs; admin.members.search returns the page and the total)`);
  const reads: ReadRow[] = [];
  reads.push(await timeRead("first page (50)", search({})));
  reads.push(await timeRead(`deep page (after ${deepAfter})`, search({ after: deepAfter })));
  reads.push(await timeRead("status=inactive, first page", search({ status: "inactive" })));
  const lastName = must(sample.name.split(" ")[1], "a last name");
  reads.push(await timeRead(`search last-name prefix "${lastName.slice(0, 4)}"`, search({ search: lastName.slice(0, 4) })));
  reads.push(await timeRead(`search name prefix "${sample.name.split(" ")[0]}"`, search({ search: sample.name.split(" ")[0] })));
  reads.push(await timeRead(`search full name "${sample.name}"`, search({ search: sample.name })));
  reads.push(await timeRead(`search externalRef "${sample.externalRef}"`, search({ search: sample.externalRef })));
  reads.push(await timeRead(`search email "${sample.email}"`, search({ search: sample.email })));
  reads.push(await timeRead(`search no match "zzqx"`, search({ search: "zzqx" })));
  reads.push(await timeRead(`search matching every member "emp"`, search({ search: "emp" })));
  reads.push(
    await timeRead(
      "members.list search by ref (API)",
      async () => (await caller.admin.members.list({ search: sample.externalRef })).members.length,
    ),
  );
  let exportBytes = 0;
  reads.push(
    await timeRead(
      "CSV export, all pages of 5 000",
      async () => {
        let after: string | undefined;
        let lines = 0;
        exportBytes = 0;
        for (;;) {
          const page = await caller.admin.members.exportPage({ limit: 5000, ...(after ? { after } : {}) });
          exportBytes += page.csv.length;
          lines += page.csv.split("\r\n").length - 1;
          if (!page.nextCursor) return lines - 1;
          after = page.nextCursor;
        }
      },
      Math.max(3, Math.ceil(RUNS / 10)),
    ),
  );
  const lastRead = must(reads.at(-1), "an export read");
  check(lastRead.rows === ROWS, `export returned ${lastRead.rows} rows, expected ${ROWS}`);
  const totalSeconds = (performance.now() - startedAll) / 1000;

  // --- the report ----------------------------------------------------------------------------
  const engineName = engine === "postgres" ? "PostgreSQL" : "PGlite (embedded)";
  const serverVersion = rowsOf<{ v: string }>(await db.execute(sql`select current_setting('server_version') as v`))[0]?.v ?? "?";
  const lines = [
    `### Members at ${fmt(ROWS)} — ${engineName} ${serverVersion}`,
    "",
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · Node ${process.version} · ${RUNS} runs per read · peak RSS of the whole process ${(peakRss / MB).toFixed(0)} MB${engine === "pglite" ? " (the database runs in it)" : ""} · CSV ${(csv.length / MB).toFixed(1)} MB · export ${(exportBytes / MB).toFixed(1)} MB · bench took ${totalSeconds.toFixed(0)} s`,
    "",
    "| import | rows | total s | rows/s | peak RSS MB | outcome |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...imports.map(
      (r) =>
        `| ${r.name} | ${fmt(r.rows)} | ${r.seconds.toFixed(1)} | ${fmt(Math.round(r.rowsPerSecond))} | ${r.peakMb.toFixed(0)} | ${r.outcome} |`,
    ),
    "",
    "| read | rows | p50 ms | p99 ms |",
    "| --- | ---: | ---: | ---: |",
    ...reads.map((r) => `| ${r.name} | ${fmt(r.rows)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`),
    "",
    failures.length
      ? `**${failures.length} check(s) failed:** ${failures.join("; ")}`
      : "All checks passed (counts, refused file untouched, every bad row reported, full export).",
    "",
  ];
  const table = lines.join("\n");
  console.log(`\n${table}`);
  const out = resultsFile("members");
  // One section per engine: a PGlite run keeps the last PostgreSQL figures and vice versa.
  const marker = (e: string) => `<!-- members-bench:${e} -->`;
  const previous = existsSync(out) ? readFileSync(out, "utf8") : "";
  const sections = new Map<string, string>();
  for (const part of previous.split(/(?=<!-- members-bench:)/)) {
    const key = /^<!-- members-bench:(\w+) -->/.exec(part)?.[1];
    if (key) sections.set(key, part.trimEnd());
  }
  sections.set(engine, `${marker(engine)}\n${table.trimEnd()}`);
  const ordered = ["postgres", "pglite"].flatMap((e) => sections.get(e) ?? []);
  writeFileSync(out, `# Members bench (tooling/bench/members.ts)\n\n${ordered.join("\n\n")}\n`);
  console.log(`Written to ${out}`);
} finally {
  clearInterval(sampler);
  await database.destroy();
}
if (failures.length) process.exitCode = 1;
