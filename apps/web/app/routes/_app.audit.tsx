import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { hasRole } from "@approvalmatrix/core/roles";
import {
  Alert,
  ConfirmAction,
  CursorPager,
  EmptyState,
  Field,
  PageHead,
  formatDate,
  DataTable,
  FilterActions,
  SubmitButton,
} from "../components/ui";
import { attempt, formFailure, load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Audit log · ApprovalMatrix" }];

const ACTOR_TYPES = ["user", "api_key", "operator", "system"] as const;

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context, "admin");
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
  const log = await load(() => api.admin.receipts.logState());
  return { ...page, fieldErrors, log, role: user.role };
}

/** Walk the whole receipt log (audit verify), or rotate the signing key (owners). */
export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const intent = form.get("intent");
  if (intent === "rotate-key") {
    const { api } = requireUser(request, context, "owner");
    const result = await attempt(() => api.admin.receipts.rotateKey());
    if (!result.ok) return result.failure;
    return { ok: true as const, rotated: result.value, verdict: null };
  }
  if (intent !== "verify-log") return formFailure("Unknown action.");
  const { api } = requireUser(request, context, "admin");
  const result = await attempt(() => api.admin.receipts.verifyLog());
  if (!result.ok) return result.failure;
  return { ok: true as const, rotated: null, verdict: result.value };
}

type LogState = ReturnType<typeof useLoaderData<typeof loader>>["log"];

/** The tenant's signed receipt log: its size, the latest checkpoint and the signing keys. */
function ReceiptLogCard({ log, canRotate }: { log: LogState; canRotate: boolean }) {
  const result = useActionData<typeof action>();
  const outcome = result && "ok" in result && result.ok ? result : null;
  const active = log.keys.find((k) => k.status === "active");
  const navigation = useNavigation();
  const verifying = navigation.state === "submitting" && navigation.formData?.get("intent") === "verify-log";
  return (
    <div className="card" style={{ marginBottom: 16 }} data-testid="receipt-log">
      <div className="card-head">
        <h2>Signed receipt log</h2>
        <span className="muted small">{log.size} entries</span>
      </div>
      <div className="card-body">
        <dl className="props">
          <dt>Latest checkpoint</dt>
          <dd data-testid="latest-checkpoint">
            {log.checkpoint ? (
              <>
                {log.checkpoint.treeSize} entries, root <code className="id">{log.checkpoint.rootHash.slice(0, 16)}…</code>, signed{" "}
                {formatDate(log.checkpoint.issuedAt)} ·{" "}
                <span className={`badge ${log.checkpoint.valid ? "badge-ok" : "badge-danger"}`}>
                  {log.checkpoint.valid ? "signature valid" : "signature INVALID"}
                </span>
              </>
            ) : (
              "none yet: the first final outcome signs one"
            )}
          </dd>
          <dt>Not yet checkpointed</dt>
          <dd>{log.size - (log.checkpoint?.treeSize ?? 0)} entries</dd>
          <dt>Signing key</dt>
          <dd>
            {active ? <code className="id">{active.kid}</code> : "none"}{" "}
            <span className="faint small">
              ({log.keys.filter((k) => k.status === "retired").length} retired, all published at <code>/v1/keys</code>)
            </span>
          </dd>
        </dl>
        {outcome?.verdict ? (
          <Alert
            kind={outcome.verdict.valid ? "ok" : "error"}
            title={outcome.verdict.valid ? "The log is intact" : `The log is NOT intact from entry ${outcome.verdict.firstBadPosition}`}
          >
            <span data-testid="log-verdict">
              {outcome.verdict.valid
                ? `All ${outcome.verdict.size} entries verified; checkpoints checked: ${outcome.verdict.checkpointsChecked}.`
                : outcome.verdict.problems
                    .slice(0, 5)
                    .map((p) => `entry ${p.position}: ${p.reason}`)
                    .join("; ")}
            </span>
          </Alert>
        ) : null}
        {outcome?.rotated ? (
          <Alert kind="ok" title="Signing key rotated">
            Now signing with <code>{outcome.rotated.activated}</code>; the previous key stays published as retired.
          </Alert>
        ) : null}
        <div className="row" style={{ marginTop: 12, gap: 8 }}>
          <Form method="post">
            <SubmitButton name="intent" value="verify-log" busy={verifying} busyLabel="Verifying…">
              Verify the whole log
            </SubmitButton>
          </Form>
          {canRotate ? (
            <ConfirmAction
              label="Rotate signing key"
              title="Rotate the receipt-signing key?"
              body="The published next key starts signing; the current key is retired but stays published, so every receipt it signed still verifies. This applies to the whole installation."
              confirmLabel="Rotate"
              intent="rotate-key"
              fields={{}}
            />
          ) : null}
        </div>
      </div>
    </div>
  );
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
  const { entries, nextCursor, fieldErrors, log, role } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const filtered = ["action", "actor", "target", "from", "to"].some((k) => params.get(k));
  return (
    <>
      <PageHead
        title="Audit log"
        description="Who changed what, and when: keys, members, matrices, users and decisions. Entries are written in the same transaction as the change."
      />
      <ReceiptLogCard log={log} canRotate={hasRole(role, "owner")} />
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
                  {actingForName(e.data) ? <span data-testid="acting-for"> acting for {actingForName(e.data)}</span> : null}
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

/** The approver a service token acted for, from its audit row's data ({ actingFor: { name } }). */
function actingForName(data: Record<string, unknown>): string | null {
  const actingFor = data.actingFor;
  if (!actingFor || typeof actingFor !== "object" || !("name" in actingFor)) return null;
  const { name } = actingFor;
  return typeof name === "string" ? name : null;
}
