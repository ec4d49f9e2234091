import type { StageRule } from "@approvalmatrix/core/approvers";
import { Form, Link, useFetcher, useNavigation } from "@remix-run/react";
import { useEffect, useMemo, useState } from "react";
import { Alert, Field } from "./ui";

export interface StageDraft {
  name: string;
  approverType: "members" | "manager" | "department";
  memberRefs: string;
  department: string;
  rule: StageRule;
  quorum: string;
}

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

export const EMPTY_STAGE: StageDraft = { name: "", approverType: "manager", memberRefs: "", department: "", rule: "any", quorum: "" };

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
          field: inMatch[1]!,
          op: "in" as const,
          values: inMatch[2]!
            .split(",")
            .map((v) => v.trim())
            .filter(Boolean),
        };
      const eq = /^([\w.-]+)\s*=\s*(.+)$/.exec(line);
      if (eq) return { field: eq[1]!, op: "equals" as const, value: eq[2]!.trim() };
      return { field: line, op: "equals" as const, value: "" };
    });
}

type Preview =
  | {
      routed: true;
      matrixName: string;
      isThisMatrix: boolean;
      stages: { position: number; name: string; rule: string; quorum: number | null; approvers: { ref: string; name: string }[] }[];
    }
  | { routed: false; code: string; message: string }
  | { ok: false; formError: string };

export function MatrixEditor({
  initial,
  matrixId,
  failure,
  submitLabel,
}: {
  initial: MatrixDraft;
  matrixId: string | null;
  failure?: { formError: string; fieldErrors: Record<string, string> } | null | undefined;
  submitLabel: string;
}) {
  const [draft, setDraft] = useState(initial);
  const [sample, setSample] = useState({ submitterRef: "EMP-1042", amount: "4500", currency: "", department: "" });
  const navigation = useNavigation();
  const preview = useFetcher<Preview>();
  const set = (patch: Partial<MatrixDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setStage = (i: number, patch: Partial<StageDraft>) =>
    setDraft((d) => ({ ...d, stages: d.stages.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));
  const payload = useMemo(() => JSON.stringify(draftToInput(draft)), [draft]);

  // Live preview: re-plan the sample request whenever the draft or the sample changes.
  useEffect(() => {
    const timer = setTimeout(() => {
      preview.submit(
        {
          matrix: payload,
          id: matrixId ?? "",
          submitterRef: sample.submitterRef,
          amount: sample.amount,
          currency: sample.currency,
          department: sample.department,
        },
        { method: "post", action: "/matrices/preview" },
      );
    }, 350);
    return () => clearTimeout(timer);
    // Only the serialised draft, the sample and the matrix re-run the preview.
  }, [payload, sample, matrixId]);

  const fe = failure?.fieldErrors ?? {};
  const result = preview.data;
  return (
    <div className="grid-main-side">
      <Form method="post" className="stack" noValidate>
        <input type="hidden" name="matrix" value={payload} />
        {failure ? <Alert kind="error">{failure.formError}</Alert> : null}
        <div className="card">
          <div className="card-head">
            <h2>When this matrix applies</h2>
          </div>
          <div className="card-body">
            <div className="form-row">
              <Field
                label="Name"
                name="_name"
                value={draft.name}
                onChange={(e) => set({ name: e.currentTarget.value })}
                error={fe.name}
                placeholder="e.g. Engineering purchase orders"
              />
              <Field
                label="Request type"
                name="_requestType"
                value={draft.requestType}
                onChange={(e) => set({ requestType: e.currentTarget.value })}
                error={fe.requestType}
                placeholder="purchase_order"
              />
            </div>
            <div className="form-row">
              <Field
                label="Minimum amount"
                name="_min"
                type="number"
                min={0}
                value={draft.minAmount}
                onChange={(e) => set({ minAmount: e.currentTarget.value })}
                error={fe.minAmount}
                hint="Inclusive. Empty: no minimum."
              />
              <Field
                label="Maximum amount"
                name="_max"
                type="number"
                min={0}
                value={draft.maxAmount}
                onChange={(e) => set({ maxAmount: e.currentTarget.value })}
                error={fe.maxAmount}
                hint="Exclusive. Empty: no maximum."
              />
              <Field
                label="Currency"
                name="_currency"
                value={draft.currency}
                maxLength={3}
                onChange={(e) => set({ currency: e.currentTarget.value })}
                error={fe.currency}
                placeholder="USD"
              />
              <Field
                label="Priority"
                name="_priority"
                type="number"
                value={draft.priority}
                onChange={(e) => set({ priority: e.currentTarget.value })}
                error={fe.priority}
                hint="Higher wins when several match."
              />
            </div>
            <Field
              label="Conditions on metadata"
              name="_conditions"
              error={fe.conditions}
              hint="One per line: department in Engineering, IT  ·  region = EU"
            >
              <textarea id="_conditions" value={draft.conditions} rows={2} onChange={(e) => set({ conditions: e.currentTarget.value })} />
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
                        [s[i - 1], s[i]] = [s[i]!, s[i - 1]!];
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
                    name={`_stage${i}name`}
                    value={stage.name}
                    onChange={(e) => setStage(i, { name: e.currentTarget.value })}
                    error={fe[`stages.${i}.name`]}
                    placeholder="Manager approval"
                  />
                  <Field label="Approvers" name={`_stage${i}type`}>
                    <select
                      id={`_stage${i}type`}
                      value={stage.approverType}
                      onChange={(e) => setStage(i, { approverType: e.currentTarget.value as StageDraft["approverType"] })}
                    >
                      <option value="manager">The submitter's manager</option>
                      <option value="members">Named members</option>
                      <option value="department">Everyone in a department</option>
                    </select>
                  </Field>
                  <Field label="Rule" name={`_stage${i}rule`}>
                    <select
                      id={`_stage${i}rule`}
                      value={stage.rule}
                      onChange={(e) => setStage(i, { rule: e.currentTarget.value as StageDraft["rule"] })}
                    >
                      <option value="any">Any one approves</option>
                      <option value="all">All approve</option>
                      <option value="quorum">A quorum approves</option>
                    </select>
                  </Field>
                </div>
                {stage.approverType === "members" ? (
                  <Field
                    label="Members' externalRefs"
                    name={`_stage${i}refs`}
                    value={stage.memberRefs}
                    onChange={(e) => setStage(i, { memberRefs: e.currentTarget.value })}
                    placeholder="EMP-2001, EMP-3001"
                    hint="Comma-separated."
                    error={fe["stages.approvers.memberRefs"]}
                  />
                ) : null}
                {stage.approverType === "department" ? (
                  <Field
                    label="Department"
                    name={`_stage${i}dept`}
                    value={stage.department}
                    onChange={(e) => setStage(i, { department: e.currentTarget.value })}
                    placeholder="Finance"
                  />
                ) : null}
                {stage.rule === "quorum" ? (
                  <Field
                    label="Approvals needed"
                    name={`_stage${i}quorum`}
                    type="number"
                    min={1}
                    value={stage.quorum}
                    onChange={(e) => setStage(i, { quorum: e.currentTarget.value })}
                    error={fe[`stages.${i}.quorum`]}
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
          <div data-testid="matrix-preview">
            {!result ? (
              <p className="faint small">Fill in the matrix to see the route.</p>
            ) : "formError" in result ? (
              <Alert kind="warn">{result.formError}</Alert>
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

type MatrixView = {
  name: string;
  requestType: string;
  minAmount: number | null;
  maxAmount: number | null;
  currency: string | null;
  priority: number;
  conditions: (
    { field: string; op: "equals"; value: string | number | boolean } | { field: string; op: "in"; values: (string | number | boolean)[] }
  )[];
  stages: {
    name: string;
    rule: StageRule;
    quorum: number | null;
    approvers: { type: string; department?: string };
    approverRefs: { ref: string }[];
  }[];
};

export function matrixToDraft(m: MatrixView): MatrixDraft {
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
      approverType: s.approvers.type as StageDraft["approverType"],
      memberRefs: s.approverRefs.map((r) => r.ref).join(", "),
      department: s.approvers.department ?? "",
    })),
  };
}
