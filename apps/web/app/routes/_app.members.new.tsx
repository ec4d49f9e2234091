import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Link, useActionData } from "@remix-run/react";
import { MemberForm, readMemberForm } from "../components/member-form";
import { PageHead } from "../components/ui";
import { attempt } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Add member · ApprovalMatrix" }];

export function loader({ request, context }: LoaderFunctionArgs) {
  requireUser(request, context, "admin");
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const { userId: _unused, ...input } = readMemberForm(await request.formData());
  const result = await attempt(() => api.admin.members.create(input));
  if (!result.ok) return result.failure;
  throw redirect(`/members/${result.value.id}?created=1`);
}

export default function NewMember() {
  const failure = useActionData<typeof action>();
  return (
    <>
      <PageHead title="Add member" crumbs={<Link to="/members">Members</Link>} />
      <div className="card" style={{ maxWidth: 760 }}>
        <div className="card-body">
          <MemberForm failure={failure} submitLabel="Add member" />
        </div>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
