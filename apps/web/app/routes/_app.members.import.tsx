import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { Fragment, useState } from "react";
import { Alert, PageHead } from "../components/ui";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Import members · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  requireUser(request, context, "admin");
  return null;
}

type ImportResult =
  | { ok: true; rows: number; created: number; updated: number }
  | { ok: false; rows: number; errorCount: number; errors: { line: number; field: string; message: string }[] };

type State =
  | { step: "idle" }
  | { step: "running"; phase: string; percent: number; fileName: string }
  | { step: "done"; result: ImportResult; fileName: string };

const PHASE_LABEL: Record<string, string> = { uploading: "Uploading", validating: "Checking every row", writing: "Saving members" };

const SAMPLE_CSV = ["externalRef,name,email,department,managerRef,active", "EMP-1042,Alex Kim,alex@acme.example,Engineering,EMP-2001,true"];

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export default function ImportMembers() {
  const [state, setState] = useState<State>({ step: "idle" });
  const [file, setFile] = useState<File | null>(null);

  async function run() {
    if (!file) return;
    setState({ step: "running", phase: "uploading", percent: 2, fileName: file.name });
    const response = await fetch("/members/import-stream", { method: "POST", body: file, headers: { "Content-Type": "text/csv" } });
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line) as
          { type: "progress"; phase: string; done: number; total: number } | { type: "result"; result: ImportResult };
        if (event.type === "progress") {
          // Validation is the first tenth of the bar; writing the rest.
          const percent = event.phase === "validating" ? 8 : 10 + Math.round((90 * event.done) / Math.max(1, event.total));
          setState({ step: "running", phase: event.phase, percent, fileName: file.name });
        } else setState({ step: "done", result: event.result, fileName: file.name });
      }
    }
  }

  return (
    <>
      <PageHead
        title="Import members"
        crumbs={<Link to="/members">Members</Link>}
        description="Upload a CSV file to add members and update existing ones, matched by externalRef. Every row is checked first: if any row is wrong, nothing is imported."
      />
      <div className="grid-main-side">
        <div className="card">
          <div className="card-body stack">
            <div className="field">
              <label htmlFor="csv-file">CSV file</label>
              <input
                id="csv-file"
                type="file"
                accept=".csv,text/csv"
                onChange={(e) => {
                  setFile(e.currentTarget.files?.[0] ?? null);
                  setState({ step: "idle" });
                }}
              />
              <span className="hint">UTF-8, comma-separated, with a header row. Up to 200 000 rows.</span>
            </div>
            <div className="row">
              <button className="btn btn-primary" type="button" disabled={!file || state.step === "running"} onClick={() => void run()}>
                {state.step === "running" ? "Importing…" : "Import members"}
              </button>
              {file ? (
                <span className="muted small">
                  {file.name} · {formatSize(file.size)}
                </span>
              ) : null}
            </div>
            {state.step === "running" ? (
              <div aria-live="polite">
                <div className="row small muted" style={{ justifyContent: "space-between", marginBottom: 6 }}>
                  <span>{PHASE_LABEL[state.phase] ?? state.phase}…</span>
                  <span>{state.percent}%</span>
                </div>
                <div
                  className="progress"
                  role="progressbar"
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={state.percent}
                  aria-label="Import progress"
                >
                  <span style={{ width: `${state.percent}%` }} />
                </div>
              </div>
            ) : null}
            {state.step === "done" && state.result.ok ? (
              <div data-testid="import-result">
                <Alert kind="ok" title="Import complete">
                  {state.result.rows.toLocaleString("en-US")} rows imported: {state.result.created.toLocaleString("en-US")} new,{" "}
                  {state.result.updated.toLocaleString("en-US")} updated. <Link to="/members">View members</Link>
                </Alert>
              </div>
            ) : null}
            {state.step === "done" && !state.result.ok ? (
              <div data-testid="import-result" className="stack">
                <Alert kind="error" title="Nothing was imported">
                  {state.result.errorCount.toLocaleString("en-US")} problem{state.result.errorCount === 1 ? "" : "s"} found in{" "}
                  {state.fileName}. Fix them and upload the file again.
                  {state.result.errorCount > state.result.errors.length ? ` The first ${state.result.errors.length} are listed.` : ""}
                </Alert>
                <div className="card table-wrap" style={{ maxHeight: 360, overflowY: "auto" }}>
                  <table>
                    <thead>
                      <tr>
                        <th>Line</th>
                        <th>Column</th>
                        <th>Problem</th>
                      </tr>
                    </thead>
                    <tbody>
                      {state.result.errors.map((e, i) => (
                        <tr key={i}>
                          <td>{e.line}</td>
                          <td>
                            <code>{e.field}</code>
                          </td>
                          <td>{e.message}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>
            ) : null}
          </div>
        </div>
        <div className="card">
          <div className="card-head">
            <h2>File format</h2>
          </div>
          <div className="card-body stack small">
            <p>
              Columns, in any order; <strong>externalRef</strong> and <strong>name</strong> are required:
            </p>
            {/* A narrow column wraps the sample after a comma, never inside a value. */}
            <pre className="secret">
              {SAMPLE_CSV.map((line, l) => (
                <span className="csv-line" key={l}>
                  {line.split(",").map((cell, c) => (
                    <Fragment key={c}>
                      {c ? (
                        <>
                          ,<wbr />
                        </>
                      ) : null}
                      <span className="nowrap">{cell}</span>
                    </Fragment>
                  ))}
                </span>
              ))}
            </pre>
            <p className="muted">
              A row whose externalRef already exists updates that member. managerRef may name a member in the same file.{" "}
              <a href="/members/export.csv">Export the current members</a> to start from.
            </p>
          </div>
        </div>
      </div>
    </>
  );
}
