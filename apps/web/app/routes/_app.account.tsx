import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, data, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { Alert, Field, PageHead } from "../components/ui";
import { formFailure } from "../lib/api-errors.server";
import { homeFor, requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Account · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = requireUser(request, context);
  return { email: user.email, name: user.name, role: user.role, mustChangePassword: user.mustChangePassword };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user } = requireUser(request, context);
  const form = await request.formData();
  const next = String(form.get("newPassword") ?? "");
  if (next !== String(form.get("confirmPassword") ?? ""))
    return formFailure("The new passwords differ.", { confirmPassword: "Type the same new password twice." });
  const result = await context.auth.changePassword(user.id, String(form.get("currentPassword") ?? ""), next);
  if (!result.ok) return formFailure(result.message, { [result.field]: result.message }, "reason" in result ? 429 : 400);
  // A forced change done: on to the start page. Either way every other session just ended and
  // this browser gets a fresh one.
  if (user.mustChangePassword)
    throw redirect(homeFor({ ...user, mustChangePassword: false }), { headers: { "Set-Cookie": result.setCookie } });
  return data({ ok: true as const }, { headers: { "Set-Cookie": result.setCookie } });
}

export default function Account() {
  const { email, name, role, mustChangePassword } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const failure = result && !result.ok ? result : null;
  return (
    <>
      <PageHead title="Account" description={`${name} · ${email} · ${role}`} />
      <div className="card" style={{ maxWidth: 520 }}>
        <div className="card-head">
          <h2>Change password</h2>
        </div>
        <div className="card-body">
          {mustChangePassword ? (
            <div style={{ marginBottom: 14 }}>
              <Alert kind="info">You signed in with a one-time password. Choose your own password to continue.</Alert>
            </div>
          ) : null}
          {result?.ok ? (
            <div style={{ marginBottom: 14 }}>
              <Alert kind="ok">Password changed. You were signed out everywhere else.</Alert>
            </div>
          ) : null}
          {failure ? (
            <div style={{ marginBottom: 14 }}>
              <Alert kind="error">{failure.formError}</Alert>
            </div>
          ) : null}
          <Form method="post" noValidate>
            <Field
              label={mustChangePassword ? "One-time password" : "Current password"}
              name="currentPassword"
              type="password"
              autoComplete="current-password"
              error={failure?.fieldErrors.currentPassword}
            />
            <Field
              label="New password"
              name="newPassword"
              type="password"
              autoComplete="new-password"
              error={failure?.fieldErrors.newPassword}
              hint="At least 10 characters."
            />
            <Field
              label="Repeat new password"
              name="confirmPassword"
              type="password"
              autoComplete="new-password"
              error={failure?.fieldErrors.confirmPassword}
            />
            <div className="form-actions">
              <button className="btn btn-primary" type="submit">
                Change password
              </button>
            </div>
          </Form>
        </div>
      </div>
    </>
  );
}
