import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { Fragment, useState } from "react";
import { Alert, PageHead, DataTable } from "../components/ui";
import { MEMBER_IMPORT_MAX_BYTES as MAX_IMPORT_BYTES } from "@approvalmatrix/core/members";
import type { MemberImportResult } from "../lib/api-types";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Import members · ApprovalMatrix" }];

export function loader({ request, context }: LoaderFunctionArgs) {
  requireUser(request, context, "admin");
  return null;
}

type State =
  | { step: "idle" }
  | { step: "running"; phase: string; percent: number; fileName: string }
  | { step: "done"; result: MemberImportResult; fileName: string }
  | { step: "failed"; failure: Failure };

/** Why an upload ended without a result, in words for the admin. */
interface Failure {
  title: string;
  message: string;
  signIn?: boolean;
}

const TOO_LARGE: Failure = {
  title: "Nothing was imported",
  message: "The file is larger than 50 MB. Split it into smaller files and import them one at a time.",
};

/** The import is all or nothing and leaves unchanged rows alone, so sending the same file again is always safe. */
function interrupted(cause: string): Failure {
  return {
    title: "The import did not finish",
    message: `${cause} It may or may not have been saved: import the file again to be sure (rows already up to date are left as they are).`,
  };
}

/** A response that is not the import's NDJSON stream: the route refused the file, or something in between answered. */
function refusal(response: Response): Failure {
  // fetch follows the route's redirect to sign-in; a proxy may answer 401 instead.
  if (response.redirected || response.status === 401)
    return { title: "Nothing was imported", message: "Your session has expired. Sign in again, then import the file again.", signIn: true };
  if (response.status === 403) return { title: "Nothing was imported", message: "Only tenant admins can import members." };
  if (response.status === 413) return TOO_LARGE;
  return interrupted(
    response.ok ? "The server's answer could not be read." : `The server answered with an error (HTTP ${response.status}).`,
  );
}

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
    if (file.size > MAX_IMPORT_BYTES) return setState({ step: "failed", failure: TOO_LARGE });
    setState({ step: "running", phase: "uploading", percent: 2, fileName: file.name });
    let response: Response;
    try {
      response = await fetch("/members/import-stream", { method: "POST", body: file, headers: { "Content-Type": "text/csv" } });
    } catch {
      return setState({ step: "failed", failure: interrupted("The file could not be sent: check your connection.") });
    }
    if (response.redirected || !response.ok || !response.body || !response.headers.get("content-type")?.includes("ndjson"))
      return setState({ step: "failed", failure: refusal(response) });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let cause = "The connection to the server was lost before the import finished.";
    try {
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
            { type: "progress"; phase: string; done: number; total: number } | { type: "result"; result: MemberImportResult } | null;
          if (event?.type === "progress") {
            // Validation is the first tenth of the bar; writing the rest.
            const percent = event.phase === "validating" ? 8 : 10 + Math.round((90 * event.done) / Math.max(1, event.total));
            setState({ step: "running", phase: event.phase, percent, fileName: file.name });
          } else if (event?.type === "result") return setState({ step: "done", result: event.result, fileName: file.name });
          else throw new SyntaxError("Not a line of the import stream");
        }
      }
    } catch (error) {
      // The connection dropped mid-stream, or a line was not one the route sends.
      if (error instanceof SyntaxError) cause = "The server's answer could not be read.";
    }
    void reader.cancel().catch(() => {});
    setState({ step: "failed", failure: interrupted(cause) });
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
            {state.step === "failed" ? (
              <div data-testid="import-result">
                <Alert kind="error" title={state.failure.title}>
                  {state.failure.message} {state.failure.signIn ? <Link to="/sign-in?redirectTo=%2Fmembers%2Fimport">Sign in</Link> : null}
                </Alert>
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
                <DataTable
                  label="Problems found"
                  columns={["Line", "Column", "Problem"]}
                  card
                  style={{ maxHeight: 360, overflowY: "auto" }}
                >
                  {state.result.errors.map((e, i) => (
                    <tr key={i}>
                      <td>{e.line}</td>
                      <td>
                        <code>{e.field}</code>
                      </td>
                      <td>{e.message}</td>
                    </tr>
                  ))}
                </DataTable>
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

export { PageError as ErrorBoundary } from "../components/route-error";
