import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Link, useActionData } from "@remix-run/react";
import { EMPTY_STAGE, MatrixEditor } from "../components/matrix-editor";
import { PageHead } from "../components/ui";
import { saveMatrixAction } from "../lib/matrix-form.server";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "New matrix · ApprovalMatrix" }];

export function loader({ request, context }: LoaderFunctionArgs) {
  requireUser(request, context, "admin");
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const outcome = await saveMatrixAction(await request.formData(), (matrix) => api.admin.matrices.create(matrix));
  if (!outcome.ok) return outcome.failure;
  throw redirect(`/matrices/${outcome.id}?saved=1`);
}

export { skipPreviewRevalidation as shouldRevalidate } from "../components/matrix-editor";

export default function NewMatrix() {
  const failure = useActionData<typeof action>();
  return (
    <>
      <PageHead title="New matrix" crumbs={<Link to="/matrices">Matrices</Link>} />
      <MatrixEditor
        initial={{
          name: "",
          requestType: "purchase_order",
          minAmount: "",
          maxAmount: "",
          currency: "USD",
          priority: "0",
          conditions: "",
          stages: [{ ...EMPTY_STAGE, name: "Manager approval" }],
        }}
        matrixId={null}
        failure={failure}
        submitLabel="Create matrix"
      />
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
