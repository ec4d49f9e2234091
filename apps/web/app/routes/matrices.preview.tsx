import type { ActionFunctionArgs } from "@remix-run/node";
import { attempt, formFailure } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

/** The editor's live preview: plans a sample request against the unsaved draft. */
export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  let matrix: unknown;
  try {
    matrix = JSON.parse(String(form.get("matrix") ?? ""));
  } catch {
    return formFailure("The draft could not be read.");
  }
  const amount = String(form.get("amount") ?? "").trim();
  const id = String(form.get("id") ?? "");
  const result = await attempt(() =>
    api.admin.matrices.preview({
      id: id || null,
      matrix: matrix as Parameters<typeof api.admin.matrices.preview>[0]["matrix"],
      sample: { submitterRef: String(form.get("submitterRef") ?? "").trim() || "?", amount: amount ? Number(amount) : null },
    }),
  );
  if (!result.ok) return result.failure;
  return result.value;
}
