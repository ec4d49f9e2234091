import type { ActionFunctionArgs } from "@remix-run/node";
import { attempt, formFailure } from "../lib/api-errors.server";
import type { MatrixInput } from "../lib/api-types";
import { requireUser } from "../lib/session.server";
import { formText } from "../lib/form";

/** The editor's live preview: plans a sample request against the unsaved draft. */
export async function action({ request, context }: ActionFunctionArgs) {
  // A fetcher that gets a redirect follows it with the whole page: an expired session would
  // navigate away from the unsaved draft. Answer 401 instead; the editor offers to sign in again.
  if (!context.session) return Response.json({ ok: false, formError: "Your session has expired.", signedOut: true }, { status: 401 });
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  let matrix: unknown;
  let metadata: Record<string, string> = {};
  try {
    matrix = JSON.parse(formText(form, "matrix"));
    const raw: unknown = JSON.parse(formText(form, "metadata") || "{}");
    if (raw && typeof raw === "object" && !Array.isArray(raw))
      metadata = Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  } catch {
    return formFailure("The draft could not be read.");
  }
  const amount = formText(form, "amount").trim();
  const id = formText(form, "id");
  const result = await attempt(() =>
    api.admin.matrices.preview({
      id: id || null,
      matrix: matrix as MatrixInput,
      sample: {
        submitterRef: formText(form, "submitterRef").trim() || "?",
        amount: amount ? Number(amount) : null,
        ...(Object.keys(metadata).length ? { metadata } : {}),
      },
    }),
  );
  if (!result.ok) return result.failure;
  return result.value;
}
