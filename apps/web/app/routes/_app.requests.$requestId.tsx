import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Fragment, useRef } from "react";
import { type FieldSpec, type FormFailureView, useFormErrors } from "../components/form-errors";
import { LeaveGuard, RestoredNotice, useFormDraft } from "../components/unsaved";
import { Field, PageHead, StatusBadge, formatAmount, formatDate, ResultMessage } from "../components/ui";
import { attempt, formFailure, load } from "../lib/api-errors.server";
import { isAdmin, requireUser } from "../lib/session.server";
import { formText } from "../lib/form";
import { must } from "@approvalmatrix/core/must";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.request.title ?? "Request"} · ApprovalMatrix` }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context);
  const requestId = must(params.requestId);
  const [view, receipts] = await Promise.all([
    load(() => api.admin.requests.get({ requestId })),
    load(() => api.admin.receipts.forRequest({ requestId })),
  ]);
  return { request: view, receipts, admin: isAdmin(user) };
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { api } = requireUser(request, context);
  const form = await request.formData();
  if (form.get("intent") === "reassign") {
    const reason = formText(form, "reason").trim();
    if (!reason) return formFailure("Say why the approver changes.", { reason: "A reason is required." });
    const result = await attempt(() =>
      api.admin.delegations.reassign({
        requestId: must(params.requestId),
        fromRef: formText(form, "fromRef"),
        toRef: formText(form, "toRef").trim(),
        reason,
      }),
    );
    if (!result.ok) return result.failure;
    return { ok: true as const, reassigned: `${result.value.fromRef} → ${result.value.toRef}` };
  }
  const decision = form.get("decision");
  if (decision !== "approved" && decision !== "rejected") return formFailure("Choose approve or reject.");
  const comment = formText(form, "comment").trim();
  if (decision === "rejected" && !comment)
    return formFailure("Say why you reject it: the submitter will see your comment.", { comment: "A comment is required to reject." });
  const result = await attempt(() => api.admin.requests.decide({ requestId: must(params.requestId), decision, comment: comment || null }));
  if (!result.ok) return result.failure;
  return { ok: true as const, decision };
}

const DECISION_FIELDS: Record<string, FieldSpec> = { comment: { label: "Comment", required: "Say why you reject it." } };

export function DecisionForm({ failure }: { failure: FormFailureView | null }) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const form = useFormErrors(failure, DECISION_FIELDS);
  // A typed comment survives an expired session: it is restored after signing in again.
  const draft = useFormDraft(form.formRef, false);
  const confirmRef = useRef<HTMLDialogElement>(null);
  return (
    <Form
      method="post"
      className="stack"
      id="decision-form"
      ref={form.formRef}
      noValidate
      onChange={(e) => {
        form.onChange(e);
        draft.onChange();
      }}
    >
      <LeaveGuard dirty={draft.dirty} />
      {draft.restored ? <RestoredNotice onDiscard={draft.discard} /> : null}
      {form.summary}
      <Field label="Comment" name="comment" error={form.error("comment")}>
        <textarea name="comment" rows={3} placeholder="Optional when approving; required when rejecting." />
      </Field>
      <div className="row decision-buttons">
        <button className="btn btn-ok" name="decision" value="approved" disabled={busy}>
          Approve
        </button>
        <button className="btn btn-danger" type="button" disabled={busy} onClick={() => confirmRef.current?.showModal()}>
          Reject
        </button>
      </div>
      <dialog ref={confirmRef} aria-labelledby="reject-title">
        <div className="card-body">
          <h2 id="reject-title">Reject this request?</h2>
          <p>The request ends as rejected for every stage, and the submitter sees your comment. This cannot be undone.</p>
          <div className="form-actions" style={{ marginTop: 18 }}>
            <button type="button" className="btn" autoFocus onClick={() => confirmRef.current?.close()}>
              Cancel
            </button>
            <button
              type="submit"
              className="btn btn-danger-solid"
              name="decision"
              value="rejected"
              onClick={() => confirmRef.current?.close()}
            >
              Reject request
            </button>
          </div>
        </div>
      </dialog>
    </Form>
  );
}

export default function RequestPage() {
  const data = useLoaderData<typeof loader>();
  const { request: r, admin } = data;
  const result = useActionData<typeof action>();
  const failure = result && !result.ok ? result : null;
  const closed = r.status === "approved" || r.status === "rejected" || r.status === "cancelled" || r.status === "expired";

  type Event = { key: string; kind: "ok" | "danger" | "accent" | ""; title: string; when: string | null; comment?: string | null };
  const events: Event[] = [
    {
      key: "submitted",
      kind: "accent",
      title: `Submitted by ${r.submitterName} (${r.submitterRef}), routed by “${r.matrixName}”`,
      when: r.createdAt,
    },
  ];
  for (const d of r.decisions) {
    const stage = r.stages.find((s) => s.stage === d.stage);
    events.push({
      key: `${d.stage}-${d.decidedByRef}`,
      kind: d.decision === "approved" ? "ok" : "danger",
      // "Slack bot acting for Jane Smith" (a service token or a key recorded the approver's decision);
      // a delegate's decision reads "Bob Lee for Jane Smith".
      title: `${d.delegate ? `${d.delegate.name} for ` : d.actor.type !== "user" ? `${d.actor.name} acting for ` : ""}${d.decidedBy} ${d.decision} stage ${d.stage}${stage ? ` · ${stage.name}` : ""}`,
      when: d.decidedAt,
      comment: d.comment,
    });
  }
  if (closed)
    events.push({
      key: "final",
      kind: r.status === "approved" ? "ok" : r.status === "rejected" ? "danger" : "",
      title: r.status === "cancelled" ? `Cancelled${r.cancelReason ? `: ${r.cancelReason}` : ""}` : `Request ${r.status}`,
      when: r.updatedAt,
    });

  return (
    <>
      <PageHead
        title={r.title}
        crumbs={<Link to="/requests">Requests</Link>}
        description={
          <>
            <StatusBadge status={r.status} /> <code>{r.requestId}</code>
          </>
        }
      />
      {result?.ok ? (
        <ResultMessage
          message={
            "reassigned" in result ? `Approver reassigned (${result.reassigned}).` : `Your decision (${result.decision}) was recorded.`
          }
        />
      ) : null}
      <div className="card" style={{ marginBottom: 16 }}>
        <div className="card-head">
          <h2>Progress</h2>
          <span className="muted small">
            {closed ? "Finished" : r.currentStage ? `Waiting on stage ${r.currentStage} of ${r.totalStages}` : ""}
          </span>
        </div>
        <ol className="tracker" aria-label="Stages" data-testid="stage-tracker" style={{ listStyle: "none", margin: 0 }}>
          <li className="tracker-step done">
            <div className="tracker-dot" aria-hidden="true">
              ✓
            </div>
            <div className="tracker-label">Submitted</div>
            <div className="tracker-sub">{formatDate(r.createdAt)}</div>
          </li>
          {r.stages.map((s) => {
            const cls = s.status === "approved" ? "done" : s.status === "rejected" ? "failed" : s.status === "open" ? "current" : "";
            return (
              <li key={s.stage} className={`tracker-step ${cls}`} aria-current={s.status === "open" ? "step" : undefined}>
                <div className="tracker-dot" aria-hidden="true">
                  {s.status === "approved" ? "✓" : s.status === "rejected" ? "✕" : s.stage}
                </div>
                <div className="tracker-label">{s.name}</div>
                <div className="tracker-sub">
                  {s.status === "open" ? `waiting on ${s.pendingApprovers.map((a) => a.name).join(", ")}` : s.status}
                </div>
                <div className="tracker-sub faint">
                  {s.rule === "quorum" ? `quorum ${s.quorum}` : s.rule === "all" ? "all must approve" : "any one approves"}
                </div>
              </li>
            );
          })}
          <li className={`tracker-step ${r.status === "approved" ? "done" : r.status === "rejected" ? "failed" : ""}`}>
            <div className="tracker-dot" aria-hidden="true">
              {r.status === "approved" ? "✓" : r.status === "rejected" ? "✕" : "•"}
            </div>
            <div className="tracker-label">{closed ? r.status.charAt(0).toUpperCase() + r.status.slice(1) : "Outcome"}</div>
            <div className="tracker-sub">{closed ? formatDate(r.updatedAt) : "pending"}</div>
          </li>
        </ol>
      </div>
      <div className="grid-main-side">
        <div className="card">
          <div className="card-head">
            <h2>Timeline</h2>
          </div>
          <ol className="timeline" data-testid="timeline" style={{ paddingTop: 16 }}>
            {events.map((e) => (
              <li key={e.key}>
                <span className={`dot ${e.kind}`} />
                <div>{e.title}</div>
                <div className="when">{formatDate(e.when)}</div>
                {e.comment ? <div className="comment">“{e.comment}”</div> : null}
              </li>
            ))}
          </ol>
        </div>
        <div className="stack" style={{ marginTop: 0 }}>
          {r.canDecide ? (
            <div className="card">
              <div className="card-head">
                <h2>Your decision</h2>
              </div>
              <div className="card-body">
                <DecisionForm failure={failure} />
              </div>
            </div>
          ) : null}
          <ReceiptsCard verification={data.receipts} />
          {admin && !closed && r.pendingApprovers.length ? (
            <div className="card">
              <div className="card-head">
                <h2>Reassign an approver</h2>
              </div>
              <div className="card-body">
                <Form method="post" className="stack">
                  <input type="hidden" name="intent" value="reassign" />
                  <Field label="Approver" name="fromRef">
                    <select name="fromRef">
                      {r.pendingApprovers.map((a) => (
                        <option key={a.ref} value={a.ref}>
                          {a.name} ({a.ref})
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field label="New approver (externalRef)" name="toRef" hint="e.g. EMP-3002" />
                  <Field label="Reason" name="reason" hint="Kept in the audit log and told to the new approver." />
                  <button className="btn" type="submit">
                    Reassign
                  </button>
                </Form>
              </div>
            </div>
          ) : null}
          <div className="card">
            <div className="card-head">
              <h2>Details</h2>
            </div>
            <div className="card-body">
              <dl className="props">
                <dt>Type</dt>
                <dd>
                  <code>{r.requestType}</code>
                </dd>
                <dt>Amount</dt>
                <dd>{formatAmount(r.amount, r.currency)}</dd>
                <dt>Submitter</dt>
                <dd>
                  {r.submitterName} <span className="faint">{r.submitterRef}</span>
                </dd>
                <dt>Matrix</dt>
                <dd>{r.matrixName}</dd>
                {Object.entries(r.metadata).map(([k, v]) => (
                  <Fragment key={k}>
                    <dt>{k}</dt>
                    <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
                  </Fragment>
                ))}
              </dl>
            </div>
          </div>
        </div>
      </div>
    </>
  );
}

type Verification = ReturnType<typeof useLoaderData<typeof loader>>["receipts"];

/** Each signed receipt: what it says, whether it verifies now, and a download for offline checking. */
function ReceiptsCard({ verification }: { verification: Verification }) {
  if (verification.receipts.length === 0) return null;
  return (
    <div className="card" data-testid="receipts">
      <div className="card-head">
        <h2>Signed receipts</h2>
        <span className={`badge ${verification.valid ? "badge-ok" : "badge-danger"}`} data-testid="receipts-state">
          {verification.valid ? "verified" : "NOT verified"}
        </span>
      </div>
      <div className="card-body">
        <ul className="stack" style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {verification.receipts.map((receipt) => {
            const body = receipt.body;
            // A signed-in user decides as their own member; anything else acts for the approver.
            const who =
              body?.kind === "decision"
                ? body.actor.type === "user"
                  ? body.approver.name
                  : `${body.actor.name} acting for ${body.approver.name}`
                : (body?.actor.name ?? "");
            return (
              <li key={receipt.id} data-testid={`receipt-${receipt.position}`}>
                <div>
                  <strong>{body ? body.meaning.charAt(0).toUpperCase() + body.meaning.slice(1) : receipt.kind}</strong>
                  {body?.stage ? ` · stage ${body.stage.position} (${body.stage.name})` : ""} · {who}
                </div>
                <div className="small muted">
                  {formatDate(body?.decidedAt)} · log entry {receipt.position} · key{" "}
                  <code>{receipt.envelope.signatures[0]?.keyid.slice(0, 12)}…</code> ·{" "}
                  <span data-testid={`receipt-${receipt.position}-state`}>
                    {receipt.valid ? "verified" : `not verified: ${receipt.reasons.join(" ")}`}
                  </span>
                </div>
                <a className="btn btn-sm" href={`/requests/${verification.requestId}/receipts/${receipt.position}.json`} download>
                  Download receipt (JSON)
                </a>
              </li>
            );
          })}
        </ul>
        <p className="small faint" style={{ marginTop: 12 }}>
          Anyone can check these without an account: <code>GET /v1/requests/{verification.requestId}/verify</code>, keys at{" "}
          <code>{verification.keySetUrl}</code>.
        </p>
      </div>
    </div>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
