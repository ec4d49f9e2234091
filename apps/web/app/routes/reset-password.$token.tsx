import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { must } from "@approvalmatrix/core/must";
import { Alert, Field } from "../components/ui";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Set a new password · ApprovalMatrix" }];

/** A single-use link an admin made: no session needed, the token is the credential. */
export async function loader({ params, context }: LoaderFunctionArgs) {
  const found = await context.passwordResets.find(must(params.token));
  return { valid: found !== null, email: found?.email ?? null };
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const password = formText(form, "password");
  if (password !== formText(form, "confirmPassword")) return { ok: false as const, message: "The passwords differ." };
  const used = await context.passwordResets.use(must(params.token), password);
  return used.ok ? { ok: true as const, message: null } : { ok: false as const, message: used.message };
}

export default function ResetPassword() {
  const { valid, email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="card">
          <div className="card-body stack">
            <h1>Set a new password</h1>
            {result?.ok ? (
              <Alert kind="ok" title="Password set">
                Your other sessions were signed out. <Link to="/sign-in">Sign in</Link> with the new password.
              </Alert>
            ) : !valid ? (
              <Alert kind="error" title="This link does not work">
                It has expired or was already used. Ask an admin of your organisation for a new one.
              </Alert>
            ) : (
              <Form method="post" noValidate>
                <p className="muted">For {email}.</p>
                {result?.message ? <Alert kind="error">{result.message}</Alert> : null}
                <Field label="New password" name="password" type="password" autoComplete="new-password" required />
                <Field label="Repeat new password" name="confirmPassword" type="password" autoComplete="new-password" required />
                <button className="btn btn-primary" type="submit">
                  Set password
                </button>
              </Form>
            )}
          </div>
        </div>
      </div>
    </main>
  );
}
