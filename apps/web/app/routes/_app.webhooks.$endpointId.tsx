import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { EVENT_TYPES, type EventType } from "@approvalmatrix/core";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { attempt, formFailure, load } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import {
  Alert,
  ConfirmAction,
  CopyButton,
  CursorPager,
  DataTable,
  EmptyState,
  Field,
  PageHead,
  StatusBadge,
  formatDate,
} from "../components/ui";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Webhook endpoint · ApprovalMatrix" }];

const STATUSES = ["pending", "succeeded", "failed"] as const;

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const endpointId = params.endpointId ?? "";
  const url = new URL(request.url);
  const status = STATUSES.find((s) => s === url.searchParams.get("status"));
  const before = url.searchParams.get("before");
  const [endpoint, deliveries] = await Promise.all([
    load(() => api.admin.webhooks.get({ endpointId })),
    load(() =>
      api.admin.webhooks.deliveries({ endpointId, limit: 25, ...(status ? { status } : {}), ...(before ? { startingAfter: before } : {}) }),
    ),
  ]);
  return { endpoint, deliveries, status: status ?? "", eventTypes: [...EVENT_TYPES], search: url.searchParams.toString() };
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const endpointId = params.endpointId ?? "";
  const form = await request.formData();
  const intent = formText(form, "intent");
  if (intent === "disable") {
    const result = await attempt(() => api.admin.webhooks.disable({ endpointId, reason: formText(form, "reason") || undefined }));
    return result.ok ? { ok: true as const, message: "The endpoint is disabled.", secret: null } : result.failure;
  }
  if (intent === "enable") {
    const result = await attempt(() => api.admin.webhooks.enable({ endpointId }));
    return result.ok ? { ok: true as const, message: "The endpoint is enabled.", secret: null } : result.failure;
  }
  if (intent === "rotate") {
    const result = await attempt(() => api.admin.webhooks.rotateSecret({ endpointId }));
    return result.ok
      ? { ok: true as const, message: "A new secret signs from now on; the old one also signs for 24 hours.", secret: result.value.secret }
      : result.failure;
  }
  if (intent === "test") {
    const result = await attempt(() => api.admin.webhooks.test({ endpointId }));
    if (!result.ok) return result.failure;
    const attempt0 = result.value.delivery.attemptLog[0];
    const answer = attempt0?.responseStatus ? `answered ${attempt0.responseStatus}` : (attempt0?.error ?? "did not answer");
    return {
      ok: true as const,
      message: `Test ping ${result.value.success ? "delivered" : "failed"}: the receiver ${answer}.`,
      secret: null,
    };
  }
  if (intent === "update") {
    const eventTypes = form.getAll("eventTypes").map(String) as EventType[];
    const result = await attempt(() =>
      api.admin.webhooks.update({ endpointId, url: formText(form, "url").trim(), description: formText(form, "description"), eventTypes }),
    );
    return result.ok ? { ok: true as const, message: "Saved.", secret: null } : result.failure;
  }
  if (intent === "resend") {
    const result = await attempt(() => api.admin.webhooks.resend({ endpointId, deliveryId: formText(form, "deliveryId") }));
    return result.ok ? { ok: true as const, message: "The delivery is queued again.", secret: null } : result.failure;
  }
  if (intent === "replay") {
    const since = new Date(formText(form, "since"));
    if (Number.isNaN(since.getTime())) return formFailure("Pick the time to replay from.", { since: "Pick a date and time." });
    const result = await attempt(() => api.admin.webhooks.replay({ endpointId, since: since.toISOString() }));
    return result.ok
      ? { ok: true as const, message: `${result.value.replayed} failed deliveries are queued again.`, secret: null }
      : result.failure;
  }
  return formFailure("Unknown action.");
}

export default function WebhookEndpoint() {
  const { endpoint, deliveries, status, eventTypes, search } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <PageHead title={endpoint.url} description={endpoint.description || "A webhook endpoint of this tenant."} />
      <p style={{ marginTop: -8 }}>
        <Link to="/webhooks">← All endpoints</Link>
      </p>
      <div role="status" aria-live="polite">
        {result && result.ok ? (
          <div style={{ marginBottom: 16 }}>
            <Alert kind="ok">{result.message}</Alert>
            {result.secret ? (
              <div className="secret secret-copy" style={{ marginTop: 8 }}>
                <code id="new-secret" data-testid="new-secret">
                  {result.secret}
                </code>
                <CopyButton text={result.secret} targetId="new-secret" label="Copy secret" />
              </div>
            ) : null}
          </div>
        ) : null}
        {result && !result.ok ? (
          <div style={{ marginBottom: 16 }}>
            <Alert kind="error">{result.formError}</Alert>
          </div>
        ) : null}
      </div>
      {endpoint.status === "disabled" ? (
        <div style={{ marginBottom: 16 }}>
          <Alert kind="warn" title="Disabled">
            {endpoint.disabledReason} ({formatDate(endpoint.disabledAt)}). Nothing is sent until you enable it; replay its failed deliveries
            afterwards.
          </Alert>
        </div>
      ) : null}
      <div className="stack">
        <div className="card">
          <div className="card-head">
            <h2>
              Endpoint <StatusBadge status={endpoint.status} />
            </h2>
            <div className="row">
              <Form method="post">
                <button className="btn btn-sm" name="intent" value="test">
                  Send test
                </button>
              </Form>
              <Form method="post">
                <button className="btn btn-sm" name="intent" value="rotate">
                  Rotate secret
                </button>
              </Form>
              {endpoint.status === "enabled" ? (
                <ConfirmAction
                  small
                  label="Disable"
                  title="Disable this endpoint?"
                  body="No events are sent to it until you enable it again."
                  confirmLabel="Disable"
                  intent="disable"
                  fields={{ id: endpoint.id }}
                />
              ) : (
                <Form method="post">
                  <button className="btn btn-sm" name="intent" value="enable">
                    Enable
                  </button>
                </Form>
              )}
            </div>
          </div>
          <div className="card-body">
            <p className="small muted">
              Secret <code>{endpoint.secretStart}…</code>
              {endpoint.previousSecretExpiresAt
                ? ` · the previous secret also signs until ${formatDate(endpoint.previousSecretExpiresAt)}`
                : ""}
              {endpoint.failingSince ? ` · failing since ${formatDate(endpoint.failingSince)}` : ""}
            </p>
            <Form method="post">
              <Field label="URL" name="url" defaultValue={endpoint.url} required />
              <Field label="Description" name="description" defaultValue={endpoint.description} />
              <fieldset className="field" style={{ border: 0, padding: 0, margin: "0 0 14px" }}>
                <legend className="label">Events (none ticked: all of them)</legend>
                <div className="checks">
                  {eventTypes.map((type) => (
                    <label className="check" key={type}>
                      <input type="checkbox" name="eventTypes" value={type} defaultChecked={endpoint.eventTypes.includes(type)} />
                      <code>{type}</code>
                    </label>
                  ))}
                </div>
              </fieldset>
              <button className="btn" name="intent" value="update">
                Save
              </button>
            </Form>
          </div>
        </div>

        <div className="card">
          <div className="card-head">
            <h2>Deliveries</h2>
            <Form method="get" className="row">
              <select name="status" defaultValue={status} aria-label="Status">
                <option value="">All</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
              <button className="btn btn-sm">Filter</button>
            </Form>
          </div>
          {deliveries.data.length === 0 ? (
            <EmptyState icon="key" title="No deliveries yet">
              Events of this tenant appear here as they are sent.
            </EmptyState>
          ) : (
            <DataTable
              label="Deliveries"
              columns={["Event", "Status", { label: "Attempts", hideSm: true }, { label: "Created", hideSm: true }, "Actions"]}
            >
              {deliveries.data.map((d) => (
                <tr key={d.id} data-delivery-id={d.id}>
                  <td>
                    <code>{d.eventType}</code>
                    <div className="faint small">webhook-id {d.webhookId}</div>
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                    {d.nextAttemptAt && d.status === "pending" ? (
                      <div className="faint small">next {formatDate(d.nextAttemptAt)}</div>
                    ) : null}
                  </td>
                  <td className="hide-sm small">
                    <details>
                      <summary>
                        {d.attempts} · last {d.lastResponseStatus ?? "no answer"}
                      </summary>
                      <ol>
                        {d.attemptLog.map((a, i) => (
                          <li key={i}>
                            {formatDate(a.attemptedAt)}: {a.responseStatus ?? "—"} in {a.durationMs} ms {a.error ? `· ${a.error}` : ""}
                            {a.responseBody ? <pre className="secret small">{a.responseBody}</pre> : null}
                          </li>
                        ))}
                      </ol>
                    </details>
                  </td>
                  <td className="hide-sm small">{formatDate(d.createdAt)}</td>
                  <td>
                    <Form method="post">
                      <input type="hidden" name="deliveryId" value={d.id} />
                      <button className="btn btn-sm" name="intent" value="resend">
                        Resend
                      </button>
                    </Form>
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
          <CursorPager basePath={`/webhooks/${endpoint.id}`} params={new URLSearchParams(search)} nextCursor={deliveries.nextCursor} />
        </div>

        <div className="card" style={{ maxWidth: 720 }}>
          <div className="card-head">
            <h2>Replay failed deliveries</h2>
          </div>
          <div className="card-body">
            <Form method="post" className="row">
              <Field label="Since (UTC)" name="since" type="datetime-local" required />
              <button className="btn" name="intent" value="replay">
                Replay
              </button>
            </Form>
          </div>
        </div>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
