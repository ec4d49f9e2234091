import type { ActionFunctionArgs } from "@remix-run/node";
import { requireUser } from "../lib/session.server";

const MAX_BYTES = 50_000_000;

/**
 * Receives the CSV file and answers with NDJSON: progress lines while the import validates and
 * writes, then one result line. The page draws the progress bar from it.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  requireUser(request, context, "admin");
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_BYTES)
    return Response.json(
      {
        type: "result",
        result: { ok: false, rows: 0, errorCount: 1, errors: [{ line: 1, field: "(file)", message: "The file is larger than 50 MB." }] },
      },
      { status: 413 },
    );
  const csv = await request.text();
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
        const result = await api!.admin.members.importCsv({ csv });
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
          },
        });
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store" } });
}
