import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TENANT_ROLES, mayGrantRole } from "@approvalmatrix/core/roles";
import { Alert, Field, PageHead, formatDate } from "../components/ui";
import { attempt, formFailure } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Users · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context, "admin");
  return { users: await api.admin.users.list(), canAddAdmins: mayGrantRole(user.role, "admin") };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const role = TENANT_ROLES.find((r) => r === form.get("role"));
  if (!role) return formFailure("Pick a role.", { role: "Pick a role." });
  const memberRef = String(form.get("memberRef") ?? "").trim();
  const result = await attempt(() =>
    api.admin.users.create({
      email: String(form.get("email") ?? "").trim(),
      name: String(form.get("name") ?? "").trim(),
      role,
      memberRef: memberRef || null,
    }),
  );
  if (!result.ok) return result.failure;
  return { ok: true as const, email: result.value.email, password: result.value.initialPassword };
}

export default function Users() {
  const { users, canAddAdmins } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const failure = result && !result.ok ? result : null;
  const busy = useNavigation().state === "submitting";
  return (
    <>
      <PageHead
        title="Users"
        description="People who sign in to this admin app. Approvers see only their inbox and the requests they decide; admins set up keys, members and matrices."
      />
      {result?.ok ? (
        <div className="card" style={{ marginBottom: 16 }}>
          <div className="card-body stack">
            <h2>{result.email} can now sign in</h2>
            <p className="muted">
              Give them this one-time password through a safe channel; it is not shown again. They can change it under Account.
            </p>
            <div className="secret">
              <code data-testid="initial-password">{result.password}</code>
            </div>
          </div>
        </div>
      ) : null}
      <div className="grid-main-side">
        <div className="card table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th className="hide-sm">Member</th>
                <th className="hide-sm">Added</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>
                    <strong>{u.name}</strong>
                    <div className="faint small">{u.email}</div>
                  </td>
                  <td>
                    <span className="badge badge-brand">{u.role}</span>
                  </td>
                  <td className="hide-sm">{u.memberRef ? <code>{u.memberRef}</code> : <span className="faint">—</span>}</td>
                  <td className="hide-sm small">{formatDate(u.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="card">
          <div className="card-head">
            <h2>Invite a user</h2>
          </div>
          <div className="card-body">
            {failure ? (
              <div style={{ marginBottom: 14 }}>
                <Alert kind="error">{failure.formError}</Alert>
              </div>
            ) : null}
            <Form method="post" noValidate>
              <Field label="Name" name="name" required error={failure?.fieldErrors.name} />
              <Field label="Email" name="email" type="email" required error={failure?.fieldErrors.email} />
              <Field label="Role" name="role" error={failure?.fieldErrors.role}>
                <select name="role" id="role" defaultValue="approver">
                  <option value="approver">Approver</option>
                  {canAddAdmins ? <option value="admin">Admin</option> : null}
                  {canAddAdmins ? <option value="owner">Owner</option> : null}
                </select>
              </Field>
              <Field
                label="Member externalRef"
                name="memberRef"
                error={failure?.fieldErrors.memberRef}
                hint="Approvers decide as this member, e.g. EMP-2001."
              />
              <div className="form-actions">
                <button className="btn btn-primary" type="submit" disabled={busy}>
                  {busy ? "Inviting…" : "Invite"}
                </button>
              </div>
            </Form>
          </div>
        </div>
      </div>
    </>
  );
}
