import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireUser } from "../lib/session.server";

/** Streams every member as CSV, page by page: 100 000 members never sit in memory at once. */
export function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const encoder = new TextEncoder();
  let after: string | undefined;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return controller.close();
      const page = await api.admin.members.exportPage({ limit: 5000, ...(after ? { after } : {}) });
      controller.enqueue(encoder.encode(page.csv));
      if (page.nextCursor) after = page.nextCursor;
      else done = true;
    },
  });
  const date = new Date().toISOString().slice(0, 10);
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="members-${date}.csv"`,
      "Cache-Control": "no-store",
    },
  });
}
