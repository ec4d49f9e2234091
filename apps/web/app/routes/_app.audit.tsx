import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { CursorPager, EmptyState, PageHead, formatDate } from "../components/ui";
import { load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Audit log · ApprovalMatrix" }];

const ACTOR_TYPES = ["user", "api_key", "operator", "system"] as const;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const url = new URL(request.url);
  const get = (k: string) => url.searchParams.get(k)?.trim() || undefined;
  const actorType = get("actor");
  const date = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined);
  const from = date(get("from"));
  const to = date(get("to"));
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
  return page;
}

function describe(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}

export default function Audit() {
  const { entries, nextCursor } = useLoaderData<typeof loader>();
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
          <div className="field">
            <label htmlFor="from">From</label>
            <input id="from" type="date" name="from" defaultValue={params.get("from") ?? ""} />
          </div>
          <div className="field">
            <label htmlFor="to">To</label>
            <input id="to" type="date" name="to" defaultValue={params.get("to") ?? ""} />
          </div>
          <button className="btn" type="submit">
            Filter
          </button>
          {filtered ? (
            <Link className="btn btn-link" to="/audit">
              Clear
            </Link>
          ) : null}
        </Form>
        {entries.length === 0 ? (
          <EmptyState icon="log" title={filtered ? "No entries match" : "Nothing recorded yet"} />
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>Action</th>
                  <th>Target</th>
                  <th className="hide-sm">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id}>
                    <td className="small nowrap">{formatDate(e.createdAt)}</td>
                    <td>
                      {e.actorName ?? (e.actorType === "operator" ? "Setup" : e.actorType === "api_key" ? "API key" : e.actorType)}
                      <div className="faint small">
                        <code>{e.actorId}</code>
                      </div>
                    </td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>
                      <code className="small">{e.targetId}</code>
                    </td>
                    <td className="hide-sm small muted wrap-anywhere">{describe(e.data)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <CursorPager basePath="/audit" params={params} nextCursor={nextCursor} />
      </div>
    </>
  );
}
