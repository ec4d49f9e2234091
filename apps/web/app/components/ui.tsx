import { Form, Link } from "@remix-run/react";
import { type ReactNode, useId, useRef } from "react";

export function PageHead({
  title,
  description,
  actions,
  crumbs,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  crumbs?: ReactNode;
}) {
  return (
    <div className="page-head">
      <div>
        {crumbs ? <div className="crumbs">{crumbs}</div> : null}
        <h1>{title}</h1>
        {description ? <p>{description}</p> : null}
      </div>
      {actions ? <div className="row">{actions}</div> : null}
    </div>
  );
}

export function EmptyState({ icon, title, children, action }: { icon: string; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-icon" aria-hidden="true">
        {icon}
      </div>
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

/** A labelled input with its hint and inline error, wired for screen readers. */
export function Field({
  label,
  name,
  error,
  hint,
  children,
  ...input
}: {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: ReactNode;
  children?: ReactNode;
} & React.InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={children ? name : id}>{label}</label>
      {children ?? (
        <input
          id={id}
          name={name}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          {...input}
        />
      )}
      {hint && !error ? <span className="hint">{hint}</span> : null}
      {error ? (
        <span className="error" id={`${id}-error`} role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

export function Alert({ kind, title, children }: { kind: "error" | "ok" | "warn" | "info"; title?: string; children?: ReactNode }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      <div>
        {title ? <strong>{title}</strong> : null}
        {children}
      </div>
    </div>
  );
}

const STATUS_BADGE: Record<string, string> = {
  active: "badge-ok",
  approved: "badge-ok",
  pending: "badge-info",
  in_progress: "badge-brand",
  open: "badge-brand",
  waiting: "",
  expired: "badge-warn",
  inactive: "",
  revoked: "badge-danger",
  rejected: "badge-danger",
  cancelled: "",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${STATUS_BADGE[status] ?? ""}`}>{status.replace("_", " ")}</span>;
}

/**
 * A destructive action behind a confirmation dialog (native <dialog>: focus trap and Esc for
 * free). Without JavaScript the form still posts, with the server-side checks unchanged.
 */
export function ConfirmAction({
  label,
  title,
  body,
  confirmLabel,
  intent,
  fields,
  small,
}: {
  label: string;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  intent: string;
  fields: Record<string, string>;
  small?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" className={`btn btn-danger ${small ? "btn-sm" : ""}`} onClick={() => ref.current?.showModal()}>
        {label}
      </button>
      <dialog ref={ref} aria-labelledby={`${intent}-${fields.id ?? ""}-title`}>
        <Form method="post" onSubmit={() => ref.current?.close()}>
          <div className="card-body">
            <h2 id={`${intent}-${fields.id ?? ""}-title`}>{title}</h2>
            <p>{body}</p>
            {Object.entries(fields).map(([k, v]) => (
              <input key={k} type="hidden" name={k} value={v} />
            ))}
            <div className="form-actions" style={{ marginTop: 18 }}>
              <button type="button" className="btn" onClick={() => ref.current?.close()} autoFocus>
                Cancel
              </button>
              <button type="submit" name="intent" value={intent} className="btn btn-danger-solid">
                {confirmLabel}
              </button>
            </div>
          </div>
        </Form>
      </dialog>
    </>
  );
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return (
    d.toLocaleString("en-US", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) +
    " UTC"
  );
}

export function formatAmount(amount: number | null, currency: string | null): string {
  if (amount === null) return "—";
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: currency ?? "USD", maximumFractionDigits: 2 }).format(amount);
  } catch {
    return `${amount} ${currency ?? ""}`.trim();
  }
}

/** Newest / Older links for a list paged by a `before` cursor in the URL, keeping its filters. */
export function CursorPager({
  basePath,
  params,
  nextCursor,
}: {
  basePath: string;
  params: URLSearchParams;
  nextCursor: string | null | undefined;
}) {
  const paged = Boolean(params.get("before"));
  if (!nextCursor && !paged) return null;
  const older = new URLSearchParams(params);
  if (nextCursor) older.set("before", nextCursor);
  return (
    <div className="pager">
      <span />
      <span className="row">
        {paged ? (
          <Link className="btn btn-sm" to={basePath}>
            Newest
          </Link>
        ) : null}
        {nextCursor ? (
          <Link className="btn btn-sm" to={`${basePath}?${older.toString()}`}>
            Older →
          </Link>
        ) : null}
      </span>
    </div>
  );
}
