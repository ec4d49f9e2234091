import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { EmptyState, PageHead, StatusBadge, formatAmount, DataTable, ACTIONS_COLUMN } from "../components/ui";
import { attempt } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Matrices · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  return { matrices: await api.admin.matrices.list() };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const result = await attempt(() => api.admin.matrices.setActive({ id: formText(form, "id"), active: form.get("intent") === "activate" }));
  if (!result.ok) return result.failure;
  return { ok: true as const };
}

function band(min: number | null, max: number | null, currency: string | null) {
  if (min === null && max === null) return "Any amount";
  if (min === null) return `Under ${formatAmount(max, currency)}`;
  if (max === null) return `${formatAmount(min, currency)} and up`;
  return `${formatAmount(min, currency)} – ${formatAmount(max, currency)}`;
}

export default function Matrices() {
  const { matrices } = useLoaderData<typeof loader>();
  return (
    <>
      <PageHead
        title="Approval matrices"
        description="A matrix decides who approves a request: it matches on request type, amount band and metadata, then runs its stages in order. Editing a matrix never changes requests already in flight."
        actions={
          <Link className="btn btn-primary" to="/matrices/new">
            New matrix
          </Link>
        }
      />
      <div className="card">
        {matrices.length === 0 ? (
          <EmptyState
            icon="route"
            title="No matrices yet"
            action={
              <Link className="btn btn-primary" to="/matrices/new">
                Create your first matrix
              </Link>
            }
          >
            Requests are refused with no_matching_matrix until a matrix covers them.
          </EmptyState>
        ) : (
          <DataTable
            label="Matrices"
            columns={[
              "Matrix",
              { label: "Request type", hideSm: true },
              { label: "Amount", hideSm: true },
              { label: "Stages", hideSm: true },
              { label: "Priority", hideSm: true },
              "Status",
              ACTIONS_COLUMN,
            ]}
          >
            {matrices.map((m) => (
              <tr key={m.id}>
                <td>
                  <Link to={`/matrices/${m.id}`}>
                    <strong>{m.name}</strong>
                  </Link>
                  {m.conditions.length ? (
                    <div className="faint small">
                      {m.conditions
                        .map((c) => (c.op === "in" ? `${c.field} in ${c.values.join(", ")}` : `${c.field} = ${String(c.value)}`))
                        .join(" · ")}
                    </div>
                  ) : null}
                </td>
                <td className="hide-sm">
                  <code>{m.requestType}</code>
                </td>
                <td className="hide-sm">{band(m.minAmount, m.maxAmount, m.currency)}</td>
                <td className="hide-sm small">{m.stages.map((s) => s.name).join(" → ")}</td>
                <td className="hide-sm">{m.priority}</td>
                <td>
                  <StatusBadge status={m.active ? "active" : "inactive"} />
                </td>
                <td className="actions">
                  <Form method="post" className="row" style={{ justifyContent: "flex-end", flexWrap: "nowrap" }}>
                    <input type="hidden" name="id" value={m.id} />
                    <Link className="btn btn-sm hide-sm" to={`/matrices/${m.id}`}>
                      Edit
                    </Link>
                    <button className="btn btn-sm" name="intent" value={m.active ? "deactivate" : "activate"}>
                      {m.active ? "Deactivate" : "Activate"}
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
