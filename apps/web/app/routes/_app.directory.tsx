import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { DEACTIVATION_POLICIES, type DeactivationPolicy } from "@approvalmatrix/core";
import { attempt, formFailure } from "../lib/api-errors.server";
import { requireUser } from "../lib/session.server";
import { formText } from "../lib/form";
import {
  ACTIONS_COLUMN,
  Alert,
  ConfirmAction,
  CopyButton,
  DataTable,
  EmptyState,
  Field,
  PageHead,
  StatusBadge,
  SubmitButton,
  formatDate,
} from "../components/ui";

export const meta: MetaFunction = () => [{ title: "Directory sync · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const [settings, tokens] = await Promise.all([api.admin.directory.settings(), api.admin.directory.scimTokens()]);
  return { settings, tokens, scimUrl: `${context.origin}/scim/v2` };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  const intent = form.get("intent");
  if (intent === "create-token") {
    const provider = formText(form, "provider").trim();
    if (!provider) return formFailure("Name the identity provider.", { provider: "Name the identity provider, e.g. Okta." });
    const result = await attempt(() => api.admin.directory.createScimToken({ provider }));
    if (!result.ok) return result.failure;
    return { ok: true as const, created: { token: result.value.token, provider: result.value.provider }, message: null };
  }
  if (intent === "revoke-token") {
    const result = await attempt(() => api.admin.directory.revokeScimToken({ id: formText(form, "id") }));
    if (!result.ok) return result.failure;
    return {
      ok: true as const,
      created: null,
      message: `Token ${result.value.start}… revoked: ${result.value.provider} can no longer sync.`,
    };
  }
  if (intent === "settings") {
    const externalRefSource = formText(form, "externalRefSource") === "employeeNumber" ? "employeeNumber" : "externalId";
    const policy = formText(form, "deactivationPolicy");
    const deactivationPolicy = DEACTIVATION_POLICIES.find((p): p is DeactivationPolicy => p === policy) ?? "manager";
    const result = await attempt(() => api.admin.directory.updateSettings({ externalRefSource, deactivationPolicy }));
    if (!result.ok) return result.failure;
    return { ok: true as const, created: null, message: "Settings saved." };
  }
  return formFailure("Unknown action.");
}

export default function DirectorySync() {
  const { settings, tokens, scimUrl } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const created = result?.ok ? result.created : null;
  const message = result?.ok ? result.message : null;
  const failure = result && !result.ok ? result : null;
  return (
    <>
      <PageHead
        title="Directory sync"
        description="Keep members in sync from your identity provider (Okta, Microsoft Entra ID) over SCIM 2.0: new hires appear, leavers are deactivated and their open approvals go to their manager."
      />
      {message ? <Alert kind="ok">{message}</Alert> : null}
      {failure ? <Alert kind="error">{failure.formError}</Alert> : null}
      {created ? (
        <div className="card" data-testid="scim-token">
          <div className="card-body stack">
            <Alert kind="warn" title={`SCIM token for ${created.provider}`}>
              Copy it now into {created.provider}: it is shown once and cannot be read again.
            </Alert>
            <pre className="secret" id="scim-token-value">
              {created.token}
            </pre>
            <div>
              <CopyButton text={created.token} targetId="scim-token-value" />
            </div>
          </div>
        </div>
      ) : null}
      <div className="grid-main-side">
        <div className="stack">
          <div className="card">
            <div className="card-head">
              <h2>SCIM tokens</h2>
            </div>
            {tokens.length === 0 ? (
              <EmptyState icon="users" title="No identity provider connected">
                Create a token, then give your identity provider the SCIM base URL and the token.
              </EmptyState>
            ) : (
              <DataTable label="SCIM tokens" columns={["Identity provider", "Token", "Created", "Last used", "Status", ACTIONS_COLUMN]}>
                {tokens.map((t) => (
                  <tr key={t.id}>
                    <td>{t.provider}</td>
                    <td>
                      <code>{t.start}…</code>
                    </td>
                    <td className="small">{formatDate(t.createdAt)}</td>
                    <td className="small">{t.lastUsedAt ? formatDate(t.lastUsedAt) : <span className="faint">never</span>}</td>
                    <td>
                      <StatusBadge status={t.revokedAt ? "revoked" : "active"} />
                    </td>
                    <td className="actions">
                      {t.revokedAt ? null : (
                        <ConfirmAction
                          small
                          label="Revoke"
                          title={`Revoke the ${t.provider} token?`}
                          body={`${t.provider} stops syncing on its next call. Members it synced stay as they are.`}
                          confirmLabel="Revoke"
                          intent="revoke-token"
                          fields={{ id: t.id }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
            <div className="card-body">
              <Form method="post" className="toolbar">
                <Field label="Identity provider" name="provider" placeholder="Okta" required error={failure?.fieldErrors.provider} />
                <SubmitButton busy={busy} busyLabel="Creating…" name="intent" value="create-token">
                  Create SCIM token
                </SubmitButton>
              </Form>
            </div>
          </div>
          <div className="card">
            <div className="card-head">
              <h2>Mapping</h2>
            </div>
            <div className="card-body">
              <Form method="post" className="stack">
                <Field label="externalRef comes from" name="externalRefSource">
                  <select name="externalRefSource" defaultValue={settings.externalRefSource}>
                    <option value="externalId">externalId (the identity provider's own id for the user)</option>
                    <option value="employeeNumber">employeeNumber (enterprise extension)</option>
                  </select>
                </Field>
                <Field
                  label="When a member is deactivated"
                  name="deactivationPolicy"
                  hint="The delegate is the end of their delegation chain in force (Delegations); with none, a loop or an inactive delegate, the manager takes them. The request's history records who took each approval and why."
                >
                  <select name="deactivationPolicy" defaultValue={settings.deactivationPolicy}>
                    <option value="manager">Their open approvals go to their manager</option>
                    <option value="delegate">Their open approvals go to their delegate (else their manager)</option>
                    <option value="none">Their open approvals stay with them</option>
                  </select>
                </Field>
                <div>
                  <SubmitButton busy={busy} busyLabel="Saving…" name="intent" value="settings">
                    Save mapping
                  </SubmitButton>
                </div>
              </Form>
            </div>
          </div>
        </div>
        <div className="card">
          <div className="card-head">
            <h2>Connect your identity provider</h2>
          </div>
          <div className="card-body stack small">
            <p>SCIM base URL (tenant URL):</p>
            <pre className="secret" id="scim-url">
              {scimUrl}
            </pre>
            <p>
              Authentication: <strong>HTTP header / Bearer token</strong>, the token created here. Users map to members (userName or the
              primary e-mail → email, displayName → name, active → active, enterprise department and manager), Groups to departments.
            </p>
            <p className="muted">Members synced this way show “synced from …” and their synced fields are read-only here.</p>
          </div>
        </div>
      </div>
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
