import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TENANT_ROLES, mayGrantRole } from "@approvalmatrix/core/roles";
import { useEffect } from "react";
import { type FieldSpec, useFocusOnResult, useFormErrors } from "../components/form-errors";
import { Alert, ConfirmAction, CopyButton, Field, PageHead, formatDate, DataTable, SubmitButton } from "../components/ui";

const INVITE_FIELDS: Record<string, FieldSpec> = {
  name: { label: "Name", required: "Enter the person's name." },
  email: { label: "Email", required: "Enter the email address they sign in with." },
  role: { label: "Role" },
  memberRef: { label: "Member externalRef" },
};
import { attempt, formFailure } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Users · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context, "admin");
  return { users: await api.admin.users.list(), canAddAdmins: mayGrantRole(user.role, "admin") };
}

/** The row actions: role, suspension, removal, reset link, sessions. */
async function manage(api: ReturnType<typeof requireUser>["api"], form: FormData, origin: string) {
  const id = formText(form, "id");
  const intent = formText(form, "intent");
  const done = (message: string, resetLink: string | null = null) => ({ ok: true as const, managed: true, message, resetLink });
  if (intent === "set-role") {
    const role = TENANT_ROLES.find((r) => r === form.get("role"));
    if (!role) return formFailure("Pick a role.");
    const result = await attempt(() => api.admin.users.setRole({ id, role }));
    return result.ok ? done(`Role changed to ${role}.`) : result.failure;
  }
  if (intent === "suspend" || intent === "unsuspend") {
    const result = await attempt(() => api.admin.users.setSuspended({ id, suspended: intent === "suspend" }));
    return result.ok ? done(intent === "suspend" ? "User suspended: their sessions ended." : "User can sign in again.") : result.failure;
  }
  if (intent === "remove") {
    const result = await attempt(() => api.admin.users.remove({ id }));
    return result.ok ? done("User removed.") : result.failure;
  }
  if (intent === "reset-password") {
    const result = await attempt(() => api.admin.users.resetPassword({ id }));
    return result.ok
      ? done("Password reset link made. Give it to the user; it works once, for 24 hours.", `${origin}${result.value.path}`)
      : result.failure;
  }
  if (intent === "end-sessions") {
    const result = await attempt(() => api.admin.users.endSessions({ id }));
    return result.ok ? done(`${result.value.ended} session(s) ended.`) : result.failure;
  }
  return formFailure("Unknown action.");
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  if (form.get("intent")) return manage(api, form, context.origin);
  const role = TENANT_ROLES.find((r) => r === form.get("role"));
  if (!role) return formFailure("Pick a role.", { role: "Pick a role." });
  const memberRef = formText(form, "memberRef").trim();
  const result = await attempt(() =>
    api.admin.users.create({
      email: formText(form, "email").trim(),
      name: formText(form, "name").trim(),
      role,
      memberRef: memberRef || null,
    }),
  );
  if (!result.ok) return result.failure;
  return { ok: true as const, managed: false, email: result.value.email, password: result.value.initialPassword };
}

export default function Users() {
  const { users, canAddAdmins } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const failure = result && !result.ok ? result : null;
  const busy = useNavigation().state === "submitting";
  const form = useFormErrors(failure, INVITE_FIELDS);
  const invited = result?.ok && "password" in result ? result : null;
  const managed = result?.ok && "resetLink" in result ? result : null;
  const invitedRef = useFocusOnResult(invited);
  // A successful invite empties the form for the next person.
  useEffect(() => {
    if (invited) form.formRef.current?.reset();
  }, [invited, form.formRef]);
  return (
    <>
      <PageHead
        title="Users"
        description="People who sign in to this admin app. Approvers see only their inbox and the requests they decide; admins set up keys, members and matrices."
      />
      <div role="status" aria-live="polite" aria-atomic="true">
        {invited ? (
          <div className="card" style={{ marginBottom: 16 }} tabIndex={-1} ref={invitedRef} data-testid="invited">
            <div className="card-body stack">
              <h2>{invited.email} can now sign in</h2>
              <p className="muted">
                Give them this one-time password through a safe channel; it is not shown again. They can change it under Account.
              </p>
              {invited.password ? (
                <div className="secret secret-copy">
                  <code id="initial-password" data-testid="initial-password">
                    {invited.password}
                  </code>
                  <CopyButton text={invited.password} targetId="initial-password" label="Copy password" />
                </div>
              ) : null}
            </div>
          </div>
        ) : null}
      </div>
      {managed ? (
        <div style={{ marginBottom: 16 }} data-testid="user-managed">
          <Alert kind="ok">{managed.message}</Alert>
          {managed.resetLink ? (
            <div className="secret secret-copy" style={{ marginTop: 8 }}>
              <code id="reset-link" data-testid="reset-link">
                {managed.resetLink}
              </code>
              <CopyButton text={managed.resetLink} targetId="reset-link" label="Copy link" />
            </div>
          ) : null}
        </div>
      ) : null}
      {failure && !failure.fieldErrors.email && !failure.fieldErrors.name ? (
        <div style={{ marginBottom: 16 }}>
          <Alert kind="error">{failure.formError}</Alert>
        </div>
      ) : null}
      <div className="grid-main-side">
        <DataTable
          label="Users"
          columns={["Name", "Role", { label: "Member", hideSm: true }, { label: "Last sign-in", hideSm: true }, "Sessions", "Actions"]}
          card
        >
          {users.map((u) => (
            <tr key={u.id}>
              <td>
                <strong>{u.name}</strong>
                <div className="faint small">{u.email}</div>
                {u.suspended ? <span className="badge">suspended</span> : null}
              </td>
              <td>
                <Form method="post" className="row">
                  <input type="hidden" name="id" value={u.id} />
                  <select name="role" defaultValue={u.role} aria-label={`Role of ${u.name}`}>
                    {TENANT_ROLES.map((r) => (
                      <option key={r} value={r} disabled={!canAddAdmins && r !== "approver"}>
                        {r}
                      </option>
                    ))}
                  </select>
                  <button className="btn btn-sm" type="submit" name="intent" value="set-role">
                    Change
                  </button>
                </Form>
              </td>
              <td className="hide-sm">{u.memberRef ? <code>{u.memberRef}</code> : <span className="faint">—</span>}</td>
              <td className="hide-sm small">{u.lastSignInAt ? formatDate(u.lastSignInAt) : <span className="faint">never</span>}</td>
              <td className="small">
                {u.activeSessions}
                {u.activeSessions ? (
                  <Form method="post">
                    <input type="hidden" name="id" value={u.id} />
                    <button className="btn btn-sm" type="submit" name="intent" value="end-sessions">
                      End all
                    </button>
                  </Form>
                ) : null}
              </td>
              <td className="actions">
                <Form method="post" className="row">
                  <input type="hidden" name="id" value={u.id} />
                  <button className="btn btn-sm" type="submit" name="intent" value="reset-password">
                    Reset password
                  </button>
                  <button className="btn btn-sm" type="submit" name="intent" value={u.suspended ? "unsuspend" : "suspend"}>
                    {u.suspended ? "Unsuspend" : "Suspend"}
                  </button>
                </Form>
                <ConfirmAction
                  small
                  label="Remove"
                  title={`Remove ${u.name}?`}
                  body="They lose access at once. Their member and the decisions they made stay."
                  confirmLabel="Remove"
                  intent="remove"
                  fields={{ id: u.id }}
                />
              </td>
            </tr>
          ))}
        </DataTable>
        <div className="card">
          <div className="card-head">
            <h2>Invite a user</h2>
          </div>
          <div className="card-body">
            {form.summary ? <div style={{ marginBottom: 14 }}>{form.summary}</div> : null}
            <Form method="post" noValidate ref={form.formRef} onChange={form.onChange}>
              <Field label="Name" name="name" required error={form.error("name")} />
              <Field label="Email" name="email" type="email" required error={form.error("email")} />
              <Field label="Role" name="role" error={form.error("role")}>
                <select name="role" defaultValue="approver">
                  <option value="approver">Approver</option>
                  {canAddAdmins ? <option value="admin">Admin</option> : null}
                  {canAddAdmins ? <option value="owner">Owner</option> : null}
                </select>
              </Field>
              <Field
                label="Member externalRef"
                name="memberRef"
                error={form.error("memberRef")}
                hint="Approvers decide as this member, e.g. EMP-2001."
              />
              <div className="form-actions">
                <SubmitButton busy={busy} busyLabel="Inviting…">
                  Invite
                </SubmitButton>
              </div>
            </Form>
          </div>
        </div>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
