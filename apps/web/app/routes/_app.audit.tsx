import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useSearchParams } from "@remix-run/react";
import { CursorPager, EmptyState, Field, PageHead, formatDate, DataTable, FilterActions } from "../components/ui";
import { load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Audit log · ApprovalMatrix" }];

const ACTOR_TYPES = ["user", "api_key", "operator", "system"] as const;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const url = new URL(request.url);
  const get = (k: string) => url.searchParams.get(k)?.trim() || undefined;
  const actorType = get("actor");
  // A date typed into the URL (2026-13-45) gets a message next to its field, not an error page.
  const fieldErrors: Record<string, string> = {};
  const date = (name: "from" | "to") => {
    const v = get(name);
    if (!v) return undefined;
    if (isCalendarDate(v)) return v;
    fieldErrors[name] = `“${v}” is not a date. Pick one from the calendar, or use the form 2026-01-31.`;
    return undefined;
  };
  const from = date("from");
  const to = date("to");
  const page = await load(() =>
    api.admin.audit.list({
      ...(get("action") ? { action: get("action") } : {}),
      ...(actorType && (ACTOR_TYPES as readonly string[]).includes(actorType)
        ? { actorType: actorType as (typeof ACTOR_TYPES)[number] }
        : {}),
      ...(get("target") ? { target: get("target") } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(get("before") ? { before: get("before") } : {}),
    }),
  );
  return { ...page, fieldErrors };
}

function isCalendarDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** The entry's data as `key: value` items; a line breaks between items and between words, never inside an id. */
function Details({ data }: { data: Record<string, unknown> }) {
  const items = Object.entries(data).filter(([, v]) => v !== null && v !== undefined);
  return (
    <ul className="details">
      {items.map(([k, v]) => (
        <li key={k}>
          {k}: {auditValueText(v)}
        </li>
      ))}
    </ul>
  );
}

export default function Audit() {
  const { entries, nextCursor, fieldErrors } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const filtered = ["action", "actor", "target", "from", "to"].some((k) => params.get(k));
  return (
    <>
      <PageHead
        title="Audit log"
        description="Who changed what, and when: keys, members, matrices, users and decisions. Entries are written in the same transaction as the change."
      />
      <div className="card">
        <Form method="get" className="toolbar">
          <div className="field" style={{ flex: "1 1 200px" }}>
            <label htmlFor="action">Action</label>
            <input
              id="action"
              type="text"
              name="action"
              defaultValue={params.get("action") ?? ""}
              placeholder="api_key, member.imported…"
            />
          </div>
          <div className="field">
            <label htmlFor="actor">Actor</label>
            <select id="actor" name="actor" defaultValue={params.get("actor") ?? ""}>
              <option value="">Anyone</option>
              <option value="user">Users</option>
              <option value="api_key">API keys</option>
              <option value="operator">Operator</option>
            </select>
          </div>
          <div className="field" style={{ flex: "1 1 160px" }}>
            <label htmlFor="target">Target id</label>
            <input id="target" type="text" name="target" defaultValue={params.get("target") ?? ""} placeholder="req_…, key_…" />
          </div>
          <Field
            label="From"
            name="from"
            type="date"
            defaultValue={fieldErrors.from ? "" : (params.get("from") ?? "")}
            error={fieldErrors.from}
          />
          <Field label="To" name="to" type="date" defaultValue={fieldErrors.to ? "" : (params.get("to") ?? "")} error={fieldErrors.to} />
          <FilterActions filtered={filtered} clearTo="/audit" />
        </Form>
        {entries.length === 0 ? (
          <EmptyState icon="log" title={filtered ? "No entries match" : "Nothing recorded yet"} />
        ) : (
          <DataTable label="Audit entries" columns={["When", "Who", "Action", "Target", { label: "Details", hideSm: true }]}>
            {entries.map((e) => (
              <tr key={e.id}>
                <td className="small nowrap">{formatDate(e.createdAt)}</td>
                <td>
                  {e.actorName ??
                    (typeof e.data.actorName === "string" ? e.data.actorName : null) ??
                    (e.actorType === "operator" ? "Setup" : e.actorType === "api_key" ? "API key" : e.actorType)}
                  {/* A service token's rows: "Slack bot acting for Jane Smith". */}
                  {e.data.actingFor && typeof e.data.actingFor === "object" && "name" in e.data.actingFor ? (
                    <span data-testid="acting-for"> acting for {String(e.data.actingFor.name)}</span>
                  ) : null}
                  <div className="faint small">
                    <code>{e.actorId}</code>
                  </div>
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>
                  <code className="small id">{e.targetId}</code>
                </td>
                <td className="hide-sm small muted audit-details">
                  <Details data={e.data} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
        <CursorPager basePath="/audit" params={params} nextCursor={nextCursor} />
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";

/** An audit row's data value as text: strings as they are, lists comma-separated, anything else as JSON. */
function auditValueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(auditValueText).join(", ");
  return JSON.stringify(value);
}
