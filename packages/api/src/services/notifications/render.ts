/**
 * The e-mail templates: plain text and HTML from the same facts. Every value that came from a
 * person (titles, names, comments) is escaped in the HTML part.
 */
import type { MessageKind } from "@approvalmatrix/core";

export interface MessageFacts {
  kind: MessageKind;
  tenantName: string;
  recipientName: string;
  request: {
    id: string;
    title: string;
    requestType: string;
    amount: number | null;
    currency: string | null;
    submitterName: string;
    matrixName: string;
    status: string;
  } | null;
  stage: { position: number; name: string; total: number; dueAt: Date | null } | null;
  /** One-click links (approvers only). */
  links: { approve: string; reject: string } | null;
  /** The request's page in the admin app. */
  requestUrl: string | null;
  data: Record<string, unknown>;
  /** For a digest: the messages it carries, already rendered as one line each. */
  digestLines?: string[];
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const HTML_SPECIAL = /[&<>"']/;

export function escapeHtml(value: string): string {
  // Most values (names, titles, links) need no escaping: test before replacing.
  return HTML_SPECIAL.test(value) ? value.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c) : value;
}

// Built once: toLocaleString with options builds a new formatter (ICU) on every call.
const AMOUNT_FORMAT = new Intl.NumberFormat("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 2 });

export function formatAmount(amount: number | null, currency: string | null): string {
  if (amount === null) return "no amount";
  return `${AMOUNT_FORMAT.format(amount)} ${currency ?? ""}`.trim();
}

function ask(f: MessageFacts): { subject: string; lead: string; askLine: string | null } {
  const title = f.request?.title ?? "a request";
  const stage = f.stage ? `${f.stage.name} (stage ${f.stage.position} of ${f.stage.total})` : "";
  switch (f.kind) {
    case "stage_opened":
      return {
        subject: `Approval needed: ${title}`,
        lead: `${f.request?.submitterName ?? "Someone"} asks for your approval at ${stage}.`,
        askLine: "Please approve or reject this request.",
      };
    case "reminder":
      return {
        subject: `Reminder: approval needed: ${title}`,
        lead: `This request still waits for your decision at ${stage}.`,
        askLine: "Please approve or reject this request.",
      };
    case "escalated":
      return {
        subject: `Escalated to you: ${title}`,
        lead: `This request was escalated to you at ${stage}${typeof f.data.from === "string" ? ` (it waited on ${f.data.from})` : ""}.`,
        askLine: "Please approve or reject this request.",
      };
    case "reassigned":
      return {
        subject: `Assigned to you: ${title}`,
        lead: `This request was assigned to you at ${stage}${typeof f.data.reason === "string" ? `: ${f.data.reason}` : ""}.`,
        askLine: "Please approve or reject this request.",
      };
    case "outcome":
      return {
        subject: `Your request was ${f.request?.status ?? String(f.data.outcome)}: ${title}`,
        lead: `Your request "${title}" was ${f.request?.status ?? String(f.data.outcome)}.`,
        askLine: null,
      };
    case "digest":
      return {
        subject: `Your daily approvals digest: ${f.digestLines?.length ?? 0} waiting for you`,
        lead: "These approvals, queued since your last digest, still wait for your decision:",
        askLine: null,
      };
  }
}

const subjectLine = (f: MessageFacts, subject: string) => `[${f.tenantName}] ${subject}`;

/** The subject line alone: what the sender records for a message it keeps (the Outbox page renders the body when shown). */
export function renderSubject(f: MessageFacts): string {
  return subjectLine(f, ask(f).subject);
}

export function renderMessage(f: MessageFacts): RenderedMessage {
  const { subject, lead, askLine } = ask(f);
  const facts: [string, string][] = f.request
    ? [
        ["Request", f.request.title],
        ["Type", f.request.requestType],
        ["Amount", formatAmount(f.request.amount, f.request.currency)],
        ["Submitted by", f.request.submitterName],
        ["Matrix", f.request.matrixName],
        ...(f.stage ? ([["Stage", `${f.stage.name} (${f.stage.position} of ${f.stage.total})`]] as [string, string][]) : []),
        ...(f.stage?.dueAt ? ([["Due", f.stage.dueAt.toISOString().replace(".000Z", "Z")]] as [string, string][]) : []),
      ]
    : [];
  const text = [
    `Hello ${f.recipientName},`,
    "",
    lead,
    "",
    ...facts.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`),
    ...(f.digestLines?.length ? f.digestLines.map((l) => `- ${l}`) : []),
    "",
    ...(askLine ? [askLine] : []),
    ...(f.links
      ? [
          `Approve: ${f.links.approve}`,
          `Reject:  ${f.links.reject}`,
          "(Each link opens a page where you confirm; nothing is decided until you do.)",
        ]
      : []),
    ...(f.requestUrl ? [`Open in ApprovalMatrix: ${f.requestUrl}`] : []),
    "",
    `— ApprovalMatrix for ${f.tenantName}`,
  ].join("\n");
  const rows = facts
    .map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0;color:#555">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("");
  const button = (href: string, label: string, color: string) =>
    `<a href="${escapeHtml(href)}" style="display:inline-block;padding:8px 16px;margin-right:8px;border-radius:6px;background:${color};color:#fff;text-decoration:none">${label}</a>`;
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111">
<p>Hello ${escapeHtml(f.recipientName)},</p>
<p>${escapeHtml(lead)}</p>
${rows ? `<table>${rows}</table>` : ""}
${f.digestLines?.length ? `<ul>${f.digestLines.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>` : ""}
${askLine ? `<p>${escapeHtml(askLine)}</p>` : ""}
${f.links ? `<p>${button(f.links.approve, "Approve", "#15803d")}${button(f.links.reject, "Reject", "#b91c1c")}</p><p style="color:#555;font-size:12px">Each button opens a page where you confirm; nothing is decided until you do.</p>` : ""}
${f.requestUrl ? `<p><a href="${escapeHtml(f.requestUrl)}">Open in ApprovalMatrix</a></p>` : ""}
<p style="color:#555">— ApprovalMatrix for ${escapeHtml(f.tenantName)}</p>
</body></html>`;
  return { subject: subjectLine(f, subject), text, html };
}
