import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { attempt, formFailure } from "../lib/api-errors.server";
import { formText } from "../lib/form";
import { requireUser } from "../lib/session.server";
import { Alert, EmptyState, PageHead, formatDate } from "../components/ui";

export const meta: MetaFunction = () => [{ title: "Agent access · ApprovalMatrix" }];

type Scope = "requests:write" | "requests:read" | "decisions:write" | "keys:write";

/**
 * Where a person answers an agent that asked for a key with their email (agent bootstrap, like
 * RFC 8628's verification page): the agent's name, what it asks for, the code it shows, where it
 * came from. Approve with fewer scopes and an expiry, or deny. Any signed-in role: the scopes a
 * role may grant are filtered by the server.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context);
  const pending = await api.bootstrap.pending();
  return { pending, code: new URL(request.url).searchParams.get("code"), email: user.email };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context);
  const form = await request.formData();
  const bootstrapId = formText(form, "bootstrapId");
  if (form.get("intent") === "deny") {
    const result = await attempt(() => api.bootstrap.deny({ bootstrapId }));
    if (!result.ok) return result.failure;
    return { ok: true as const, message: "Denied. The agent gets no key." };
  }
  const scopes = form.getAll("scopes").map(String) as Scope[];
  if (scopes.length === 0) return formFailure("Grant at least one scope, or deny.", { scopes: "Pick at least one scope." });
  const days = Number(formText(form, "days") || "30");
  const result = await attempt(() => api.bootstrap.approve({ bootstrapId, scopes, keyExpiresInDays: days }));
  if (!result.ok) return result.failure;
  return {
    ok: true as const,
    message: `Approved: the agent can collect its key once, with ${result.value.grantedScopes.join(", ")}, valid until ${formatDate(result.value.keyExpiresAt)}.`,
  };
}

export default function Consent() {
  const { pending, code, email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <PageHead
        title="Agent access"
        description={`AI agents and tools that asked for an API key with your email (${email}). Check the code the agent shows you before you approve.`}
      />
      {result ? (
        <div style={{ marginBottom: 16 }} role="status" data-testid="consent-result">
          <Alert kind={result.ok ? "ok" : "error"}>{result.ok ? result.message : result.formError}</Alert>
        </div>
      ) : null}
      {pending.length === 0 ? (
        <EmptyState icon="key" title="No agent is waiting for your consent">
          When an agent starts a bootstrap with your email, it shows up here.
        </EmptyState>
      ) : (
        <div className="stack">
          {pending.map((p) => (
            <div
              className="card"
              key={p.id}
              data-bootstrap-id={p.id}
              style={{ maxWidth: 720, borderColor: code === p.userCode ? "#a5b4fc" : undefined }}
            >
              <div className="card-head">
                <h2>“{p.agentName}” asks for an API key</h2>
                <code data-testid="user-code">{p.userCode}</code>
              </div>
              <div className="card-body stack">
                <p className="small muted">
                  Asked {formatDate(p.createdAt)} from {p.clientIp ?? "an unknown address"}; expires {formatDate(p.expiresAt)}.
                  {code && code !== p.userCode ? " This is not the code of the link you followed." : ""}
                </p>
                {p.note ? <p>“{p.note}”</p> : null}
                <Form method="post" className="stack">
                  <input type="hidden" name="bootstrapId" value={p.id} />
                  <fieldset className="field" style={{ border: 0, padding: 0 }}>
                    <legend className="label">Scopes to grant</legend>
                    <div className="checks">
                      {p.scopes.map((scope) => {
                        const grantable = p.grantableScopes.includes(scope);
                        return (
                          <label className="check" key={scope}>
                            <input type="checkbox" name="scopes" value={scope} defaultChecked={grantable} disabled={!grantable} />
                            <span>
                              <code>{scope}</code>
                              {grantable ? null : <span className="muted small"> (your role cannot grant it)</span>}
                            </span>
                          </label>
                        );
                      })}
                    </div>
                  </fieldset>
                  <label className="field">
                    <span className="label">The key expires after</span>
                    <select name="days" defaultValue="30">
                      <option value="7">7 days</option>
                      <option value="30">30 days</option>
                      <option value="90">90 days</option>
                      <option value="365">1 year</option>
                    </select>
                  </label>
                  <div className="row" style={{ gap: 8 }}>
                    <button className="btn btn-primary" type="submit" name="intent" value="approve">
                      Approve
                    </button>
                    <button className="btn" type="submit" name="intent" value="deny">
                      Deny
                    </button>
                  </div>
                </Form>
              </div>
            </div>
          ))}
        </div>
      )}
    </>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
