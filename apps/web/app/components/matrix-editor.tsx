import type { DeadlineAction } from "@approvalmatrix/core/deadlines";
import type { StageRule } from "@approvalmatrix/core/approvers";
import { Form, Link, type ShouldRevalidateFunction, useFetcher, useLocation, useNavigation } from "@remix-run/react";
import { useEffect, useMemo, useState } from "react";
import type { MatrixDetail, MatrixPreview } from "../lib/api-types";
import { type FieldSpec, type FormFailureView, humanizeIssue, useFormErrors } from "./form-errors";
import { LeaveGuard, RestoredNotice, useStateDraft } from "./unsaved";
import { Alert, Field } from "./ui";
import { must } from "@approvalmatrix/core/must";

export interface StageDraft {
  name: string;
  approverType: "members" | "manager" | "department";
  memberRefs: string;
  department: string;
  rule: StageRule;
  quorum: string;
  /** Deadline: empty dueIn means none. */
  dueIn: string;
  remindBefore: string;
  remindEvery: string;
  onDeadline: DeadlineAction;
  fallbackRefs: string;
  /** Count dueIn in business hours (Mon–Fri 09:00–17:00 UTC). */
  businessHours: boolean;
}

/** Typed by core's union, so a new action cannot be forgotten here (core itself stays out of the bundle). */
const DEADLINE_ACTION_CHOICES: Record<DeadlineAction, string> = {
  none: "Nothing (stays overdue)",
  escalate: "Escalate to the manager (or fallback)",
  auto_approve: "Approve automatically",
  auto_reject: "Reject automatically",
};

export interface MatrixDraft {
  name: string;
  requestType: string;
  minAmount: string;
  maxAmount: string;
  currency: string;
  priority: string;
  conditions: string;
  stages: StageDraft[];
}

/** Where the editor's live preview posts (a dry run: no page reloads after it). */
export const PREVIEW_ACTION = "/matrices/preview";

/**
 * The live preview is a dry run that changes nothing: reloading the layout and the page after
 * each preview would only cost queries, and once the session has expired it would throw the page,
 * with its unsaved draft, to the sign-in form. The layout and the editor pages export this.
 */
export const skipPreviewRevalidation: ShouldRevalidateFunction = ({ formAction, defaultShouldRevalidate }) =>
  formAction === PREVIEW_ACTION ? false : defaultShouldRevalidate;

export const EMPTY_STAGE: StageDraft = {
  name: "",
  approverType: "manager",
  memberRefs: "",
  department: "",
  rule: "any",
  quorum: "",
  dueIn: "",
  remindBefore: "",
  remindEvery: "",
  onDeadline: "none",
  fallbackRefs: "",
  businessHours: false,
};

/** The draft as the API's matrix input (the server validates it again). */
export function draftToInput(draft: MatrixDraft) {
  const num = (v: string) => (v.trim() === "" ? null : Number(v));
  return {
    name: draft.name.trim(),
    requestType: draft.requestType.trim(),
    minAmount: num(draft.minAmount),
    maxAmount: num(draft.maxAmount),
    currency: draft.currency.trim() ? draft.currency.trim().toUpperCase() : null,
    priority: draft.priority.trim() ? Number(draft.priority) : 0,
    conditions: parseConditions(draft.conditions),
    stages: draft.stages.map((s) => ({
      name: s.name.trim(),
      rule: s.rule,
      quorum: s.rule === "quorum" ? Number(s.quorum || "0") : null,
      deadline: s.dueIn.trim()
        ? {
            dueIn: s.dueIn.trim(),
            remindBefore: s.remindBefore.trim() || null,
            remindEvery: s.remindEvery.trim() || null,
            onDeadline: s.onDeadline,
            fallbackRefs: s.fallbackRefs.split(/[\s,]+/).filter(Boolean),
            businessHours: s.businessHours,
          }
        : null,
      approvers:
        s.approverType === "members"
          ? { type: "members" as const, memberRefs: s.memberRefs.split(/[\s,]+/).filter(Boolean) }
          : s.approverType === "department"
            ? { type: "department" as const, department: s.department.trim() }
            : { type: "manager" as const },
    })),
  };
}

/** One condition per line: `field = value` or `field in a, b, c`. */
export function parseConditions(text: string) {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const inMatch = /^([\w.-]+)\s+in\s+(.+)$/i.exec(line);
      if (inMatch)
        return {
          field: must(inMatch[1]),
          op: "in" as const,
          values: must(inMatch[2])
            .split(",")
            .map((v) => v.trim())
            .filter(Boolean),
        };
      const eq = /^([\w.-]+)\s*=\s*(.+)$/.exec(line);
      if (eq) return { field: must(eq[1]), op: "equals" as const, value: must(eq[2]).trim() };
      return { field: line, op: "equals" as const, value: "" };
    });
}

/** The preview's answer, or the preview route's refusal (bad draft, expired session). */
type Preview = MatrixPreview | { ok: false; formError: string; fieldErrors?: Record<string, string>; signedOut?: boolean };

/** The form's fields, in page order: labels for messages, and the order focus and the summary follow. */
function matrixFields(stages: StageDraft[]): Record<string, FieldSpec> {
  const fields: Record<string, FieldSpec> = {
    name: { label: "Name", required: "Give the matrix a name, e.g. Engineering purchase orders." },
    requestType: { label: "Request type", required: "Enter the request type this matrix routes, e.g. purchase_order." },
    minAmount: { label: "Minimum amount" },
    maxAmount: { label: "Maximum amount" },
    currency: { label: "Currency", format: "Use a three-letter currency code such as USD or EUR, or leave it empty." },
    priority: { label: "Priority" },
    conditions: { label: "Conditions on metadata", required: "Each condition needs a field and a value, e.g. region = EU." },
  };
  stages.forEach((_, i) => {
    fields[`stages.${i}.name`] = { label: `Stage ${i + 1} name`, required: `Give stage ${i + 1} a name.` };
    fields[`stages.${i}.memberRefs`] = { label: `Stage ${i + 1} members`, required: `Name at least one member for stage ${i + 1}.` };
    fields[`stages.${i}.department`] = { label: `Stage ${i + 1} department`, required: `Name the department for stage ${i + 1}.` };
    fields[`stages.${i}.quorum`] = { label: `Stage ${i + 1} approvals needed`, required: `Say how many approvals stage ${i + 1} needs.` };
  });
  return fields;
}

/** API paths (`matrix.stages.0.approvers.memberRefs`) to the editor's fields (`stages.0.memberRefs`). */
function matrixPathMapper(stages: StageDraft[], formError: string) {
  return (raw: string): string | string[] | null => {
    const path = raw.replace(/^matrix\./, "");
    const stage = /^stages\.(\d+)\.(?:approvers\.)?(\w+)/.exec(path);
    if (stage) return `stages.${stage[1]}.${stage[2]}`;
    if (path === "stages" || path === "stages.approvers") return null;
    if (path === "stages.approvers.memberRefs") {
      // The API names the unknown refs in its message only: mark the stages that list them.
      const unknown = /externalRef\(s\): (.+?)\.?$/.exec(formError)?.[1]?.split(/,\s*/) ?? [];
      const hit = stages
        .map((s, i) => ({ s, i }))
        .filter(({ s }) => s.approverType === "members" && s.memberRefs.split(/[\s,]+/).some((r) => unknown.includes(r)));
      return (hit.length ? hit : stages.map((s, i) => ({ s, i })).filter(({ s }) => s.approverType === "members")).map(
        ({ i }) => `stages.${i}.memberRefs`,
      );
    }
    if (path.startsWith("conditions")) return "conditions";
    return path.split(".")[0] ?? path;
  };
}

/** True when nothing that routes has been entered yet: the preview shows a hint, not an error. */
function isBlank(draft: MatrixDraft): boolean {
  return (
    !draft.name.trim() &&
    !draft.requestType.trim() &&
    draft.stages.every((s) => !s.name.trim() && !s.memberRefs.trim() && !s.department.trim())
  );
}

interface MetadataRow {
  key: string;
  value: string;
}

export function MatrixEditor({
  initial,
  matrixId,
  failure,
  submitLabel,
  saved = false,
}: {
  initial: MatrixDraft;
  matrixId: string | null;
  failure?: FormFailureView | null | undefined;
  submitLabel: string;
  /** True right after this draft was saved: the stored draft is dropped. */
  saved?: boolean;
}) {
  const [draft, setDraft] = useState(initial);
  const [sample, setSample] = useState({ submitterRef: "EMP-1042", amount: "4500", currency: "", department: "" });
  const [metadata, setMetadata] = useState<MetadataRow[]>([{ key: "", value: "" }]);
  const navigation = useNavigation();
  const location = useLocation();
  const kept = useStateDraft(draft, initial, setDraft, saved);
  const form = useFormErrors(failure, matrixFields(draft.stages), matrixPathMapper(draft.stages, failure?.formError ?? ""));
  const preview = useFetcher<Preview>();
  const set = (patch: Partial<MatrixDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setStage = (i: number, patch: Partial<StageDraft>) =>
    setDraft((d) => ({ ...d, stages: d.stages.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));
  const payload = useMemo(() => JSON.stringify(draftToInput(draft)), [draft]);
  const blank = isBlank(draft);
  const metadataJson = JSON.stringify(Object.fromEntries(metadata.filter((r) => r.key.trim()).map((r) => [r.key.trim(), r.value.trim()])));

  // Live preview: re-plan the sample request whenever the draft or the sample changes.
  useEffect(() => {
    if (blank) return;
    const timer = setTimeout(() => {
      preview.submit(
        {
          matrix: payload,
          id: matrixId ?? "",
          submitterRef: sample.submitterRef,
          amount: sample.amount,
          currency: sample.currency,
          department: sample.department,
          metadata: metadataJson,
        },
        { method: "post", action: PREVIEW_ACTION },
      );
    }, 350);
    return () => clearTimeout(timer);
    // Only the serialised draft, the sample and the matrix re-run the preview.
  }, [payload, sample, metadataJson, matrixId, blank]);

  const result = blank ? undefined : preview.data;
  const setRow = (i: number, patch: Partial<MetadataRow>) => setMetadata((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="grid-main-side">
      <LeaveGuard dirty={kept.dirty} />
      <Form method="post" className="stack" noValidate onChange={form.onChange} ref={form.formRef}>
        <input type="hidden" name="matrix" value={payload} />
        {kept.restored ? <RestoredNotice onDiscard={() => setDraft(initial)} /> : null}
        {form.summary}
        <div className="card">
          <div className="card-head">
            <h2>When this matrix applies</h2>
          </div>
          <div className="card-body">
            <div className="form-row">
              <Field
                label="Name"
                name="name"
                value={draft.name}
                onChange={(e) => set({ name: e.currentTarget.value })}
                error={form.error("name")}
                placeholder="e.g. Engineering purchase orders"
              />
              <Field
                label="Request type"
                name="requestType"
                value={draft.requestType}
                onChange={(e) => set({ requestType: e.currentTarget.value })}
                error={form.error("requestType")}
                placeholder="purchase_order"
              />
            </div>
            <div className="form-row">
              <Field
                label="Minimum amount"
                name="minAmount"
                type="number"
                min={0}
                value={draft.minAmount}
                onChange={(e) => set({ minAmount: e.currentTarget.value })}
                error={form.error("minAmount")}
                hint="Inclusive. Empty: no minimum."
              />
              <Field
                label="Maximum amount"
                name="maxAmount"
                type="number"
                min={0}
                value={draft.maxAmount}
                onChange={(e) => set({ maxAmount: e.currentTarget.value })}
                error={form.error("maxAmount")}
                hint="Exclusive. Empty: no maximum."
              />
              <Field
                label="Currency"
                name="currency"
                value={draft.currency}
                maxLength={3}
                onChange={(e) => set({ currency: e.currentTarget.value })}
                error={form.error("currency")}
                placeholder="USD"
              />
              <Field
                label="Priority"
                name="priority"
                type="number"
                value={draft.priority}
                onChange={(e) => set({ priority: e.currentTarget.value })}
                error={form.error("priority")}
                hint="Higher wins when several match."
              />
            </div>
            <Field
              label="Conditions on metadata"
              name="conditions"
              error={form.error("conditions")}
              hint="One per line: department in Engineering, IT  ·  region = EU"
            >
              <textarea value={draft.conditions} rows={2} onChange={(e) => set({ conditions: e.currentTarget.value })} />
            </Field>
          </div>
        </div>
        <div className="card">
          <div className="card-head">
            <h2>Stages</h2>
            <span className="muted small">Run in order; every stage must approve.</span>
          </div>
          <div className="card-body">
            {draft.stages.map((stage, i) => (
              <fieldset className="stage" key={i} aria-label={`Stage ${i + 1}`}>
                <div className="row" style={{ marginBottom: 10 }}>
                  <span className="stage-num">{i + 1}</span>
                  <strong>Stage {i + 1}</strong>
                  <span className="spacer" />
                  <button
                    type="button"
                    className="btn btn-sm"
                    disabled={i === 0}
                    onClick={() =>
                      setDraft((d) => {
                        const s = [...d.stages];
                        [s[i - 1], s[i]] = [must(s[i]), must(s[i - 1])];
                        return { ...d, stages: s };
                      })
                    }
                    aria-label={`Move stage ${i + 1} up`}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="btn btn-sm btn-danger"
                    disabled={draft.stages.length === 1}
                    onClick={() => setDraft((d) => ({ ...d, stages: d.stages.filter((_, j) => j !== i) }))}
                  >
                    Remove
                  </button>
                </div>
                <div className="form-row">
                  <Field
                    label="Stage name"
                    name={`stages.${i}.name`}
                    value={stage.name}
                    onChange={(e) => setStage(i, { name: e.currentTarget.value })}
                    error={form.error(`stages.${i}.name`)}
                    placeholder="Manager approval"
                  />
                  <Field label="Approvers" name={`stages.${i}.approverType`}>
                    <select
                      value={stage.approverType}
                      onChange={(e) => setStage(i, { approverType: e.currentTarget.value as StageDraft["approverType"] })}
                    >
                      <option value="manager">The submitter's manager</option>
                      <option value="members">Named members</option>
                      <option value="department">Everyone in a department</option>
                    </select>
                  </Field>
                  <Field label="Rule" name={`stages.${i}.rule`}>
                    <select value={stage.rule} onChange={(e) => setStage(i, { rule: e.currentTarget.value as StageDraft["rule"] })}>
                      <option value="any">Any one approves</option>
                      <option value="all">All approve</option>
                      <option value="quorum">A quorum approves</option>
                    </select>
                  </Field>
                </div>
                {stage.approverType === "members" ? (
                  <Field
                    label="Members' externalRefs"
                    name={`stages.${i}.memberRefs`}
                    value={stage.memberRefs}
                    onChange={(e) => setStage(i, { memberRefs: e.currentTarget.value })}
                    placeholder="EMP-2001, EMP-3001"
                    hint="Comma-separated."
                    error={form.error(`stages.${i}.memberRefs`)}
                  />
                ) : null}
                {stage.approverType === "department" ? (
                  <Field
                    label="Department"
                    name={`stages.${i}.department`}
                    value={stage.department}
                    onChange={(e) => setStage(i, { department: e.currentTarget.value })}
                    placeholder="Finance"
                    error={form.error(`stages.${i}.department`)}
                  />
                ) : null}
                <Field
                  label="Due in (optional)"
                  name={`stages.${i}.deadline.dueIn`}
                  value={stage.dueIn}
                  placeholder="48h"
                  hint="e.g. 30m, 48h, 2d. Empty: no deadline."
                  onChange={(e) => setStage(i, { dueIn: e.currentTarget.value })}
                  error={form.error(`stages.${i}.deadline.dueIn`)}
                />
                {stage.dueIn.trim() ? (
                  <>
                    <label className="check" style={{ margin: "0 0 14px" }}>
                      <input
                        type="checkbox"
                        name={`stages.${i}.deadline.businessHours`}
                        checked={stage.businessHours}
                        onChange={(e) => setStage(i, { businessHours: e.currentTarget.checked })}
                      />
                      Count in business hours (Mon–Fri 09:00–17:00 UTC; a day is a working day)
                    </label>
                    <Field
                      label="Remind before the deadline"
                      name={`stages.${i}.deadline.remindBefore`}
                      value={stage.remindBefore}
                      placeholder="24h"
                      onChange={(e) => setStage(i, { remindBefore: e.currentTarget.value })}
                      error={form.error(`stages.${i}.deadline.remindBefore`)}
                    />
                    <Field
                      label="Remind every, once overdue"
                      name={`stages.${i}.deadline.remindEvery`}
                      value={stage.remindEvery}
                      placeholder="12h"
                      onChange={(e) => setStage(i, { remindEvery: e.currentTarget.value })}
                      error={form.error(`stages.${i}.deadline.remindEvery`)}
                    />
                    <Field label="At the deadline" name={`stages.${i}.deadline.onDeadline`}>
                      <select
                        value={stage.onDeadline}
                        onChange={(e) => setStage(i, { onDeadline: e.currentTarget.value as DeadlineAction })}
                      >
                        {Object.entries(DEADLINE_ACTION_CHOICES).map(([value, label]) => (
                          <option key={value} value={value}>
                            {label}
                          </option>
                        ))}
                      </select>
                    </Field>
                    {stage.onDeadline === "escalate" ? (
                      <Field
                        label="Fallback approvers (externalRefs)"
                        name={`stages.${i}.deadline.fallbackRefs`}
                        value={stage.fallbackRefs}
                        hint="Used when an approver has no manager."
                        onChange={(e) => setStage(i, { fallbackRefs: e.currentTarget.value })}
                      />
                    ) : null}
                  </>
                ) : null}
                {stage.rule === "quorum" ? (
                  <Field
                    label="Approvals needed"
                    name={`stages.${i}.quorum`}
                    type="number"
                    min={1}
                    value={stage.quorum}
                    onChange={(e) => setStage(i, { quorum: e.currentTarget.value })}
                    error={form.error(`stages.${i}.quorum`)}
                  />
                ) : null}
              </fieldset>
            ))}
            <button
              type="button"
              className="btn"
              style={{ marginTop: 12 }}
              onClick={() => setDraft((d) => ({ ...d, stages: [...d.stages, { ...EMPTY_STAGE }] }))}
            >
              + Add stage
            </button>
          </div>
        </div>
        <div className="form-actions">
          <Link className="btn" to="/matrices">
            Cancel
          </Link>
          <button className="btn btn-primary" type="submit" name="intent" value="save" disabled={navigation.state === "submitting"}>
            {navigation.state === "submitting" ? "Saving…" : submitLabel}
          </button>
        </div>
      </Form>

      <aside className="card" aria-live="polite" style={{ position: "sticky", top: 16 }}>
        <div className="card-head">
          <h2>Live preview</h2>
          {preview.state !== "idle" ? <span className="faint small">Updating…</span> : null}
        </div>
        <div className="card-body stack">
          <p className="muted small">
            How a sample request would route with this draft, resolved exactly as the dry-run endpoint does. Nothing is saved.
          </p>
          <div className="form-row">
            <Field
              label="Submitter externalRef"
              name="_sref"
              value={sample.submitterRef}
              onChange={(e) => setSample({ ...sample, submitterRef: e.currentTarget.value })}
            />
            <Field
              label="Amount"
              name="_samount"
              type="number"
              value={sample.amount}
              onChange={(e) => setSample({ ...sample, amount: e.currentTarget.value })}
            />
          </div>
          <fieldset className="metadata-rows" data-testid="preview-metadata">
            <legend className="label">Metadata</legend>
            <p className="hint small muted">Test the conditions: the sample request carries these fields.</p>
            {metadata.map((row, i) => (
              <div className="metadata-row" key={i}>
                <Field
                  label={`Metadata field ${i + 1}`}
                  name={`_meta${i}key`}
                  value={row.key}
                  placeholder="department"
                  onChange={(e) => setRow(i, { key: e.currentTarget.value })}
                />
                <Field
                  label={`Value ${i + 1}`}
                  name={`_meta${i}value`}
                  value={row.value}
                  placeholder="Engineering"
                  onChange={(e) => setRow(i, { value: e.currentTarget.value })}
                />
                <button
                  type="button"
                  className="btn btn-sm"
                  aria-label={`Remove metadata field ${i + 1}`}
                  disabled={metadata.length === 1 && !row.key && !row.value}
                  onClick={() => setMetadata((rows) => (rows.length === 1 ? [{ key: "", value: "" }] : rows.filter((_, j) => j !== i)))}
                >
                  ✕
                </button>
              </div>
            ))}
            <button type="button" className="btn btn-sm" onClick={() => setMetadata((rows) => [...rows, { key: "", value: "" }])}>
              + Add metadata field
            </button>
          </fieldset>
          <div data-testid="matrix-preview">
            {!result ? (
              <p className="muted small">Fill in the matrix (a name, a request type and its stages) to see how a request would route.</p>
            ) : "formError" in result ? (
              result.signedOut ? (
                <Alert kind="warn" title="Your session has expired">
                  Your draft is kept in this tab.{" "}
                  <Link to={`/sign-in?redirectTo=${encodeURIComponent(location.pathname + location.search)}`}>Sign in again</Link> to
                  continue where you left off.
                </Alert>
              ) : result.fieldErrors && Object.keys(result.fieldErrors).length ? (
                <Alert kind="info" title="The route appears when the draft is complete">
                  <PreviewGaps failure={result as FormFailureView} stages={draft.stages} />
                </Alert>
              ) : (
                <Alert kind="warn">{result.formError}</Alert>
              )
            ) : result.routed ? (
              <div className="stack">
                {result.isThisMatrix ? (
                  <Alert kind="ok">
                    Routes through <strong style={{ display: "inline" }}>this matrix</strong>.
                  </Alert>
                ) : (
                  <Alert kind="warn">Routes through another matrix, “{result.matrixName}” (it wins on priority or specificity).</Alert>
                )}
                <ol className="timeline" style={{ padding: "4px 0 0" }}>
                  {result.stages.map((s) => (
                    <li key={s.position}>
                      <span className="dot accent" />
                      <strong>{s.name}</strong>{" "}
                      <span className="faint small">({s.rule === "quorum" ? `quorum of ${s.quorum}` : s.rule})</span>
                      <div className="small">{s.approvers.map((a) => `${a.name} (${a.ref})`).join(", ")}</div>
                    </li>
                  ))}
                </ol>
              </div>
            ) : (
              <Alert kind="warn" title={result.code.replace(/_/g, " ")}>
                {result.message}
              </Alert>
            )}
          </div>
        </div>
      </aside>
    </div>
  );
}

/** What the draft still lacks, in the same words the form uses. */
function PreviewGaps({ failure, stages }: { failure: FormFailureView; stages: StageDraft[] }) {
  const fields = matrixFields(stages);
  const toField = matrixPathMapper(stages, failure.formError);
  const lines = new Set<string>();
  for (const [path, raw] of Object.entries(failure.fieldErrors)) {
    const mapped = toField(path);
    const name = (Array.isArray(mapped) ? mapped[0] : mapped) ?? path;
    lines.add(humanizeIssue(raw, fields[name] ?? { label: name }));
  }
  return (
    <ul className="small" style={{ margin: "4px 0 0", paddingLeft: 18 }}>
      {[...lines].slice(0, 5).map((l) => (
        <li key={l}>{l}</li>
      ))}
    </ul>
  );
}

export function matrixToDraft(m: MatrixDetail): MatrixDraft {
  return {
    name: m.name,
    requestType: m.requestType,
    minAmount: m.minAmount === null ? "" : String(m.minAmount),
    maxAmount: m.maxAmount === null ? "" : String(m.maxAmount),
    currency: m.currency ?? "",
    priority: String(m.priority),
    conditions: m.conditions.map((c) => (c.op === "in" ? `${c.field} in ${c.values.join(", ")}` : `${c.field} = ${c.value}`)).join("\n"),
    stages: m.stages.map((s) => ({
      name: s.name,
      rule: s.rule,
      quorum: s.quorum === null ? "" : String(s.quorum),
      dueIn: s.deadline?.dueIn ?? "",
      remindBefore: s.deadline?.remindBefore ?? "",
      remindEvery: s.deadline?.remindEvery ?? "",
      onDeadline: s.deadline?.onDeadline ?? "none",
      fallbackRefs: (s.deadline?.fallbackRefs ?? []).join(", "),
      businessHours: s.deadline?.businessHours ?? false,
      approverType: s.approvers.type,
      memberRefs: s.approverRefs.map((r) => r.ref).join(", "),
      department: s.approvers.type === "department" ? s.approvers.department : "",
    })),
  };
}
