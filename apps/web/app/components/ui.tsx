import { Form, Link } from "@remix-run/react";
import {
  type ButtonHTMLAttributes,
  type CSSProperties,
  type ReactElement,
  type ReactNode,
  cloneElement,
  isValidElement,
  useRef,
  useState,
} from "react";
import { errorId, fieldId, useFocusOnResult } from "./form-errors";

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

/** Line icons (after Feather, MIT), drawn in currentColor: no emoji font needed. */
const ICONS = {
  search: (
    <>
      <circle cx="11" cy="11" r="7" />
      <path d="m21 21-4.35-4.35" />
    </>
  ),
  inbox: (
    <>
      <path d="M22 12h-6l-2 3h-4l-2-3H2" />
      <path d="M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z" />
    </>
  ),
  route: (
    <>
      <circle cx="12" cy="12" r="10" />
      <path d="m16.24 7.76-2.12 6.36-6.36 2.12 2.12-6.36 6.36-2.12z" />
    </>
  ),
  users: (
    <>
      <path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2" />
      <circle cx="9" cy="7" r="4" />
      <path d="M23 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75" />
    </>
  ),
  key: <path d="m21 2-2 2m-7.61 7.61a5.5 5.5 0 1 1-7.78 7.78 5.5 5.5 0 0 1 7.78-7.78zm0 0L15.5 7.5m0 0 3 3L22 7l-3-3m-3.5 3.5L19 4" />,
  log: (
    <>
      <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />
      <path d="M14 2v6h6M16 13H8M16 17H8M10 9H8" />
    </>
  ),
  check: <path d="M20 6 9 17l-5-5" />,
} as const;

export type IconName = keyof typeof ICONS;

export function Icon({ name, size = 22 }: { name: IconName; size?: number }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {ICONS[name]}
    </svg>
  );
}

export function EmptyState({ icon, title, children, action }: { icon: IconName; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-icon" aria-hidden="true">
        <Icon name={icon} />
      </div>
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

/**
 * A labelled input with its hint and inline error, wired for screen readers: the control gets a
 * stable id from its name (the error summary links to it), aria-invalid, and aria-describedby
 * pointing at the hint and the message. A custom control (select, textarea) is passed as the child
 * and gets the same attributes.
 */
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
  children?: ReactElement<Record<string, unknown>>;
} & React.InputHTMLAttributes<HTMLInputElement>) {
  const id = fieldId(name);
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId(name) : null, hint ? hintId : null].filter(Boolean).join(" ") || undefined;
  const aria = { id, "aria-invalid": error ? true : undefined, "aria-describedby": describedBy };
  return (
    <div className={`field${error ? " field-invalid" : ""}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      {children && isValidElement(children) ? cloneElement(children, aria) : <input name={name} {...aria} {...input} />}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="error" id={errorId(name)}>
          {error}
        </span>
      ) : null}
    </div>
  );
}

/** An email address that, when it must wrap, wraps before the @ first. */
export function Email({ address }: { address: string }) {
  const at = address.lastIndexOf("@");
  if (at <= 0) return <>{address}</>;
  return (
    <>
      {address.slice(0, at)}
      <wbr />
      {address.slice(at)}
    </>
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

/**
 * The confirmation after a submit (saved, created, decided). It takes focus when it appears or its
 * text changes, so focus does not drop to the top of the page after the form posts.
 */
export function ResultMessage({ message, gap = 16 }: { message: string; gap?: number }) {
  const ref = useFocusOnResult(message);
  return (
    <div style={{ marginBottom: gap }} tabIndex={-1} ref={ref}>
      <Alert kind="ok">{message}</Alert>
    </div>
  );
}

/**
 * A list column's heading: hidden on small screens, or read to screen readers only (the actions
 * column); `sort` makes it a link that sorts the list by it (`to`), showing the current direction.
 */
export type Column =
  string | { label: string; hideSm?: boolean; srOnly?: boolean; sort?: { to: string; current: "ascending" | "descending" | null } };

export const ACTIONS_COLUMN: Column = { label: "Actions", srOnly: true };

/**
 * A list as a table in a scrollable region that keyboard users can reach and screen readers name
 * (`label`); the rows are the children.
 */
/** The open stage's due date under its stage cell, flagged once it has passed (inbox, requests list). */
export function DueDate({ dueAt }: { dueAt: string | null | undefined }) {
  if (!dueAt) return null;
  return (
    <div className="faint small">
      due {formatDate(dueAt)}
      {Date.parse(dueAt) <= Date.now() ? (
        <>
          {" "}
          <span className="badge badge-danger">overdue</span>
        </>
      ) : null}
    </div>
  );
}

/** A request's first cell in a list: its title, linked to its page, over a faint detail line. */
export function RequestTitleCell({ requestId, title, children }: { requestId: string; title: string; children: ReactNode }) {
  return (
    <td>
      <Link to={`/requests/${requestId}`}>
        <strong>{title}</strong>
      </Link>
      <div className="faint small">{children}</div>
    </td>
  );
}

export function DataTable({
  label,
  columns,
  card = false,
  style,
  children,
}: {
  label: string;
  columns: Column[];
  /** The table is the card itself rather than sitting in one. */
  card?: boolean;
  style?: CSSProperties;
  children: ReactNode;
}) {
  return (
    <div className={card ? "card table-wrap" : "table-wrap"} tabIndex={0} role="region" aria-label={label} style={style}>
      <table>
        <thead>
          <tr>
            {columns.map((c) => {
              const { label: heading, hideSm = false, srOnly = false, sort } = typeof c === "string" ? { label: c } : c;
              return (
                <th key={heading} className={hideSm ? "hide-sm" : undefined} aria-sort={sort?.current ?? undefined}>
                  {srOnly ? (
                    <span className="sr-only">{heading}</span>
                  ) : sort ? (
                    <Link className="sort-link" to={sort.to} preventScrollReset>
                      {heading}
                      <span aria-hidden="true">{sort.current === "ascending" ? " ▲" : sort.current === "descending" ? " ▼" : " ↕"}</span>
                    </Link>
                  ) : (
                    heading
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
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
  enabled: "badge-ok",
  disabled: "badge-danger",
  succeeded: "badge-ok",
  failed: "badge-danger",
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

/**
 * A page header's on/off switch for something that routes (a matrix, a member): switching it off
 * asks first; switching it back on is harmless and posts at once. Both post `intent` with the id.
 */
export function ActiveToggle({
  active,
  id,
  onIntent,
  deactivate,
}: {
  active: boolean;
  id: string;
  /** The intent (and, capitalised, the label) of switching back on: "activate" or "reactivate". */
  onIntent: "activate" | "reactivate";
  deactivate: { title: string; body: ReactNode; confirmLabel: string };
}) {
  if (active) return <ConfirmAction label="Deactivate" intent="deactivate" fields={{ id }} {...deactivate} />;
  return (
    <Form method="post">
      <button className="btn" name="intent" value={onIntent}>
        {onIntent === "activate" ? "Activate" : "Reactivate"}
      </button>
    </Form>
  );
}

/** A form's primary button: while the form posts it is disabled and says what is happening. */
export function SubmitButton({
  busy,
  busyLabel,
  children,
  ...button
}: { busy: boolean; busyLabel: string; children: ReactNode } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button className="btn btn-primary" type="submit" {...button} disabled={busy}>
      {busy ? busyLabel : children}
    </button>
  );
}

/** A list filter's buttons: apply, and (once something is filtered) back to the whole list. */
export function FilterActions({ filtered, clearTo }: { filtered: boolean; clearTo: string }) {
  return (
    <>
      <button className="btn" type="submit">
        Filter
      </button>
      {filtered ? (
        <Link className="btn btn-link" to={clearTo}>
          Clear
        </Link>
      ) : null}
    </>
  );
}

/** Copies a secret shown once (a new key, a one-time password); says so for screen readers too. */
export function CopyButton({ text, targetId, label = "Copy" }: { text: string; targetId: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" className="btn btn-sm" aria-live="polite" onClick={() => void copy()}>
      {copied ? "Copied" : label}
    </button>
  );

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API unavailable (plain http on another host): select the text instead.
      const node = document.getElementById(targetId);
      if (node) {
        const range = document.createRange();
        range.selectNodeContents(node);
        window.getSelection()?.removeAllRanges();
        window.getSelection()?.addRange(range);
      }
    }
    setCopied(true);
  }
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
