import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, data, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { type FieldSpec, useFormErrors } from "../components/form-errors";
import { Alert, Field, PageHead, ResultMessage } from "../components/ui";
import { EMAIL_MODES, EMAIL_MODE_LABELS } from "@approvalmatrix/core";

const PASSWORD_FIELDS: Record<string, FieldSpec> = {
  currentPassword: { label: "Current password", required: "Enter your current password." },
  newPassword: { label: "New password", required: "Enter a new password." },
  confirmPassword: { label: "Repeat new password" },
};
import { formFailure } from "../lib/api-errors.server";
import { homeFor, requireUser } from "../lib/session.server";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Account · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, api } = requireUser(request, context);
  const emailMode = await api.admin.notifications.myMode();
  // The choices come from core through the loader: core's hashing must stay out of the browser bundle.
  const emailModes = EMAIL_MODES.map((value) => ({ value, label: EMAIL_MODE_LABELS[value] }));
  return { email: user.email, name: user.name, role: user.role, mustChangePassword: user.mustChangePassword, emailMode, emailModes };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, api } = requireUser(request, context);
  const form = await request.formData();
  if (form.get("intent") === "emailMode") {
    const mode = formText(form, "emailMode");
    if (mode === "immediate" || mode === "digest" || mode === "off") await api.admin.notifications.setMyMode({ emailMode: mode });
    return data({ ok: true as const, emailModeSaved: true });
  }
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
  const { email, name, role, mustChangePassword, emailMode, emailModes } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const failure = result && !result.ok ? result : null;
  const form = useFormErrors(failure, PASSWORD_FIELDS);
  return (
    <>
      <PageHead title="Account" description={`${name} · ${email} · ${role}`} />
      {emailMode ? (
        <div className="card" style={{ maxWidth: 520, marginBottom: 16 }}>
          <div className="card-head">
            <h2>Approval e-mails</h2>
          </div>
          <div className="card-body">
            {result && "emailModeSaved" in result ? <ResultMessage message="Saved." gap={14} /> : null}
            <Form method="post">
              <input type="hidden" name="intent" value="emailMode" />
              <fieldset className="field">
                <legend>When a request waits for you</legend>
                {emailModes.map((mode) => (
                  <label key={mode.value} style={{ display: "block" }}>
                    <input type="radio" name="emailMode" value={mode.value} defaultChecked={mode.value === emailMode} /> {mode.label}
                  </label>
                ))}
              </fieldset>
              <button className="btn" type="submit">
                Save
              </button>
            </Form>
          </div>
        </div>
      ) : null}
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
          {result?.ok && !("emailModeSaved" in result) ? (
            <ResultMessage message="Password changed. You were signed out everywhere else." gap={14} />
          ) : null}
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
