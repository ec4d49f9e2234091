import {
  EVENT_API_VERSION,
  MEMBER_CSV_COLUMNS,
  MEMBER_IMPORT_MAX_ROWS,
  type MemberCsvColumn,
  describeManagerLoop,
  findManagerLoops,
  newId,
} from "@approvalmatrix/core";
import { type Database, type Queryable, and, desc, eq, memberImports, members, rowsOf, sql } from "@approvalmatrix/db";
import { z } from "zod";
import { type Actor, actorAudit } from "../../context";
import { writeAudit } from "../audit";
import { getDirectorySettings } from "../directory/settings";
import { emitEvents } from "../events/emit";
import { memberEvent } from "../events/member-events";
import { handOverOpenStages } from "./deactivate-member";
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

/** Which column of the file holds each member field, when its headers differ from ours ({ externalRef: "Employee ID" }). */
export type ColumnMapping = Partial<Record<MemberCsvColumn, string>>;

export interface MemberImportOptions {
  mapping?: ColumnMapping | undefined;
  /** Opt-in: active members missing from the file (and not synced from an identity provider) are deactivated. */
  deactivateMissing?: boolean | undefined;
  /** The uploaded file's name, for the import history. */
  fileName?: string | undefined;
}

type ImportRefusal = { ok: false; rows: number; errorCount: number; errors: ImportRowError[] };

export type MemberImportResult =
  | { ok: true; importId: string; rows: number; created: number; updated: number; unchanged: number; deactivated: number }
  | (ImportRefusal & { importId?: string });

/** A member the file would change, and how. */
export interface MemberChange {
  line: number;
  externalRef: string;
  fields: string[];
}

/** What an import would do, computed without writing anything. */
export type MemberImportPreview =
  | {
      ok: true;
      rows: number;
      created: number;
      updated: number;
      unchanged: number;
      deactivated: number;
      /** How many members each field changes for. */
      fieldCounts: Record<string, number>;
      /** The first updated members with their changed fields. */
      changes: MemberChange[];
      /** The first members that would be deactivated. */
      deactivations: { externalRef: string; name: string }[];
    }
  | ImportRefusal;

const MAX_LISTED_CHANGES = 200;

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
  mapping: ColumnMapping = {},
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
    const headerOf = (column: MemberCsvColumn) => mapping[column]?.trim() || column;
    const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(headerOf(c)));
    if (missing.length) {
      const names = missing.map((c) => (headerOf(c) === c ? c : `${c} ("${headerOf(c)}")`)).join(", ");
      fail(
        1,
        missing.join(", "),
        `Missing column(s): ${names}. Expected a header like: ${MEMBER_CSV_COLUMNS.join(",")}, or map your columns.`,
      );
      return { rows: [], errors, errorCount };
    }
    if (table.length - 1 > MEMBER_IMPORT_MAX_ROWS) {
      fail(1, "(file)", `The file has ${table.length - 1} rows; import at most ${MEMBER_IMPORT_MAX_ROWS} at a time.`);
      return { rows: [], errors, errorCount };
    }
    const col = (name: MemberCsvColumn) => header.indexOf(headerOf(name));
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

/** Validation, with the file's rows or its refusal. */
async function checkFile(
  db: Queryable,
  tenantId: string,
  csv: string,
  mapping: ColumnMapping | undefined,
  onProgress?: Progress,
): Promise<{ ok: true; rows: ImportRow[] } | ImportRefusal> {
  onProgress?.({ phase: "validating", done: 0, total: 1 });
  if (onProgress) await letProgressOut();
  const { rows, errors, errorCount } = await validateRows(
    csv,
    async (refs) => new Map((await loadManagerChains(db, tenantId, { refs })).map((link) => [link.externalRef, link.managerRef])),
    onProgress,
    mapping,
  );
  if (errorCount > 0) return { ok: false, rows: rows.length + errorCount, errorCount, errors };
  if (rows.length === 0)
    return { ok: false, rows: 0, errorCount: 1, errors: [{ line: 2, field: "(file)", message: "The file has a header but no rows." }] };
  return { ok: true, rows };
}

interface RowDiff {
  line: number;
  externalRef: string;
  isNew: boolean;
  syncedFrom: string | null;
  name: boolean;
  email: boolean;
  department: boolean;
  managerRef: boolean;
  active: boolean;
}

const DIFF_FIELDS = ["name", "email", "department", "managerRef", "active"] as const;

/**
 * What the file changes, compared in the database a batch at a time: the rows that are new or
 * differ from their member (unchanged rows are not returned), and the active members the file
 * leaves out (not those an identity provider syncs: the provider owns them).
 */
async function diffRows(
  db: Queryable,
  tenantId: string,
  rows: ImportRow[],
  deactivateMissing: boolean,
  onProgress?: Progress,
): Promise<{ changed: RowDiff[]; missing: { id: string; externalRef: string; name: string }[] }> {
  const changed: RowDiff[] = [];
  for (let i = 0; i < rows.length; i += WRITE_BATCH) {
    const slice = rows.slice(i, i + WRITE_BATCH);
    const batch = JSON.stringify(
      slice.map((r) => ({
        line: r.line,
        ref: r.externalRef,
        name: r.name,
        email: r.email,
        department: r.department,
        mgr: r.managerRef,
        active: r.active,
      })),
    );
    changed.push(
      ...rowsOf<RowDiff>(
        await db.execute(sql`
          select x.line, x.ref as "externalRef", m.id is null as "isNew", si.provider as "syncedFrom",
            m.name is distinct from x.name as name, m.email is distinct from x.email as email,
            m.department is distinct from x.department as department, mm.external_ref is distinct from x.mgr as "managerRef",
            m.active is distinct from x.active as active
          from json_to_recordset(${batch}::json) as x(line int, ref text, name text, email text, department text, mgr text, active boolean)
          left join members m on m.tenant_id = ${tenantId} and m.external_ref = x.ref
          left join members mm on mm.id = m.manager_id
          left join scim_identities si on si.member_id = m.id
          where m.id is null
            or (m.name, m.email, m.department, mm.external_ref, m.active) is distinct from (x.name, x.email, x.department, x.mgr, x.active)
          order by x.line`),
      ),
    );
    onProgress?.({ phase: "comparing", done: i + slice.length, total: rows.length });
    if (onProgress) await letProgressOut();
  }
  const missing = deactivateMissing
    ? rowsOf<{ id: string; externalRef: string; name: string }>(
        await db.execute(sql`
          select m.id, m.external_ref as "externalRef", m.name from members m
          where m.tenant_id = ${tenantId} and m.active
            and not exists (select 1 from scim_identities si where si.member_id = m.id)
            and m.external_ref not in (select json_array_elements_text(${JSON.stringify(rows.map((r) => r.externalRef))}::json))
          order by m.external_ref`),
      )
    : [];
  return { changed, missing };
}

/** Rows that would change a member an identity provider syncs: refused, like the admin app's form. */
function syncedConflicts(changed: RowDiff[]): ImportRowError[] {
  return changed
    .filter((d) => d.syncedFrom)
    .map((d) => ({
      line: d.line,
      field: DIFF_FIELDS.filter((f) => d[f]).join(", "),
      message: `${d.externalRef} is synced from ${d.syncedFrom ?? ""}: change it there, or leave its row as it is`,
    }));
}

function refusal(rows: number, errors: ImportRowError[]): ImportRefusal {
  return { ok: false, rows, errorCount: errors.length, errors: errors.slice(0, MAX_REPORTED_ERRORS) };
}

/** What importing the file would do: counts, changed fields and deactivations. Writes nothing. */
export async function previewMembersCsv(
  db: Queryable,
  tenantId: string,
  csv: string,
  options: MemberImportOptions = {},
  onProgress?: Progress,
): Promise<MemberImportPreview> {
  const checked = await checkFile(db, tenantId, csv, options.mapping, onProgress);
  if (!checked.ok) return checked;
  const { rows } = checked;
  const { changed, missing } = await diffRows(db, tenantId, rows, options.deactivateMissing ?? false, onProgress);
  const conflicts = syncedConflicts(changed);
  if (conflicts.length) return refusal(rows.length, conflicts);
  const updates = changed.filter((d) => !d.isNew);
  const fieldCounts = Object.fromEntries(DIFF_FIELDS.map((f) => [f, updates.filter((d) => d[f]).length]));
  return {
    ok: true,
    rows: rows.length,
    created: changed.length - updates.length,
    updated: updates.length,
    unchanged: rows.length - changed.length,
    deactivated: missing.length,
    fieldCounts,
    changes: updates
      .slice(0, MAX_LISTED_CHANGES)
      .map((d) => ({ line: d.line, externalRef: d.externalRef, fields: DIFF_FIELDS.filter((f) => d[f]) })),
    deactivations: missing.slice(0, MAX_LISTED_CHANGES).map(({ externalRef, name }) => ({ externalRef, name })),
  };
}

/** The import history row of one applied or refused import. */
async function recordImport(
  db: Queryable,
  actor: Actor,
  fileName: string | undefined,
  outcome: {
    status: "applied" | "refused";
    rows: number;
    created?: number;
    updated?: number;
    unchanged?: number;
    deactivated?: number;
    errors?: ImportRowError[];
    errorCount?: number;
  },
): Promise<string> {
  const id = newId("memberImport");
  await db.insert(memberImports).values({
    id,
    tenantId: actor.tenantId,
    ...actorAudit(actor),
    fileName: fileName ?? null,
    status: outcome.status,
    rows: outcome.rows,
    created: outcome.created ?? 0,
    updated: outcome.updated ?? 0,
    unchanged: outcome.unchanged ?? 0,
    deactivated: outcome.deactivated ?? 0,
    errorCount: outcome.errorCount ?? 0,
    errors: outcome.errors ?? [],
  });
  return id;
}

/**
 * Upserts members by externalRef from a CSV file: every row is validated first, then all rows
 * are written in one transaction (with the audit row, the deactivations the admin opted into and
 * the import history row), so a file imports whole or not at all. A refused file is recorded in
 * the history too, with its errors.
 */
export async function importMembersCsv(
  db: Database,
  actor: Actor,
  csv: string,
  onProgress?: Progress,
  options: MemberImportOptions = {},
): Promise<MemberImportResult> {
  const tenantId = actor.tenantId;
  const checked = await checkFile(db, tenantId, csv, options.mapping, onProgress);
  const refuse = async (r: ImportRefusal): Promise<MemberImportResult> => ({
    ...r,
    importId: await recordImport(db, actor, options.fileName, {
      status: "refused",
      rows: r.rows,
      errors: r.errors,
      errorCount: r.errorCount,
    }),
  });
  if (!checked.ok) return refuse(checked);
  const { rows } = checked;

  const total = rows.length * 2;
  const outcome = await db.transaction(async (tx): Promise<MemberImportResult | { conflicts: ImportRowError[] }> => {
    // Compared inside the transaction, so the counts are those of what is written.
    const { changed, missing } = await diffRows(tx, tenantId, rows, options.deactivateMissing ?? false);
    const conflicts = syncedConflicts(changed);
    if (conflicts.length) return { conflicts };
    let created = 0;
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
    // The members the admin chose to deactivate: their open approvals follow the tenant's policy.
    if (missing.length) {
      const gone = await tx
        .update(members)
        .set({ active: false, updatedAt: sql`now()` })
        .where(
          and(
            eq(members.tenantId, tenantId),
            sql`${members.id} in (select json_array_elements_text(${JSON.stringify(missing.map((m) => m.id))}::json))`,
          ),
        )
        .returning();
      await emitEvents(
        tx,
        tenantId,
        gone.map((row) => memberEvent("member.deactivated", row)),
      );
      const { deactivationPolicy } = await getDirectorySettings(tx, tenantId);
      for (const m of missing) await handOverOpenStages(tx, actor, m.id, deactivationPolicy);
    }
    const updated = changed.length - created;
    const unchanged = rows.length - changed.length;
    const deactivated = missing.length;
    await writeAudit(tx, actor, {
      action: "member.imported",
      targetType: "member",
      targetId: "csv",
      data: { rows: rows.length, created, updated, unchanged, deactivated, fileName: options.fileName ?? null },
    });
    const importId = await recordImport(tx, actor, options.fileName, {
      status: "applied",
      rows: rows.length,
      created,
      updated,
      unchanged,
      deactivated,
    });
    return { ok: true as const, importId, rows: rows.length, created, updated, unchanged, deactivated };
  });
  // Recorded after the transaction: it wrote nothing, and the history row must stay.
  return "conflicts" in outcome ? refuse(refusal(rows.length, outcome.conflicts)) : outcome;
}

export interface MemberImportRecord {
  id: string;
  actorType: string;
  actorId: string;
  fileName: string | null;
  status: "applied" | "refused";
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  deactivated: number;
  errorCount: number;
  errors: ImportRowError[];
  createdAt: string;
}

/** The tenant's imports, newest first. */
export async function listMemberImports(db: Queryable, tenantId: string, limit = 50): Promise<MemberImportRecord[]> {
  const rows = await db
    .select()
    .from(memberImports)
    .where(and(eq(memberImports.tenantId, tenantId)))
    .orderBy(desc(memberImports.createdAt))
    .limit(limit);
  return rows.map(({ tenantId: _tenant, createdAt, ...r }) => ({ ...r, createdAt: createdAt.toISOString() }));
}
