import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useSearchParams } from "@remix-run/react";
import {
  CursorPager,
  EmptyState,
  PageHead,
  StatusBadge,
  formatAmount,
  DueDate,
  formatDate,
  DataTable,
  RequestTitleCell,
  FilterActions,
} from "../components/ui";
import { load } from "../lib/api-errors.server";
import { isAdmin, requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Requests · ApprovalMatrix" }];

const STATUSES = ["pending", "in_progress", "approved", "rejected", "cancelled", "expired"] as const;
type Status = (typeof STATUSES)[number];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context);
  const url = new URL(request.url);
  const get = (k: string) => url.searchParams.get(k)?.trim() || undefined;
  const status = get("status");
  const page = await load(() =>
    api.admin.requests.list({
      ...(status && (STATUSES as readonly string[]).includes(status) ? { status: status as Status } : {}),
      ...(get("type") ? { requestType: get("type") } : {}),
      ...(get("submitter") ? { submitterRef: get("submitter") } : {}),
      ...(get("q") ? { search: get("q") } : {}),
      ...(get("before") ? { before: get("before") } : {}),
    }),
  );
  return { ...page, admin: isAdmin(user), filtered: !!(status || get("type") || get("submitter") || get("q")) };
}

export default function Requests() {
  const { requests, nextCursor, admin, filtered } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  return (
    <>
      <PageHead
        title="Requests"
        description={admin ? "Every approval request in this tenant, newest first." : "Requests on which you are an approver."}
      />
      <div className="card">
        <Form method="get" className="toolbar">
          <div className="field" style={{ flex: "1 1 200px" }}>
            <label htmlFor="q">Title</label>
            <input id="q" type="search" name="q" defaultValue={params.get("q") ?? ""} placeholder="Search titles" />
          </div>
          <div className="field">
            <label htmlFor="status">Status</label>
            <select id="status" name="status" defaultValue={params.get("status") ?? ""}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.replace("_", " ")}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="type">Type</label>
            <input id="type" type="text" name="type" defaultValue={params.get("type") ?? ""} placeholder="purchase_order" />
          </div>
          <div className="field">
            <label htmlFor="submitter">Submitter</label>
            <input id="submitter" type="text" name="submitter" defaultValue={params.get("submitter") ?? ""} placeholder="EMP-1042" />
          </div>
          <FilterActions filtered={filtered} clearTo="/requests" />
        </Form>
        {requests.length === 0 ? (
          filtered ? (
            <EmptyState icon="search" title="No requests match these filters" />
          ) : (
            <EmptyState icon="inbox" title="No requests yet">
              Requests arrive from your systems through <code>POST /v1/requests</code>. See the <a href="/docs">API reference</a>.
            </EmptyState>
          )
        ) : (
          <DataTable
            label="Requests"
            columns={[
              "Request",
              { label: "Submitter", hideSm: true },
              "Amount",
              { label: "Progress", hideSm: true },
              "Status",
              { label: "Submitted", hideSm: true },
            ]}
          >
            {requests.map((r) => (
              <tr key={r.requestId}>
                <RequestTitleCell requestId={r.requestId} title={r.title}>
                  <code>{r.requestType}</code> · {r.matrixName}
                </RequestTitleCell>
                <td className="hide-sm">
                  {r.submitterName} <span className="faint small">{r.submitterRef}</span>
                </td>
                <td>{formatAmount(r.amount, r.currency)}</td>
                <td className="hide-sm small">
                  {r.currentStage
                    ? `Stage ${r.currentStage} of ${r.totalStages}`
                    : `${r.totalStages} stage${r.totalStages === 1 ? "" : "s"}`}
                  <DueDate dueAt={r.dueAt} />
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="hide-sm small">{formatDate(r.createdAt)}</td>
              </tr>
            ))}
          </DataTable>
        )}
        <CursorPager basePath="/requests" params={params} nextCursor={nextCursor} />
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
