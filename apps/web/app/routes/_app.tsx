import type { LoaderFunctionArgs } from "@remix-run/node";
import { Form, NavLink, Outlet, useLoaderData } from "@remix-run/react";
import { isAdmin, requireUser } from "../lib/session.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, api } = requireUser(request, context);
  const inbox = await api.admin.requests.inbox();
  return {
    user: { name: user.name, email: user.email, role: user.role, tenantName: user.tenantName },
    admin: isAdmin(user),
    inboxCount: inbox.requests.length,
  };
}

export { skipPreviewRevalidation as shouldRevalidate } from "../components/matrix-editor";

export default function AppLayout() {
  const { user, admin, inboxCount } = useLoaderData<typeof loader>();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            A
          </span>{" "}
          ApprovalMatrix
        </div>
        <nav className="nav" aria-label="Main">
          <div className="nav-section">Work</div>
          <NavLink to="/inbox">
            Inbox{" "}
            {inboxCount > 0 ? (
              <span className="count" aria-label={`${inboxCount} waiting`}>
                {inboxCount}
              </span>
            ) : null}
          </NavLink>
          <NavLink to="/requests">Requests</NavLink>
          <NavLink to="/delegations">Delegations</NavLink>
          <NavLink to="/consent">Agent access</NavLink>
          {admin ? (
            <>
              <div className="nav-section">Setup</div>
              <NavLink to="/matrices">Matrices</NavLink>
              <NavLink to="/members">Members</NavLink>
              <NavLink to="/directory">Directory sync</NavLink>
              <NavLink to="/keys">API keys</NavLink>
              <NavLink to="/webhooks">Webhooks</NavLink>
              <NavLink to="/users">Users</NavLink>
              <NavLink to="/outbox">Outbox</NavLink>
              <NavLink to="/audit">Audit log</NavLink>
            </>
          ) : null}
        </nav>
        <div className="sidebar-foot">
          <div className="who">{user.name}</div>
          <div className="tenant">
            {user.tenantName} · {user.role}
          </div>
          <div className="sidebar-links">
            <NavLink to="/account">Account</NavLink>
            <Form method="post" action="/sign-out">
              <button type="submit">Sign out</button>
            </Form>
          </div>
        </div>
      </aside>
      <main className="main" id="main">
        <Outlet />
      </main>
    </div>
  );
}

export { StandaloneError as ErrorBoundary } from "../components/route-error";
