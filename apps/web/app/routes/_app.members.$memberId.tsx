import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { MemberForm, readMemberForm } from "../components/member-form";
import { ActiveToggle, PageHead, StatusBadge, ResultMessage } from "../components/ui";
import { attempt, formFailure, load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { must } from "@approvalmatrix/core/must";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.member.name ?? "Member"} · ApprovalMatrix` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const [member, users] = await Promise.all([load(() => api.admin.members.get({ id: must(params.memberId) })), api.admin.users.list()]);
  return { member, users: users.map(({ id, email, name }) => ({ id, email, name })) };
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
  const { member, users } = useLoaderData<typeof loader>();
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
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
