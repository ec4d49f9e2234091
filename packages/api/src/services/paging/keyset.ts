import { type SQL, auditLog, messages, requests, sql } from "@approvalmatrix/db";

/** The tables listed newest first on (created_at desc, id desc). */
const KEYSET_TABLES = { audit_log: auditLog, requests, messages } as const;

/**
 * Rows strictly after the cursor row in (created_at desc, id desc) order. The cursor is the row's
 * id alone, and its timestamp is read in SQL from the row itself: a timestamp that went through a
 * JavaScript Date would lose PostgreSQL's microseconds, and rows sharing the truncated instant
 * would be skipped or repeated. An unknown cursor yields no rows.
 */
export function afterCursorRow(tableName: keyof typeof KEYSET_TABLES, tenantId: string, cursorId: string): SQL {
  const table = KEYSET_TABLES[tableName];
  return sql`(${table.createdAt}, ${table.id}) < ((select cursor_row.created_at from ${sql.identifier(tableName)} cursor_row where cursor_row.tenant_id = ${tenantId} and cursor_row.id = ${cursorId}), ${cursorId})`;
}

/** The id in a cursor; cursors once carried `createdAt|id`, and links to them still work. */
export function cursorId(cursor: string): string {
  return cursor.includes("|") ? cursor.slice(cursor.lastIndexOf("|") + 1) : cursor;
}
