import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { API_KEY_SCOPES, API_KEY_SCOPE_DESCRIPTIONS, type ApiKeyScope } from "@approvalmatrix/core";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { attempt, formFailure } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { type FieldSpec, errorId, useFormErrors } from "../components/form-errors";
import {
  Alert,
  ConfirmAction,
  CopyButton,
  EmptyState,
  Field,
  PageHead,
  StatusBadge,
  formatDate,
  DataTable,
  ACTIONS_COLUMN,
  SubmitButton,
} from "../components/ui";
import { formText } from "../lib/form";

export const meta: MetaFunction = () => [{ title: "API keys · ApprovalMatrix" }];

type Scope = ApiKeyScope;

const KEY_FIELDS: Record<string, FieldSpec> = {
  name: { label: "Name", required: "Give the key a name, e.g. the system that will use it." },
  scopes: { label: "Scopes", required: "Pick at least one scope." },
  expiresAt: { label: "Expires on" },
  rateLimitPerMinute: { label: "Rate limit per minute" },
};

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const [keys, users] = await Promise.all([api.admin.apiKeys.list(), api.admin.users.list()]);
  const names = new Map(users.map((u) => [`user:${u.id}`, u.name]));
  const url = new URL(request.url);
  return {
    keys: keys.map((k) => ({
      ...k,
      createdByName: names.get(k.createdBy) ?? (k.createdBy.startsWith("operator:") ? "Setup" : k.createdBy),
    })),
    origin: context.origin,
    rotate: url.searchParams.get("rotate"),
    // The checkboxes and their hints come from the one scope table in core (through the loader:
    // core's key hashing must stay out of the browser bundle).
    scopes: API_KEY_SCOPES.map((value) => ({ value, hint: API_KEY_SCOPE_DESCRIPTIONS[value] })),
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const intent = form.get("intent");
  if (intent === "revoke") {
    const result = await attempt(() => api.admin.apiKeys.revoke({ id: formText(form, "id") }));
    if (!result.ok) return result.failure;
    return { ok: true as const, revoked: result.value.start, created: null };
  }
  if (intent !== "create") return formFailure("Unknown action.");
  const name = formText(form, "name").trim();
  const scopes = form.getAll("scopes").map(String) as Scope[];
  const expires = formText(form, "expiresAt");
  const rate = formText(form, "rateLimitPerMinute").trim();
  const fieldErrors: Record<string, string> = {};
  if (!name) fieldErrors.name = "Give the key a name, e.g. the system that will use it.";
  if (scopes.length === 0) fieldErrors.scopes = "Pick at least one scope.";
  const expiresAt = expires ? new Date(`${expires}T23:59:59Z`) : null;
  if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now()))
    fieldErrors.expiresAt = "Pick a date in the future.";
  const rateLimitPerMinute = rate ? Number(rate) : undefined;
  if (
    rateLimitPerMinute !== undefined &&
    (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1 || rateLimitPerMinute > 1_000_000)
  ) {
    fieldErrors.rateLimitPerMinute = "A whole number from 1 to 1 000 000.";
  }
  if (Object.keys(fieldErrors).length) return formFailure("Please fix the highlighted fields.", fieldErrors);
  const result = await attempt(() =>
    api.admin.apiKeys.create({
      name,
      scopes,
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}),
    }),
  );
  if (!result.ok) return result.failure;
  return { ok: true as const, created: { key: result.value.key, name: result.value.name, id: result.value.id }, revoked: null };
}

export default function ApiKeys() {
  const { keys, origin, rotate, scopes: SCOPES } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const failure = result && !result.ok ? result : null;
  const created = result && result.ok ? result.created : null;
  const revoked = result && result.ok ? result.revoked : null;
  const rotating = rotate ? keys.find((k) => k.id === rotate) : undefined;
  const busy = navigation.state === "submitting" && navigation.formData?.get("intent") === "create";

  const form = useFormErrors(failure, KEY_FIELDS);
  const createdRef = useRef<HTMLDivElement>(null);
  const revokedRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (created) form.formRef.current?.reset();
    // Focus follows the result: the new key (announced by its live region) or the revoke message.
    if (created) createdRef.current?.focus();
    else if (revoked) revokedRef.current?.focus();
  }, [created, revoked, form.formRef]);

  return (
    <>
      <PageHead
        title="API keys"
        description="Keys let your systems submit requests and read their status over the REST API. Each key belongs to this tenant and carries only the scopes you give it."
      />

      {/* Always rendered, so screen readers announce the key card when it appears in it. */}
      <div role="status" aria-live="polite" aria-atomic="true" data-testid="key-announcer">
        {created ? (
          <div className="card" style={{ marginBottom: 16, borderColor: "#a5b4fc" }} tabIndex={-1} ref={createdRef}>
            <div className="card-body stack">
              <div>
                <h2>Your new key “{created.name}”</h2>
                <p className="muted">Copy it now and store it in your secrets manager. For your security it will not be shown again.</p>
              </div>
              <div className="secret secret-copy">
                <code id="new-key" data-testid="new-key">
                  {created.key}
                </code>
                <CopyButton text={created.key} targetId="new-key" label="Copy key" />
              </div>
              <details>
                <summary className="small muted" style={{ cursor: "pointer" }}>
                  Try it with curl
                </summary>
                <pre className="secret small" style={{ whiteSpace: "pre-wrap", marginTop: 8 }}>{`curl -X POST ${origin}/v1/requests/test \\
  -H "Authorization: Bearer ${created.key}" \\
  -H "Content-Type: application/json" \\
  -d '{"submitterRef":"EMP-1042","requestType":"purchase_order","title":"Test","amount":100}'`}</pre>
              </details>
              {rotating ? (
                <Alert kind="info" title="Rotation: step 2 of 2">
                  Deploy the new key, then revoke “{rotating.name}” ({rotating.start}…) below.
                </Alert>
              ) : null}
            </div>
          </div>
        ) : null}
      </div>
      {revoked ? (
        <div style={{ marginBottom: 16 }} tabIndex={-1} ref={revokedRef}>
          <Alert kind="ok">Key {revoked}… was revoked. Calls with it are refused from now on.</Alert>
        </div>
      ) : null}

      <div className="stack">
        <div className="card">
          <div className="card-head">
            <h2>Keys</h2>
            <span className="muted small">{keys.filter((k) => k.status === "active").length} active</span>
          </div>
          {keys.length === 0 ? (
            <EmptyState icon="key" title="No API keys yet">
              Create a key for each system that submits requests; you can revoke any of them at any time.
            </EmptyState>
          ) : (
            <DataTable
              label="API keys"
              columns={[
                "Name",
                { label: "Key", hideSm: true },
                { label: "Scopes", hideSm: true },
                { label: "Created by", hideSm: true },
                { label: "Last used", hideSm: true },
                { label: "Expires", hideSm: true },
                "Status",
                ACTIONS_COLUMN,
              ]}
            >
              {keys.map((key) => (
                <tr key={key.id} data-key-id={key.id}>
                  <td>
                    <strong>{key.name}</strong>
                    <div className="faint small">{key.rateLimitPerMinute}/min</div>
                  </td>
                  <td className="hide-sm">
                    <code>{key.start}…</code>
                  </td>
                  <td className="hide-sm">
                    {key.scopes.map((s) => (
                      <span className="tag" key={s}>
                        {s}
                      </span>
                    ))}
                  </td>
                  <td className="hide-sm small">{key.createdByName}</td>
                  <td className="hide-sm small">{key.lastUsedAt ? formatDate(key.lastUsedAt) : <span className="faint">Never</span>}</td>
                  <td className="hide-sm small">{key.expiresAt ? formatDate(key.expiresAt) : <span className="faint">Never</span>}</td>
                  <td>
                    <StatusBadge status={key.status} />
                  </td>
                  <td className="actions">
                    {key.status === "active" ? (
                      <div className="row" style={{ justifyContent: "flex-end", flexWrap: "nowrap" }}>
                        <a className="btn btn-sm" href={`/keys?rotate=${key.id}#create`} title="Create a replacement, then revoke this one">
                          Rotate
                        </a>
                        <ConfirmAction
                          small
                          label="Revoke"
                          title={`Revoke “${key.name}”?`}
                          body={<>Every call made with {key.start}… will be refused with 401 immediately. This cannot be undone.</>}
                          confirmLabel="Revoke key"
                          intent="revoke"
                          fields={{ id: key.id }}
                        />
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </div>

        <div className="card" id="create" style={{ maxWidth: 720 }}>
          <div className="card-head">
            <h2>{rotating ? `Rotate “${rotating.name}”` : "Create a key"}</h2>
          </div>
          <div className="card-body">
            {rotating ? (
              <div style={{ marginBottom: 14 }}>
                <Alert kind="info" title="Rotation: step 1 of 2">
                  Create the replacement with the same scopes. The old key keeps working until you revoke it.
                </Alert>
              </div>
            ) : null}
            {form.summary ? <div style={{ marginBottom: 14 }}>{form.summary}</div> : null}
            <Form method="post" ref={form.formRef} noValidate onChange={form.onChange}>
              <Field
                label="Name"
                name="name"
                required
                placeholder="e.g. ERP production"
                defaultValue={rotating ? `${rotating.name} (rotated)` : ""}
                error={form.error("name")}
              />
              <fieldset
                className="field"
                style={{ border: 0, padding: 0, margin: "0 0 14px" }}
                data-field="scopes"
                id="field-scopes"
                tabIndex={-1}
                aria-invalid={form.error("scopes") ? true : undefined}
                aria-describedby={form.error("scopes") ? errorId("scopes") : undefined}
              >
                <legend className="label" style={{ marginBottom: 6 }}>
                  Scopes
                </legend>
                <div className="checks">
                  {SCOPES.map((scope) => (
                    <label className="check" key={scope.value}>
                      <input
                        type="checkbox"
                        name="scopes"
                        value={scope.value}
                        defaultChecked={rotating ? rotating.scopes.includes(scope.value) : scope.value !== "decisions:write"}
                      />
                      <span>
                        <code>{scope.value}</code>
                        <span className="muted small" style={{ display: "block" }} data-testid={`scope-hint-${scope.value}`}>
                          {scope.hint}
                        </span>
                      </span>
                    </label>
                  ))}
                </div>
                {form.error("scopes") ? (
                  <span className="error" id={errorId("scopes")}>
                    {form.error("scopes")}
                  </span>
                ) : null}
              </fieldset>
              <div className="form-row">
                <Field
                  label="Expires on (optional)"
                  name="expiresAt"
                  type="date"
                  error={form.error("expiresAt")}
                  hint="Leave empty for no expiry."
                />
                <Field
                  label="Rate limit per minute"
                  name="rateLimitPerMinute"
                  type="number"
                  min={1}
                  placeholder="60"
                  defaultValue={rotating ? String(rotating.rateLimitPerMinute) : ""}
                  error={form.error("rateLimitPerMinute")}
                  hint="Default 60."
                />
              </div>
              <div className="form-actions">
                <SubmitButton busy={busy} busyLabel="Creating…" name="intent" value="create">
                  Create key
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
