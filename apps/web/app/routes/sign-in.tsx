import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, redirect } from "@remix-run/node";
import { Form, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { formFailure } from "../lib/api-errors.server";
import { homeFor, safeRedirect } from "../lib/session.server";
import { Alert, Field } from "../components/ui";

export const meta: MetaFunction = () => [{ title: "Sign in · ApprovalMatrix" }];

export async function loader({ context }: LoaderFunctionArgs) {
  if (context.session) throw redirect(homeFor(context.session.user));
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const email = String(form.get("email") ?? "").trim();
  const password = String(form.get("password") ?? "");
  const fieldErrors: Record<string, string> = {};
  if (!email) fieldErrors.email = "Enter your email address.";
  if (!password) fieldErrors.password = "Enter your password.";
  if (Object.keys(fieldErrors).length) return formFailure("Enter your email and password.", fieldErrors);
  const result = await context.auth.signIn({ email, password, clientIp: context.clientIp });
  if (!result.ok) {
    if (result.reason === "rate_limited") {
      return formFailure(`Too many sign-in attempts. Try again in ${Math.ceil(result.retryAfter / 60)} minute(s).`, {}, 429);
    }
    return formFailure("That email and password do not match an account.", {}, 401);
  }
  const to = safeRedirect(form.get("redirectTo"), homeFor(result.user));
  throw redirect(to, { headers: { "Set-Cookie": result.setCookie } });
}

export default function SignIn() {
  const failure = useActionData<typeof action>();
  const navigation = useNavigation();
  const [params] = useSearchParams();
  const busy = navigation.state !== "idle";
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark">A</span> ApprovalMatrix
        </div>
        <div className="card">
          <div className="card-body">
            <h1 style={{ marginBottom: 4 }}>Sign in</h1>
            <p className="muted" style={{ marginBottom: 18 }}>
              Manage API keys, people, approval matrices and decisions.
            </p>
            {failure?.formError ? (
              <div style={{ marginBottom: 14 }}>
                <Alert kind="error">{failure.formError}</Alert>
              </div>
            ) : null}
            <Form method="post" noValidate>
              <input type="hidden" name="redirectTo" value={params.get("redirectTo") ?? ""} />
              <Field
                label="Email"
                name="email"
                type="email"
                autoComplete="username"
                required
                autoFocus
                error={failure?.fieldErrors.email}
              />
              <Field
                label="Password"
                name="password"
                type="password"
                autoComplete="current-password"
                required
                error={failure?.fieldErrors.password}
              />
              <button className="btn btn-primary" type="submit" style={{ width: "100%", marginTop: 4 }} disabled={busy}>
                {busy ? "Signing in…" : "Sign in"}
              </button>
            </Form>
          </div>
        </div>
        <p className="muted small auth-note">First run? The start command printed the demo admin's sign-in.</p>
      </div>
    </main>
  );
}
