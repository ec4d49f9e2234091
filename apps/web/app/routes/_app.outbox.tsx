import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useSearchParams } from "@remix-run/react";
import { Alert, CursorPager, DataTable, EmptyState, PageHead, StatusBadge, formatDate } from "../components/ui";
import { load } from "../lib/api-errors.server";
import { formText } from "../lib/form";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Outbox · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const before = new URL(request.url).searchParams.get("before") ?? undefined;
  const [page, settings] = await Promise.all([
    load(() => api.admin.notifications.outbox({ limit: 25, ...(before ? { before } : {}) })),
    api.admin.notifications.settings(),
  ]);
  return { ...page, settings };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const form = await request.formData();
  await api.admin.notifications.setTenantSwitch({ emailEnabled: formText(form, "emailEnabled") === "true" });
  return { ok: true as const };
}

/**
 * Every e-mail of the tenant as it was (or will be) sent, like Mailpit: without SMTP_URL this is
 * where messages stay, and their links work from here.
 */
export default function Outbox() {
  const { messages, nextCursor, delivery, settings } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  return (
    <>
      <PageHead
        title="Outbox"
        description="E-mails to approvers and submitters: written with the change that caused them, sent by the worker."
      />
      <div style={{ marginBottom: 16 }}>
        {delivery === "outbox" ? (
          <Alert kind="info" title="E-mail is not configured">
            No SMTP_URL is set, so messages are kept here and none are sent. Their Approve and Reject links work from this page.
          </Alert>
        ) : (
          <Alert kind="ok">Messages are sent through the SMTP server in SMTP_URL.</Alert>
        )}
      </div>
      <Form method="post" className="toolbar" style={{ marginBottom: 16 }}>
        <span>
          E-mail for this organization is <strong>{settings.emailEnabled ? "on" : "off"}</strong>.
        </span>
        <input type="hidden" name="emailEnabled" value={settings.emailEnabled ? "false" : "true"} />
        <button className="btn" type="submit">
          {settings.emailEnabled ? "Turn e-mail off" : "Turn e-mail on"}
        </button>
      </Form>
      {messages.length === 0 ? (
        <EmptyState icon="inbox" title="No messages yet">
          A message is written when a stage opens, a request is decided, a reminder or escalation is due.
        </EmptyState>
      ) : (
        <DataTable label="Messages" columns={["Message", "To", "Status", "Created"]} card>
          {messages.map((m) => (
            <tr key={m.id}>
              <td>
                <details>
                  <summary>
                    <strong>{m.subject}</strong>
                  </summary>
                  <pre className="mail-body" style={{ whiteSpace: "pre-wrap", maxWidth: 720 }}>
                    {m.text}
                  </pre>
                </details>
                <div className="faint small">
                  {m.kind.replace("_", " ")} · {m.id}
                </div>
              </td>
              <td>
                {m.recipientName}
                <div className="faint small">{m.to ?? "no address"}</div>
              </td>
              <td>
                <StatusBadge status={m.status} />
                {m.lastError ? <div className="faint small">{m.lastError}</div> : null}
              </td>
              <td>{formatDate(m.sentAt ?? m.createdAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <CursorPager basePath="/outbox" params={params} nextCursor={nextCursor} />
    </>
  );
}
