import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction, data } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { Alert, SubmitButton, formatAmount } from "../components/ui";
import { formText } from "../lib/form";

/**
 * The page behind an e-mail's Approve / Reject link. No sign-in: the link is the credential. A GET
 * (which mail scanners do) only shows the request; only the confirm form's POST decides, and the
 * server's CSRF check refuses a POST that did not come from this page's origin.
 */
export const meta: MetaFunction = () => [{ title: "Confirm your decision · ApprovalMatrix" }, { name: "robots", content: "noindex" }];

export async function loader({ params, context }: LoaderFunctionArgs) {
  return context.publicApi.decisionLinks.view({ token: params.token ?? "" });
}

export async function action({ params, request, context }: ActionFunctionArgs) {
  const form = await request.formData();
  const decision = formText(form, "decision");
  if (decision !== "approved" && decision !== "rejected") return data({ formError: "Choose Approve or Reject." }, 400);
  const comment = formText(form, "comment").trim() || null;
  const page = await context.publicApi.decisionLinks.decide({ token: params.token ?? "", decision, comment });
  return data({ page }, page.decided ? 200 : 409);
}

export default function DecideByLink() {
  const viewed = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const busy = useNavigation().state !== "idle";
  const page = result && "page" in result ? result.page : viewed;
  const chosen = params.get("decision") === "rejected" ? "rejected" : "approved";
  const r = page.request;
  return (
    <main className="auth-page">
      <div className="auth-card" style={{ maxWidth: 520 }}>
        <div className="brand">
          <span className="brand-mark">A</span> ApprovalMatrix{page.tenantName ? ` · ${page.tenantName}` : ""}
        </div>
        <div className="card">
          <div className="card-body">
            <h1 style={{ marginBottom: 8 }}>{page.decided ? "Decision recorded" : "Confirm your decision"}</h1>
            {page.decided ? (
              <Alert kind="ok">
                {page.decided === "approved" ? "Approved" : "Rejected"}. Thank you{page.approverName ? `, ${page.approverName}` : ""}.
              </Alert>
            ) : page.message ? (
              <Alert kind="warn">{page.message}</Alert>
            ) : null}
            {result && "formError" in result ? <Alert kind="error">{result.formError}</Alert> : null}
            {r ? (
              <dl className="facts" style={{ margin: "16px 0" }}>
                <dt>Request</dt>
                <dd>{r.title}</dd>
                <dt>Amount</dt>
                <dd>{formatAmount(r.amount, r.currency)}</dd>
                <dt>Submitted by</dt>
                <dd>{r.submitterName}</dd>
                <dt>Matrix</dt>
                <dd>{r.matrixName}</dd>
                {r.stage ? (
                  <>
                    <dt>Stage</dt>
                    <dd>
                      {r.stage.name} ({r.stage.position} of {r.stage.total})
                    </dd>
                  </>
                ) : null}
                <dt>Status</dt>
                <dd>{r.status.replace("_", " ")}</dd>
              </dl>
            ) : null}
            {page.state === "usable" && !page.decided ? (
              <Form method="post">
                <p>
                  Deciding as <strong>{page.approverName}</strong>. Nothing is recorded until you press a button below.
                </p>
                <div className="field">
                  <label htmlFor="comment">Comment (optional)</label>
                  <textarea id="comment" name="comment" rows={3} maxLength={2000} />
                </div>
                <div style={{ display: "flex", gap: 8 }}>
                  <SubmitButton name="decision" value={chosen} busy={busy} busyLabel="Recording…">
                    {chosen === "approved" ? "Approve" : "Reject"}
                  </SubmitButton>
                  <button className="btn" type="submit" name="decision" value={chosen === "approved" ? "rejected" : "approved"}>
                    {chosen === "approved" ? "Reject instead" : "Approve instead"}
                  </button>
                </div>
              </Form>
            ) : null}
          </div>
        </div>
      </div>
    </main>
  );
}
