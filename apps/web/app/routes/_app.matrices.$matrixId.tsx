import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { MatrixEditor, matrixToDraft } from "../components/matrix-editor";
import { ActiveToggle, PageHead, StatusBadge, ResultMessage } from "../components/ui";
import { attempt, load } from "../lib/api-errors.server";
import { saveMatrixAction } from "../lib/matrix-form.server";
import { requireUser } from "../lib/session.server";
import { must } from "@approvalmatrix/core/must";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.matrix.name ?? "Matrix"} · ApprovalMatrix` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  return { matrix: await load(() => api.admin.matrices.get({ id: must(params.matrixId) })) };
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const id = must(params.matrixId);
  const intent = form.get("intent");
  if (intent === "activate" || intent === "deactivate") {
    const result = await attempt(() => api.admin.matrices.setActive({ id, active: intent === "activate" }));
    if (!result.ok) return result.failure;
    return {
      ok: true as const,
      saved: false,
      message:
        intent === "activate"
          ? "Matrix activated: new requests can route through it."
          : "Matrix deactivated: new requests no longer route through it.",
    };
  }
  const outcome = await saveMatrixAction(form, (matrix) => api.admin.matrices.update({ id, matrix }), "matrix.");
  if (!outcome.ok) return outcome.failure;
  return { ok: true as const, saved: true, message: "Matrix saved. Requests already in flight keep the stages they were submitted with." };
}

export { skipPreviewRevalidation as shouldRevalidate } from "../components/matrix-editor";

export default function EditMatrix() {
  const { matrix } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const failure = result && !result.ok ? result : null;
  const message = result?.ok ? result.message : params.get("saved") ? "Matrix created." : null;
  return (
    <>
      <PageHead
        title={matrix.name}
        crumbs={<Link to="/matrices">Matrices</Link>}
        description={
          <>
            <StatusBadge status={matrix.active ? "active" : "inactive"} /> <code>{matrix.id}</code>
          </>
        }
        actions={
          <ActiveToggle
            active={matrix.active}
            id={matrix.id}
            onIntent="activate"
            deactivate={{
              title: `Deactivate “${matrix.name}”?`,
              body: "New requests no longer route through it (another matching matrix takes them, or they are refused). Requests in flight keep their stages. You can activate it again at any time.",
              confirmLabel: "Deactivate matrix",
            }}
          />
        }
      />
      {message ? <ResultMessage message={message} /> : null}
      <MatrixEditor
        key={JSON.stringify(matrix)}
        initial={matrixToDraft(matrix)}
        matrixId={matrix.id}
        failure={failure}
        submitLabel="Save matrix"
        saved={Boolean(result?.ok && result.saved)}
      />
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
