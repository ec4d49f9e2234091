import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams, useSubmit } from "@remix-run/react";
import { useRef } from "react";
import { MEMBER_SORTS, type MemberSort, type SortDirection } from "@approvalmatrix/core";
import { Alert, type Column, Email, EmptyState, PageHead, StatusBadge, DataTable, formatDate } from "../components/ui";
import { attempt, load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Members · ApprovalMatrix" }];

const PAGE_SIZE = 50;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const url = new URL(request.url);
  const q = url.searchParams.get("q")?.trim() ?? "";
  const statusParam = url.searchParams.get("status");
  const status = statusParam === "active" || statusParam === "inactive" ? statusParam : "all";
  // A cursor is an externalRef; one with control characters (a hand-edited URL, `%00`) cannot be
  // stored in PostgreSQL text, so it is no cursor at all: start from the first page.
  const rawAfter = url.searchParams.get("after") ?? undefined;
  const after = rawAfter && ![...rawAfter].some((c) => c.charCodeAt(0) < 32) ? rawAfter : undefined;
  const department = url.searchParams.get("department")?.trim().slice(0, 200) || undefined;
  const managerRef = url.searchParams.get("manager")?.trim().slice(0, 200) || undefined;
  // An unknown sort (a hand-edited URL) is the default order, not an error page.
  const sortParam = url.searchParams.get("sort");
  const sort: MemberSort = MEMBER_SORTS.find((s) => s === sortParam) ?? "externalRef";
  const direction: SortDirection = url.searchParams.get("dir") === "desc" ? "desc" : "asc";
  const [page, departments] = await Promise.all([
    load(() =>
      api.admin.members.search({
        search: q.slice(0, 200) || undefined,
        status,
        limit: PAGE_SIZE,
        sort,
        direction,
        ...(department ? { department } : {}),
        ...(managerRef ? { managerRef } : {}),
        ...(after ? { after } : {}),
      }),
    ),
    api.admin.members.departments(),
  ]);
  return {
    ...page,
    q,
    status,
    department: department ?? "",
    manager: managerRef ?? "",
    departments,
    after: after ?? null,
    sort,
    direction,
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  if (form.get("intent") === "bulk-deactivate") {
    const ids = form.getAll("ids").map(String).filter(Boolean);
    const bulk = await attempt(() => api.admin.members.bulkDeactivate({ ids }));
    if (!bulk.ok) return bulk.failure;
    return { ok: true as const, deactivated: bulk.value.deactivated };
  }
  const result = await attempt(() =>
    api.admin.members.setActive({ id: formText(form, "id"), active: form.get("intent") === "reactivate" }),
  );
  if (!result.ok) return result.failure;
  return { ok: true as const, deactivated: 0 };
}

export default function Members() {
  const { members, nextCursor, total, q, status, department, manager, departments, after, sort, direction } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const submit = useSubmit();
  const navigation = useNavigation();
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const searching = navigation.state === "loading" && navigation.location.pathname === "/members";
  const nextParams = new URLSearchParams(params);
  if (nextCursor) nextParams.set("after", nextCursor);
  const filters = { q, status, department, manager };
  const ordered: Record<string, string> = sort === "externalRef" && direction === "asc" ? {} : { sort, dir: direction };
  /** A heading that sorts by `by`: ascending first, the other way when it is the current sort; back to the first page. */
  const sortable = (label: string, by: MemberSort, hideSm = false): Column => {
    const current = sort === by ? (direction === "asc" ? "ascending" : "descending") : null;
    const next = current === "ascending" ? "desc" : "asc";
    return {
      label,
      hideSm,
      sort: { to: `/members?${new URLSearchParams({ ...filters, sort: by, dir: next }).toString()}`, current },
    };
  };

  return (
    <>
      <PageHead
        title="Members"
        description="The people of your organisation, known to your systems by their externalRef (employee id). Requests name their submitter and matrices their approvers by it."
        actions={
          <>
            <a className="btn" href="/members/export.csv" download>
              Export CSV
            </a>
            <Link className="btn" to="/members/import">
              Import CSV
            </Link>
            <Link className="btn btn-primary" to="/members/new">
              Add member
            </Link>
          </>
        }
      />
      <div className="card">
        <Form
          method="get"
          className="toolbar"
          role="search"
          onChange={(e) => {
            const form = e.currentTarget;
            clearTimeout(timer.current);
            timer.current = setTimeout(() => submit(form, { replace: true }), 250);
          }}
        >
          <div className="field" style={{ flex: "1 1 260px" }}>
            <label htmlFor="q">Search</label>
            <input id="q" type="search" name="q" defaultValue={q} placeholder="Name, externalRef, email or department" />
          </div>
          <div className="field">
            <label htmlFor="status">Status</label>
            <select id="status" name="status" defaultValue={status}>
              <option value="all">All</option>
              <option value="active">Active</option>
              <option value="inactive">Deactivated</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="department">Department</label>
            <select id="department" name="department" defaultValue={department}>
              <option value="">All</option>
              {departments.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="manager">Manager's externalRef</label>
            <input id="manager" name="manager" defaultValue={manager} placeholder="EMP-2001" size={12} />
          </div>
          {/* A new search keeps the order the list is sorted in. */}
          {"sort" in ordered ? (
            <>
              <input type="hidden" name="sort" value={ordered.sort} />
              <input type="hidden" name="dir" value={ordered.dir} />
            </>
          ) : null}
          <button className="btn" type="submit">
            Search
          </button>
        </Form>
        {result?.ok && result.deactivated ? (
          <Alert kind="ok">
            {result.deactivated} member{result.deactivated === 1 ? "" : "s"} deactivated; their open approvals were handed on as set in
            Directory sync.
          </Alert>
        ) : null}
        {result && !result.ok ? <Alert kind="error">{result.formError}</Alert> : null}
        <Form method="post" id="bulk" className="toolbar">
          <button className="btn btn-sm btn-danger" type="submit" name="intent" value="bulk-deactivate">
            Deactivate selected
          </button>
        </Form>
        {members.length === 0 ? (
          q || status !== "all" || department || manager ? (
            <EmptyState icon="search" title="No members match">
              Try another name or externalRef, or clear the filters.
            </EmptyState>
          ) : (
            <EmptyState
              icon="users"
              title="No members yet"
              action={
                <Link className="btn btn-primary" to="/members/import">
                  Import a CSV
                </Link>
              }
            >
              Add the people who submit and approve requests, one by one or from a CSV export of your HR system.
            </EmptyState>
          )
        ) : (
          <DataTable
            label="Members"
            columns={[
              { label: "Select", srOnly: true },
              sortable("Name", "name"),
              sortable("externalRef", "externalRef"),
              sortable("Department", "department", true),
              sortable("Manager", "manager", true),
              { label: "Sign-in", hideSm: true },
              sortable("Updated", "updated", true),
              "Status",
              { label: "Actions", hideSm: true, srOnly: true },
            ]}
            style={{ opacity: searching ? 0.6 : 1 }}
          >
            {members.map((m) => (
              <tr key={m.id}>
                <td>
                  {m.active && !m.syncedFrom ? (
                    <input type="checkbox" name="ids" value={m.id} form="bulk" aria-label={`Select ${m.name}`} />
                  ) : null}
                </td>
                <td>
                  <Link to={`/members/${m.id}`}>
                    <strong>{m.name}</strong>
                  </Link>
                  {m.email ? (
                    <div className="faint small wrap-anywhere">
                      <Email address={m.email} />
                    </div>
                  ) : null}
                </td>
                <td>
                  <code>{m.externalRef}</code>
                </td>
                <td className="hide-sm">{m.department ?? <span className="faint">—</span>}</td>
                <td className="hide-sm">
                  {m.managerName ? (
                    <>
                      {m.managerName} <span className="faint small">{m.managerRef}</span>
                    </>
                  ) : (
                    <span className="faint">—</span>
                  )}
                </td>
                <td className="hide-sm small">{m.userEmail ?? <span className="faint">—</span>}</td>
                <td className="hide-sm small nowrap">{formatDate(m.updatedAt)}</td>
                <td>
                  <StatusBadge status={m.active ? "active" : "inactive"} />
                  {m.syncedFrom ? <div className="faint small">synced from {m.syncedFrom}</div> : null}
                </td>
                <td className="actions hide-sm">
                  <Link className="btn btn-sm" to={`/members/${m.id}`}>
                    Edit
                  </Link>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
        <div className="pager">
          <span>
            {total.toLocaleString("en-US")} member{total === 1 ? "" : "s"}
            {q ? ` matching “${q}”` : ""}
          </span>
          <span className="row">
            {after ? (
              <Link className="btn btn-sm" to={`/members?${new URLSearchParams({ ...filters, ...ordered }).toString()}`}>
                First page
              </Link>
            ) : null}
            {nextCursor ? (
              <Link className="btn btn-sm" to={`/members?${nextParams.toString()}`}>
                Next page →
              </Link>
            ) : null}
          </span>
        </div>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
