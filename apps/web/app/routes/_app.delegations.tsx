import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { Alert, DataTable, EmptyState, Field, PageHead, ResultMessage, StatusBadge, formatDate } from "../components/ui";
import { attempt } from "../lib/api-errors.server";
import { formText } from "../lib/form";
import { isAdmin, requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Delegations · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api, user } = requireUser(request, context);
  const list = await api.admin.delegations.list();
  return { delegations: list.data, admin: isAdmin(user), linked: Boolean(user.memberId) };
}

/** A date from the form (yyyy-mm-dd) as the start of that day in UTC; empty: none. */
function dayStart(value: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`).toISOString() : undefined;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api, user } = requireUser(request, context);
  const form = await request.formData();
  if (form.get("intent") === "revoke") {
    const result = await attempt(() => api.admin.delegations.revoke({ delegationId: formText(form, "id") }));
    return result.ok ? { ok: true as const, message: "Delegation ended; open stages went back." } : result.failure;
  }
  // Admins name anyone (empty: themselves); approvers always delegate for themselves.
  const memberRef = isAdmin(user) ? formText(form, "memberRef").trim() : "";
  const startsAt = dayStart(formText(form, "startsOn"));
  const endsOn = formText(form, "endsOn");
  // The end day is included: the delegation ends when it is over.
  const endsAt = dayStart(endsOn) ? new Date(new Date(`${endsOn}T00:00:00Z`).getTime() + 86_400_000).toISOString() : null;
  const result = await attempt(() =>
    api.admin.delegations.create({
      ...(memberRef ? { memberRef } : {}),
      delegateRef: formText(form, "delegateRef").trim(),
      ...(startsAt ? { startsAt } : {}),
      endsAt,
      reason: formText(form, "reason").trim() || null,
    }),
  );
  return result.ok
    ? { ok: true as const, message: `${result.value.delegate.name} now decides for ${result.value.member.name}.` }
    : result.failure;
}

/**
 * Out of office: while a delegation holds, the delegate receives the member's approvals (open ones
 * are re-pointed at once) and decides "for" them. Approvers manage their own; admins anyone's.
 */
export default function Delegations() {
  const { delegations, admin, linked } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <PageHead
        title="Delegations"
        description="Out of office: a delegate decides for you for a date range. Chains are followed; loops are refused; nobody ever approves their own request."
      />
      {result?.ok ? <ResultMessage message={result.message} /> : null}
      {result && !result.ok ? (
        <div style={{ marginBottom: 16 }}>
          <Alert kind="error">{result.formError}</Alert>
        </div>
      ) : null}
      <div className="card" style={{ marginBottom: 16, maxWidth: 640 }}>
        <div className="card-head">
          <h2>Set a delegate</h2>
        </div>
        <div className="card-body">
          <Form method="post" className="stack">
            {admin ? (
              <Field label="Member who is away (externalRef)" name="memberRef" hint="Empty: yourself." />
            ) : (
              <p className="muted">{linked ? "For yourself." : "Your account is not linked to a member."}</p>
            )}
            <Field label="Delegate (externalRef)" name="delegateRef" required hint="e.g. EMP-3002" />
            <Field label="From" name="startsOn" type="date" hint="Empty: from now." />
            <Field label="Until (inclusive)" name="endsOn" type="date" hint="Empty: until you end it." />
            <Field label="Reason" name="reason" />
            <button className="btn btn-primary" type="submit">
              Set delegate
            </button>
          </Form>
        </div>
      </div>
      {delegations.length === 0 ? (
        <EmptyState icon="inbox" title="No delegations" />
      ) : (
        <DataTable label="Delegations" columns={["Member", "Delegate", "From", "Until", "Status", "Actions"]} card>
          {delegations.map((d) => (
            <tr key={d.id}>
              <td>
                {d.member.name} <span className="faint">{d.member.ref}</span>
              </td>
              <td>
                {d.delegate.name} <span className="faint">{d.delegate.ref}</span>
              </td>
              <td>{formatDate(d.startsAt)}</td>
              <td>{d.endsAt ? formatDate(d.endsAt) : "until ended"}</td>
              <td>
                <StatusBadge status={d.revokedAt ? "revoked" : d.active ? "active" : "waiting"} />
              </td>
              <td>
                {!d.revokedAt ? (
                  <Form method="post">
                    <input type="hidden" name="intent" value="revoke" />
                    <input type="hidden" name="id" value={d.id} />
                    <button className="btn btn-sm" type="submit">
                      End
                    </button>
                  </Form>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}
