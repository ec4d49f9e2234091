import type { ActionFunctionArgs } from "@remix-run/node";
import { MEMBER_IMPORT_MAX_BYTES as MAX_IMPORT_BYTES } from "@approvalmatrix/core/members";
import { MEMBER_CSV_COLUMNS } from "@approvalmatrix/core/members";
import type { MemberImportResult } from "../lib/api-types";
import { requireUser } from "../lib/session.server";
import { must } from "@approvalmatrix/core/must";

const NDJSON_HEADERS = { "Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store" };

/** 413 with one result line, as a finished import ends with: a client reads it the same way. */
function tooLarge(): Response {
  const result = {
    ok: false,
    rows: 0,
    errorCount: 1,
    errors: [{ line: 1, field: "(file)", message: "The file is larger than 50 MB." }],
  } satisfies MemberImportResult;
  return new Response(`${JSON.stringify({ type: "result", result })}\n`, { status: 413, headers: NDJSON_HEADERS });
}

/** The body as text, or null once it passes MAX_IMPORT_BYTES (a chunked upload has no Content-Length to check first). */
async function readCsv(request: Request): Promise<string | null> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const decoder = new TextDecoder();
  let csv = "";
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return csv + decoder.decode();
    bytes += value.byteLength;
    if (bytes > MAX_IMPORT_BYTES) {
      await reader.cancel(); // stop reading the rest of the upload
      return null;
    }
    csv += decoder.decode(value, { stream: true });
  }
}

/** The import's options from the query string: ?mode=preview|apply&deactivateMissing=1&fileName=…&map.externalRef=Employee%20ID */
function importOptions(url: URL) {
  const mapping: Partial<Record<(typeof MEMBER_CSV_COLUMNS)[number], string>> = {};
  for (const column of MEMBER_CSV_COLUMNS) {
    const header = url.searchParams.get(`map.${column}`)?.trim();
    if (header) mapping[column] = header.slice(0, 200);
  }
  const fileName = url.searchParams.get("fileName")?.trim().slice(0, 300);
  return {
    preview: url.searchParams.get("mode") === "preview",
    options: {
      mapping,
      deactivateMissing: url.searchParams.get("deactivateMissing") === "1",
      ...(fileName ? { fileName } : {}),
    },
  };
}

/**
 * Receives the CSV file and answers with NDJSON: progress lines while the import validates,
 * compares and writes, then one result line (with ?mode=preview, what it would do, nothing
 * written). The page draws the progress bar from it.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  requireUser(request, context, "admin");
  if (Number(request.headers.get("content-length") ?? "0") > MAX_IMPORT_BYTES) return tooLarge();
  const csv = await readCsv(request);
  const { preview, options } = importOptions(new URL(request.url));
  if (csv === null) return tooLarge();
  const encoder = new TextEncoder();
  let last = 0;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (line: unknown) => controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
      const api = context.apiWithProgress((p) => {
        const now = Date.now();
        if (now - last < 100 && p.done !== p.total) return;
        last = now;
        send({ type: "progress", ...p });
      });
      try {
        const caller = must(api).admin.members;
        const result = preview ? await caller.previewCsv({ csv, ...options }) : await caller.importCsv({ csv, ...options });
        send({ type: "result", result });
      } catch (error) {
        console.error(`[${context.requestId}] members import failed`, error);
        send({
          type: "result",
          result: {
            ok: false,
            rows: 0,
            errorCount: 1,
            errors: [{ line: 0, field: "(file)", message: "The import failed unexpectedly; nothing was imported." }],
          } satisfies MemberImportResult,
        });
      }
      controller.close();
    },
  });
  return new Response(body, { headers: NDJSON_HEADERS });
}
