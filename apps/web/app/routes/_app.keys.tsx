import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import {
  AD_HOC_POLICIES,
  AD_HOC_POLICY_LABELS,
  API_KEY_SCOPES,
  API_KEY_SCOPE_DESCRIPTIONS,
  type ApiKeyScope,
  DEFAULT_KEY_RATE_LIMITS,
  KEY_RATE_LIMIT_BUCKETS,
  KEY_RATE_LIMIT_LABELS,
} from "@approvalmatrix/core";
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
  const [keys, users, usage, settings] = await Promise.all([
    api.admin.apiKeys.list(),
    api.admin.users.list(),
    api.admin.apiKeys.usageSummary(),
    api.admin.settings.get(),
  ]);
  const names = new Map(users.map((u) => [`user:${u.id}`, u.name]));
  const usageByKey = new Map(usage.map((u) => [u.keyId, u.days]));
  const url = new URL(request.url);
  return {
    keys: keys.map((k) => ({
      ...k,
      createdByName: k.consent
        ? `${k.consent.userName} (consent)`
        : (names.get(k.createdBy) ?? (k.createdBy.startsWith("operator:") ? "Setup" : k.createdBy)),
      usage: usageByKey.get(k.id) ?? [],
    })),
    settings,
    adHocPolicies: AD_HOC_POLICIES.map((value) => ({ value, label: AD_HOC_POLICY_LABELS[value] })),
    buckets: KEY_RATE_LIMIT_BUCKETS.map((value) => ({
      value,
      label: KEY_RATE_LIMIT_LABELS[value],
      fallback: DEFAULT_KEY_RATE_LIMITS[value],
    })),
    origin: context.origin,
    rotate: url.searchParams.get("rotate"),
    edit: url.searchParams.get("edit"),
    // The checkboxes and their hints come from the one scope table in core (through the loader:
    // core's key hashing must stay out of the browser bundle).
    scopes: API_KEY_SCOPES.map((value) => ({ value, hint: API_KEY_SCOPE_DESCRIPTIONS[value] })),
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const intent = form.get("intent");
  const done = (message: string) => ({ ok: true as const, revoked: null, created: null, message });
  if (intent === "revoke") {
    const result = await attempt(() => api.admin.apiKeys.revoke({ id: formText(form, "id") }));
    if (!result.ok) return result.failure;
    return { ok: true as const, revoked: result.value.start, created: null, message: null };
  }
  if (intent === "disable" || intent === "enable") {
    const id = formText(form, "id");
    const result = await attempt(() => (intent === "disable" ? api.admin.apiKeys.disable({ id }) : api.admin.apiKeys.enable({ id })));
    if (!result.ok) return result.failure;
    return done(
      `Key ${result.value.start}… is ${result.value.status === "disabled" ? "disabled: calls with it are refused until you enable it" : "enabled again"}.`,
    );
  }
  if (intent === "reroll") {
    const grace = formText(form, "grace") as "none" | "1h" | "24h" | "7d";
    const result = await attempt(() => api.admin.apiKeys.reroll({ id: formText(form, "id"), grace }));
    if (!result.ok) return result.failure;
    const { key, previous } = result.value;
    return {
      ok: true as const,
      revoked: null,
      created: { key: key.key, name: key.name, id: key.id },
      message:
        grace === "none"
          ? `The old key ${previous.start}… stopped working now.`
          : `The old key ${previous.start}… keeps working until ${previous.expiresAt ?? ""}, then fails everywhere at once.`,
    };
  }
  if (intent === "settings") {
    const adHocRequests = formText(form, "adHocRequests") as (typeof AD_HOC_POLICIES)[number];
    const result = await attempt(() => api.admin.settings.update({ adHocRequests }));
    if (!result.ok) return result.failure;
    return done("Ad-hoc request setting saved.");
  }
  if (intent !== "create" && intent !== "update") return formFailure("Unknown action.");
  const name = formText(form, "name").trim();
  const scopes = form.getAll("scopes").map(String) as Scope[];
  const expires = formText(form, "expiresAt");
  const rate = formText(form, "rateLimitPerMinute").trim();
  const rateLimits: Partial<Record<(typeof KEY_RATE_LIMIT_BUCKETS)[number], number>> = {};
  for (const bucket of KEY_RATE_LIMIT_BUCKETS) {
    const value = formText(form, `limit-${bucket}`).trim();
    if (!value) continue;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
      return formFailure("Please fix the highlighted fields.", { [`limit-${bucket}`]: "A whole number from 1 to 1 000 000." });
    rateLimits[bucket] = n;
  }
  const allowAdHoc = form.get("allowAdHoc") === "on";
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
  if (intent === "update") {
    const updated = await attempt(() =>
      api.admin.apiKeys.update({
        id: formText(form, "id"),
        name,
        scopes,
        expiresAt: expiresAt ? expiresAt.toISOString() : null,
        rateLimitPerMinute: rateLimitPerMinute ?? null,
        rateLimits,
        allowAdHoc,
      }),
    );
    if (!updated.ok) return updated.failure;
    return done(`Key “${updated.value.name}” saved.`);
  }
  const result = await attempt(() =>
    api.admin.apiKeys.create({
      name,
      scopes,
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}),
      rateLimits,
      allowAdHoc,
    }),
  );
  if (!result.ok) return result.failure;
  return {
    ok: true as const,
    created: { key: result.value.key, name: result.value.name, id: result.value.id },
    revoked: null,
    message: null,
  };
}

export default function ApiKeys() {
  const { keys, origin, rotate, edit, scopes: SCOPES, settings, adHocPolicies, buckets } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const failure = result && !result.ok ? result : null;
  const created = result && result.ok ? result.created : null;
  const revoked = result && result.ok ? result.revoked : null;
  const message = result && result.ok ? result.message : null;
  const rotating = rotate ? keys.find((k) => k.id === rotate) : undefined;
  const editing = edit ? keys.find((k) => k.id === edit && k.status !== "revoked") : undefined;
  const template = editing ?? rotating;
  const busy =
    navigation.state === "submitting" &&
    navigation.formData !== undefined &&
    ["create", "update"].includes(formText(navigation.formData, "intent"));

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
      {message ? (
        <div style={{ marginBottom: 16 }} role="status" data-testid="keys-message">
          <Alert kind="ok">{message}</Alert>
        </div>
      ) : null}
      {keys.some((k) => k.expiresSoon) ? (
        <div style={{ marginBottom: 16 }} data-testid="expiry-warning">
          <Alert kind="warn" title="Keys expiring soon">
            {keys
              .filter((k) => k.expiresSoon)
              .map((k) => `“${k.name}” (${k.start}…) on ${formatDate(k.expiresAt)}`)
              .join("; ")}
            . Reroll or extend them before they stop working.
          </Alert>
        </div>
      ) : null}
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
                    <div className="faint small">{buckets.map((b) => `${b.value} ${key.rateLimits[b.value]}`).join(" · ")} /min</div>
                    {key.consent ? (
                      <div className="small" data-testid="key-consent">
                        Created by consent of {key.consent.userName} for agent “{key.consent.agentName}”
                      </div>
                    ) : null}
                    {key.replacedById && key.status === "active" ? (
                      <div className="small muted">Rerolled: works until {formatDate(key.expiresAt)}</div>
                    ) : null}
                    <UsageChart days={key.usage} />
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
                  <td className="hide-sm small">
                    {key.expiresAt ? formatDate(key.expiresAt) : <span className="faint">Never</span>}
                    {key.expiresSoon ? <span className="badge badge-warn"> soon</span> : null}
                  </td>
                  <td>
                    <StatusBadge status={key.status} />
                  </td>
                  <td className="actions">
                    {key.status === "disabled" && !key.replacedById ? (
                      <Form method="post" className="row" style={{ justifyContent: "flex-end" }}>
                        <input type="hidden" name="id" value={key.id} />
                        <button className="btn btn-sm" name="intent" value="enable" type="submit">
                          Enable
                        </button>
                      </Form>
                    ) : null}
                    {key.status === "active" && !key.replacedById ? (
                      <div className="row" style={{ justifyContent: "flex-end", flexWrap: "wrap", gap: 6 }}>
                        <a className="btn btn-sm" href={`/keys?edit=${key.id}#create`}>
                          Edit
                        </a>
                        <Form method="post" className="row" style={{ gap: 4, flexWrap: "nowrap" }}>
                          <input type="hidden" name="id" value={key.id} />
                          <label className="sr-only" htmlFor={`grace-${key.id}`}>
                            Old key keeps working for
                          </label>
                          <select id={`grace-${key.id}`} name="grace" defaultValue="24h" className="input-sm">
                            <option value="none">no grace</option>
                            <option value="1h">1 hour</option>
                            <option value="24h">24 hours</option>
                            <option value="7d">7 days</option>
                          </select>
                          <button
                            className="btn btn-sm"
                            name="intent"
                            value="reroll"
                            type="submit"
                            title="A new key replaces this one after the grace"
                          >
                            Reroll
                          </button>
                        </Form>
                        <Form method="post">
                          <input type="hidden" name="id" value={key.id} />
                          <button className="btn btn-sm" name="intent" value="disable" type="submit">
                            Disable
                          </button>
                        </Form>
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

        <AdHocSetting current={settings.adHocRequests} policies={adHocPolicies} />

        <div className="card" id="create" style={{ maxWidth: 720 }}>
          <div className="card-head">
            <h2>{editing ? `Edit “${editing.name}”` : rotating ? `Rotate “${rotating.name}”` : "Create a key"}</h2>
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
            <Form method="post" ref={form.formRef} noValidate onChange={form.onChange} key={editing?.id ?? "new"}>
              {editing ? <input type="hidden" name="id" value={editing.id} /> : null}
              <Field
                label="Name"
                name="name"
                required
                placeholder="e.g. ERP production"
                defaultValue={editing ? editing.name : rotating ? `${rotating.name} (rotated)` : ""}
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
                        defaultChecked={
                          template
                            ? template.scopes.includes(scope.value)
                            : scope.value !== "decisions:write" && scope.value !== "keys:write"
                        }
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
                  defaultValue={editing?.expiresAt ? editing.expiresAt.slice(0, 10) : ""}
                  hint="Leave empty for no expiry. The keys page warns a week before."
                />
                <Field
                  label="Rate limit per minute (every bucket)"
                  name="rateLimitPerMinute"
                  type="number"
                  min={1}
                  placeholder="per bucket"
                  defaultValue={template?.rateLimitPerMinute ? String(template.rateLimitPerMinute) : ""}
                  error={form.error("rateLimitPerMinute")}
                  hint="Empty: each bucket's own limit below."
                />
              </div>
              <div className="form-row">
                {buckets.map((b) => (
                  <Field
                    key={b.value}
                    label={`${b.label} per minute`}
                    name={`limit-${b.value}`}
                    type="number"
                    min={1}
                    placeholder={String(b.fallback)}
                    defaultValue={template && template.rateLimits[b.value] !== b.fallback ? String(template.rateLimits[b.value]) : ""}
                    error={form.error(`limit-${b.value}`)}
                    hint={`Default ${b.fallback}.`}
                  />
                ))}
              </div>
              <label className="check" style={{ marginBottom: 14 }}>
                <input type="checkbox" name="allowAdHoc" defaultChecked={template?.allowAdHoc ?? false} />
                <span>May address a request to one approver (when the tenant allows it for selected keys)</span>
              </label>
              <div className="form-actions">
                <SubmitButton busy={busy} busyLabel={editing ? "Saving…" : "Creating…"} name="intent" value={editing ? "update" : "create"}>
                  {editing ? "Save key" : "Create key"}
                </SubmitButton>
              </div>
            </Form>
          </div>
        </div>
      </div>
    </>
  );
}

/** Calls per day over the last 30 days, as 30 small bars (inline SVG: no chart library for this). */
function UsageChart({ days }: { days: { day: string; count: number }[] }) {
  const total = days.reduce((sum, d) => sum + d.count, 0);
  if (total === 0) return <div className="faint small">No calls in 30 days</div>;
  const max = Math.max(...days.map((d) => d.count));
  return (
    <figure style={{ margin: "4px 0 0" }} data-testid="usage-chart">
      <svg width={120} height={24} role="img" aria-label={`${total} calls in the last 30 days`}>
        {days.map((d, i) => {
          const h = d.count === 0 ? 0 : Math.max(1, Math.round((d.count / max) * 22));
          return (
            <rect key={d.day} x={i * 4} y={24 - h} width={3} height={h} fill="#6366f1">
              <title>{`${d.day}: ${d.count}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="faint small">{total} calls in 30 days</figcaption>
    </figure>
  );
}

/** Who may address a request to one approver instead of a matrix (owners change it). */
function AdHocSetting({ current, policies }: { current: string; policies: { value: string; label: string }[] }) {
  return (
    <div className="card" style={{ maxWidth: 720 }} id="ad-hoc">
      <div className="card-head">
        <h2>Requests addressed to one approver</h2>
      </div>
      <div className="card-body">
        <p className="muted small">
          A request may name its approver (approverRef or approverEmail) instead of going through a matrix. Internal service tokens always
          may.
        </p>
        <Form method="post" className="row" style={{ gap: 8 }}>
          <label className="sr-only" htmlFor="adHocRequests">
            Ad-hoc requests
          </label>
          <select id="adHocRequests" name="adHocRequests" defaultValue={current}>
            {policies.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
          <button className="btn btn-sm" type="submit" name="intent" value="settings">
            Save
          </button>
        </Form>
      </div>
    </div>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
