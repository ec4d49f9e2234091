import {
  EVENT_API_VERSION,
  MEMBER_CSV_COLUMNS,
  MEMBER_IMPORT_MAX_ROWS,
  describeManagerLoop,
  findManagerLoops,
  newId,
} from "@approvalmatrix/core";
import { type Database, rowsOf, sql } from "@approvalmatrix/db";
import { z } from "zod";
import type { Actor } from "../../context";
import { writeAudit } from "../audit";
import { CsvError, parseCsv } from "./csv";
import { loadManagerChains } from "./manager-chain";

const REQUIRED_COLUMNS = ["externalRef", "name"] as const;
const MAX_REPORTED_ERRORS = 200;
/** Rows per write statement: 20 progress steps per pass on a 100 000-row file. */
const WRITE_BATCH = 5000;
const VALIDATE_STEP = 10_000;

export interface ImportRowError {
  /** 1-based line in the file (the header is line 1). */
  line: number;
  field: string;
  message: string;
}

export type MemberImportResult =
  { ok: true; rows: number; created: number; updated: number } | { ok: false; rows: number; errorCount: number; errors: ImportRowError[] };

interface ImportRow {
  line: number;
  externalRef: string;
  name: string;
  email: string | null;
  department: string | null;
  managerRef: string | null;
  active: boolean;
}

const emailSchema = z.email();
type Progress = (p: { phase: string; done: number; total: number }) => void;

/**
 * After a progress report, let the event loop run so the report is sent now: PGlite answers
 * queries without I/O (its promises settle as microtasks), so without this the whole transaction
 * runs in one turn and every progress line reaches the client together with the result.
 */
const letProgressOut = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Reads and checks every row; nothing is written unless the whole file is valid. */
function validateRows(
  csv: string,
  existingChains: (refs: string[]) => Promise<Map<string, string | null>>,
  onProgress?: Progress,
): Promise<{ rows: ImportRow[]; errors: ImportRowError[]; errorCount: number }> {
  return (async () => {
    const errors: ImportRowError[] = [];
    let errorCount = 0;
    const fail = (line: number, field: string, message: string) => {
      errorCount++;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ line, field, message });
    };
    let table: string[][];
    try {
      table = parseCsv(csv);
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      fail(typeof error.lines === "number" ? error.lines : 1, "(file)", `The file is not valid CSV: ${error.message}`);
      return { rows: [], errors, errorCount };
    }
    const header = (table[0] ?? []).map((h) => h.trim());
    const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
    if (missing.length) {
      fail(1, missing.join(", "), `Missing column(s): ${missing.join(", ")}. Expected a header like: ${MEMBER_CSV_COLUMNS.join(",")}`);
      return { rows: [], errors, errorCount };
    }
    if (table.length - 1 > MEMBER_IMPORT_MAX_ROWS) {
      fail(1, "(file)", `The file has ${table.length - 1} rows; import at most ${MEMBER_IMPORT_MAX_ROWS} at a time.`);
      return { rows: [], errors, errorCount };
    }
    const col = (name: string) => header.indexOf(name);
    const at = {
      ref: col("externalRef"),
      name: col("name"),
      email: col("email"),
      dept: col("department"),
      mgr: col("managerRef"),
      active: col("active"),
    };
    const rows: ImportRow[] = [];
    const seen = new Map<string, number>();
    for (const [i, cells] of table.entries()) {
      if (i === 0) continue; // the header
      if (i % VALIDATE_STEP === 0) {
        // Report, and let the event loop send it: validation is otherwise one synchronous stretch.
        onProgress?.({ phase: "validating", done: i - 1, total: table.length - 1 });
        await letProgressOut();
      }
      const line = i + 1;
      const get = (index: number) => (index >= 0 ? (cells[index] ?? "").trim() : "");
      const externalRef = get(at.ref);
      const name = get(at.name);
      const email = get(at.email);
      const activeText = get(at.active).toLowerCase();
      const failedBefore = errorCount;
      const reject = (field: string, message: string) => fail(line, field, message);
      if (!externalRef) reject("externalRef", "is required");
      else if (externalRef.length > 200) reject("externalRef", "is longer than 200 characters");
      else if (seen.has(externalRef)) reject("externalRef", `"${externalRef}" appears again (first on line ${seen.get(externalRef)})`);
      if (!name) reject("name", "is required");
      else if (name.length > 200) reject("name", "is longer than 200 characters");
      if (email && !emailSchema.safeParse(email).success) reject("email", `"${email}" is not an email address`);
      if (activeText && !["true", "false", "yes", "no", "1", "0"].includes(activeText)) reject("active", "must be true or false");
      if (get(at.dept).length > 200) reject("department", "is longer than 200 characters");
      if (externalRef) seen.set(externalRef, line);
      if (errorCount === failedBefore) {
        rows.push({
          line,
          externalRef,
          name,
          email: email || null,
          department: get(at.dept) || null,
          managerRef: get(at.mgr) || null,
          active: !["false", "no", "0"].includes(activeText),
        });
      }
    }
    // Managers may be in the file or already members of the tenant: `known` maps each tenant
    // member above the file's outside managers to their stored manager, for the loop check.
    const outside = [...new Set(rows.map((r) => r.managerRef).filter((m): m is string => !!m && !seen.has(m)))];
    const known = outside.length ? await existingChains(outside) : new Map<string, string | null>();
    for (const row of rows) {
      if (row.managerRef === row.externalRef) fail(row.line, "managerRef", "a member cannot be their own manager");
      else if (row.managerRef && !seen.has(row.managerRef) && !known.has(row.managerRef))
        fail(row.line, "managerRef", `no member "${row.managerRef}" in the file or the tenant`);
    }
    // A row's manager replaces the stored one, so loops are looked for in the chart as it will be.
    const fileManager = new Map(rows.map((r) => [r.externalRef, r.managerRef]));
    const lineOf = new Map(rows.map((r) => [r.externalRef, r.line]));
    const loops = findManagerLoops(
      rows.filter((r) => r.managerRef && r.managerRef !== r.externalRef).map((r) => r.externalRef),
      (ref) => (fileManager.has(ref) ? fileManager.get(ref) : known.get(ref)),
    );
    for (const loop of loops) {
      const path = describeManagerLoop(loop);
      for (const ref of loop) {
        const line = lineOf.get(ref);
        if (line !== undefined) fail(line, "managerRef", `makes a management loop: ${path}`);
      }
    }
    errors.sort((a, b) => a.line - b.line);
    return { rows, errors, errorCount };
  })();
}

/**
 * Upserts members by externalRef from a CSV file: every row is validated first, then all rows
 * are written in one transaction (with the audit row), so a file imports whole or not at all.
 */
export async function importMembersCsv(db: Database, actor: Actor, csv: string, onProgress?: Progress): Promise<MemberImportResult> {
  const tenantId = actor.tenantId;
  onProgress?.({ phase: "validating", done: 0, total: 1 });
  if (onProgress) await letProgressOut();
  const { rows, errors, errorCount } = await validateRows(
    csv,
    async (refs) => new Map((await loadManagerChains(db, tenantId, { refs })).map((link) => [link.externalRef, link.managerRef])),
    onProgress,
  );
  if (errorCount > 0) return { ok: false, rows: rows.length + errorCount, errorCount, errors };
  if (rows.length === 0)
    return { ok: false, rows: 0, errorCount: 1, errors: [{ line: 2, field: "(file)", message: "The file has a header but no rows." }] };

  const total = rows.length * 2;
  let created = 0;
  return db.transaction(async (tx) => {
    // Each batch travels as one JSON parameter unpacked by json_to_recordset: one bind parameter
    // per statement whatever the batch size (a multi-row VALUES list needs 7 per row, and
    // PostgreSQL allows 65 535), and far less for the driver to serialise.
    for (let i = 0; i < rows.length; i += WRITE_BATCH) {
      const slice = rows.slice(i, i + WRITE_BATCH);
      const batch = JSON.stringify(
        slice.map((r) => ({
          id: newId("member"),
          // The id of this row's member event, used only if the row is written.
          eid: newId("event"),
          ref: r.externalRef,
          name: r.name,
          email: r.email,
          department: r.department,
          active: r.active,
        })),
      );
      // Unchanged rows are left alone (no new row version, updated_at kept): re-importing the
      // same file writes nothing. Only inserted rows are counted; every other row is an update.
      // Each written row gets its member event (the outbox) in the same statement.
      const [counts] = rowsOf<{ created: number }>(
        await tx.execute(sql`
          with input as (
            select * from json_to_recordset(${batch}::json)
              as x(id text, eid text, ref text, name text, email text, department text, active boolean)
          ), written as (
            insert into members (id, tenant_id, name, email, external_ref, department, active)
            select x.id, ${tenantId}, x.name, x.email, x.ref, x.department, x.active from input x
            on conflict (tenant_id, external_ref) do update
              set name = excluded.name, email = excluded.email, department = excluded.department, active = excluded.active, updated_at = now()
              where (members.name, members.email, members.department, members.active)
                is distinct from (excluded.name, excluded.email, excluded.department, excluded.active)
            returning members.id, members.external_ref, members.name, members.email, members.department, members.manager_id,
              members.active, (xmax = 0) as inserted
          ), outbox as (
            insert into events (id, tenant_id, type, api_version, data, created_at)
            select x.eid, ${tenantId},
              case when w.inserted then 'member.created' when not w.active then 'member.deactivated' else 'member.updated' end,
              ${EVENT_API_VERSION},
              jsonb_build_object('memberId', w.id, 'tenantId', ${tenantId}::text, 'externalRef', w.external_ref, 'name', w.name,
                'email', w.email, 'department', w.department, 'managerId', w.manager_id, 'active', w.active),
              now()
            from written w join input x on x.ref = w.external_ref
          )
          select count(*) filter (where inserted)::int as created from written`),
      );
      created += counts?.created ?? 0;
      onProgress?.({ phase: "writing", done: i + slice.length, total });
      if (onProgress) await letProgressOut();
    }
    // Second pass: managers, now that every member of the file exists. Rows whose manager is
    // already right are not touched.
    for (let i = 0; i < rows.length; i += WRITE_BATCH) {
      const slice = rows.slice(i, i + WRITE_BATCH);
      const batch = JSON.stringify(slice.map((r) => ({ ref: r.externalRef, mgr: r.managerRef })));
      await tx.execute(sql`
        update members m set manager_id = g.id, updated_at = now()
        from json_to_recordset(${batch}::json) as v(ref text, mgr text)
        left join members g on g.tenant_id = ${tenantId} and g.external_ref = v.mgr
        where m.tenant_id = ${tenantId} and m.external_ref = v.ref and m.manager_id is distinct from g.id`);
      onProgress?.({ phase: "writing", done: rows.length + i + slice.length, total });
      if (onProgress) await letProgressOut();
    }
    const updated = rows.length - created;
    await writeAudit(tx, actor, {
      action: "member.imported",
      targetType: "member",
      targetId: "csv",
      data: { rows: rows.length, created, updated },
    });
    return { ok: true as const, rows: rows.length, created, updated };
  });
}
