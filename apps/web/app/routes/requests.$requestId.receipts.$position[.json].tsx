import type { LoaderFunctionArgs } from "@remix-run/node";
import { must } from "@approvalmatrix/core/must";
import { load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

/**
 * One receipt as a file to keep: the envelope, its inclusion proof and the checkpoint it is
 * proven against — what the README's offline script (verify-receipt.mjs) takes.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context);
  const requestId = must(params.requestId);
  const verification = await load(() => api.admin.receipts.forRequest({ requestId }));
  const receipt = verification.receipts.find((r) => String(r.position) === params.position);
  if (!receipt) throw new Response("No such receipt.", { status: 404 });
  const bundle = {
    envelope: receipt.envelope,
    inclusionProof: receipt.inclusionProof,
    checkpoint: verification.checkpoint?.envelope ?? null,
    keySetUrl: new URL(verification.keySetUrl, request.url).toString(),
  };
  return new Response(`${JSON.stringify(bundle, null, 2)}\n`, {
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="receipt-${requestId}-${receipt.position}.json"`,
      "Cache-Control": "no-store",
    },
  });
}
