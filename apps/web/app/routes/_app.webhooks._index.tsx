import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { EVENT_TYPES, type EventType } from "@approvalmatrix/core";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { attempt, formFailure } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { Alert, CopyButton, DataTable, EmptyState, Field, PageHead, StatusBadge, SubmitButton, formatDate } from "../components/ui";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "Webhooks · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const [endpoints, queue] = await Promise.all([api.admin.webhooks.list(), api.admin.webhooks.queue()]);
  // The event catalogue comes from core through the loader (core stays out of the browser bundle).
  return { endpoints, queue, eventTypes: [...EVENT_TYPES] };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const url = formText(form, "url").trim();
  if (!url) return formFailure("Please fix the highlighted fields.", { url: "Enter the URL that receives the events." });
  const eventTypes = form.getAll("eventTypes").map(String) as EventType[];
  const result = await attempt(() => api.admin.webhooks.create({ url, description: formText(form, "description"), eventTypes }));
  if (!result.ok) return result.failure;
  return { ok: true as const, created: { id: result.value.id, url: result.value.url, secret: result.value.secret } };
}

export default function Webhooks() {
  const { endpoints, queue, eventTypes } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const created = result && result.ok ? result.created : null;
  const failure = result && !result.ok ? result : null;
  const disabled = endpoints.filter((e) => e.status === "disabled");
  return (
    <>
      <PageHead
        title="Webhooks"
        description="Your systems hear about every change as it happens: each event is POSTed to your endpoints, signed per Standard Webhooks, and retried for about three days when they are down."
      />
      {created ? (
        <div role="status" className="card" style={{ marginBottom: 16, borderColor: "#a5b4fc" }}>
          <div className="card-body stack">
            <h2>Signing secret of {created.url}</h2>
            <p className="muted">Copy it now into your receiver&apos;s configuration: it will not be shown again.</p>
            <div className="secret secret-copy">
              <code id="new-secret" data-testid="new-secret">
                {created.secret}
              </code>
              <CopyButton text={created.secret} targetId="new-secret" label="Copy secret" />
            </div>
            <Link to={`/webhooks/${created.id}`}>Open the endpoint, send a test →</Link>
          </div>
        </div>
      ) : null}
      {disabled.length > 0 ? (
        <div style={{ marginBottom: 16 }}>
          <Alert kind="warn" title={`${disabled.length} endpoint${disabled.length > 1 ? "s are" : " is"} disabled`}>
            {disabled.map((e) => (
              <span key={e.id} style={{ display: "block" }}>
                <Link to={`/webhooks/${e.id}`}>{e.url}</Link>: {e.disabledReason}
              </span>
            ))}
          </Alert>
        </div>
      ) : null}
      <div className="stack">
        <div className="card">
          <div className="card-head">
            <h2>Endpoints</h2>
            <span className="faint small" data-testid="delivery-queue">
              {deliveryQueueLine(queue)}
            </span>
          </div>
          {endpoints.length === 0 ? (
            <EmptyState icon="key" title="No webhook endpoints yet">
              Add the URL of a system that should hear about approvals as they happen.
            </EmptyState>
          ) : (
            <DataTable
              label="Webhook endpoints"
              columns={["URL", { label: "Events", hideSm: true }, { label: "Created", hideSm: true }, "Status"]}
            >
              {endpoints.map((endpoint) => (
                <tr key={endpoint.id} data-endpoint-id={endpoint.id}>
                  <td>
                    <Link to={`/webhooks/${endpoint.id}`}>
                      <strong>{endpoint.url}</strong>
                    </Link>
                    {endpoint.description ? <div className="faint small">{endpoint.description}</div> : null}
                  </td>
                  <td className="hide-sm small">{endpoint.eventTypes.length === 0 ? "All events" : endpoint.eventTypes.join(", ")}</td>
                  <td className="hide-sm small">{formatDate(endpoint.createdAt)}</td>
                  <td>
                    <StatusBadge status={endpoint.status} />
                    {endpoint.failingSince ? <div className="faint small">failing since {formatDate(endpoint.failingSince)}</div> : null}
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </div>
        <div className="card" style={{ maxWidth: 720 }}>
          <div className="card-head">
            <h2>Add an endpoint</h2>
          </div>
          <div className="card-body">
            {failure ? (
              <div style={{ marginBottom: 14 }}>
                <Alert kind="error">{failure.formError}</Alert>
              </div>
            ) : null}
            <Form method="post">
              <Field
                label="URL"
                name="url"
                required
                placeholder="https://erp.example.com/webhooks/approvalmatrix"
                error={failure?.fieldErrors.url}
              />
              <Field label="Description (optional)" name="description" placeholder="e.g. ERP production" />
              <fieldset className="field" style={{ border: 0, padding: 0, margin: "0 0 14px" }}>
                <legend className="label" style={{ marginBottom: 6 }}>
                  Events (none ticked: all of them)
                </legend>
                <div className="checks">
                  {eventTypes.map((type) => (
                    <label className="check" key={type}>
                      <input type="checkbox" name="eventTypes" value={type} />
                      <code>{type}</code>
                    </label>
                  ))}
                </div>
              </fieldset>
              <div className="form-actions">
                <SubmitButton busy={navigation.state === "submitting"} busyLabel="Adding…">
                  Add endpoint
                </SubmitButton>
              </div>
            </Form>
          </div>
        </div>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";

/** The delivery queue in a line: "3 deliveries waiting; 1 due now, the oldest for 4 s". */
function deliveryQueueLine(queue: { pending: number; due: number; oldestDueAgeMs: number | null }): string {
  if (queue.pending === 0) return "No deliveries waiting";
  const waiting = `${queue.pending} ${queue.pending === 1 ? "delivery" : "deliveries"} waiting`;
  if (queue.due === 0 || queue.oldestDueAgeMs === null) return `${waiting} (retries scheduled or being sent)`;
  return `${waiting}; ${queue.due} due now, the oldest for ${Math.round(queue.oldestDueAgeMs / 1000)} s`;
}
