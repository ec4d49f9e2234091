import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRouteLoaderData } from "@remix-run/react";
import {
  Alert,
  EmptyState,
  PageHead,
  StatusBadge,
  formatAmount,
  DueDate,
  formatDate,
  DataTable,
  RequestTitleCell,
  ACTIONS_COLUMN,
} from "../components/ui";
import { requireUser } from "../lib/session.server";
import type { loader as appLoader } from "./_app";

export const meta: MetaFunction = () => [{ title: "Inbox · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context);
  return await api.admin.requests.inbox();
}

export default function Inbox() {
  const { requests, linkedMember } = useLoaderData<typeof loader>();
  const admin = useRouteLoaderData<typeof appLoader>("routes/_app")?.admin ?? false;
  return (
    <>
      <PageHead title="Inbox" description="Requests waiting on your decision, oldest first." />
      {!linkedMember ? (
        <Alert kind="info" title="Your sign-in is not linked to a member">
          Decisions are recorded against a member.{" "}
          {admin ? (
            <>
              Open your member on the <Link to="/members">Members page</Link> and pick your sign-in under “Linked sign-in user”.
            </>
          ) : (
            "An admin can link you on the Members page."
          )}
        </Alert>
      ) : (
        <div className="card">
          {requests.length === 0 ? (
            <EmptyState icon="check" title="You're all caught up">
              Nothing waits on you right now.
            </EmptyState>
          ) : (
            <DataTable
              label="Waiting on you"
              columns={[
                "Request",
                { label: "Submitter", hideSm: true },
                "Amount",
                "Stage",
                { label: "Submitted", hideSm: true },
                ACTIONS_COLUMN,
              ]}
            >
              {requests.map((r) => (
                <tr key={r.requestId}>
                  <RequestTitleCell requestId={r.requestId} title={r.title}>
                    <code>{r.requestType}</code> · <StatusBadge status={r.status} />
                  </RequestTitleCell>
                  <td className="hide-sm">{r.submitterName}</td>
                  <td>{formatAmount(r.amount, r.currency)}</td>
                  <td className="small">
                    {r.currentStage} of {r.totalStages}
                    <DueDate dueAt={r.dueAt} />
                  </td>
                  <td className="hide-sm small">{formatDate(r.createdAt)}</td>
                  <td className="actions">
                    <Link className="btn btn-sm btn-primary" to={`/requests/${r.requestId}`}>
                      Review
                    </Link>
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </div>
      )}
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
