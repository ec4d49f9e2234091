import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { MemberForm, readMemberForm } from "../components/member-form";
import { ActiveToggle, DataTable, PageHead, StatusBadge, ResultMessage, formatDate } from "../components/ui";
import { attempt, formFailure, load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { must } from "@approvalmatrix/core/must";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.member.name ?? "Member"} · ApprovalMatrix` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const id = must(params.memberId);
  const [member, users, overview] = await Promise.all([
    load(() => api.admin.members.get({ id })),
    api.admin.users.list(),
    load(() => api.admin.members.overview({ id })),
  ]);
  return { member, overview, users: users.map(({ id, email, name }) => ({ id, email, name })) };
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const intent = form.get("intent");
  const id = must(params.memberId);
  if (intent === "deactivate" || intent === "reactivate") {
    const result = await attempt(() => api.admin.members.setActive({ id, active: intent === "reactivate" }));
    if (!result.ok) return result.failure;
    return {
      ok: true as const,
      saved: false,
      message: intent === "deactivate" ? "Member deactivated: they can no longer submit or be routed to." : "Member reactivated.",
    };
  }
  if (intent !== "save") return formFailure("Unknown action.");
  const result = await attempt(() => api.admin.members.update({ id, ...readMemberForm(form) }));
  if (!result.ok) return result.failure;
  return { ok: true as const, saved: true, message: "Changes saved." };
}

export default function EditMember() {
  const { member, users, overview } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const failure = result && !result.ok ? result : null;
  const message = result?.ok ? result.message : params.get("created") ? "Member added." : null;
  return (
    <>
      <PageHead
        title={member.name}
        crumbs={<Link to="/members">Members</Link>}
        description={
          <>
            <code>{member.externalRef}</code> · <StatusBadge status={member.active ? "active" : "inactive"} />
            {member.syncedFrom ? (
              <>
                {" "}
                ·{" "}
                <span className="badge badge-info" data-testid="synced-from">
                  synced from {member.syncedFrom}
                </span>
              </>
            ) : null}
          </>
        }
        actions={
          member.syncedFrom ? null : (
            <ActiveToggle
              active={member.active}
              id={member.id}
              onIntent="reactivate"
              deactivate={{
                title: `Deactivate ${member.name}?`,
                body: "They can no longer submit requests and are skipped as an approver of new requests. Approvals waiting on them go to their manager (Directory sync settings).",
                confirmLabel: "Deactivate",
              }}
            />
          )
        }
      />
      {message ? <ResultMessage message={message} /> : null}
      <div className="card" style={{ maxWidth: 760 }}>
        <div className="card-body">
          <MemberForm
            key={JSON.stringify(member)}
            values={member}
            failure={failure}
            users={users}
            submitLabel="Save changes"
            saved={Boolean(result?.ok && result.saved)}
          />
        </div>
      </div>
      <div className="grid-main-side" style={{ marginTop: 16 }}>
        <div className="stack">
          <section className="card">
            <div className="card-head">
              <h2>Approvals waiting on {member.name}</h2>
            </div>
            {overview.openApprovals.length === 0 ? (
              <div className="card-body muted small">Nothing waits on them.</div>
            ) : (
              <DataTable label="Open approvals" columns={["Request", "Stage", "Since"]}>
                {overview.openApprovals.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/requests/${r.id}`}>{r.title}</Link>
                    </td>
                    <td>{r.stageName}</td>
                    <td className="small">{formatDate(r.createdAt)}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
          <section className="card">
            <div className="card-head">
              <h2>Requests they submitted</h2>
            </div>
            {overview.submitted.length === 0 ? (
              <div className="card-body muted small">None yet.</div>
            ) : (
              <DataTable label="Submitted requests" columns={["Request", "Status", "Submitted"]}>
                {overview.submitted.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/requests/${r.id}`}>{r.title}</Link>
                    </td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td className="small">{formatDate(r.createdAt)}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
        </div>
        <section className="card">
          <div className="card-head">
            <h2>Direct reports</h2>
          </div>
          {overview.directReports.length === 0 ? (
            <div className="card-body muted small">Nobody reports to them.</div>
          ) : (
            <ul className="card-body stack small">
              {overview.directReports.map((r) => (
                <li key={r.id}>
                  <Link to={`/members/${r.id}`}>{r.name}</Link> <code>{r.externalRef}</code>
                  {r.active ? null : <span className="faint"> (deactivated)</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
