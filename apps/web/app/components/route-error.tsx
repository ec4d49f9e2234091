import { Link, isRouteErrorResponse, useRouteError } from "@remix-run/react";

function describe(error: unknown): { status: number; title: string; message: string } {
  const status = isRouteErrorResponse(error) ? error.status : 500;
  const data: unknown = isRouteErrorResponse(error) ? error.data : null;
  // Only our own plain-text messages are shown; anything else (a JSON body, a stack) is for developers.
  const text = typeof data === "string" && data.length < 300 && !data.trim().startsWith("{") ? data : null;
  if (status === 404)
    return { status, title: "Page not found", message: text ?? "There is nothing at this address. It may have been moved or deleted." };
  if (status === 403) return { status, title: "No access", message: text ?? "Your role does not allow this page." };
  if (status === 400) return { status, title: "That address is not valid", message: text ?? "Part of the address could not be read." };
  return { status, title: "Something went wrong", message: "Something went wrong on our side. Try again, or reload the page." };
}

/**
 * The error page of a page inside the signed-in layout: it replaces only the page, so the
 * navigation and the main landmark stay (each _app.* route re-exports it as its ErrorBoundary).
 */
export function PageError() {
  const { status, title, message } = describe(useRouteError());
  return (
    <div className="card" style={{ maxWidth: 560 }} data-testid="error-page" data-status={status}>
      <div className="card-body stack">
        <h1>{title}</h1>
        <p className="muted">{message}</p>
        <p>
          <Link className="btn" to="/">
            Go to my start page
          </Link>
        </p>
      </div>
    </div>
  );
}

/** The error page outside the layout (sign-in, or the layout itself failed): still one main landmark. */
export function StandaloneError() {
  const { title, message } = describe(useRouteError());
  return (
    <main className="auth-page" id="main">
      <div className="card auth-card">
        <div className="card-body">
          <h1>{title}</h1>
          <p className="muted" style={{ marginTop: 8 }}>
            {message}
          </p>
          <p style={{ marginTop: 16 }}>
            <a className="btn" href="/">
              Back to ApprovalMatrix
            </a>
          </p>
        </div>
      </div>
    </main>
  );
}
