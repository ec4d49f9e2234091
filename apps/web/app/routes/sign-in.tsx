import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, data, redirect } from "@remix-run/node";
import { Form, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import type { TenantChoice } from "@approvalmatrix/auth";
import { type FormFailure, formFailure } from "../lib/api-errors.server";
import { homeFor, safeRedirect } from "../lib/session.server";
import { Alert, Field, SubmitButton } from "../components/ui";
import { formText } from "../lib/form";

/** The password opened accounts in several tenants: the form asks which one. */
interface ChooseTenant extends FormFailure {
  email: string;
  tenants: TenantChoice[];
}

function isChoice(value: unknown): value is ChooseTenant {
  return !!value && typeof value === "object" && "tenants" in value;
}

export const meta: MetaFunction = () => [{ title: "Sign in · ApprovalMatrix" }];

export function loader({ context }: LoaderFunctionArgs) {
  if (context.session) throw redirect(homeFor(context.session.user));
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const email = formText(form, "email").trim();
  const password = formText(form, "password");
  const tenant = formText(form, "tenant") || null;
  // Decided before any session exists: a refused target falls back to the user's start page.
  const back = safeRedirect(form.get("redirectTo"), context.origin);
  const fieldErrors: Record<string, string> = {};
  if (!email) fieldErrors.email = "Enter your email address.";
  if (!password) fieldErrors.password = "Enter your password.";
  if (Object.keys(fieldErrors).length) return formFailure("Enter your email and password.", fieldErrors);
  const result = await context.auth.signIn({
    email,
    password,
    clientIp: context.clientIp,
    tenant,
    userAgent: request.headers.get("user-agent"),
  });
  if (!result.ok) {
    if (result.reason === "rate_limited") {
      return formFailure(`Too many sign-in attempts. Try again in ${Math.ceil(result.retryAfter / 60)} minute(s).`, {}, 429);
    }
    if (result.reason === "choose_tenant") {
      // Only someone who knows the password of each of these accounts sees this list.
      return data<ChooseTenant>({
        ok: false,
        formError: "Your email and password open accounts in several organizations. Choose one and enter your password again.",
        fieldErrors: {},
        email,
        tenants: result.tenants,
      });
    }
    return formFailure("That email and password do not match an account.", {}, 401);
  }
  // A user on a one-time password goes to choose their own first (homeFor), wherever they were headed.
  const to = result.user.mustChangePassword ? homeFor(result.user) : (back ?? homeFor(result.user));
  throw redirect(to, { headers: { "Set-Cookie": result.setCookie } });
}

export default function SignIn() {
  const failure = useActionData<typeof action>();
  const navigation = useNavigation();
  const [params] = useSearchParams();
  const busy = navigation.state !== "idle";
  const choice = isChoice(failure) ? failure : null;
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
                autoFocus={!choice}
                defaultValue={choice?.email}
                error={failure?.fieldErrors.email}
              />
              {choice ? (
                <Field label="Organization" name="tenant">
                  <select id="tenant" name="tenant" required autoFocus>
                    {choice.tenants.map((t) => (
                      <option key={t.slug} value={t.slug}>
                        {t.name}
                      </option>
                    ))}
                  </select>
                </Field>
              ) : null}
              <Field
                label="Password"
                name="password"
                type="password"
                autoComplete="current-password"
                required
                error={failure?.fieldErrors.password}
              />
              <SubmitButton busy={busy} busyLabel="Signing in…" style={{ width: "100%", marginTop: 4 }}>
                Sign in
              </SubmitButton>
            </Form>
          </div>
        </div>
        <p className="muted small auth-note">First run? The start command printed the demo admin's sign-in.</p>
      </div>
    </main>
  );
}
