import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, data, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { type FieldSpec, useFormErrors } from "../components/form-errors";
import { Alert, Field, PageHead, ResultMessage } from "../components/ui";

const PASSWORD_FIELDS: Record<string, FieldSpec> = {
  currentPassword: { label: "Current password", required: "Enter your current password." },
  newPassword: { label: "New password", required: "Enter a new password." },
  confirmPassword: { label: "Repeat new password" },
};
import { formFailure } from "../lib/api-errors.server";
import { homeFor, requireUser } from "../lib/session.server";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Account · ApprovalMatrix" }];

export function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = requireUser(request, context);
  return { email: user.email, name: user.name, role: user.role, mustChangePassword: user.mustChangePassword };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user } = requireUser(request, context);
  const form = await request.formData();
  const next = formText(form, "newPassword");
  if (next !== formText(form, "confirmPassword"))
    return formFailure("The new passwords differ.", { confirmPassword: "Type the same new password twice." });
  const result = await context.auth.changePassword(user.id, formText(form, "currentPassword"), next);
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
  const form = useFormErrors(failure, PASSWORD_FIELDS);
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
          {result?.ok ? <ResultMessage message="Password changed. You were signed out everywhere else." gap={14} /> : null}
          {form.summary ? <div style={{ marginBottom: 14 }}>{form.summary}</div> : null}
          <Form method="post" noValidate ref={form.formRef} onChange={form.onChange} key={result?.ok ? "done" : "form"}>
            <Field
              label={mustChangePassword ? "One-time password" : "Current password"}
              name="currentPassword"
              type="password"
              autoComplete="current-password"
              error={form.error("currentPassword")}
            />
            <Field
              label="New password"
              name="newPassword"
              type="password"
              autoComplete="new-password"
              error={form.error("newPassword")}
              hint="At least 10 characters."
            />
            <Field
              label="Repeat new password"
              name="confirmPassword"
              type="password"
              autoComplete="new-password"
              error={form.error("confirmPassword")}
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

export { PageError as ErrorBoundary } from "../components/route-error";
