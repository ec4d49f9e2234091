import { parse } from "csv-parse/sync";

export { CsvError } from "csv-parse/sync";

/**
 * RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, a spreadsheet's BOM) as rows of raw
 * cells, by csv-parse. Rows may differ in length; a quote inside an unquoted cell is a character.
 * A file csv-parse cannot read (a quote never closed) throws its CsvError, which names the line.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = parse(text, {
    bom: true,
    // Any mix of CRLF, LF and CR, as files stitched together from several tools have.
    record_delimiter: ["\r\n", "\n", "\r"],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
  });
  // Lines of only spaces carry no row either.
  return rows.filter((r) => !(r.length === 1 && (r[0] ?? "").trim() === ""));
}

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  // Leading = + - @ would run as a formula in a spreadsheet: neutralise them.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}
